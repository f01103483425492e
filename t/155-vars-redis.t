# Variables read before the access phase in Redis mode: a variable cannot
# make a request wait, so an opaque token (only Redis knows it) is left to
# the access step and its values are empty until then (limit_req does not
# count it); a JWT is judged early without Redis, and its revocation
# (tg:revoked, a Redis question) is still asked by the access step.

use lib 't/lib';
use TG;
use TG::Redis;
use Test::More;

our (%TOK, $R);

BEGIN {
    unless (TG::Redis::available()) {
        Test::More::plan(skip_all => "no redis-server ($TG::Redis::SERVER)");
    }
}

$R = TG::Redis->start;

sub bearer_of { return "Authorization: Bearer $_[0]" }

TG::Redis::fixture($R);
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: an opaque token is judged by the access step: no bucket before it, its values after it
--- redis eval
$TOK{op} = TG::Redis::opaque_token();
$main::R->put_token($TOK{op}, {sub => 'member-9', organization_id => 'org-9',
    workspace_id => 'ws-9', integration_id => 'int-9', scope => 'read',
    jti => 'op-jti-9'});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=1r/m;
--- config
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    limit_req zone=per_ws;
    proxy_set_header X-Var-Workspace $tenant_guard_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    (map { +{request => "GET /op$_", more_headers => main::bearer_of($TOK{op}),
             error_code => 200, upstream_headers => "X-Var-Workspace: ws-9\nX-Workspace-Id: ws-9"} } 1 .. 3),
    # a JWT of the same workspace is judged early and counted
    {request => 'GET /jwt1', more_headers => TG::bearer({workspace_id => 'ws-9'}), error_code => 200},
    {request => 'GET /jwt2', more_headers => TG::bearer({workspace_id => 'ws-9'}), error_code => 503},
]
--- upstream_count: 4



=== TEST 2: a revoked JWT judged early is refused by the access step, its workspace in the log
--- redis eval
$TOK{rev} = TG::jwt({workspace_id => 'ws-r', jti => 'jti-revoked-155'});
$main::R->revoke('jti-revoked-155');
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=100r/s;
log_format tg 'TG $status result=$tenant_guard_result ws=$tenant_guard_workspace';
--- config
access_log logs/access.log tg;
location / {
    tenant_guard on;
    limit_req zone=per_ws burst=10;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /r1', more_headers => main::bearer_of($TOK{rev}), error_code => 401,
     json_error => 'invalid_token', json_error_description => 'the token has been revoked'},
    {request => 'GET /r2', more_headers => main::bearer_of($TOK{rev}), error_code => 401,
     json_error => 'invalid_token', json_error_description => 'the token has been revoked'},
]
--- no_upstream
--- access_log
TG 401 result=invalid_token ws=ws-r
