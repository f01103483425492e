# Redis mode (tenant_guard_redis) against a real redis-server: each key kind
# the module reads (tg:ws:{ws} policy fields, tg:revoked:{jti},
# tg:token:{sha256} opaque tokens), what falls back to the policy file (no
# hash, a field with invalid JSON or a wrong shape), db=, prefix=, password=
# and user= (ACL), a unix socket, and the directive's nginx -t errors.
# Each refusal: status, JSON error, the log line; nothing upstream.
#
# One redis-server per file ($R), one with --requirepass ($RA, also holding an
# ACL user), one on a unix socket ($RU); every block starts from FLUSHALL and
# puts its keys in "--- redis eval" (see t/lib/TG/Redis.pm).

use lib 't/lib';
use TG;
use TG::Policy;
use TG::Redis;
use Test::More;

our (%TOK, $R, $RA, $RU);

BEGIN {
    unless (TG::Redis::available()) {
        Test::More::plan(skip_all => "no redis-server ($TG::Redis::SERVER)");
    }
}

$R = TG::Redis->start;
$RA = TG::Redis->start(password => 'pw-Sekr1t');
$RA->cmd('ACL', 'SETUSER', 'tguser', 'on', '>acl-Pa55', '~*', '&*', '+@all');
{
    my $dir = "$TG::ROOT/redis-unix";
    mkdir $dir;
    chmod 0755, $dir;
    $RU = TG::Redis->start(args => ['--unixsocket', "$dir/redis.sock",
                                    '--unixsocketperm', '777']);
    $RU->{sockpath} = "$dir/redis.sock";
}

sub bearer_of { return "Authorization: Bearer $_[0]" }
sub T { JSON::PP::true() }
sub F { JSON::PP::false() }

# the info line of a refusal of that token
sub refusal { TG::Policy::log_refusal(@_) }

TG::Redis::fixture($R, auth => $RA, unix => $RU);
# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: policy field mfa.required in tg:ws:{ws}: a token without MFA gets 401 insufficient_user_authentication
--- redis eval
$main::R->set_policy('acme', mfa => {required => main::T()});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{nomfa} = TG::jwt({workspace_id => 'acme'});
$TOK{mfa} = TG::jwt({workspace_id => 'acme', amr => ['pwd', 'otp']});
$TOK{other} = TG::jwt({workspace_id => 'beta'});
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{nomfa}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     response_headers_like => 'WWW-Authenticate: acr_values=', no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{mfa}),
     error_code => 200, upstream_headers => "X-Workspace-Id: acme\nX-Auth-MFA: true"},
    {request => 'GET /c', more_headers => main::bearer_of($TOK{other}),
     error_code => 200, upstream_headers => "X-Workspace-Id: beta\nX-Auth-MFA: false"},
]
--- error_log_like eval
main::refusal('mfa required', $TOK{nomfa})
--- no_error_log
tenant_guard: store unavailable
redis link is down



=== TEST 2: policy field ipPolicy enabled without the client address: 403 ip_not_allowed; with it: 200
--- redis eval
$main::R->set_policy('acme', ipPolicy => {enabled => main::T(), ipPolicy => ['203.0.113.7', '10.0.0.0/8']});
$main::R->set_policy('open', ipPolicy => {enabled => main::T(), ipPolicy => ['203.0.113.7', '127.0.0.0/8']});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{acme} = TG::jwt({workspace_id => 'acme'});
$TOK{open} = TG::jwt({workspace_id => 'open'});
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{acme}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{open}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: open'},
]
--- error_log_like eval
main::refusal('ip not allowed', $TOK{acme})



=== TEST 3: Redis's hash replaces the file's policy; no hash: the file's policy; neither: nothing enforced
--- policy
{"workspaces": {"both": {"mfa": {"required": true}},
                "fileonly": {"mfa": {"required": true}}}}
--- redis eval
$main::R->set_policy('both', general => {tokenLifetimeInSeconds => 0});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{both} = TG::jwt({workspace_id => 'both'});
$TOK{file} = TG::jwt({workspace_id => 'fileonly'});
$TOK{none} = TG::jwt({workspace_id => 'nowhere'});
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{both}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: both'},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{file}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
    {request => 'GET /c', more_headers => main::bearer_of($TOK{none}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: nowhere'},
]
--- error_log_like eval
main::refusal('mfa required', $TOK{file})
--- no_error_log
invalid policy in Redis



=== TEST 4: tg:revoked:{jti} set: 401 invalid_token "the token has been revoked"; another jti passes
--- redis eval
$TOK{rev} = TG::jwt({workspace_id => 'acme', jti => 'jti-revoked-100-4'});
$TOK{ok} = TG::jwt({workspace_id => 'acme', jti => 'jti-fine-100-4'});
$main::R->revoke('jti-revoked-100-4');
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{rev}),
     error_code => 401, json_error => 'invalid_token',
     json_error_description => 'the token has been revoked', no_upstream => 1},
    {request => 'GET /a2', more_headers => main::bearer_of($TOK{rev}),
     error_code => 401, json_error => 'invalid_token',
     json_error_description => 'the token has been revoked', no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{ok}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
]
--- error_log_like
\[info\] .*tenant_guard: invalid token: the token has been revoked, token_id: jti-revoked-100-4, client: 
--- error_log_count
2 tenant_guard: invalid token: the token has been revoked, token_id: jti-revoked-100-4



=== TEST 5: opaque token known to Redis: 200, the tenant headers come from its record
--- redis eval
$TOK{op} = TG::Redis::opaque_token();
$main::R->put_token($TOK{op}, {sub => 'member-9', organization_id => 'org-9',
    workspace_id => 'ws-9', integration_id => 'int-9', scope => 'read sync',
    amr => ['pwd', 'otp'], jti => 'op-jti-9'});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    map { +{request => "GET /r$_", more_headers => main::bearer_of($TOK{op}),
            error_code => 200, upstream_headers => <<'H'} } 1 .. 2
X-Workspace-Id: ws-9
X-Organization-Id: org-9
X-Integration-Id: int-9
X-Subject-Id: member-9
X-Auth-Scopes: read sync
X-Auth-MFA: true
H
]
--- upstream_count: 2
--- no_error_log
tenant_guard: invalid token
tenant_guard: store unavailable



=== TEST 6: opaque token the workspace policy refuses (mfa required, record without mfa): 401
--- redis eval
$TOK{op} = TG::Redis::opaque_token();
$main::R->put_token($TOK{op}, {sub => 'member-9', organization_id => 'org-9',
    workspace_id => 'strict', integration_id => 'int-9', scope => 'read',
    amr => ['pwd'], jti => 'op-jti-6'});
$main::R->set_policy('strict', mfa => {required => main::T()});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- more_headers eval
main::bearer_of($TOK{op})
--- error_code: 401
--- json_error: insufficient_user_authentication
--- no_upstream
--- error_log_like
\[info\] .*tenant_guard: mfa required, token_id: op-jti-6, client: 



=== TEST 7: opaque token absent from Redis: 401 invalid_token "unknown token"
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- more_headers eval
$TOK{op} = TG::Redis::opaque_token();
main::bearer_of($TOK{op})
--- error_code: 401
--- json_error: invalid_token
--- json_error_description: unknown token
--- no_upstream
--- error_log_like eval
'\[info\] .*tenant_guard: invalid token: unknown token, token_id: '
. quotemeta(TG::token_hash_id($TOK{op})) . ', client: '
--- no_error_log eval
$TOK{op}



=== TEST 8: opaque token record whose exp has passed, or without exp: 401 invalid_token
--- redis eval
$TOK{old} = TG::Redis::opaque_token();
$TOK{noexp} = TG::Redis::opaque_token();
$main::R->put_token($TOK{old}, {sub => 'm', organization_id => 'o',
    workspace_id => 'w', integration_id => 'i', scope => 'read',
    iat => time - 7200, exp => time - 3600, jti => 'op-old'});
$main::R->put_token($TOK{noexp}, '{"sub":"m","organization_id":"o","workspace_id":"w","integration_id":"i","scope":"read","iat":' . time . ',"jti":"op-noexp"}');
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{old}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{noexp}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]
--- error_log_count
2 tenant_guard: opaque token record refused



=== TEST 9: tenant_guard_opaque_tokens off (default): a known opaque token is not looked up, 401
--- redis eval
$TOK{op} = TG::Redis::opaque_token();
$main::R->put_token($TOK{op}, {sub => 'm', organization_id => 'o',
    workspace_id => 'w', integration_id => 'i', scope => 'read', jti => 'op-off'});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- more_headers eval
main::bearer_of($TOK{op})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 10: invalid JSON in a policy field: error log, 503 for that workspace, never the file's weaker policy
--- policy
{"workspaces": {"ws2": {"mfa": {"required": true}}}}
--- redis eval
$main::R->set_policy('ws2', ipPolicy => '{"enabled": true, "ipPolicy": [',
                     general => {tokenLifetimeInSeconds => 0});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{nomfa} = TG::jwt({workspace_id => 'ws2'});
$TOK{mfa} = TG::jwt({workspace_id => 'ws2', amr => ['otp']});
$TOK{ws9} = TG::jwt({workspace_id => 'ws9'});
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{nomfa}),
     error_code => 503, json_error => 'temporarily_unavailable',
     json_error_description => "the workspace's policy is invalid",
     no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{mfa}),
     error_code => 503, json_error => 'temporarily_unavailable',
     no_upstream => 1},
    {request => 'GET /c', more_headers => main::bearer_of($TOK{ws9}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws9'},
]
--- upstream_count: 1
--- error_log_like eval
[q{\[error\] .*tenant_guard: invalid policy in Redis for workspace "ws2", field "ipPolicy": .+; its requests are refused}]
--- error_log_count
1 invalid policy in Redis for workspace "ws2"



=== TEST 11: a known policy field of the wrong shape: 503 for that workspace; fields the edge does not know are ignored
--- policy
{"workspaces": {"ws2": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/8"]}}}}
--- redis eval
$main::R->set_policy('ws2', mfa => {required => 'yes please'});
$main::R->set_policy('ws3', ipPolicy => ['127.0.0.1']);
$main::R->set_policy('ws4', mfa => {required => main::T()},
                     sso => '{"not": "json',
                     passwordComplexity => {minUpper => 2});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{ws2} = TG::jwt({workspace_id => 'ws2'});
$TOK{ws3} = TG::jwt({workspace_id => 'ws3'});
$TOK{ws4} = TG::jwt({workspace_id => 'ws4'});
$TOK{ws4mfa} = TG::jwt({workspace_id => 'ws4', amr => ['otp']});
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{ws2}),
     error_code => 503, json_error => 'temporarily_unavailable',
     no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{ws3}),
     error_code => 503, json_error => 'temporarily_unavailable',
     no_upstream => 1},
    {request => 'GET /c', more_headers => main::bearer_of($TOK{ws4}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
    {request => 'GET /d', more_headers => main::bearer_of($TOK{ws4mfa}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws4'},
]
--- upstream_count: 1
--- error_log_like
\[error\] .*tenant_guard: invalid policy in Redis for workspace "ws2", field "mfa": .+; its requests are refused
\[error\] .*tenant_guard: invalid policy in Redis for workspace "ws3", field "ipPolicy": .+; its requests are refused
--- no_error_log
workspace "ws4"



=== TEST 12: db=3: the policy and the revocation in db 3 apply, db 0 is not read
--- redis eval
$main::R->set_policy('acme', mfa => {required => main::T()}, db => 3);
$main::R->set_policy('beta', mfa => {required => main::T()});    # db 0 only
$main::R->cmd('SELECT', 3);
$main::R->cmd('SET', 'tg:revoked:jti-db3-revoked', 1);
$main::R->cmd('SELECT', 0);
$main::R->cmd('SET', 'tg:revoked:jti-db0-revoked', 1);
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS db=3;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{acme} = TG::jwt({workspace_id => 'acme'});
$TOK{beta} = TG::jwt({workspace_id => 'beta'});
$TOK{r3} = TG::jwt({workspace_id => 'gamma', jti => 'jti-db3-revoked'});
$TOK{r0} = TG::jwt({workspace_id => 'gamma', jti => 'jti-db0-revoked'});
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{acme}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{beta}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: beta'},
    {request => 'GET /c', more_headers => main::bearer_of($TOK{r3}),
     error_code => 401, json_error => 'invalid_token',
     json_error_description => 'the token has been revoked', no_upstream => 1},
    {request => 'GET /d', more_headers => main::bearer_of($TOK{r0}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: gamma'},
]
--- error_log_like eval
[main::refusal('mfa required', $TOK{acme}),
 'tenant_guard: invalid token: the token has been revoked, token_id: jti-db3-revoked, ']



=== TEST 13: default db is 0: a policy only in db 3 is not seen
--- redis eval
$main::R->set_policy('acme', mfa => {required => main::T()}, db => 3);
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- more_headers eval
TG::bearer({workspace_id => 'acme'})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: acme



=== TEST 14: prefix=app1: keys are read under app1:, tg: keys are ignored, events come on app1:events
--- redis eval
$main::R->set_policy('acme', mfa => {required => main::T()}, prefix => 'app1:');
$main::R->set_policy('beta', mfa => {required => main::T()});
$main::R->revoke('jti-app1', 'app1:');
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS prefix=app1:;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- no_redis_wait
--- requests eval
$TOK{acme} = TG::jwt({workspace_id => 'acme'});
$TOK{beta} = TG::jwt({workspace_id => 'beta'});
$TOK{rev} = TG::jwt({workspace_id => 'gamma', jti => 'jti-app1'});
[
    {before => sub {
         TG::check($main::R->wait_links(clients => 1, channel => 'app1:events'),
                   'prefix=app1: - nginx subscribed to app1:events');
     },
     request => 'GET /a', more_headers => main::bearer_of($TOK{acme}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{beta}),
     error_code => 200},
    {request => 'GET /c', more_headers => main::bearer_of($TOK{rev}),
     error_code => 401, json_error => 'invalid_token',
     json_error_description => 'the token has been revoked', no_upstream => 1},
    # events under the wrong prefix or on the wrong channel change nothing
    {before => sub {
         $main::R->set_policy('beta', mfa => {required => main::T()}, prefix => 'app1:');
         $main::R->publish('tg:ws:beta', 'app1:events');
         $main::R->publish('app1:ws:beta', 'tg:events');
         Time::HiRes::sleep(0.2);
     },
     request => 'GET /d', more_headers => main::bearer_of($TOK{beta}),
     error_code => 200},
    # app1:ws:beta on app1:events: the new policy
    {before => sub {
         TG::check($main::R->publish('app1:ws:beta', 'app1:events') == 1,
                   'prefix=app1: - PUBLISH app1:events reached nginx');
         Time::HiRes::sleep(0.2);
     },
     request => 'GET /e', more_headers => main::bearer_of($TOK{beta}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
]



=== TEST 15: password= right: the link comes up and Redis is read
--- redis eval
$main::RA->set_policy('acme', mfa => {required => main::T()});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS_AUTH password=pw-Sekr1t;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- no_redis_wait
--- requests eval
$TOK{acme} = TG::jwt({workspace_id => 'acme'});
$TOK{beta} = TG::jwt({workspace_id => 'beta'});
[
    {before => sub {
         TG::check($main::RA->wait_links(clients => 1),
                   'password= - nginx linked to the Redis with requirepass');
     },
     request => 'GET /a', more_headers => main::bearer_of($TOK{acme}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{beta}),
     error_code => 200},
]
--- no_error_log
redis link is down
redis events link is down
pw-Sekr1t



=== TEST 16: user= password= (ACL user): the link comes up and Redis is read
--- redis eval
$main::RA->set_policy('acme', mfa => {required => main::T()});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS_AUTH user=tguser password=acl-Pa55;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- no_redis_wait
--- requests eval
$TOK{acme} = TG::jwt({workspace_id => 'acme'});
[
    {before => sub {
         TG::check($main::RA->wait_links(clients => 1),
                   'user= - nginx linked to Redis as the ACL user');
         # the command links (their last command a PING, or the SCAN
         # of the bans when the events link came up)
         my @c = grep { ($_->{cmd} // '') =~ /^(ping|scan)$/ }
                 $main::RA->clients;
         TG::check(@c && !grep({ $_->{user} ne 'tguser' } @c),
                   'user= - the command link is authenticated as tguser',
                   join ' ', map { "user=$_->{user}" } @c);
     },
     request => 'GET /a', more_headers => main::bearer_of($TOK{acme}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
]
--- no_error_log
redis link is down
acl-Pa55



=== TEST 17: wrong password at start-up: the Redis error logged once per link, requests 503 (closed), the password never logged
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS_AUTH password=not-the-Pa55word;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- no_redis_wait
--- requests eval
[
    {before => sub { Time::HiRes::sleep(1.2) },    # several re-dials
     request => 'GET /a', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 503, json_error => 'temporarily_unavailable',
     no_upstream => 1, max_time => 1},
    {request => 'GET /b', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 503, json_error => 'temporarily_unavailable',
     no_upstream => 1, max_time => 1},
]
--- wait: 0.5
--- error_log_once
tenant_guard: redis link is down: WRONGPASS
tenant_guard: redis events link is down: WRONGPASS
--- error_log_like
\[error\] .*tenant_guard: redis link is down: WRONGPASS invalid username-password pair
\[info\] .*tenant_guard: store unavailable, token_id: 
--- no_error_log
not-the-Pa55word
redis link is up



=== TEST 18: wrong password with tenant_guard_redis_failure open: a valid JWT passes on the file's policy
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["127.0.0.1"]}}}}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS_AUTH password=not-the-Pa55word;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    tenant_guard_redis_failure open;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- no_redis_wait
--- requests eval
[
    {before => sub { Time::HiRes::sleep(0.3) },
     request => 'GET /a', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme', max_time => 1},
]
--- error_log_once
tenant_guard: redis link is down: WRONGPASS



=== TEST 19: unix:PATH: the link comes up over the socket
--- redis eval
$main::RU->set_policy('acme', mfa => {required => main::T()});
--- http_config eval
"tenant_guard_zone zone=tg:1m;\ntenant_guard_redis unix:$main::RU->{sockpath};\n"
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- no_redis_wait
--- requests eval
$TOK{acme} = TG::jwt({workspace_id => 'acme'});
[
    {before => sub {
         TG::check($main::RU->wait_links(clients => 1),
                   'unix: - nginx linked to Redis over the socket');
     },
     request => 'GET /a', more_headers => main::bearer_of($TOK{acme}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     no_upstream => 1},
]
--- no_error_log
redis link is down



=== TEST 20: nginx -t: tenant_guard_redis needs tenant_guard_zone
--- http_config
tenant_guard_redis 127.0.0.1:6379;
--- server_config
--- config
location / { tenant_guard on; }
--- config_error
"tenant_guard_redis" needs "tenant_guard_zone"



=== TEST 21: nginx -t: an unknown parameter is named, a bad password= value is not repeated
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis 127.0.0.1:6379 pasword=hunter2-secret;
--- server_config
--- config
location / { tenant_guard on; }
--- config_error
invalid parameter "pasword="
--- no_config_output
hunter2-secret



=== TEST 22: nginx -t: db= must be a number
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis 127.0.0.1:6379 db=three;
--- server_config
--- config
location / { tenant_guard on; }
--- config_error
invalid parameter "db="



=== TEST 23: nginx -t: timeout=0 is refused
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis 127.0.0.1:6379 timeout=0;
--- server_config
--- config
location / { tenant_guard on; }
--- config_error
invalid parameter "timeout="



=== TEST 24: nginx -t: invalid Redis address (no host, port out of range)
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis :6379;
--- server_config
--- config
location / { tenant_guard on; }
--- config_error
invalid Redis address



=== TEST 25: nginx -t: port 70000 is an invalid Redis address
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis 127.0.0.1:70000;
--- server_config
--- config
location / { tenant_guard on; }
--- config_error
invalid Redis address



=== TEST 26: nginx -t: a full valid directive is accepted
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis 127.0.0.1:6379 db=2 user=u password=p prefix=x: timeout=150ms;
--- config
location / { tenant_guard on; tenant_guard_redis_failure open; tenant_guard_opaque_tokens on; }
--- config_ok



=== TEST 40: an opaque token's cached verdict is not taken where opaque tokens are off
--- redis eval
$TOK{op} = TG::Redis::opaque_token();
$main::R->put_token($TOK{op}, {sub => 'member-40', workspace_id => 'ws-40',
    scope => 'read', jti => 'op-jti-40'});
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location /op/ {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /jwt/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /op/a', more_headers => main::bearer_of($TOK{op}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-40'},
    {request => 'GET /jwt/a', more_headers => main::bearer_of($TOK{op}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /op/b', more_headers => main::bearer_of($TOK{op}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-40'},
]
--- upstream_count: 2



=== TEST 41: an auth_request target that asks Redis (an opaque token) waits and is enforced
--- redis eval
$TOK{op} = TG::Redis::opaque_token();
$main::R->put_token($TOK{op}, {sub => 'member-41', workspace_id => 'ws-41',
    scope => 'read', jti => 'op-jti-41'});
$TOK{unknown} = TG::Redis::opaque_token();
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
--- requests eval
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{unknown}),
     error_code => 401},
    {request => 'GET /b', more_headers => main::bearer_of($TOK{op}),
     error_code => 200},
    {request => 'GET /c', more_headers => main::bearer_of($TOK{op}),
     error_code => 200},
]
--- upstream_count: 4



=== TEST 42: a Redis host given by name (resolved at configuration) is reached
--- redis eval
$main::R->revoke('jti-by-name-42');
--- http_config eval
my ($port) = $main::R->addr =~ /:(\d+)$/;
"tenant_guard_zone zone=tg:1m;\ntenant_guard_redis localhost:$port;\n"
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a',
     more_headers => main::bearer_of(TG::jwt({jti => 'jti-by-name-42'})),
     error_code => 401, json_error => 'invalid_token',
     json_error_description => 'the token has been revoked', no_upstream => 1},
    {request => 'GET /b',
     more_headers => main::bearer_of(TG::jwt({jti => 'jti-fine-42'})),
     error_code => 200},
]
--- upstream_count: 1



=== TEST 43: with Redis, a jti no revocation could name (over 256 bytes, empty, not a string) is refused; 256 bytes is checked
--- redis eval
$main::R->revoke('r' x 256);
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my $bad = sub {
    +{request => 'GET /a', more_headers => main::bearer_of(TG::jwt({jti => $_[0]})),
      error_code => 401, json_error => 'invalid_token',
      json_error_description => 'the "jti" claim is empty, too long or not a string',
      no_upstream => 1}
};
[
    $bad->('j' x 257),
    $bad->(''),
    $bad->({id => 1}),
    {request => 'GET /b', more_headers => main::bearer_of(TG::jwt({jti => 'r' x 256})),
     error_code => 401, json_error => 'invalid_token',
     json_error_description => 'the token has been revoked', no_upstream => 1},
    {request => 'GET /c', more_headers => main::bearer_of(TG::jwt({jti => 'k' x 256})),
     error_code => 200},
]
--- upstream_count: 1
