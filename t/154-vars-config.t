# nginx -t refuses bad tenant_guard_token and tenant_guard_require_claim
# arguments, naming nginx.conf and the line: unknown sources, operators,
# malformed claim paths, values that can never match.

use lib 't/lib';
use TG;

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: an unknown token source
--- config
tenant_guard_token bearer query=t;
--- config_error
invalid token source "query=t", must be "bearer", "header=NAME", "cookie=NAME" or "arg=NAME"
--- config_error_line: query=t



=== TEST 2: a source without a name
--- config
tenant_guard_token cookie=;
--- config_error
invalid token source "cookie=": bad or empty name
--- config_error_line: tenant_guard_token cookie=



=== TEST 3: "bearer" takes no name
--- config
tenant_guard_token bearer=x;
--- config_error
invalid token source "bearer=x"
--- config_error_line: bearer=x



=== TEST 4: a cookie name with a separator
--- config
tenant_guard_token "cookie=a;b";
--- config_error
invalid token source "cookie=a;b": bad or empty name
--- config_error_line: cookie=a;b



=== TEST 5: header=Authorization is "bearer"
--- config
tenant_guard_token header=Authorization;
--- config_error
invalid token source "header=Authorization": use "bearer" or "cookie=NAME"
--- config_error_line: header=Authorization



=== TEST 6: a source listed twice
--- config
tenant_guard_token cookie=tg bearer cookie=tg;
--- config_error
token source "cookie=tg" is listed twice
--- config_error_line: cookie=tg bearer



=== TEST 7: the directive twice in one context
--- config
tenant_guard_token bearer;
tenant_guard_token cookie=tg;
--- config_error
"tenant_guard_token" directive is duplicate
--- config_error_line: tenant_guard_token cookie=tg



=== TEST 8: a tenant header as a token source
--- config
location / {
    tenant_guard on;
    tenant_guard_token header=X-Workspace-Id;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- config_error
token source header "X-Workspace-Id" is a tenant header



=== TEST 9: an unknown operator
--- config
location / {
    tenant_guard on;
    tenant_guard_require_claim level gt 3;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- config_error
invalid operator "gt", must be "eq", "ne", "in", "nin" or "has"
--- config_error_line: level gt 3



=== TEST 10: malformed claim paths
--- config
tenant_guard_require_claim realm_access..roles has admin;
--- config_error
invalid claim path "realm_access..roles": a claim path has an empty segment
--- config_error_line: realm_access..roles



=== TEST 11: a path with a trailing dot
--- config
tenant_guard_require_claim roles. has admin;
--- config_error
invalid claim path "roles.": a claim path has an empty segment
--- config_error_line: roles.



=== TEST 12: too few arguments
--- config
tenant_guard_require_claim roles has;
--- config_error
must be NAME OP VALUE...
--- config_error_line: tenant_guard_require_claim roles has



=== TEST 13: eq takes one value
--- config
tenant_guard_require_claim tier eq gold silver;
--- config_error
operator "eq" takes one value; use "in" for a list
--- config_error_line: tier eq gold



=== TEST 14: values that never match: null, empty, a broken quote
--- config
tenant_guard_require_claim tier eq null;
--- config_error
invalid claim value "null": null never matches a claim
--- config_error_line: tier eq null



=== TEST 15: an empty value
--- config
tenant_guard_require_claim tier in a "";
--- config_error
invalid claim value "": an empty value never matches
--- config_error_line: tier in a



=== TEST 16: an unterminated quoted value
--- config
tenant_guard_require_claim tier eq '"gold';
--- config_error
invalid claim value ""gold": a quoted value is not a JSON string
--- config_error_line: tier eq



=== TEST 17: the good forms pass nginx -t
--- config
tenant_guard_token bearer header=X-Api-Token cookie=tg_session arg=access_token;
tenant_guard_require_claim realm_access.roles has admin "team lead";
tenant_guard_require_claim level in 1 2 '"3"' true;
location / {
    tenant_guard on;
    tenant_guard_require_claim tier eq $arg_tier;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- config_ok



=== TEST 18: a location's claim rule where tenant_guard is off
--- config
location /admin/ {
    tenant_guard_require_claim role eq admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- config_error
"tenant_guard_require_claim" is set but "tenant_guard" is off



=== TEST 19: a server's claim rule reaches guarded locations; open ones pass nginx -t
--- config
tenant_guard_require_claim role eq admin;
location /public/ {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- config_ok
