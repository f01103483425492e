# tenant_guard_require_scope: the token's scope (space-separated string or
# array of strings) must hold every listed scope.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: the required scope is present (string)
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope write;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({scope => 'read write'})
--- error_code: 200
--- upstream_headers
X-Auth-Scopes: read write



=== TEST 2: every required scope is present (array)
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope read write;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({scope => ['write', 'read', 'admin']})
--- error_code: 200



=== TEST 3: a scope is a whole word, not a substring
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a', more_headers => TG::bearer({scope => 'administrator'}),
     error_code => 403, json_error => 'insufficient_scope', no_upstream => 1},
    {request => 'GET /b', more_headers => TG::bearer({scope => 'read sub-admin'}),
     error_code => 403, json_error => 'insufficient_scope', no_upstream => 1},
    {request => 'GET /c', more_headers => TG::bearer({scope => 'ADMIN'}),
     error_code => 403, json_error => 'insufficient_scope', no_upstream => 1},
    {request => 'GET /e', more_headers => TG::bearer({scope => 'read admin'}),
     upstream_uri => '/e'},
]
--- upstream_count: 1



=== TEST 4: token without scope: 403 insufficient_scope
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope read;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({scope => undef})
--- error_code: 403
--- json_error: insufficient_scope
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard", error="insufficient_scope", scope="read"
--- no_upstream
--- error_log_like eval
TG::log_refusal('insufficient scope')



=== TEST 5: scopes are per location
--- config
tenant_guard on;
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /admin/ {
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /items', more_headers => TG::bearer({scope => 'read'}),
     upstream_uri => '/items'},
    {request => 'GET /admin/x', more_headers => TG::bearer({scope => 'read'}),
     error_code => 403, json_error => 'insufficient_scope', no_upstream => 1},
    {request => 'GET /admin/y', more_headers => TG::bearer({scope => 'read admin'}),
     upstream_uri => '/admin/y'},
]



=== TEST 6: an invalid token is 401, not 403, in a scoped location
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({scope => 'admin'}, key => 'rsa2', kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
