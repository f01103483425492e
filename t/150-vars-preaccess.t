# $tenant_guard_* read before the access phase: limit_req_zone keyed by
# $tenant_guard_workspace (preaccess), "if" in the rewrite phase, map ->
# proxy_pass.  Read there, the variables judge the token on demand (the
# same token step and zone), once per request: the access step takes that
# verdict (debug lines "verifying token signature" / "token judged before
# access").  An invalid token gives empty values, so limit_req skips it,
# and the access step still refuses it; a client's X-Workspace-Id never
# feeds them; once the signature is verified they are set on refusals too.

use lib 't/lib';
use TG;
use TG::Ban;

our %TOK;

sub bearer_of { return "Authorization: Bearer $_[0]" }

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: limit_req per workspace: a burst on one workspace is limited, another passes
--- http_config
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=1r/m;
--- config
location / {
    tenant_guard on;
    limit_req zone=per_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a1', more_headers => TG::bearer({workspace_id => 'ws-a'}),
     error_code => 200},
    {request => 'GET /a2', more_headers => TG::bearer({workspace_id => 'ws-a'}),
     error_code => 503},
    {request => 'GET /a3', more_headers => TG::bearer({workspace_id => 'ws-a', sub => 'other'}),
     error_code => 503},
    {request => 'GET /b1', more_headers => TG::bearer({workspace_id => 'ws-b'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-b'},
]
--- upstream_count: 2
--- error_log_like
limiting requests, excess: [\d.]+ by zone "per_ws"



=== TEST 2: invalid tokens are outside every bucket and still refused by the access step
--- http_config
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=1r/m;
--- config
location / {
    tenant_guard on;
    limit_req zone=per_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    # ws-a's bucket is used up by a good token
    {request => 'GET /good', more_headers => TG::bearer({workspace_id => 'ws-a'}),
     error_code => 200},
    # a token claiming ws-a with a bad signature is no ws-a: 401, not 503
    (map { +{request => "GET /bad$_",
             more_headers => TG::bearer({workspace_id => 'ws-a'}, key => 'rsa2', kid => 'rsa1'),
             error_code => 401, json_error => 'invalid_token', no_upstream => 1} } 1 .. 3),
    # expired, and no token at all: the same
    {request => 'GET /expired', more_headers => TG::bearer({workspace_id => 'ws-a', exp => time - 3600}),
     error_code => 401, json_error => 'invalid_token'},
    (map { +{request => "GET /none$_", error_code => 401, json_error => 'invalid_request'} } 1 .. 3),
]
--- upstream_count: 1
--- no_error_log
limiting requests



=== TEST 3: a client-sent X-Workspace-Id never chooses the bucket
--- http_config
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=1r/m;
--- config
location / {
    tenant_guard on;
    limit_req zone=per_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /1', more_headers => TG::bearer({workspace_id => 'ws-a'}) . "\nX-Workspace-Id: ws-x",
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-a'},
    {request => 'GET /2', more_headers => TG::bearer({workspace_id => 'ws-a'}) . "\nX-Workspace-Id: ws-y",
     error_code => 503},
    # no token but the header: no bucket, and refused
    {request => 'GET /3', more_headers => "X-Workspace-Id: ws-a", error_code => 401},
]
--- upstream_count: 1



=== TEST 4: one signature verification per request, no zone: the access step reuses the verdict
--- log_level: debug
--- http_config
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=100r/s;
log_format tg 'TG ws=$tenant_guard_workspace sub=$tenant_guard_subject org=$tenant_guard_organization result=$tenant_guard_result';
--- config
access_log logs/access.log tg;
location / {
    tenant_guard on;
    limit_req zone=per_ws;
    proxy_set_header X-Var-Workspace $tenant_guard_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /once
--- more_headers eval
TG::bearer({workspace_id => 'ws-once', sub => 'u-once', organization_id => 'o-once'})
--- error_code: 200
--- upstream_headers
X-Var-Workspace: ws-once
X-Workspace-Id: ws-once
--- access_log
TG ws=ws-once sub=u-once org=o-once result=allow
--- error_log_count
1 tenant_guard: verifying token signature
1 tenant_guard: token judged for a variable
1 tenant_guard: token judged before access



=== TEST 5: an invalid token read early is judged once and refused once
--- log_level: debug
--- http_config
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=100r/s;
--- config
location / {
    tenant_guard on;
    limit_req zone=per_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /bad
--- more_headers eval
TG::bearer({workspace_id => 'ws-a'}, key => 'rsa2', kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_count
1 tenant_guard: verifying token signature
1 tenant_guard: token judged before access
1 tenant_guard: invalid token



=== TEST 6: with the zone, the early judgement is what the zone caches: one verification for two requests
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=100r/s;
--- config
location / {
    tenant_guard on;
    limit_req zone=per_ws burst=10;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'ws-z'});
[
    {request => 'GET /1', more_headers => main::bearer_of($TOK{a}), error_code => 200},
    {request => 'GET /2', more_headers => main::bearer_of($TOK{a}), error_code => 200,
     upstream_headers => 'X-Workspace-Id: ws-z'},
]
--- error_log_count
1 tenant_guard: verifying token signature
1 tenant_guard: token from zone
2 tenant_guard: token judged before access



=== TEST 7: once verified, the variables are set on a refusal: the access log shows the workspace
--- http_config
log_format tg 'TG $request_uri status=$status ws=[$tenant_guard_workspace] result=$tenant_guard_result claim=[$tenant_guard_claim_team]';
--- config
access_log logs/access.log tg;
location ~ ^/ws/(?<ws>[^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/ws2/x', more_headers => TG::bearer({workspace_id => 'ws1', team => 'red'}),
     error_code => 403, json_error => 'workspace_mismatch'},
    {request => 'GET /ws/ws1/x', more_headers => TG::bearer({workspace_id => 'ws1'}, key => 'rsa2', kid => 'rsa1'),
     error_code => 401},
]
--- access_log
TG /ws/ws2/x status=403 ws=[ws1] result=workspace_mismatch claim=[red]
--- access_log_like
TG /ws/ws1/x status=401 ws=\[-?\] result=invalid_token claim=\[-?\]



=== TEST 8: "if" in the rewrite phase sees the verified workspace
--- config
location / {
    tenant_guard on;
    if ($tenant_guard_workspace = ws-blocked) {
        return 418;
    }
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /1', more_headers => TG::bearer({workspace_id => 'ws-blocked'}), error_code => 418},
    {request => 'GET /2', more_headers => TG::bearer({workspace_id => 'ws-ok'}), error_code => 200},
    # a forged token claiming ws-blocked is judged invalid: no 418, but 401
    {request => 'GET /3', more_headers => TG::bearer({workspace_id => 'ws-blocked'}, key => 'rsa2', kid => 'rsa1'),
     error_code => 401, json_error => 'invalid_token'},
]
--- upstream_count: 1



=== TEST 9: map to different upstreams per workspace
--- http_config
upstream pool_main {
    server $TEST_NGINX_UPSTREAM;
}
upstream pool_dead {
    server 127.0.0.1:1;
}
map $tenant_guard_workspace $tg_pool {
    default   pool_main;
    ws-moved  pool_dead;
}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$tg_pool;
}
--- requests eval
[
    {request => 'GET /a', more_headers => TG::bearer({workspace_id => 'ws1'}), error_code => 200,
     upstream_headers => 'X-Workspace-Id: ws1'},
    {request => 'GET /b', more_headers => TG::bearer({workspace_id => 'ws-moved'}), error_code => 502},
]
--- upstream_count: 1
--- error_log_like
connect\(\) failed .*upstream: "http://127\.0\.0\.1:1/b"



=== TEST 10: a banned address is still refused as banned when a variable judged the token first
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [3, 60, 60])}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=100r/s;
--- config
location / {
    tenant_guard on;
    limit_req zone=per_ws burst=20;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my $bad = {request => 'GET /api/items', error_code => 401,
           json_error => 'invalid_token', no_upstream => 1};
[
    (map { +{%$bad, more_headers => TG::bearer({jti => "j$_"}, key => 'evil_rsa')} } 1 .. 3),
    TG::Ban::banned('ip', [58, 60], 'GET /api/items', TG::bearer({})),
]
--- no_upstream
--- error_log_count
3 tenant_guard: invalid token
1 tenant_guard: client address banned, level 3, for 60 s



=== TEST 11: a verdict reached under the server's configuration is not reused by a stricter location
--- log_level: debug
--- config
tenant_guard on;
set $early_ws $tenant_guard_workspace;
location / {
    proxy_set_header X-Early $early_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /strict/ {
    tenant_guard_keys $TEST_NGINX_KEYS/ec256.pem;
    tenant_guard_algorithms ES256;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    # the server's rewrite phase judged it good (rsa1 is in jwks.json) ...
    {request => 'GET /a', more_headers => TG::bearer({workspace_id => 'ws-s'}), error_code => 200,
     upstream_headers => "X-Early: ws-s\nX-Workspace-Id: ws-s"},
    # ... the location's keys do not hold rsa1: judged again, refused
    {request => 'GET /strict/b', more_headers => TG::bearer({workspace_id => 'ws-s'}), error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
]
--- upstream_count: 1
--- error_log_count
3 tenant_guard: verifying token signature
