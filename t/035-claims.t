# Claim checks: exp / nbf / iat with leeway, iss, aud, and the shape of the
# id claims (no control characters, strings or integers only).

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: exp 10s ago is accepted within the default 30s leeway
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({iat => time - 600, exp => time - 10})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 2: exp 60s ago is refused with the default leeway
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({iat => time - 600, exp => time - 60})
--- error_code: 401
--- json_error: invalid_token
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token", error_description=".+"$
--- no_upstream
--- error_log_like eval
TG::log_invalid()



=== TEST 3: tenant_guard_leeway 0 refuses exp 2s ago
--- config
tenant_guard_leeway 0;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({iat => time - 600, exp => time - 2})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 4: tenant_guard_leeway 0 accepts a token valid for another minute
--- config
tenant_guard_leeway 0;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({exp => time + 60})
--- error_code: 200



=== TEST 5: tenant_guard_leeway 2m accepts exp 90s ago, refuses 5 min ago
--- config
tenant_guard_leeway 2m;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a', more_headers => TG::bearer({iat => time - 900, exp => time - 90}),
     upstream_uri => '/a'},
    {request => 'GET /b', more_headers => TG::bearer({iat => time - 900, exp => time - 300}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]



=== TEST 6: exp missing is refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({exp => undef})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid()



=== TEST 7: exp as a string is refused (NumericDate required)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({exp => '' . (time + 3600)})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 8: nbf 10s ahead is accepted (leeway), 120s ahead refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /near', more_headers => TG::bearer({nbf => time + 10}),
     upstream_uri => '/near'},
    {request => 'GET /far', more_headers => TG::bearer({nbf => time + 120}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /past', more_headers => TG::bearer({nbf => time - 10}),
     upstream_uri => '/past'},
]
--- upstream_count: 2



=== TEST 9: tenant_guard_leeway 0 refuses nbf 5s ahead
--- config
tenant_guard_leeway 0;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({nbf => time + 5})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 10: iat 10s ahead is accepted (leeway), 120s ahead refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /near', more_headers => TG::bearer({iat => time + 10}),
     upstream_uri => '/near'},
    {request => 'GET /far', more_headers => TG::bearer({iat => time + 120}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 11: iss must equal tenant_guard_issuer
--- config
tenant_guard_issuer https://issuer.example/;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /same', more_headers => TG::bearer({iss => 'https://issuer.example/'}),
     upstream_uri => '/same'},
    {request => 'GET /other', more_headers => TG::bearer({iss => 'https://evil.example/'}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /case', more_headers => TG::bearer({iss => 'https://ISSUER.example/'}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /prefix', more_headers => TG::bearer({iss => 'https://issuer.example/x'}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /missing', more_headers => TG::bearer({}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /array', more_headers => TG::bearer({iss => ['https://issuer.example/']}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 12: iss is not checked when no issuer is configured
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({iss => 'https://anyone.example/'})
--- error_code: 200



=== TEST 13: aud as a string must be one of tenant_guard_audience
--- config
tenant_guard_audience api admin-api;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /api', more_headers => TG::bearer({aud => 'api'}),
     upstream_uri => '/api'},
    {request => 'GET /admin', more_headers => TG::bearer({aud => 'admin-api'}),
     upstream_uri => '/admin'},
    {request => 'GET /other', more_headers => TG::bearer({aud => 'other'}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /prefix', more_headers => TG::bearer({aud => 'ap'}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /missing', more_headers => TG::bearer({}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]
--- upstream_count: 2



=== TEST 14: aud as an array: one matching member is enough
--- config
tenant_guard_audience api;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /match', more_headers => TG::bearer({aud => ['other', 'api']}),
     upstream_uri => '/match'},
    {request => 'GET /none', more_headers => TG::bearer({aud => ['other', 'x']}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /empty', more_headers => TG::bearer({aud => []}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /notstr', more_headers => TG::bearer({aud => [1, 2]}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 15: aud is not checked when no audience is configured
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({aud => 'whatever'})
--- error_code: 200



=== TEST 16: CR LF in workspace_id (header injection) is refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => "ws1\r\nX-Admin: 1"})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid()



=== TEST 17: NUL in sub is refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({sub => "user1\0admin"})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 18: control characters in organization_id, integration_id, scope
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /org', more_headers => TG::bearer({organization_id => "org\x01"}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /int', more_headers => TG::bearer({integration_id => "int\x7f"}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /scope', more_headers => TG::bearer({scope => "read\nwrite"}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /scope-array', more_headers => TG::bearer({scope => ["read", "wr\rite"]}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]



=== TEST 19: id claims that are neither strings nor integers are refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /obj', more_headers => TG::bearer({workspace_id => {id => 'ws1'}}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /arr', more_headers => TG::bearer({workspace_id => ['ws1']}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /bool', more_headers => TG::bearer({organization_id => JSON::PP::true()}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /float', more_headers => TG::bearer({integration_id => 1.5}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /sub', more_headers => TG::bearer({sub => {name => 'x'}}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]



=== TEST 20: UTF-8 in ids is fine (not a control character)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({sub => "j\x{fc}rgen"})
--- error_code: 200
--- upstream_count: 1



=== TEST 21: scope that is neither a string nor an array of strings is refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /num', more_headers => TG::bearer({scope => 5}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /obj', more_headers => TG::bearer({scope => {read => 1}}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]



=== TEST 22: boundaries: exp == now - leeway is refused, nbf/iat == now + leeway accepted
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /exp-edge', more_headers => TG::bearer({iat => time - 600, exp => time - 30}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /exp-inside', more_headers => TG::bearer({iat => time - 600, exp => time - 25}),
     upstream_uri => '/exp-inside'},
    {request => 'GET /nbf-edge', more_headers => TG::bearer({nbf => time + 30}),
     upstream_uri => '/nbf-edge'},
    {request => 'GET /iat-edge', more_headers => TG::bearer({iat => time + 30}),
     upstream_uri => '/iat-edge'},
]
--- upstream_count: 3



=== TEST 23: tenant_guard_leeway 0: exp == now refused, nbf == now accepted
--- config
tenant_guard_leeway 0;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /exp-now', more_headers => TG::bearer({iat => time - 600, exp => time}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /nbf-now', more_headers => TG::bearer({nbf => time, iat => time}),
     upstream_uri => '/nbf-now'},
]
--- upstream_count: 1



=== TEST 24: exp at the largest 64-bit integer is refused, not overflowed (found by fuzzing)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({exp => 9223372036854775807})
--- error_code: 401
--- json_error: invalid_token
--- json_error_description: the "exp" claim is not a NumericDate
--- no_upstream



=== TEST 25: tenant_guard_leeway over a day fails nginx -t
--- config
tenant_guard_leeway 2d;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- config_error
"tenant_guard_leeway" must be at most 1d
