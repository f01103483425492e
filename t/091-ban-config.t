# Configuration of the login and password-reset endpoints, through nginx -t:
# tenant_guard_login / tenant_guard_password_reset need tenant_guard_zone and
# an identifier= parameter, fail= takes status codes ("401 403", "401,429");
# every accepted form passes.

use lib 't/lib';
use TG;
use TG::Ban;

run_tests();
done_testing();

__DATA__

=== TEST 1: tenant_guard_login without tenant_guard_zone fails nginx -t
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- config_error
"tenant_guard_login" and "tenant_guard_password_reset" need "tenant_guard_zone"
[emerg]



=== TEST 2: tenant_guard_password_reset without tenant_guard_zone fails nginx -t
--- config
location = /auth/reset {
    tenant_guard_password_reset identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
--- config_error
"tenant_guard_login" and "tenant_guard_password_reset" need "tenant_guard_zone"
[emerg]



=== TEST 3: tenant_guard_login without identifier= fails nginx -t
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location = /auth/login {
    tenant_guard_login workspace=$http_x_workspace fail=401;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- config_error
"tenant_guard_login" needs an "identifier=" parameter
nginx.conf:



=== TEST 4: tenant_guard_password_reset without identifier= fails nginx -t
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location = /auth/reset {
    tenant_guard_password_reset workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
--- config_error
"tenant_guard_password_reset" needs an "identifier=" parameter
nginx.conf:



=== TEST 5: fail=abc is not a status code
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login fail=abc;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- config_error
invalid status code in "fail=abc"
nginx.conf:



=== TEST 6: a bad code in a comma list is refused too
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login fail=401,abc;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- config_error
invalid status code in "fail=401,abc"



=== TEST 7: every accepted form passes nginx -t
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 300, 600], second => [10, 900, 3600],
                                 permanent => [50, 3600, 86400])}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location = /auth/a {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/b {
    tenant_guard_login identifier=$arg_user workspace=$http_x_workspace fail=401,429;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/c {
    tenant_guard_login identifier=body:username workspace=body:workspace fail=401 500;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/d {
    tenant_guard_login fail=403 identifier=body:email;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=body:username workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
location = /auth/reset2 {
    tenant_guard_password_reset identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
--- config_ok
--- no_config_output
[emerg]
[warn]
