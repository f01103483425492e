# nginx -t of the directives of issue 10: tenant_guard_login_body_max
# (a size from 1 to 1m, http/server/location) and
# tenant_guard_ban_ipv6_prefix (1..128, http only, once); bad arguments are
# refused with file:line.

use lib 't/lib';
use TG;

run_tests();
done_testing();

__DATA__

=== TEST 1: the accepted forms pass nginx -t
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_ban_ipv6_prefix 56;
tenant_guard_login_body_max 8k;
--- config
tenant_guard_login_body_max 1m;
location = /auth/login {
    tenant_guard_login_body_max 1;
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- config_ok



=== TEST 2: tenant_guard_login_body_max 0 fails with file:line
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location = /auth/login {
    tenant_guard_login_body_max 0;
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- config_error
"tenant_guard_login_body_max" directive must be from 1 to 1m in
nginx.conf:
[emerg]



=== TEST 3: tenant_guard_login_body_max over 1m fails
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_login_body_max 2m;
--- config_error
"tenant_guard_login_body_max" directive must be from 1 to 1m in
nginx.conf:



=== TEST 4: tenant_guard_login_body_max with a word fails
--- http_config
tenant_guard_login_body_max lots;
--- config_error
"tenant_guard_login_body_max" directive invalid value in
nginx.conf:



=== TEST 5: tenant_guard_ban_ipv6_prefix 0 and 129 fail with file:line
--- http_config
tenant_guard_ban_ipv6_prefix 0;
--- config_error
invalid prefix length "0", it must be from 1 to 128 in
nginx.conf:
[emerg]



=== TEST 6: tenant_guard_ban_ipv6_prefix 129 fails
--- http_config
tenant_guard_ban_ipv6_prefix 129;
--- config_error
invalid prefix length "129", it must be from 1 to 128



=== TEST 7: tenant_guard_ban_ipv6_prefix /64 (not a number) fails
--- http_config
tenant_guard_ban_ipv6_prefix /64;
--- config_error
invalid prefix length "/64"



=== TEST 8: tenant_guard_ban_ipv6_prefix twice is duplicate
--- http_config
tenant_guard_ban_ipv6_prefix 64;
tenant_guard_ban_ipv6_prefix 48;
--- config_error
"tenant_guard_ban_ipv6_prefix" directive is duplicate in
nginx.conf:



=== TEST 9: tenant_guard_ban_ipv6_prefix in a server block is not allowed
--- config
tenant_guard_ban_ipv6_prefix 64;
--- config_error
"tenant_guard_ban_ipv6_prefix" directive is not allowed here in
nginx.conf:
