# Valid tokens are accepted: every allowlisted algorithm, JWKS and PEM key
# files, kid handling, claim shapes.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: RS256 (default allowlist, JWKS): accepted, tenant headers set
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({})
--- error_code: 200
--- upstream_uri: /items
--- upstream_headers
X-Workspace-Id: ws1
X-Organization-Id: org1
X-Integration-Id: int1
X-Subject-Id: user1
X-Auth-Scopes: read write
X-Auth-MFA: false
--- no_error_log
tenant_guard: invalid token
tenant_guard: no bearer token
[error]



=== TEST 2: ES256 (default allowlist)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-es256'}, alg => 'ES256')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-es256



=== TEST 3: EdDSA (default allowlist)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-ed'}, alg => 'EdDSA')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-ed



=== TEST 4: ES384 when allowlisted
--- config
tenant_guard_algorithms ES384;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-es384'}, alg => 'ES384')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-es384



=== TEST 5: ES512 (P-521) when allowlisted
--- config
tenant_guard_algorithms ES256 ES512;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-es512'}, alg => 'ES512')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-es512



=== TEST 6: PS256 when allowlisted (JWKS keys without "alg")
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
tenant_guard_algorithms PS256;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-ps256'}, alg => 'PS256')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-ps256



=== TEST 7: PS384 and PS512 when allowlisted
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
tenant_guard_algorithms PS384 PS512;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a',
     more_headers => TG::bearer({workspace_id => 'ws-ps384'}, alg => 'PS384'),
     upstream_headers => 'X-Workspace-Id: ws-ps384'},
    {request => 'GET /b',
     more_headers => TG::bearer({workspace_id => 'ws-ps512'}, alg => 'PS512'),
     upstream_headers => 'X-Workspace-Id: ws-ps512'},
]



=== TEST 8: RS384 and RS512 when allowlisted (PEM key)
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/rsa1.pem;
--- config
tenant_guard_algorithms RS384 RS512;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a',
     more_headers => TG::bearer({workspace_id => 'ws-rs384'}, alg => 'RS384', kid => undef),
     upstream_headers => 'X-Workspace-Id: ws-rs384'},
    {request => 'GET /b',
     more_headers => TG::bearer({workspace_id => 'ws-rs512'}, alg => 'RS512', kid => undef),
     upstream_headers => 'X-Workspace-Id: ws-rs512'},
]



=== TEST 9: HS256 when allowlisted, oct key in the JWKS
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json;
--- config
tenant_guard_algorithms RS256 HS256;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-hs256'}, alg => 'HS256')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-hs256



=== TEST 10: HS384 and HS512 when allowlisted (64-byte oct key without "alg")
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
tenant_guard_algorithms HS384 HS512;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a',
     more_headers => TG::bearer({workspace_id => 'ws-hs384'}, alg => 'HS384', key => 'hs64'),
     upstream_headers => 'X-Workspace-Id: ws-hs384'},
    {request => 'GET /b',
     more_headers => TG::bearer({workspace_id => 'ws-hs512'}, alg => 'HS512', key => 'hs64'),
     upstream_headers => 'X-Workspace-Id: ws-hs512'},
]



=== TEST 11: RS256 with a PEM key file, token without kid
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/rsa1.pem;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-pem'}, kid => undef)
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-pem



=== TEST 12: PEM keys have no kid: a token with a kid is tried against them
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/rsa1.pem;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-pem-kid'}, kid => 'some-kid')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-pem-kid



=== TEST 13: several PEM keys in one file: each is tried
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/rsa_multi.pem;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a',
     more_headers => TG::bearer({workspace_id => 'by-rsa1'}, key => 'rsa1', kid => undef),
     upstream_headers => 'X-Workspace-Id: by-rsa1'},
    {request => 'GET /b',
     more_headers => TG::bearer({workspace_id => 'by-rsa2'}, key => 'rsa2', kid => undef),
     upstream_headers => 'X-Workspace-Id: by-rsa2'},
]
--- upstream_count: 2



=== TEST 14: a PEM file with one key does not accept another key's token
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/rsa1.pem;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, key => 'rsa2', kid => undef)
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 15: EC P-256 PEM key
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/ec256.pem;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-ecpem'}, alg => 'ES256', kid => undef)
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-ecpem



=== TEST 16: Ed25519 PEM key
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/ed1.pem;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-edpem'}, alg => 'EdDSA', kid => undef)
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-edpem



=== TEST 17: JWKS key with "use":"enc" is skipped, "use":"sig" is used
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_enc.json;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /enc',
     more_headers => TG::bearer({}, key => 'rsa1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /sig',
     more_headers => TG::bearer({workspace_id => 'ws-sig'}, key => 'rsa2'),
     upstream_headers => 'X-Workspace-Id: ws-sig'},
]
--- upstream_count: 1



=== TEST 18: a JWKS key without kid is tried for any kid
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_nokid.json;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a',
     more_headers => TG::bearer({workspace_id => 'ws-a'}, key => 'rsa1', kid => 'whatever'),
     upstream_headers => 'X-Workspace-Id: ws-a'},
    {request => 'GET /b',
     more_headers => TG::bearer({workspace_id => 'ws-b'}, key => 'rsa1', kid => undef),
     upstream_headers => 'X-Workspace-Id: ws-b'},
]



=== TEST 19: JWKS with several keys: kid selects rsa2
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws-rsa2'}, key => 'rsa2')
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-rsa2



=== TEST 20: keys and tenant_guard at http level are inherited
--- http_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
tenant_guard on;
--- server_config
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /with-token', more_headers => TG::bearer({}),
     upstream_headers => 'X-Workspace-Id: ws1'},
    {request => 'GET /without-token', error_code => 401,
     json_error => 'invalid_request', no_upstream => 1},
]



=== TEST 21: tenant_guard off in a location: no token needed
--- config
tenant_guard on;
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /public/ {
    tenant_guard off;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /public/x
--- error_code: 200
--- upstream_uri: /public/x
--- upstream_headers
!X-Workspace-Id
--- no_error_log
tenant_guard:



=== TEST 22: a location's tenant_guard_keys overrides the server's
--- config
tenant_guard on;
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /other/ {
    tenant_guard_keys $TEST_NGINX_KEYS/rsa2.pem;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /other/a', more_headers => TG::bearer({}, key => 'rsa1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /other/b',
     more_headers => TG::bearer({workspace_id => 'ws-r2'}, key => 'rsa2', kid => undef),
     upstream_headers => 'X-Workspace-Id: ws-r2'},
    {request => 'GET /a', more_headers => TG::bearer({}, key => 'rsa1'),
     upstream_headers => 'X-Workspace-Id: ws1'},
]



=== TEST 23: integer id claims are sent as decimal
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 42, organization_id => 7, integration_id => 1234567890123})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: 42
X-Organization-Id: 7
X-Integration-Id: 1234567890123



=== TEST 24: scope as an array of strings
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({scope => ['read', 'write', 'admin']})
--- error_code: 200
--- upstream_headers
X-Auth-Scopes: read write admin



=== TEST 25: a claim the token lacks gives no header
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({integration_id => undef, organization_id => undef, scope => undef})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws1
X-Subject-Id: user1
!X-Integration-Id
!X-Organization-Id
!X-Auth-Scopes



=== TEST 26: the auth scheme is case-insensitive (RFC 7235)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"Authorization: bearer " . TG::jwt({workspace_id => 'ws-lc'})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-lc



=== TEST 27: two workers both verify (keys loaded before fork)
--- workers: 2
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET /n$_",
         more_headers => TG::bearer({workspace_id => "w$_"}, alg => ($_ % 2 ? 'ES256' : 'RS256')),
         upstream_headers => "X-Workspace-Id: w$_"} } 1 .. 6 ]
--- upstream_count: 6



=== TEST 28: request body reaches upstream after the check
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
POST /items
{"name":"x"}
--- more_headers eval
TG::bearer({}) . "\nContent-Type: application/json"
--- error_code: 200
--- upstream_body: {"name":"x"}
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 29: upstream status passes through for accepted requests
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /status/404
--- more_headers eval
TG::bearer({})
--- error_code: 404
--- upstream_uri: /status/404
