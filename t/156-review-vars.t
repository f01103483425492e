# Review of issue 16 (variables before access, token sources, claim rules,
# error_page): what a client could do with them.

use lib 't/lib';
use TG;

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: an auth_request target's refusal is its status: a server-level error_page that answers 200 does not turn it into an allow
--- config
error_page 401 403 = @login;
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    tenant_guard on;
    tenant_guard_require_claim tier eq gold;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
location @login {
    default_type text/plain;
    return 200 "login page\n";
}
--- requests eval
[
    {request => 'GET /items', response_body => "login page\n"},
    {request => 'GET /items', more_headers => TG::bearer({}, key => 'rsa2', kid => 'rsa1'),
     response_body => "login page\n"},
    {request => 'GET /items', more_headers => TG::bearer({tier => 'silver'}),
     response_body => "login page\n"},
    {request => 'GET /items', more_headers => TG::bearer({tier => 'gold'}),
     error_code => 200},
]
--- upstream_count: 2



=== TEST 2: the same under "satisfy any" in the auth_request target
--- config
error_page 401 403 = @login;
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    satisfy any;
    deny all;
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
location @login {
    default_type text/plain;
    return 200 "login page\n";
}
--- requests eval
[
    {request => 'GET /items', response_body => "login page\n"},
    {request => 'GET /items', more_headers => TG::bearer({}),
     error_code => 200},
]
--- upstream_count: 2



=== TEST 3: a query that may carry a token is left out of every error line of the location, also those written before the token step (limit_req by address)
--- http_config
limit_req_zone $binary_remote_addr zone=per_ip:1m rate=1r/m;
--- config
location / {
    tenant_guard on;
    tenant_guard_token arg=access_token;
    limit_req zone=per_ip;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$main::TOK{a} = TG::jwt({jti => 'jti-a'});
$main::TOK{b} = TG::jwt({jti => 'jti-b'});
[
    {request => "GET /1?access_token=$main::TOK{a}", error_code => 200},
    {request => "GET /2?access_token=$main::TOK{b}", error_code => 503},
]
--- error_log_like eval
['limiting requests, .*request: "GET /2\?\.\.\. HTTP/1\.1"']
--- no_error_log eval
[@{TG::secret_parts($main::TOK{a})}, @{TG::secret_parts($main::TOK{b})}]



=== TEST 4: an argument given twice is refused also when one copy hides its name under percent escapes (the upstream's parser decodes them)
--- config
location / {
    tenant_guard on;
    tenant_guard_token arg=access_token;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$main::TOK{a} = TG::jwt({workspace_id => 'ws-a'});
$main::TOK{b} = TG::jwt({workspace_id => 'ws-b'}, key => 'rsa2', kid => 'rsa1');
my $dup = {error_code => 401, json_error => 'invalid_request', no_upstream => 1,
           json_error_description => 'the token in query argument "access_token" is given more than once'};
[
    {%$dup, request => "GET /1?access%5Ftoken=$main::TOK{b}&access_token=$main::TOK{a}"},
    {%$dup, request => "GET /2?access_token=$main::TOK{a}&%61ccess_toke%6e=$main::TOK{b}"},
    {%$dup, request => "GET /3?access_token=$main::TOK{a}&ACCESS%5ftoken=$main::TOK{b}"},
    {request => "GET /4?access%5Ftoken=$main::TOK{a}", error_code => 200,
     upstream_headers => 'X-Workspace-Id: ws-a'},
    {request => "GET /5?access%5token=$main::TOK{b}&access_token=$main::TOK{a}", error_code => 200,
     upstream_headers => 'X-Workspace-Id: ws-a'},
    {request => "GET /6?access%255Ftoken=$main::TOK{b}&access_token=$main::TOK{a}", error_code => 200,
     upstream_headers => 'X-Workspace-Id: ws-a'},
]
--- upstream_count: 3
