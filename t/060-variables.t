# $tenant_guard_* variables: after the access check they hold the token's
# values; usable in proxy_set_header, proxy_pass, add_header, log_format.
# (`return` runs in the rewrite phase, before the check, so these tests look
# at what the upstream received, at response headers and at the access log.)

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: the id variables in proxy_set_header
--- config
location / {
    tenant_guard on;
    proxy_set_header X-Var-Workspace $tenant_guard_workspace;
    proxy_set_header X-Var-Organization $tenant_guard_organization;
    proxy_set_header X-Var-Integration $tenant_guard_integration;
    proxy_set_header X-Var-Subject $tenant_guard_subject;
    proxy_set_header X-Var-Scopes $tenant_guard_scopes;
    proxy_set_header X-Var-Mfa $tenant_guard_mfa;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws5', organization_id => 'org5', integration_id => 'int5',
            sub => 'user5', scope => ['a', 'b'], amr => ['otp']})
--- error_code: 200
--- upstream_headers
X-Var-Workspace: ws5
X-Var-Organization: org5
X-Var-Integration: int5
X-Var-Subject: user5
X-Var-Scopes: a b
X-Var-Mfa: true



=== TEST 2: $tenant_guard_mfa is false without mfa
--- config
location / {
    tenant_guard on;
    proxy_set_header X-Var-Mfa $tenant_guard_mfa;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({amr => ['pwd']})
--- error_code: 200
--- upstream_headers
X-Var-Mfa: false



=== TEST 3: $tenant_guard_token_id is the jti
--- config
location / {
    tenant_guard on;
    proxy_set_header X-Var-Token-Id $tenant_guard_token_id;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({jti => 'jti-fixed-123'})
--- error_code: 200
--- upstream_headers
X-Var-Token-Id: jti-fixed-123



=== TEST 4: $tenant_guard_token_id without jti: the SHA-256 prefix, never the token
--- config
location / {
    tenant_guard on;
    proxy_set_header X-Var-Token-Id $tenant_guard_token_id;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({jti => undef})
--- error_code: 200
--- upstream_headers eval
"X-Var-Token-Id: " . TG::token_hash_id()



=== TEST 5: $tenant_guard_claim_NAME
--- config
location / {
    tenant_guard on;
    proxy_set_header X-Provider $tenant_guard_claim_provider_id;
    proxy_set_header X-Email $tenant_guard_claim_email;
    proxy_set_header X-Num $tenant_guard_claim_level;
    proxy_set_header X-Missing $tenant_guard_claim_nothere;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({provider_id => 'p7', email => 'a@example.com', level => 3})
--- error_code: 200
--- upstream_headers
X-Provider: p7
X-Email: a@example.com
X-Num: 3
!X-Missing



=== TEST 6: the variables follow tenant_guard_claim
--- config
tenant_guard_claim workspace tid;
location / {
    tenant_guard on;
    proxy_set_header X-Var-Workspace $tenant_guard_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({tid => 't3', workspace_id => 'ws1'})
--- error_code: 200
--- upstream_headers
X-Var-Workspace: t3



=== TEST 7: variables in proxy_pass (route by tenant)
--- config
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM/tenants/$tenant_guard_workspace$request_uri;
}
--- request
GET /api/items?x=1
--- more_headers eval
TG::bearer({workspace_id => 'ws8'})
--- error_code: 200
--- upstream_uri: /tenants/ws8/api/items?x=1



=== TEST 8: variables in map
--- http_config
map $tenant_guard_workspace $tg_pool {
    default  general;
    ws-vip   vip;
}
--- config
location / {
    tenant_guard on;
    proxy_set_header X-Pool $tg_pool;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a', more_headers => TG::bearer({workspace_id => 'ws-vip'}),
     upstream_headers => 'X-Pool: vip'},
    {request => 'GET /b', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_headers => 'X-Pool: general'},
]



=== TEST 9: variables in add_header on the response
--- config
location / {
    tenant_guard on;
    add_header X-Served-Workspace $tenant_guard_workspace;
    add_header X-Served-Subject $tenant_guard_subject;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws4', sub => 'user4'})
--- error_code: 200
--- response_headers
X-Served-Workspace: ws4
X-Served-Subject: user4



=== TEST 10: $tenant_guard_result is allow, and the ids are logged
--- http_config
log_format tg 'TG status=$status result=$tenant_guard_result ws=$tenant_guard_workspace tid=$tenant_guard_token_id';
--- config
access_log logs/access.log tg;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws1', jti => 'jti-log-1'})
--- error_code: 200
--- access_log
TG status=200 result=allow ws=ws1 tid=jti-log-1



=== TEST 11: $tenant_guard_result holds the error code of a refusal
--- http_config
log_format tg 'TG $request_uri status=$status result=$tenant_guard_result';
--- config
access_log logs/access.log tg;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /scoped/ {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /none', error_code => 401},
    {request => 'GET /bad', more_headers => TG::bearer({}, key => 'rsa2', kid => 'rsa1'),
     error_code => 401},
    {request => 'GET /scoped/x', more_headers => TG::bearer({scope => 'read'}),
     error_code => 403},
    {request => 'GET /ws/ws2/x', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403},
]
--- access_log
TG /none status=401 result=invalid_request
TG /bad status=401 result=invalid_token
TG /scoped/x status=403 result=insufficient_scope
TG /ws/ws2/x status=403 result=workspace_mismatch



=== TEST 12: $tenant_guard_token_id of a refused unverifiable token is the hash prefix
--- http_config
log_format tg 'TG tid=$tenant_guard_token_id';
--- config
access_log logs/access.log tg;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, key => 'rsa2', kid => 'rsa1')
--- error_code: 401
--- access_log eval
"TG tid=" . TG::token_hash_id()
--- no_access_log eval
TG::secret_parts()



=== TEST 13: the variables are empty where no token was checked
--- http_config
log_format tg 'TG ws=[$tenant_guard_workspace] sub=[$tenant_guard_subject] tid=[$tenant_guard_token_id]';
--- config
access_log logs/access.log tg;
location / {
    proxy_set_header X-Var-Workspace $tenant_guard_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /public
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 200
--- upstream_headers
!X-Var-Workspace
--- access_log_like
TG ws=\[-?\] sub=\[-?\] tid=\[-?\]
