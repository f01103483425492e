# tenant_guard_keys_url: `nginx -t` refuses a URI that is not the path of
# a location, bad times and sizes, unknown parameters, a missing zone, and
# an HS algorithm with only a key set URL (an IdP's set has no "oct" key);
# good configurations pass, with or without a bootstrap file.

use lib 't/lib';
use TG;

block_defaults(
    http_config   => 'tenant_guard_zone zone=tg:1m;',
    server_config => '');

run_tests();
done_testing();

__DATA__

=== TEST 1: a URI and every parameter
--- config
tenant_guard_keys_url /_jwks refresh=10m min_refetch=30s max_size=256k;
location / { tenant_guard on; return 204; }
--- config_ok



=== TEST 2: a URI with arguments, and a file as bootstrap, seconds allowed
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
tenant_guard_keys_url /.well-known/jwks.json?realm=acme refresh=2 min_refetch=1;
location / { tenant_guard on; return 204; }
--- config_ok



=== TEST 3: a URL is not a location's path
--- config
tenant_guard_keys_url https://idp.example/jwks;
--- config_error_line: tenant_guard_keys_url https://idp.example/jwks
--- config_error
invalid URI "https://idp.example/jwks"



=== TEST 4: a relative path
--- config
tenant_guard_keys_url _jwks;
--- config_error
invalid URI "_jwks"
nginx.conf:



=== TEST 5: a dot segment
--- config
tenant_guard_keys_url /a/../_jwks;
--- config_error
invalid URI "/a/../_jwks"
nginx.conf:



=== TEST 6: an encoded character
--- config
tenant_guard_keys_url /_jw%6bs;
--- config_error
invalid URI "/_jw%6bs"
nginx.conf:



=== TEST 7: an empty segment
--- config
tenant_guard_keys_url //_jwks;
--- config_error
invalid URI "//_jwks"
nginx.conf:



=== TEST 8: a bad refresh
--- config
tenant_guard_keys_url /_jwks refresh=soon;
--- config_error
invalid time "refresh=soon"
nginx.conf:



=== TEST 9: a zero refresh
--- config
tenant_guard_keys_url /_jwks refresh=0;
--- config_error
invalid time "refresh=0"
nginx.conf:



=== TEST 10: a negative min_refetch
--- config
tenant_guard_keys_url /_jwks min_refetch=-5s;
--- config_error
invalid time "min_refetch=-5s"
nginx.conf:



=== TEST 11: a bad size
--- config
tenant_guard_keys_url /_jwks max_size=lots;
--- config_error
invalid size "max_size=lots"
nginx.conf:



=== TEST 12: a size over the JSON limit (1m)
--- config
tenant_guard_keys_url /_jwks max_size=2m;
--- config_error
invalid size "max_size=2m"
nginx.conf:



=== TEST 13: an unknown parameter
--- config
tenant_guard_keys_url /_jwks timeout=5s;
--- config_error
invalid parameter "timeout=5s"
nginx.conf:



=== TEST 14: twice in one context
--- config
tenant_guard_keys_url /_jwks;
tenant_guard_keys_url /_jwks2;
--- config_error
"tenant_guard_keys_url" directive is duplicate
nginx.conf:



=== TEST 15: no URI
--- config
tenant_guard_keys_url;
--- config_error
invalid number of arguments in "tenant_guard_keys_url"



=== TEST 16: the key set is shared through the zone: no zone, no URL
--- http_config
--- config
tenant_guard_keys_url /_jwks;
location / { tenant_guard on; return 204; }
--- config_error
"tenant_guard_keys_url" needs "tenant_guard_zone"



=== TEST 17: an HS algorithm with only a URL: an IdP's set has no secret
--- config
tenant_guard_keys_url /_jwks;
tenant_guard_algorithms RS256 HS256;
location / { tenant_guard on; return 204; }
--- config_error
allows an HS algorithm but "tenant_guard_keys_url" is set



=== TEST 19: nor with a bootstrap file that has an "oct" key: the IdP's set
replaces the file once fetched, and HS tokens would then all fail
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json;
tenant_guard_keys_url /_jwks;
tenant_guard_algorithms HS256;
location / { tenant_guard on; return 204; }
--- config_error
allows an HS algorithm but "tenant_guard_keys_url" is set



=== TEST 18: tenant_guard on with neither keys nor a URL
--- config
location / { tenant_guard on; return 204; }
--- config_error
"tenant_guard" is on but no "tenant_guard_keys" is set



=== TEST 20: one URI through two servers: the zone keeps one set per URI,
so one server's IdP keys would verify tokens in the other (review)
--- http_config
tenant_guard_zone zone=tg:1m;
server {
    listen 127.0.0.1:1;
    location = /_jwks { internal; return 200 '{"keys":[]}'; }
    location / {
        tenant_guard on;
        tenant_guard_keys_url /_jwks;
        return 204;
    }
}
--- config
location = /_jwks { internal; return 200 '{"keys":[]}'; }
location / {
    tenant_guard on;
    tenant_guard_keys_url /_jwks;
    return 204;
}
--- config_error
"tenant_guard_keys_url /_jwks" is used in two servers



=== TEST 21: nor one directive at http level inherited by two servers
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_keys_url /_jwks;
server {
    listen 127.0.0.1:1;
    location / { tenant_guard on; return 204; }
}
--- config
location / { tenant_guard on; return 204; }
--- config_error
"tenant_guard_keys_url /_jwks" is used in two servers



=== TEST 22: two servers with paths of their own, and one URI in two
locations of a server: fine
--- http_config
tenant_guard_zone zone=tg:1m;
server {
    listen 127.0.0.1:1;
    tenant_guard_keys_url /_jwks_b;
    location / { tenant_guard on; return 204; }
}
--- config
location /a/ { tenant_guard on; tenant_guard_keys_url /_jwks; return 204; }
location /c/ { tenant_guard on; tenant_guard_keys_url /_jwks; return 204; }
--- config_ok
