# tenant_guard_bind: the id a path names must be the token's own; paths that
# are not canonical are refused in a bound location before comparing.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: own workspace passes
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws1/items
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 200
--- upstream_uri: /ws/ws1/items
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 2: another workspace: 403 workspace_mismatch
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws2/items
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- response_headers
!WWW-Authenticate
--- no_upstream
--- error_log_like eval
TG::log_refusal('workspace mismatch')
--- no_error_log eval
TG::secret_parts()



=== TEST 3: comparison is case-sensitive: /ws/WS1/ refused for ws1
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/WS1/items
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- no_upstream



=== TEST 4: comparison is exact: no prefix match either way
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/ws10/items', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /ws/ws1/items', more_headers => TG::bearer({workspace_id => 'ws10'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /ws/ws1%20/items', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- no_upstream



=== TEST 5: /ws/ws1%2F..%2Fws2/x with a ws1 token never reaches upstream
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws1%2F..%2Fws2/x
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- json_error_description: request path is not canonical
--- no_upstream
--- error_log_like eval
TG::log_refusal('workspace mismatch')



=== TEST 6: /ws/ws1/../ws2/x with a ws1 token never reaches upstream
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws1/../ws2/x
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- json_error_description: request path is not canonical
--- no_upstream



=== TEST 7: /ws//ws2/x with a ws1 token never reaches upstream
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws//ws2/x
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- json_error_description: request path is not canonical
--- no_upstream



=== TEST 8: /ws/%77s2/x (ws2 percent-encoded) with a ws1 token: mismatch
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/%77s2/x
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- no_upstream



=== TEST 9: non-canonical paths that nginx resolves back to the own workspace are refused
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET $_", more_headers => TG::bearer({workspace_id => 'ws1'}),
         error_code => 403, json_error => 'workspace_mismatch',
         json_error_description => 'request path is not canonical',
         no_upstream => 1} }
  '/ws/ws1%2fx/y',
  '/ws/ws1%2F/x',
  '/ws/ws1/./items',
  '/ws/ws1/%2E/items',
  '/ws/ws1/%2e/items',
  '/ws/ws1/x/..',
  '/ws/./ws1/x',
  '/ws/ws1//x',
  '/ws/ws1/a\\b',
  '/ws/ws1/a%5cb',
  '/ws/ws1/a%5Cb',
  '/ws/ws1/report%2Ejson',
]
--- no_upstream



=== TEST 10: non-canonical paths that point elsewhere are refused
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET $_", more_headers => TG::bearer({workspace_id => 'ws1'}),
         error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1} }
  '/ws/ws1/%2e%2e/ws2/x',
  '/ws/ws1/.%2E/ws2/x',
  '/ws/ws1%5C..%5Cws2/x',
  '/ws/ws1/./../ws2/x',
]
--- no_upstream



=== TEST 11: ordinary dots and a query string are fine
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET $_", more_headers => TG::bearer({workspace_id => 'ws1'}),
         upstream_uri => $_} }
  '/ws/ws1/v1.2/items.json',
  '/ws/ws1/..x/y',
  '/ws/ws1/items?next=/../ws2&x=%2F',
  '/ws/%77s1/x',
]
--- upstream_count: 4



=== TEST 12: a token without the workspace claim is a mismatch
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws1/items
--- more_headers eval
TG::bearer({workspace_id => undef})
--- error_code: 403
--- json_error: workspace_mismatch
--- no_upstream



=== TEST 13: the canonical-path rule applies only where a bind is configured
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[ map { {request => "GET $_", more_headers => TG::bearer({}), upstream_uri => $_} }
  '/plain//x',
  '/plain/./x',
  '/plain/a%2Fb',
]
--- upstream_count: 3



=== TEST 14: integration bind
--- config
location ~ ^/int/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind integration $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /int/int1/sync', more_headers => TG::bearer({integration_id => 'int1'}),
     upstream_uri => '/int/int1/sync'},
    {request => 'GET /int/int2/sync', more_headers => TG::bearer({integration_id => 'int1'}),
     error_code => 403, json_error => 'integration_mismatch', no_upstream => 1,
     response_headers => '!WWW-Authenticate'},
    {request => 'GET /int/int1//sync', more_headers => TG::bearer({integration_id => 'int1'}),
     error_code => 403, json_error => 'integration_mismatch',
     json_error_description => 'request path is not canonical', no_upstream => 1},
]
--- upstream_count: 1
--- error_log_like
\[info\] .*tenant_guard: integration mismatch, token_id: jti-[0-9a-f]+(, client: |$)



=== TEST 15: organization bind
--- config
location ~ ^/org/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind organization $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /org/org1/x', more_headers => TG::bearer({organization_id => 'org1'}),
     upstream_uri => '/org/org1/x'},
    {request => 'GET /org/org2/x', more_headers => TG::bearer({organization_id => 'org1'}),
     error_code => 403, json_error => 'organization_mismatch', no_upstream => 1,
     response_headers => '!WWW-Authenticate'},
]
--- upstream_count: 1
--- error_log_like
\[info\] .*tenant_guard: organization mismatch, token_id: jti-[0-9a-f]+(, client: |$)



=== TEST 16: claim=provider_id bind (an MSP's provider)
--- config
location ~ ^/msp/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind claim=provider_id $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /msp/p1/clients', more_headers => TG::bearer({provider_id => 'p1'}),
     upstream_uri => '/msp/p1/clients'},
    {request => 'GET /msp/p2/clients', more_headers => TG::bearer({provider_id => 'p1'}),
     error_code => 403, json_error => 'claim_mismatch', no_upstream => 1,
     response_headers => '!WWW-Authenticate'},
    {request => 'GET /msp/p1/clients', more_headers => TG::bearer({}),
     error_code => 403, json_error => 'claim_mismatch', no_upstream => 1},
    {request => 'GET /msp/17/clients', more_headers => TG::bearer({provider_id => 17}),
     upstream_uri => '/msp/17/clients'},
]
--- upstream_count: 2
--- error_log_like
\[info\] .*tenant_guard: claim mismatch, token_id: jti-[0-9a-f]+(, client: |$)



=== TEST 17: two binds: both must hold
--- config
location ~ ^/org/([^/]+)/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind organization $1;
    tenant_guard_bind workspace $2;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /org/org1/ws/ws1/x',
     more_headers => TG::bearer({organization_id => 'org1', workspace_id => 'ws1'}),
     upstream_uri => '/org/org1/ws/ws1/x'},
    {request => 'GET /org/org1/ws/ws2/x',
     more_headers => TG::bearer({organization_id => 'org1', workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /org/org2/ws/ws1/x',
     more_headers => TG::bearer({organization_id => 'org1', workspace_id => 'ws1'}),
     error_code => 403, json_error => 'organization_mismatch', no_upstream => 1},
    {request => 'GET /org/org2/ws/ws2/x',
     more_headers => TG::bearer({organization_id => 'org1', workspace_id => 'ws1'}),
     error_code => 403, no_upstream => 1},
]
--- upstream_count: 1



=== TEST 18: VALUE may be a literal or a named capture
--- config
location /fixed/ {
    tenant_guard on;
    tenant_guard_bind workspace ws1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location ~ ^/named/(?<wsid>[^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $wsid;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /fixed/a', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_uri => '/fixed/a'},
    {request => 'GET /fixed/b', more_headers => TG::bearer({workspace_id => 'ws2'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /named/ws2/c', more_headers => TG::bearer({workspace_id => 'ws2'}),
     upstream_uri => '/named/ws2/c'},
    {request => 'GET /named/ws3/c', more_headers => TG::bearer({workspace_id => 'ws2'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- upstream_count: 2



=== TEST 19: VALUE from a variable that is empty is a mismatch
--- config
location /q/ {
    tenant_guard on;
    tenant_guard_bind workspace $arg_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /q/x?ws=ws1', more_headers => TG::bearer({workspace_id => 'ws1'}),
     upstream_uri => '/q/x?ws=ws1'},
    {request => 'GET /q/x', more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 20: the bind uses the configured claim name
--- config
tenant_guard_claim workspace tid;
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/t9/x', more_headers => TG::bearer({tid => 't9', workspace_id => 'ws1'}),
     upstream_uri => '/ws/t9/x'},
    {request => 'GET /ws/ws1/x', more_headers => TG::bearer({tid => 't9', workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 21: integer workspace claim matches its decimal form
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/42/x', more_headers => TG::bearer({workspace_id => 42}),
     upstream_uri => '/ws/42/x'},
    {request => 'GET /ws/042/x', more_headers => TG::bearer({workspace_id => 42}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 22: bad token in a bound location: 401 first, not 403
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/ws1/x', error_code => 401, json_error => 'invalid_request',
     no_upstream => 1},
    {request => 'GET /ws/ws1/x', more_headers => TG::bearer({}, key => 'rsa2', kid => 'rsa1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]
--- no_upstream



=== TEST 23: a dot segment just before an empty query is not canonical
The raw path is read up to its first '?': "/ws/ws1/.?" is normalized to
"/ws/ws1/" by nginx, but a backend may read it otherwise.
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws1/.?
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 403
--- json_error: workspace_mismatch
--- json_error_description: request path is not canonical
--- no_upstream



=== TEST 24: args set by the configuration do not change what is checked
"set $args" points the args elsewhere: the raw path is still read up to its
own '?', so an encoded '/' is refused, and a clean path still passes.
--- config
location ~ ^/ws/([^/]+)/ {
    set $args "page=1";
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/ws1%2F..%2Fws2/x?q=1',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch',
     json_error_description => 'request path is not canonical',
     no_upstream => 1},
    {request => 'GET /ws/ws1/x?q=1',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 200, upstream_uri => '/ws/ws1/x?page=1'},
]
--- upstream_count: 1



=== TEST 25: a ';' in any segment is refused: servlet backends read "/ws1/..;/ws2" as "/ws2"
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/ws1/..;/ws2/data',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch',
     json_error_description => 'request path is not canonical',
     no_upstream => 1},
    {request => 'GET /ws/ws1;x=1/data',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch',
     json_error_description => 'request path is not canonical',
     no_upstream => 1},
    {request => 'GET /ws/ws1/data?a=;',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 200, upstream_uri => '/ws/ws1/data?a=;'},
]
--- upstream_count: 1



=== TEST 26: "%25" is refused: a backend that decodes twice reads %252e%252e as ".."
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /ws/ws1/%252e%252e/ws2/data',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch',
     json_error_description => 'request path is not canonical',
     no_upstream => 1},
    {request => 'GET /ws/ws1/100%25',
     more_headers => TG::bearer({workspace_id => 'ws1'}),
     error_code => 403, json_error => 'workspace_mismatch',
     no_upstream => 1},
]
--- no_upstream
