# tenant_guard_bind_path: templates matched on the normalized path in every
# guarded location, so that no location gap skips a binding (issue 11); and
# the nginx -t checks of templates and of numbered captures in a bind.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: own workspace passes, server-level template, any location
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location ~ ^/workspaces/(?<ws>[^/]+)/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET $_", more_headers => TG::bearer({workspace_id => 'ws1'}),
         upstream_uri => $_} }
  '/workspaces/ws1/items',
  '/workspaces/ws1',
  '/Workspaces/ws1/items',
  '/WORKSPACES/ws1',
  '/workspaces/%77s1/x',
]
--- upstream_count: 5
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 2: the shipped example's gaps: no trailing slash, a case change, the catch-all
The regex location only sees "/workspaces/ID/"; every other spelling lands
in "location /", where the server's template still binds.
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location ~ ^/workspaces/(?<ws>[^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET $_", more_headers => TG::bearer({workspace_id => 'ws1'}),
         error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1,
         response_headers => '!WWW-Authenticate'} }
  '/workspaces/ws2',
  '/workspaces/ws2?x=1',
  '/Workspaces/ws2/x',
  '/WORKSPACES/ws2/',
  '/workspaces/ws2/x',
  '/workspaces/WS1/x',
  '/workspaces/ws10',
  '/workspaces/%77s2/x',
]
--- no_upstream
--- error_log_like eval
TG::log_refusal('workspace mismatch')
--- no_error_log eval
TG::secret_parts()



=== TEST 3: only a catch-all location, the template at server level
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /workspaces/ws2/data
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- response_headers
!WWW-Authenticate
--- no_upstream
--- error_log_like eval
TG::log_refusal('workspace mismatch')



=== TEST 4: a path that names no workspace binds nothing
"/workspaces" and "/workspaces/" name no id: the template does not apply;
the token is still checked.
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /workspaces', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_uri => '/workspaces'},
    {request => 'GET /workspaces/', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_uri => '/workspaces/'},
    {request => 'GET /other/ws2', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_uri => '/other/ws2'},
    {request => 'GET /workspaces/ws2', error_code => 401,
     json_error => 'invalid_request', no_upstream => 1},
]
--- upstream_count: 3



=== TEST 5: ';', "..;" and "%25" are refused wherever a template is listed
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET $_", more_headers => TG::bearer({workspace_id => 'ws1'}),
         error_code => 403, json_error => 'workspace_mismatch',
         json_error_description => 'request path is not canonical',
         no_upstream => 1} }
  '/workspaces/ws2;x',
  '/workspaces/ws1;x/data',
  '/workspaces/ws1/..;/ws2/data',
  '/workspaces/ws1/%252e%252e/ws2/data',
  '/workspaces/ws1%2F..%2Fws2/x',
  '/workspaces/ws1/../ws2/x',
  '/workspaces//ws2/x',
  '/workspaces/ws1/./x',
  '/other//x',
]
--- no_upstream
--- error_log_like eval
TG::log_refusal('workspace mismatch')



=== TEST 6: a non-canonical path gets the code of the placeholder it reaches
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
tenant_guard_bind_path "/providers/{claim:provider_id}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /providers/p1//x', more_headers => TG::bearer({provider_id => 'p1'}),
     error_code => 403, json_error => 'claim_mismatch',
     json_error_description => 'request path is not canonical', no_upstream => 1},
    {request => 'GET /x/;y', more_headers => TG::bearer({provider_id => 'p1'}),
     error_code => 403, json_error => 'workspace_mismatch',
     json_error_description => 'request path is not canonical', no_upstream => 1},
]
--- no_upstream



=== TEST 7: an "if" regex overwrites $1: a named capture holds, and so does the template
With "tenant_guard_bind workspace $1" the X-Debug header would choose the
bound id (see TEST 8); $ws and the template are not touched by the "if".
--- config
location ~ ^/named/(?<ws>[^/]+)/ {
    if ($http_x_debug ~ "^(.+)$") {
        set $debug $1;
    }
    tenant_guard on;
    tenant_guard_bind workspace $ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location ~ ^/workspaces/([^/]+)/ {
    if ($http_x_debug ~ "^(.+)$") {
        set $debug $1;
    }
    tenant_guard on;
    tenant_guard_bind_path "/workspaces/{workspace}";
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /named/ws2/x',
     more_headers => TG::bearer({workspace_id => 'ws1'}) . "\nX-Debug: ws1",
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws2/x',
     more_headers => TG::bearer({workspace_id => 'ws1'}) . "\nX-Debug: ws1",
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /named/ws1/x',
     more_headers => TG::bearer({workspace_id => 'ws1'}) . "\nX-Debug: ws2",
     upstream_uri => '/named/ws1/x'},
    {request => 'GET /workspaces/ws1/x',
     more_headers => TG::bearer({workspace_id => 'ws1'}) . "\nX-Debug: ws2",
     upstream_uri => '/workspaces/ws1/x'},
]
--- upstream_count: 2



=== TEST 8: why nginx -t warns about $1: the "if" regex chose the bound id
nginx's own behaviour, kept here as the reason for the warning: $1 is the
last regex's capture, here the client's header.
--- config
location ~ ^/workspaces/([^/]+)/ {
    if ($http_x_debug ~ "^(.+)$") {
        set $debug $1;
    }
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /workspaces/ws2/x
--- more_headers eval
TG::bearer({workspace_id => 'ws1'}) . "\nX-Debug: ws1"
--- error_code: 200
--- upstream_uri: /workspaces/ws2/x



=== TEST 9: a rewrite that captures: the template reads the rewritten path
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
rewrite ^/w/([^/]+)/(.*)$ /workspaces/$1/$2 last;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /w/ws2/x', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /w/ws1/x', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_uri => '/workspaces/ws1/x'},
]
--- upstream_count: 1



=== TEST 10: integration placeholder: both ids of the path must hold
--- config
tenant_guard_bind_path "/workspaces/{workspace}/integrations/{integration}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /workspaces/ws1/integrations/int1/sync',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     upstream_uri => '/workspaces/ws1/integrations/int1/sync'},
    {request => 'GET /Workspaces/ws1/Integrations/int2',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'integration_mismatch', no_upstream => 1,
     response_headers => '!WWW-Authenticate'},
    {request => 'GET /workspaces/ws2/integrations/int1',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws1/integrations/int1',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => undef}),
     error_code => 403, json_error => 'integration_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws1/integrations/',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     upstream_uri => '/workspaces/ws1/integrations/'},
    {request => 'GET /workspaces/ws1/settings',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     upstream_uri => '/workspaces/ws1/settings'},
    {request => 'GET /workspaces/ws2/settings',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- upstream_count: 3
--- error_log_like
\[info\] .*tenant_guard: integration mismatch, token_id: jti-[0-9a-f]+(, client: |$)



=== TEST 11: organization placeholder
--- config
tenant_guard_bind_path "/orgs/{organization}/";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /orgs/org1/x', more_headers => TG::bearer({organization_id => 'org1'}),
     upstream_uri => '/orgs/org1/x'},
    {request => 'GET /ORGS/org2', more_headers => TG::bearer({organization_id => 'org1'}),
     error_code => 403, json_error => 'organization_mismatch', no_upstream => 1,
     response_headers => '!WWW-Authenticate'},
]
--- upstream_count: 1
--- error_log_like
\[info\] .*tenant_guard: organization mismatch, token_id: jti-[0-9a-f]+(, client: |$)



=== TEST 12: claim placeholder (an MSP's provider), integers as decimal text
--- config
tenant_guard_bind_path "/providers/{claim:provider_id}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /providers/p1/clients', more_headers => TG::bearer({provider_id => 'p1'}),
     upstream_uri => '/providers/p1/clients'},
    {request => 'GET /Providers/p2', more_headers => TG::bearer({provider_id => 'p1'}),
     error_code => 403, json_error => 'claim_mismatch', no_upstream => 1,
     response_headers => '!WWW-Authenticate'},
    {request => 'GET /providers/p1', more_headers => TG::bearer({}),
     error_code => 403, json_error => 'claim_mismatch', no_upstream => 1},
    {request => 'GET /providers/17', more_headers => TG::bearer({provider_id => 17}),
     upstream_uri => '/providers/17'},
]
--- upstream_count: 2
--- error_log_like
\[info\] .*tenant_guard: claim mismatch, token_id: jti-[0-9a-f]+(, client: |$)



=== TEST 13: several templates: each that applies must hold
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
tenant_guard_bind_path "/orgs/{organization}/workspaces/{workspace}";
tenant_guard_bind_path "/providers/{claim:provider_id}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /orgs/org1/workspaces/ws1/x',
     more_headers => TG::bearer({organization_id => 'org1', workspace_id => 'ws1'}),
     upstream_uri => '/orgs/org1/workspaces/ws1/x'},
    {request => 'GET /orgs/org1/workspaces/ws2/x',
     more_headers => TG::bearer({organization_id => 'org1', workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /orgs/org2/workspaces/ws1/x',
     more_headers => TG::bearer({organization_id => 'org1', workspace_id => 'ws1'}),
     error_code => 403, json_error => 'organization_mismatch', no_upstream => 1},
    {request => 'GET /providers/p2',
     more_headers => TG::bearer({workspace_id => 'ws1', provider_id => 'p1'}),
     error_code => 403, json_error => 'claim_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws2',
     more_headers => TG::bearer({workspace_id => 'ws1', provider_id => 'p1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /providers/p1',
     more_headers => TG::bearer({workspace_id => 'ws1', provider_id => 'p1'}),
     upstream_uri => '/providers/p1'},
]
--- upstream_count: 2



=== TEST 14: a location's own templates add to the server's
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location /workspaces/ {
    tenant_guard on;
    tenant_guard_bind_path "/workspaces/{workspace}/integrations/{integration}";
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /workspaces/ws1/integrations/int1',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     upstream_uri => '/workspaces/ws1/integrations/int1'},
    {request => 'GET /workspaces/ws1/integrations/int2',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'integration_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws2/x',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /Workspaces/ws2/integrations/int1',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 15: templates reach nested locations and "if" blocks
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location / {
    tenant_guard on;
    location /workspaces/ {
        if ($arg_x) {
            set $y 1;
        }
        proxy_pass http://$TEST_NGINX_UPSTREAM;
    }
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /workspaces/ws2/a', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws2/a?x=1', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws1/a?x=1', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_uri => '/workspaces/ws1/a?x=1'},
]
--- upstream_count: 1



=== TEST 16: where tenant_guard is off, a server's templates do nothing
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location /health/ {
    tenant_guard off;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /health/workspaces//x', upstream_uri => '/health/workspaces//x'},
    {request => 'GET /workspaces/ws1', error_code => 401, no_upstream => 1},
]
--- upstream_count: 1



=== TEST 17: tenant_guard_bind and templates in one location: all must hold
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location ~ ^/workspaces/[^/]+/integrations/(?<int>[^/]+) {
    tenant_guard on;
    tenant_guard_bind integration $int;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /workspaces/ws1/integrations/int1',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     upstream_uri => '/workspaces/ws1/integrations/int1'},
    {request => 'GET /workspaces/ws2/integrations/int1',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws1/integrations/int2',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'integration_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws1/integrations/int1;x',
     more_headers => TG::bearer({workspace_id => 'ws1', integration_id => 'int1'}),
     error_code => 403, json_error => 'integration_mismatch',
     json_error_description => 'request path is not canonical', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 18: the template uses the configured claim name
--- config
tenant_guard_claim workspace tid;
tenant_guard_bind_path "/workspaces/{workspace}";
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /workspaces/t9/x', more_headers => TG::bearer({tid => 't9', workspace_id => 'ws1'}),
     upstream_uri => '/workspaces/t9/x'},
    {request => 'GET /workspaces/ws1/x', more_headers => TG::bearer({tid => 't9', workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 19: nginx -t: a template with an unbalanced brace
--- config
tenant_guard_bind_path "/workspaces/{workspace";
--- config_error
invalid path template "/workspaces/{workspace": it has an unbalanced brace
--- config_error_line: /workspaces/{workspace



=== TEST 20: nginx -t: an unknown placeholder
--- config
tenant_guard_bind_path "/workspaces/{tenant}";
--- config_error
invalid path template "/workspaces/{tenant}": unknown placeholder



=== TEST 21: nginx -t: an empty claim name
--- config
tenant_guard_bind_path "/providers/{claim:}";
--- config_error
invalid path template "/providers/{claim:}": "{claim:NAME}" has an empty NAME



=== TEST 22: nginx -t: a placeholder that is not a whole segment
--- config
tenant_guard_bind_path "/workspaces/ws-{workspace}";
--- config_error
invalid path template "/workspaces/ws-{workspace}": a placeholder must be a whole segment



=== TEST 23: nginx -t: a template that does not start with "/"
--- config
tenant_guard_bind_path "workspaces/{workspace}";
--- config_error
invalid path template "workspaces/{workspace}": it does not start with "/"



=== TEST 24: nginx -t: a template without a placeholder binds nothing
--- config
tenant_guard_bind_path "/workspaces/";
--- config_error
invalid path template "/workspaces/": it has no placeholder



=== TEST 25: nginx -t: an empty segment, in a location
--- config
location / {
    tenant_guard on;
    tenant_guard_bind_path "/a//{workspace}";
}
--- config_error
invalid path template "/a//{workspace}": it has an empty segment



=== TEST 26: nginx -t: tenant_guard_bind_path in http context
--- http_config
tenant_guard_bind_path "/workspaces/{workspace}";
--- config
location / { return 200; }
--- config_error
"tenant_guard_bind_path" directive is not allowed here



=== TEST 27: nginx -t: a location's own template where tenant_guard is off
--- config
location / {
    tenant_guard_bind_path "/workspaces/{workspace}";
    return 200;
}
--- config_error
"tenant_guard_bind_path" is set but "tenant_guard" is off



=== TEST 28: nginx -t: a server's templates and an open location are fine
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
tenant_guard_bind_path "/providers/{claim:provider_id}/";
location = /health { tenant_guard off; return 200; }
location / { tenant_guard on; }
--- config_ok
--- no_config_output
[warn]



=== TEST 29: nginx -t warns about a numbered capture in a bind
--- config
location ~ ^/workspaces/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
}
location ~ ^/x/([^/]+)/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind claim=provider_id "p-$2";
}
--- config_ok
--- config_output
[warn]
"tenant_guard_bind" value "$1" uses a numbered capture
use a named capture
"tenant_guard_bind" value "p-$2" uses a numbered capture



=== TEST 30: nginx -t: no warning for a named capture or a literal
--- config
location ~ ^/workspaces/(?<ws>[^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $ws;
    tenant_guard_bind claim=price "${ws}1";
}
location /fixed/ {
    tenant_guard on;
    tenant_guard_bind workspace ws1;
}
--- config_ok
--- no_config_output
[warn]



=== TEST 31: an auth_request target binds the main request's path too
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
--- requests eval
[
    {request => 'GET /Workspaces/ws2', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, no_upstream => 1},
    {request => 'GET /workspaces/ws1/x', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 200},
]
--- upstream_count: 2
--- error_log_like
\[info\] .*tenant_guard: workspace mismatch, token_id: jti-[0-9a-f]+



=== TEST 32: an encoded ';' ("..%3B") is refused: nginx would forward it decoded as "..;", which a servlet backend reads as ".."
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location /uri-part/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM/;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    map({ +{request => $_, more_headers => TG::bearer({workspace_id => 'ws1'}),
            error_code => 403, json_error => 'workspace_mismatch',
            json_error_description => 'request path is not canonical',
            no_upstream => 1} }
        'GET /workspaces/ws1/..%3B/ws2/items',
        'GET /workspaces/ws1/..%3b/ws2/items',
        'GET /uri-part/workspaces/ws1/..%3B/ws2/items',
        'GET /workspaces/ws1%3Bx/items'),
    {request => 'GET /workspaces/ws1/items',
     more_headers => TG::bearer({workspace_id => 'ws1'}), error_code => 200},
]
--- upstream_count: 1



=== TEST 33: a rewrite that moves the path off the template does not unbind the client's path ($request_uri forwarded)
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location /workspaces/ {
    rewrite ^/workspaces/(.*)$ /internal/$1 last;
}
location /internal/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM$request_uri;
}
--- requests eval
[
    {request => 'GET /workspaces/ws2/items',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/w%73%31/items',
     more_headers => TG::bearer({workspace_id => 'ws2'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /workspaces/ws1/items',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 200, upstream_uri => '/workspaces/ws1/items'},
]
--- upstream_count: 1



=== TEST 34: a ';' a rewrite puts into the path is refused too
--- config
tenant_guard_bind_path "/workspaces/{workspace}";
location /w/ {
    rewrite ^/w/([^/]+)/(.*)$ "/workspaces/$1/..;/$2" last;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /w/ws1/ws2
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- json_error_description: request path is not canonical
--- no_upstream
