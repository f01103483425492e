# tenant_guard_admin, tenant_guard_metrics_workspaces and
# tenant_guard_log_level: bad arguments are refused by nginx -t with the
# nginx.conf line; "tenant_guard_admin off" only warns.  The refusal line
# at each tenant_guard_log_level (one line, with the reason, the workspace
# once the signature is verified, the token id and the client address),
# and the access log of a refusal showing the workspace.

use lib 't/lib';
use TG;
use File::Temp ();

our $DIR = File::Temp::tempdir(CLEANUP => 1);

sub put {
    my ($name, $text) = @_;
    open my $fh, '>', "$DIR/$name" or die "$name: $!\n";
    print $fh $text;
    close $fh;
    return "$DIR/$name";
}

put('good.tokens', "adm-0123456789abcdef0123456789\n");
put('short.tokens', "# a comment\nshort-token\n");
put('empty.tokens', "# only a comment\n\n");
put('comment.tokens', "adm-0123456789abcdef0123456789 # ops team\n");
put('latin1.tokens', "adm-0123456789abcdef\xe9\n");

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: a token file that does not exist
--- config eval
"location /admin/ {\n    tenant_guard_admin token=$main::DIR/none.tokens;\n}\n"
--- config_error
none.tokens" failed
--- config_error_line: tenant_guard_admin



=== TEST 2: a token shorter than 16 characters
--- config eval
"location /admin/ {\n    tenant_guard_admin token=$main::DIR/short.tokens;\n}\n"
--- config_error
has a token shorter than 16 characters
--- config_error_line: tenant_guard_admin



=== TEST 3: a token file without a token
--- config eval
"location /admin/ {\n    tenant_guard_admin token=$main::DIR/empty.tokens;\n}\n"
--- config_error
has no token
--- config_error_line: tenant_guard_admin



=== TEST 3a: a comment after a token is no comment: refused, not made part of the token
--- config eval
"location /admin/ {\n    tenant_guard_admin token=$main::DIR/comment.tokens;\n}\n"
--- config_error
has a token with a character other than printable ASCII
--- config_error_line: tenant_guard_admin



=== TEST 3b: a byte past ASCII in a token
--- config eval
"location /admin/ {\n    tenant_guard_admin token=$main::DIR/latin1.tokens;\n}\n"
--- config_error
has a token with a character other than printable ASCII
--- config_error_line: tenant_guard_admin



=== TEST 4: an unknown parameter
--- config
location /admin/ {
    tenant_guard_admin tokens=/etc/passwd;
}
--- config_error
invalid parameter "tokens=/etc/passwd"
--- config_error_line: tenant_guard_admin



=== TEST 5: "token=" without a file
--- config
location /admin/ {
    tenant_guard_admin token=;
}
--- config_error
invalid parameter "token="
--- config_error_line: tenant_guard_admin



=== TEST 6: "off" is accepted with a warning
--- config
location /admin/ {
    allow 127.0.0.1;
    deny all;
    tenant_guard_admin off;
}
--- config_ok
--- config_output
"tenant_guard_admin off" asks no token



=== TEST 7: a good token file passes without a warning
--- config eval
"location /admin/ {\n    tenant_guard_admin token=$main::DIR/good.tokens;\n}\n"
--- config_ok
--- no_config_output
asks no token



=== TEST 8: not in a server block
--- config eval
"tenant_guard_admin token=$main::DIR/good.tokens;\n"
--- config_error
"tenant_guard_admin" directive is not allowed here
--- config_error_line: tenant_guard_admin



=== TEST 9: twice in a location
--- config eval
"location /admin/ {\n    tenant_guard_admin off;\n    tenant_guard_admin off;\n}\n"
--- config_error
"tenant_guard_admin" directive is duplicate



=== TEST 10: tenant_guard_metrics_workspaces: not a number
--- http_config
tenant_guard_metrics_workspaces many;
--- config_error
invalid number of workspaces "many"
--- config_error_line: tenant_guard_metrics_workspaces



=== TEST 11: tenant_guard_metrics_workspaces: too many
--- http_config
tenant_guard_metrics_workspaces 10001;
--- config_error
invalid number of workspaces "10001"



=== TEST 12: tenant_guard_metrics_workspaces twice
--- http_config
tenant_guard_metrics_workspaces 5;
tenant_guard_metrics_workspaces 6;
--- config_error
"tenant_guard_metrics_workspaces" directive is duplicate
--- config_error_line: tenant_guard_metrics_workspaces 6



=== TEST 13: tenant_guard_metrics_workspaces in a server
--- config
tenant_guard_metrics_workspaces 5;
--- config_error
"tenant_guard_metrics_workspaces" directive is not allowed here



=== TEST 14: tenant_guard_log_level: an unknown level
--- config
tenant_guard_log_level debug;
--- config_error
invalid value "debug"
--- config_error_line: tenant_guard_log_level



=== TEST 15: refusals at the default level (info) are not in a notice log
--- log_level: notice
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- error_code: 401
--- no_error_log
tenant_guard: no bearer token



=== TEST 16: tenant_guard_log_level notice: the refusal line is at notice
--- log_level: notice
--- config
tenant_guard_log_level notice;
location / {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- more_headers eval
TG::bearer({workspace_id => 'acme', jti => 'jti-level-1'})
--- error_code: 403
--- error_log_like
\[notice\] .*: \*\d+ workspace=acme tenant_guard: insufficient scope, token_id: jti-level-1, client: 127\.0\.0\.1,



=== TEST 17: tenant_guard_log_level warn in a location: above notice
--- log_level: notice
--- config
location / {
    tenant_guard on;
    tenant_guard_log_level warn;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- more_headers eval
TG::bearer({workspace_id => 'acme', exp => time - 3600, iat => time - 7200})
--- error_code: 401
--- error_log_like
\[warn\] .*: \*\d+ tenant_guard: invalid token: the token has expired, token_id: \S+, client: 127\.0\.0\.1,



=== TEST 18: tenant_guard_log_level error
--- log_level: error
--- config
tenant_guard_log_level error;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- error_code: 401
--- error_log_like
\[error\] .*: \*\d+ tenant_guard: no bearer token, client: 127\.0\.0\.1,



=== TEST 19: a workspace claim cannot forge a log line: control bytes are refused, quotes masked
--- config
location / {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a', error_code => 401,
     more_headers => TG::bearer({workspace_id => "acme\n2026/01/01 [alert] forged", jti => 'jti-forge'})},
    {request => 'GET /b', error_code => 403,
     more_headers => TG::bearer({workspace_id => 'ac"me', jti => 'jti-quote'})},
]
--- error_log_like
workspace=ac\?me tenant_guard: insufficient scope, token_id: jti-quote
--- no_error_log
] forged



=== TEST 20: the access log of a refusal shows the verified workspace
--- http_config
log_format tg_ws 'ws=$tenant_guard_workspace result=$tenant_guard_result';
--- config
access_log logs/access.log tg_ws;
location / {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a
--- more_headers eval
TG::bearer({workspace_id => 'acme'})
--- error_code: 403
--- access_log
ws=acme result=insufficient_scope



=== TEST 21: conf/admin.conf passes nginx -t (its token file rebased)
--- http_config eval
my $c = TG::slurp("$TG::REPO/conf/admin.conf");
$c =~ s{/etc/nginx/tenant_guard/admin\.tokens}{$main::DIR/good.tokens} or die;
$c =~ s{listen 10\.0\.0\.10:9145;}{} or die;
$c
--- config
--- config_ok
--- no_config_output
asks no token



=== TEST 22: "tenant_guard on" of the server does not reach the admin location
--- config eval
"tenant_guard on;\nlocation /admin/ {\n    tenant_guard_admin token=$main::DIR/good.tokens;\n}\n"
--- request
GET /admin/status
--- more_headers
Authorization: Bearer adm-0123456789abcdef0123456789
--- error_code: 200
--- response_body_like
"mode":"embedded"
