# tenant_guard_token: where the token is read.  The first listed source
# that carries a token is used; the default is "bearer"; a list replaces
# it.  Ambiguity is refused, not resolved: a cookie, argument or header
# given twice (even once empty) is 401 invalid_request; an empty value is
# no token; a value that is not a token68 is 401 invalid_token.  Refusals
# name the sources looked at; a token from a cookie or argument is never
# logged.

use lib 't/lib';
use TG;

our %TOK;

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

# --- module_lines_lack eval: strings no error.log line of the module's
# (one holding "tenant_guard") may contain, at any level (debug included:
# nginx's own debug lines print headers and the request line, ours never)
TG::add_fixture('module_lines_lack', check => sub {
    my ($block) = @_;
    return unless $block->can('module_lines_lack')
                  && defined $block->module_lines_lack;
    my $log = TG::slurp("$TG::VARS{TEST_NGINX_PREFIX}/logs/error.log");
    my @ours = grep { /tenant_guard/ } split /\n/, $log;
    Test::More::ok(scalar @ours > 5,
                   $block->name . ' - the module logged debug lines');
    for my $secret (@{$block->module_lines_lack}) {
        my @hit = grep { index($_, $secret) >= 0 } @ours;
        Test::More::ok(!@hit, $block->name . ' - no module line has '
                              . substr($secret, 0, 24) . '...')
            or Test::More::diag(join "\n", @hit);
    }
});

run_tests();
done_testing();

__DATA__

=== TEST 1: cookie=NAME
--- config
location / {
    tenant_guard on;
    tenant_guard_token cookie=tg_session;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"Cookie: theme=dark; tg_session=" . TG::jwt({workspace_id => 'ws-cookie'}) . "; other=1"
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-cookie



=== TEST 2: arg=NAME
--- config
location / {
    tenant_guard on;
    tenant_guard_token arg=access_token;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request eval
"GET /download?x=1&access_token=" . TG::jwt({workspace_id => 'ws-arg'}) . "&y=2"
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws-arg



=== TEST 3: header=NAME, with or without "Bearer "
--- config
location / {
    tenant_guard on;
    tenant_guard_token header=X-Api-Token;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /raw', more_headers => "X-Api-Token: " . TG::jwt({workspace_id => 'ws-h1'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-h1'},
    {request => 'GET /bearer', more_headers => "X-Api-Token: Bearer " . TG::jwt({workspace_id => 'ws-h2'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-h2'},
    {request => 'GET /lower', more_headers => "x-api-token: " . TG::jwt({workspace_id => 'ws-h3'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-h3'},
]



=== TEST 4: the first listed source that carries a token wins, in list order
--- config
location / {
    tenant_guard on;
    tenant_guard_token cookie=tg bearer;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    # both: the cookie's, even though it is the bad one
    {request => 'GET /both', more_headers => "Cookie: tg=" . TG::jwt({}, key => 'rsa2', kid => 'rsa1')
                                             . "\n" . TG::bearer({workspace_id => 'ws-b'}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    # no cookie: the bearer
    {request => 'GET /bearer', more_headers => TG::bearer({workspace_id => 'ws-b'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-b'},
    # an empty cookie carries no token: the bearer
    {request => 'GET /empty', more_headers => "Cookie: tg=\n" . TG::bearer({workspace_id => 'ws-e'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-e'},
]
--- upstream_count: 2



=== TEST 5: a list replaces the default: a bearer token alone is not looked at
--- config
location / {
    tenant_guard on;
    tenant_guard_token cookie=tg arg=access_token;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({})
--- error_code: 401
--- json_error: invalid_request
--- json_error_description: a token is required in: cookie "tg", query argument "access_token"
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard"
--- no_upstream
--- error_log
tenant_guard: no bearer token: a token is required in: cookie "tg", query argument "access_token"



=== TEST 6: the default, bearer only, keeps its description
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request eval
"GET /items?access_token=" . TG::jwt({})
--- more_headers eval
"Cookie: access_token=" . TG::last_token()
--- error_code: 401
--- json_error: invalid_request
--- json_error_description: a bearer token is required
--- no_upstream



=== TEST 7: a cookie given twice is refused (one header or two, an empty one too)
--- config
location / {
    tenant_guard on;
    tenant_guard_token cookie=tg bearer;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'ws-a'});
$TOK{b} = TG::jwt({workspace_id => 'ws-b'});
my $dup = {error_code => 401, json_error => 'invalid_request', no_upstream => 1,
           json_error_description => 'the token in cookie "tg" is given more than once'};
[
    {%$dup, request => 'GET /1', more_headers => "Cookie: tg=$TOK{a}; tg=$TOK{b}"},
    {%$dup, request => 'GET /2', more_headers => "Cookie: tg=$TOK{a}\nCookie: tg=$TOK{b}"},
    {%$dup, request => 'GET /3', more_headers => "Cookie: tg=; tg=$TOK{a}"},
    {%$dup, request => 'GET /4', more_headers => "Cookie: tg=$TOK{a}; tg=$TOK{a}"},
    # ... and the bearer is not taken instead
    {%$dup, request => 'GET /5', more_headers => "Cookie: tg=$TOK{a}; tg=$TOK{b}\nAuthorization: Bearer $TOK{a}"},
    # a cookie name is case-sensitive, and a longer name is another cookie
    {request => 'GET /6', more_headers => "Cookie: TG=$TOK{b}; tg=$TOK{a}; tgx=$TOK{b}",
     error_code => 200, upstream_headers => 'X-Workspace-Id: ws-a'},
]
--- upstream_count: 1



=== TEST 8: an argument given twice is refused, whatever its case
--- config
location / {
    tenant_guard on;
    tenant_guard_token arg=access_token;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'ws-a'});
my $dup = {error_code => 401, json_error => 'invalid_request', no_upstream => 1,
           json_error_description => 'the token in query argument "access_token" is given more than once'};
[
    {%$dup, request => "GET /1?access_token=$TOK{a}&access_token=$TOK{a}"},
    {%$dup, request => "GET /2?Access_Token=$TOK{a}&access_token=$TOK{a}"},
    {%$dup, request => "GET /3?access_token&access_token=$TOK{a}"},
    {request => "GET /4?access_token=", error_code => 401, json_error => 'invalid_request',
     json_error_description => 'a token is required in: query argument "access_token"'},
    {request => "GET /5?xaccess_token=$TOK{a}", error_code => 401, json_error => 'invalid_request'},
    {request => "GET /6?ACCESS_TOKEN=$TOK{a}", error_code => 200, upstream_headers => 'X-Workspace-Id: ws-a'},
]
--- upstream_count: 1



=== TEST 9: a header given twice is refused
--- config
location / {
    tenant_guard on;
    tenant_guard_token header=X-Api-Token;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
$TOK{a} = TG::jwt({});
"X-Api-Token: $TOK{a}\nX-API-TOKEN: $TOK{a}"
--- error_code: 401
--- json_error: invalid_request
--- json_error_description: the token in header "X-Api-Token" is given more than once
--- no_upstream



=== TEST 10: a value that is not a token68 is an invalid token (not decoded, not unquoted)
--- config
location / {
    tenant_guard on;
    tenant_guard_token cookie=tg arg=t;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({});
(my $enc = $TOK{a}) =~ s/\./%2E/g;
my $bad = {error_code => 401, json_error => 'invalid_token', no_upstream => 1};
[
    {%$bad, request => 'GET /1', more_headers => "Cookie: tg=\"$TOK{a}\"",
     json_error_description => 'the token in cookie "tg" is not a token'},
    {%$bad, request => "GET /2?t=$enc",
     json_error_description => 'the token in query argument "t" is not a token'},
]



=== TEST 11: a token from a cookie or an argument is never logged, refused or not
--- http_config
log_format tg 'TG $status tid=$tenant_guard_token_id ws=$tenant_guard_workspace';
--- config
access_log logs/access.log tg;
location / {
    tenant_guard on;
    tenant_guard_token cookie=tg arg=t;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{bad} = TG::jwt({jti => 'jti-bad'}, key => 'rsa2', kid => 'rsa1');
$TOK{good} = TG::jwt({jti => 'jti-good', scope => 'read'});
[
    {request => 'GET /c', more_headers => "Cookie: tg=$TOK{bad}", error_code => 401},
    {request => "GET /a?t=$TOK{bad}", error_code => 401},
    {request => 'GET /s', more_headers => "Cookie: tg=$TOK{good}", error_code => 403,
     json_error => 'insufficient_scope'},
]
--- error_log_like eval
['tenant_guard: invalid token: .*, token_id: ' . TG::token_hash_id($main::TOK{bad}),
 'tenant_guard: insufficient scope, token_id: jti-good',
 'tenant_guard: invalid token: .*, request: "GET /a\?\.\.\. HTTP/1\.1", host: "localhost"']
--- no_error_log eval
[@{TG::secret_parts($main::TOK{bad})}, @{TG::secret_parts($main::TOK{good})}]
--- access_log eval
["TG 401 tid=" . TG::token_hash_id($main::TOK{bad}) . " ws=-",
 "TG 403 tid=jti-good ws=ws1"]



=== TEST 12: the sources follow the location, and a variable read early uses them
--- http_config
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=1r/m;
--- config
tenant_guard_token cookie=tg;
location / {
    tenant_guard on;
    limit_req zone=per_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /api/ {
    tenant_guard on;
    tenant_guard_token bearer;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /1', more_headers => "Cookie: tg=" . TG::jwt({workspace_id => 'ws-c'}), error_code => 200},
    {request => 'GET /2', more_headers => "Cookie: tg=" . TG::jwt({workspace_id => 'ws-c'}), error_code => 503},
    {request => 'GET /api/3', more_headers => TG::bearer({workspace_id => 'ws-c'}), error_code => 200},
    {request => 'GET /api/4', more_headers => "Cookie: tg=" . TG::jwt({workspace_id => 'ws-c'}),
     error_code => 401, json_error => 'invalid_request'},
]
--- upstream_count: 2



=== TEST 13: debug level: no line of the module shows a cookie's or an argument's token
--- log_level: debug
--- http_config
limit_req_zone $tenant_guard_workspace zone=per_ws:1m rate=100r/s;
--- config
location / {
    tenant_guard on;
    tenant_guard_token cookie=tg arg=t;
    limit_req zone=per_ws burst=10;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{bad} = TG::jwt({jti => 'jti-bad'}, key => 'rsa2', kid => 'rsa1');
$TOK{good} = TG::jwt({jti => 'jti-good'});
[
    {request => 'GET /c', more_headers => "Cookie: tg=$TOK{bad}", error_code => 401},
    {request => "GET /a?t=$TOK{bad}", error_code => 401},
    {request => 'GET /g', more_headers => "Cookie: tg=$TOK{good}", error_code => 200},
    {request => "GET /h?t=$TOK{good}", error_code => 200},
]
--- module_lines_lack eval
[@{TG::secret_parts($main::TOK{bad})}, @{TG::secret_parts($main::TOK{good})}]



=== TEST 14: in an auth_request target, arg= reads the client's query and cookie= its cookies
--- config
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    tenant_guard on;
    tenant_guard_token arg=access_token cookie=tg;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
--- requests eval
[
    {request => 'GET /items?access_token=' . TG::jwt({}), error_code => 200},
    {request => 'GET /items', more_headers => 'Cookie: tg=' . TG::jwt({}), error_code => 200},
    {request => 'GET /items?access_token=' . TG::jwt({}, key => 'rsa2', kid => 'rsa1'), error_code => 401},
    {request => 'GET /items', more_headers => TG::bearer({}), error_code => 401},
]
--- upstream_count: 4
