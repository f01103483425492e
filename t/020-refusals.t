# One block per refusal row of the contract: status, JSON error, the
# WWW-Authenticate challenge, the info log line, nothing upstream, and the
# token never in the log.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: no Authorization header: 401 invalid_request
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- error_code: 401
--- json_error: invalid_request
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
!X-Mock-Upstream
--- no_upstream
--- error_log_like
\[info\] .*tenant_guard: no bearer token(, client: |$)
--- error_log_once
tenant_guard: no bearer token
--- no_error_log
token_id



=== TEST 2: Basic credentials are not a bearer token: 401 invalid_request
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers
Authorization: Basic dXNlcjpwYXNzd29yZA==
--- error_code: 401
--- json_error: invalid_request
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- no_upstream
--- error_log_like
\[info\] .*tenant_guard: no bearer token
--- no_error_log
dXNlcjpwYXNzd29yZA



=== TEST 3: "Bearer" with no token: 401 invalid_request
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers
Authorization: Bearer
--- error_code: 401
--- json_error: invalid_request
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- no_upstream
--- error_log_like
\[info\] .*tenant_guard: no bearer token



=== TEST 4: empty Authorization header: 401 invalid_request
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers
Authorization:
--- error_code: 401
--- json_error: invalid_request
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- no_upstream
--- error_log_like
\[info\] .*tenant_guard: no bearer token



=== TEST 5: another scheme glued to the token ("Bearerxyz") is not Bearer
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"Authorization: Bearer" . TG::jwt({})
--- error_code: 401
--- json_error: invalid_request
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- no_upstream
--- error_log_like
\[info\] .*tenant_guard: no bearer token



=== TEST 6: bad signature: 401 invalid_token with an RFC 6750 challenge
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, key => 'rsa2', kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token", error_description="(?:[^"\\]|\\.)+"$
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()
--- error_log_once
tenant_guard: invalid token
--- no_error_log eval
TG::secret_parts()



=== TEST 7: expired token: 401 invalid_token
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({iat => time - 7200, exp => time - 3600})
--- error_code: 401
--- json_error: invalid_token
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token", error_description="(?:[^"\\]|\\.)+"$
--- no_upstream
--- error_log_like eval
TG::log_invalid()
--- error_log_once
tenant_guard: invalid token
--- no_error_log eval
TG::secret_parts()



=== TEST 8: garbage token: 401 invalid_token, id is the hash prefix
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw('not-a-jwt-but-a-long-secret-opaque-string')
--- error_code: 401
--- json_error: invalid_token
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token"
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()
--- no_error_log
not-a-jwt-but-a-long-secret-opaque-string



=== TEST 9: missing scope: 403 insufficient_scope with the scope challenge
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({scope => 'read write'})
--- error_code: 403
--- json_error: insufficient_scope
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard", error="insufficient_scope", scope="admin"
--- no_upstream
--- error_log_like eval
TG::log_refusal('insufficient scope')
--- error_log_once
tenant_guard: insufficient scope
--- no_error_log eval
TG::secret_parts()



=== TEST 10: missing one of two scopes: the challenge names both
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope admin billing;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({scope => 'admin read'})
--- error_code: 403
--- json_error: insufficient_scope
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard", error="insufficient_scope", scope="admin billing"
--- no_upstream
--- error_log_like eval
TG::log_refusal('insufficient scope')



=== TEST 11: bind mismatch: 403 workspace_mismatch, no challenge
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws2/items
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- response_headers
!WWW-Authenticate
--- no_upstream
--- error_log_like eval
TG::log_refusal('workspace mismatch')
--- error_log_once
tenant_guard: workspace mismatch
--- no_error_log eval
TG::secret_parts()



=== TEST 12: tenant_guard_realm changes the realm (no token)
--- config
tenant_guard_realm api.example;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- error_code: 401
--- json_error: invalid_request
--- response_headers
WWW-Authenticate: Bearer realm="api.example"
--- no_upstream



=== TEST 13: tenant_guard_realm changes the realm (bad token)
--- config
location / {
    tenant_guard on;
    tenant_guard_realm api.example;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, key => 'rsa2', kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- response_headers_like
WWW-Authenticate: ^Bearer realm="api\.example", error="invalid_token", error_description=".+"$
--- no_upstream



=== TEST 14: a refused POST: the body never reaches upstream
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
POST /items
{"delete":"everything"}
--- more_headers
Content-Type: application/json
--- error_code: 401
--- json_error: invalid_request
--- no_upstream



=== TEST 15: refusals in a location with tenant_guard on inherit nothing from a public one
--- config
location /public/ {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /private/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /public/a', upstream_uri => '/public/a'},
    {request => 'GET /private/a', error_code => 401,
     json_error => 'invalid_request', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 16: a token in the query string is not a bearer token
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request eval
"GET /items?access_token=" . TG::jwt({})
--- error_code: 401
--- json_error: invalid_request
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- no_upstream



=== TEST 17: HEAD refused the same way
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
HEAD /items
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- response_headers_like
Content-Type: ^application/json
--- no_upstream



=== TEST 18: the refusal body is exactly the JSON object, nothing more
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- error_code: 401
--- response_body_like: ^\s*\{\s*"error"\s*:\s*"invalid_request"\s*,\s*"error_description"\s*:\s*"[^"]+"\s*\}\s*$
--- no_upstream



=== TEST 19: two Authorization headers: nginx itself refuses (400), nothing upstream
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws1'}) . "\n" . TG::bearer({workspace_id => 'ws2'})
--- error_code: 400
--- no_upstream



=== TEST 30: "tenant_guard on" in an auth_request target is enforced (nginx runs no access phase in subrequests)
--- config
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
--- requests eval
[
    {request => 'GET /items', error_code => 401,
     response_headers => 'WWW-Authenticate: Bearer realm="tenant_guard"'},
    {request => 'GET /items', more_headers => TG::bearer({}, key => 'rsa2',
                                                         kid => 'rsa1'),
     error_code => 401},
    {request => 'GET /items', more_headers => TG::bearer({scope => 'read'}),
     error_code => 403},
    {request => 'GET /items',
     more_headers => TG::bearer({scope => 'read admin'}),
     error_code => 200},
]
--- upstream_count: 2
--- error_log_like
tenant_guard: no bearer token
tenant_guard: invalid token
tenant_guard: insufficient scope
