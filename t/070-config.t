# Configuration errors are caught by `nginx -t`, with a message and the
# nginx.conf line; good configurations pass.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: unknown algorithm
--- config
tenant_guard_algorithms RS256 RS999;
--- config_error
unknown algorithm "RS999"
nginx.conf:



=== TEST 2: "none" is not an algorithm
--- config
tenant_guard_algorithms RS256 none;
--- config_error
unknown algorithm "none"
nginx.conf:



=== TEST 3: "NONE" is not an algorithm either
--- config
tenant_guard_algorithms NONE;
--- config_error
unknown algorithm "NONE"
nginx.conf:



=== TEST 4: algorithm names are case-sensitive (JWA)
--- config
tenant_guard_algorithms rs256;
--- config_error
unknown algorithm "rs256"
nginx.conf:



=== TEST 5: tenant_guard_algorithms needs at least one name
--- config
tenant_guard_algorithms;
--- config_error
invalid number of arguments in "tenant_guard_algorithms"
nginx.conf:



=== TEST 6: missing keys file
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/nope.json;
--- config_error
nope.json
nginx.conf:



=== TEST 7: keys file is a directory (unreadable as a file)
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS;
--- config_error
nginx.conf:



=== TEST 8: keys file is not JSON
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/bad.json;
--- config_error
bad.json
nginx.conf:



=== TEST 9: JWKS with no keys
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/empty_keys.json;
--- config_error
empty_keys.json
nginx.conf:



=== TEST 10: HS256 allowlisted but the JWKS has no oct key
--- config
tenant_guard_algorithms RS256 HS256;
location / {
    tenant_guard on;
}
--- config_error
jwks.json
nginx.conf:



=== TEST 11: HS256 allowlisted with a PEM key file (no oct key possible)
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/rsa1.pem;
--- config
tenant_guard_algorithms HS256;
location / {
    tenant_guard on;
}
--- config_error
rsa1.pem
nginx.conf:



=== TEST 12: tenant_guard_bind in server context
--- config
tenant_guard_bind workspace ws1;
--- config_error
"tenant_guard_bind" directive is not allowed here
nginx.conf:



=== TEST 13: tenant_guard_bind in http context
--- http_config
tenant_guard_bind workspace ws1;
--- config_error
"tenant_guard_bind" directive is not allowed here
nginx.conf:



=== TEST 14: tenant_guard_require_scope in server context
--- config
tenant_guard_require_scope read;
--- config_error
"tenant_guard_require_scope" directive is not allowed here
nginx.conf:



=== TEST 15: duplicate tenant_guard_keys
--- config
tenant_guard_keys $TEST_NGINX_KEYS/rsa1.pem;
--- config_error
"tenant_guard_keys" directive is duplicate
nginx.conf:



=== TEST 16: tenant_guard on without any keys
--- server_config
--- config
location / {
    tenant_guard on;
}
--- config_error
tenant_guard_keys
nginx.conf:



=== TEST 17: tenant_guard on at server level, one location lacks keys
--- server_config
--- config
tenant_guard on;
location /a/ {
    tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
}
location /b/ {
}
--- config_error
tenant_guard_keys
nginx.conf:



=== TEST 18: tenant_guard takes on or off
--- config
tenant_guard maybe;
--- config_error
invalid value "maybe"
nginx.conf:



=== TEST 19: tenant_guard_bind with an unknown kind
--- config
location ~ ^/x/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind tenant $1;
}
--- config_error
"tenant"
nginx.conf:



=== TEST 20: tenant_guard_bind claim= with no name
--- config
location ~ ^/x/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind claim= $1;
}
--- config_error
nginx.conf:



=== TEST 21: tenant_guard_bind without a value
--- config
location / {
    tenant_guard on;
    tenant_guard_bind workspace;
}
--- config_error
invalid number of arguments in "tenant_guard_bind"
nginx.conf:



=== TEST 22: tenant_guard_require_scope without a scope
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope;
}
--- config_error
invalid number of arguments in "tenant_guard_require_scope"
nginx.conf:



=== TEST 23: tenant_guard_header with an unknown kind
--- config
tenant_guard_header tenant X-Tenant;
--- config_error
"tenant"
nginx.conf:



=== TEST 24: tenant_guard_claim with an unknown kind
--- config
tenant_guard_claim tenant tid;
--- config_error
"tenant"
nginx.conf:



=== TEST 25: tenant_guard_leeway must be a time
--- config
tenant_guard_leeway soon;
--- config_error
tenant_guard_leeway
nginx.conf:



=== TEST 26: tenant_guard_max_token_size must be a size
--- config
tenant_guard_max_token_size big;
--- config_error
tenant_guard_max_token_size
nginx.conf:



=== TEST 27: every directive in its place: nginx -t succeeds
--- http_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json;
tenant_guard_algorithms RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512;
tenant_guard_issuer https://issuer.example/;
tenant_guard_audience api admin-api;
tenant_guard_leeway 10s;
tenant_guard_claim workspace tid;
tenant_guard_claim organization org;
tenant_guard_claim integration iid;
tenant_guard_claim subject email;
tenant_guard_header workspace X-Tenant;
tenant_guard_header organization X-Org;
tenant_guard_header integration X-Int;
tenant_guard_header subject X-User;
tenant_guard_header scopes X-Scopes;
tenant_guard_header mfa X-Mfa;
tenant_guard_max_token_size 16k;
tenant_guard_realm api.example;
--- server_config
--- config
tenant_guard on;
location ~ ^/org/([^/]+)/ws/([^/]+)/ {
    tenant_guard_bind organization $1;
    tenant_guard_bind workspace $2;
    tenant_guard_bind claim=provider_id $2;
    tenant_guard_require_scope read write;
}
location /int/ {
    tenant_guard_bind integration int1;
}
location /public/ {
    tenant_guard off;
}
--- config_ok
--- config_output
test is successful



=== TEST 28: module loaded, no tenant_guard directive: fine
--- server_config
--- config
location / {
    return 200;
}
--- config_ok



=== TEST 29: tenant_guard off needs no keys
--- server_config
--- config
tenant_guard off;
location / {
    return 200;
}
--- config_ok



=== TEST 30: HS256 with an oct key that has no "alg" member
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
tenant_guard_algorithms HS256;
location / {
    tenant_guard on;
}
--- config_ok



=== TEST 31: every keys file the tests use loads
--- server_config
--- config
location /a/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/jwks.json; }
location /b/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json; }
location /c/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json; }
location /d/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/jwks_enc.json; }
location /e/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/jwks_nokid.json; }
location /f/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/rsa1.pem; }
location /g/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/rsa_multi.pem; }
location /h/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/ec256.pem; tenant_guard_algorithms ES256; }
location /i/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/ec384.pem; tenant_guard_algorithms ES384; }
location /j/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/ec521.pem; tenant_guard_algorithms ES512; }
location /k/ { tenant_guard on; tenant_guard_keys $TEST_NGINX_KEYS/ed1.pem; tenant_guard_algorithms EdDSA; }
--- config_ok



=== TEST 32: an empty tenant_guard_issuer would accept any issuer: refused
--- config
tenant_guard_issuer "";
location / {
    tenant_guard on;
}
--- config_error
"tenant_guard_issuer" is empty
nginx.conf:



=== TEST 33: a tenant header may not be named Authorization or Host (any case)
--- config
location / {
    tenant_guard on;
    tenant_guard_header subject authorization;
}
--- config_error
a tenant header may not be named "authorization"
nginx.conf:



=== TEST 34: ... nor Host
--- config
tenant_guard_header workspace HOST;
--- config_error
a tenant header may not be named "HOST"
nginx.conf:



=== TEST 35: tenant_guard_bind where tenant_guard is off would pass every request: refused
--- config
location ~ ^/ws/(?<ws>[^/]+)/ {
    tenant_guard_bind workspace $ws;
    return 200;
}
--- config_error
"tenant_guard_bind" is set but "tenant_guard" is off
nginx.conf:



=== TEST 36: identifier=body: with no field name: refused
--- config
location = /login {
    tenant_guard_login identifier=body:;
    return 200;
}
--- config_error
"body:" names no field
nginx.conf:



=== TEST 37: an empty Redis prefix= is refused
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis 127.0.0.1:6379 prefix=;
--- config_error
"prefix=" is empty
nginx.conf:



=== TEST 38: a bad Redis address is named whole in the error, not cut at its ':'
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis 127.0.0.1:99999;
--- config_error
invalid Redis address "127.0.0.1:99999"
nginx.conf:



=== TEST 39: a Redis host name is resolved by nginx -t, not by a worker at each connect: an unknown one is an error
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis no-such-host.invalid:6379;
--- config_error
host "no-such-host.invalid" of "tenant_guard_redis" not found
nginx.conf:
