# Refusals honour error_page: where the location (or server) has an
# error_page for the refusal's status, nginx's error page takes over, with
# WWW-Authenticate and Retry-After kept; without one the JSON body stays.
# The error page's own location needs "tenant_guard off" (it is refused
# like any other otherwise, and nginx then sends its built-in page).

use lib 't/lib';
use TG;
use TG::Ban;

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: error_page 401 to a URI: the page, the status, the challenge
--- config
location / {
    tenant_guard on;
    error_page 401 /errors/401;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /errors/401 {
    internal;
    tenant_guard off;
    default_type text/plain;
    return 401 "please sign in\n";
}
--- requests eval
[
    {request => 'GET /none', error_code => 401, response_body => "please sign in\n",
     response_headers => qq{WWW-Authenticate: Bearer realm="tenant_guard"\nContent-Type: text/plain},
     no_upstream => 1},
    {request => 'GET /bad', more_headers => TG::bearer({}, key => 'rsa2', kid => 'rsa1'),
     error_code => 401, response_body => "please sign in\n",
     response_headers_like => 'WWW-Authenticate: Bearer realm="tenant_guard", error="invalid_token", error_description=".+"',
     no_upstream => 1},
]
--- no_upstream
--- error_log
tenant_guard: no bearer token



=== TEST 2: error_page on the server, 403 to a named location; 401 without one keeps its JSON
--- config
error_page 403 @forbidden;
location / {
    tenant_guard on;
    tenant_guard_require_claim tier eq gold;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location @forbidden {
    tenant_guard off;
    default_type text/html;
    return 403 "<p>no entry</p>\n";
}
--- requests eval
[
    {request => 'GET /a', more_headers => TG::bearer({tier => 'silver'}), error_code => 403,
     response_body => "<p>no entry</p>\n", response_headers => 'Content-Type: text/html'},
    {request => 'GET /b', error_code => 401, json_error => 'invalid_request'},
    {request => 'GET /c', more_headers => TG::bearer({tier => 'gold'}), error_code => 200},
]
--- upstream_count: 1



=== TEST 3: error_page with =302 to a login page
--- config
location / {
    tenant_guard on;
    error_page 401 =302 https://login.example.com/;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /app
--- error_code: 302
--- response_headers
Location: https://login.example.com/
--- no_upstream



=== TEST 4: a 429 error page keeps Retry-After
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [2, 60, 60])}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    error_page 429 /errors/429;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /errors/429 {
    internal;
    tenant_guard off;
    default_type text/plain;
    return 429 "slow down\n";
}
--- requests eval
[
    {request => 'GET /1', more_headers => TG::bearer({}, key => 'evil_rsa'), error_code => 401},
    {request => 'GET /2', more_headers => TG::bearer({}, key => 'evil_rsa'), error_code => 401},
    {request => 'GET /3', more_headers => TG::bearer({}), error_code => 429,
     response_body => "slow down\n", response_headers_like => 'Retry-After: (5[89]|60)'},
]
--- no_upstream



=== TEST 5: an error page location that is itself guarded: the refusal stands, nothing leaks
--- config
tenant_guard on;
location / {
    error_page 401 /errors/401;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /errors/ {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /app
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- no_upstream



=== TEST 6: the access log of an error page still shows the refusal and the workspace
--- http_config
log_format tg 'TG $request_uri status=$status result=$tenant_guard_result ws=[$tenant_guard_workspace]';
--- config
access_log logs/access.log tg;
error_page 403 /errors/403;
error_page 401 /errors/401;
location / {
    tenant_guard on;
    tenant_guard_require_claim tier eq gold;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /errors/ {
    internal;
    tenant_guard off;
    return 200 "error page\n";
}
--- requests eval
[
    {request => 'GET /a', more_headers => TG::bearer({workspace_id => 'ws-e', tier => 'silver'}),
     error_code => 403, response_body => "error page\n"},
    {request => 'GET /b', error_code => 401, response_body => "error page\n"},
]
--- no_upstream
--- access_log
TG /a status=403 result=insufficient_claims ws=[ws-e]
--- access_log_like
TG /b status=401 result=invalid_request ws=\[-?\]
