# Tenant headers: client-sent copies are always removed (any case, duplicates,
# underscore spellings, every location of every server, also where the check
# is off), then set from the token; names and claims are configurable.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: a client-sent X-Workspace-Id is replaced by the token's
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X-Workspace-Id: ws2\n" . TG::bearer({workspace_id => 'ws1'})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 2: duplicates in any case: upstream sees exactly one, the token's
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"x-workspace-id: ws2\nx-workspace-id: ws3\nX-WORKSPACE-ID: ws4\n"
. TG::bearer({workspace_id => 'ws1'})
. "\nX-Workspace-Id: ws5"
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 3: all six headers set from the token, client copies dropped
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
join "\n",
    'X-Organization-Id: evil-org',
    'X-Workspace-Id: evil-ws',
    'X-Integration-Id: evil-int',
    'X-Subject-Id: admin',
    'X-Auth-Scopes: admin root',
    'X-Auth-MFA: true',
    TG::bearer({sub => 'user7', workspace_id => 'ws7', organization_id => 'org7',
                integration_id => 'int7', scope => 'read'})
--- error_code: 200
--- upstream_headers
X-Organization-Id: org7
X-Workspace-Id: ws7
X-Integration-Id: int7
X-Subject-Id: user7
X-Auth-Scopes: read
X-Auth-MFA: false



=== TEST 4: a claim the token lacks: the client's copy is dropped, none set
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X-Integration-Id: int-evil\nX-Auth-Scopes: admin\n"
. TG::bearer({integration_id => undef, scope => undef})
--- error_code: 200
--- upstream_headers
!X-Integration-Id
!X-Auth-Scopes
X-Workspace-Id: ws1



=== TEST 5: stripped in a location with tenant_guard off
--- config
tenant_guard on;
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /public/ {
    tenant_guard off;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /public/x
--- more_headers
X-Organization-Id: evil-org
X-Workspace-Id: evil-ws
x-integration-id: evil-int
X-Subject-Id: admin
X-Auth-Scopes: admin
X-Auth-MFA: true
X-Other: kept
--- error_code: 200
--- upstream_headers
!X-Organization-Id
!X-Workspace-Id
!X-Integration-Id
!X-Subject-Id
!X-Auth-Scopes
!X-Auth-MFA
X-Other: kept



=== TEST 6: stripped where no tenant_guard directive is used at all
--- server_config
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /x
--- more_headers
X-Workspace-Id: evil-ws
X-Auth-MFA: true
--- error_code: 200
--- upstream_headers
!X-Workspace-Id
!X-Auth-MFA



=== TEST 7: stripped in another server of the same nginx
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    server_name other.example;
    location / {
        proxy_pass http://$TEST_NGINX_UPSTREAM;
    }
}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /other
--- more_headers
Host: other.example
X-Workspace-Id: evil-ws
X-Subject-Id: admin
--- error_code: 200
--- upstream_uri: /other
--- upstream_headers
!X-Workspace-Id
!X-Subject-Id



=== TEST 8: underscores_in_headers on: X_Workspace_Id is stripped too
--- config
underscores_in_headers on;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X_Workspace_Id: ws2\nx_auth_mfa: true\nX-Auth_Scopes: admin\nX_Custom: kept\n"
. TG::bearer({workspace_id => 'ws1'})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws1
X-Auth-MFA: false
X-Auth-Scopes: read write
X_Custom: kept



=== TEST 9: underscores_in_headers on, tenant_guard off: underscore copies stripped
--- server_config
--- config
underscores_in_headers on;
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /x
--- more_headers
X_Workspace_Id: ws2
X_ORGANIZATION_ID: org2
x-subject_id: admin
--- error_code: 200
--- upstream_headers
!X-Workspace-Id
!X-Organization-Id
!X-Subject-Id



=== TEST 10: X-Auth-MFA true when amr holds mfa
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({amr => ['pwd', 'mfa']})
--- error_code: 200
--- upstream_headers
X-Auth-MFA: true



=== TEST 11: X-Auth-MFA true for otp, hwk, swk; false for pwd, missing, unknown
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /otp', more_headers => TG::bearer({amr => ['otp']}),
     upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /hwk', more_headers => TG::bearer({amr => ['hwk', 'pwd']}),
     upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /swk', more_headers => TG::bearer({amr => ['swk']}),
     upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /pwd', more_headers => TG::bearer({amr => ['pwd']}),
     upstream_headers => 'X-Auth-MFA: false'},
    {request => 'GET /none', more_headers => TG::bearer({}),
     upstream_headers => 'X-Auth-MFA: false'},
    {request => 'GET /empty', more_headers => TG::bearer({amr => []}),
     upstream_headers => 'X-Auth-MFA: false'},
    {request => 'GET /case', more_headers => TG::bearer({amr => ['MFA']}),
     upstream_headers => 'X-Auth-MFA: false'},
    {request => 'GET /sub', more_headers => TG::bearer({amr => ['mfax', 'xotp']}),
     upstream_headers => 'X-Auth-MFA: false'},
]
--- upstream_count: 8



=== TEST 12: tenant_guard_header renames the workspace header
--- config
tenant_guard_header workspace X-Tenant;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X-Tenant: evil\nx-tenant: evil2\n" . TG::bearer({workspace_id => 'ws1'})
--- error_code: 200
--- upstream_headers
X-Tenant: ws1
!X-Workspace-Id
X-Organization-Id: org1



=== TEST 13: tenant_guard_header for every kind
--- config
tenant_guard_header organization X-Org;
tenant_guard_header workspace X-Ws;
tenant_guard_header integration X-Int;
tenant_guard_header subject X-User;
tenant_guard_header scopes X-Scopes;
tenant_guard_header mfa X-Mfa-Done;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X-Org: e\nX-Ws: e\nX-Int: e\nX-User: e\nX-Scopes: e\nX-Mfa-Done: e\n"
. TG::bearer({amr => ['otp']})
--- error_code: 200
--- upstream_headers
X-Org: org1
X-Ws: ws1
X-Int: int1
X-User: user1
X-Scopes: read write
X-Mfa-Done: true
!X-Organization-Id
!X-Workspace-Id
!X-Integration-Id
!X-Subject-Id
!X-Auth-Scopes
!X-Auth-MFA



=== TEST 14: a renamed header is stripped where tenant_guard is off too
--- server_config
--- config
tenant_guard_header workspace X-Tenant;
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /x
--- more_headers
X-Tenant: evil
--- error_code: 200
--- upstream_headers
!X-Tenant



=== TEST 15: tenant_guard_claim workspace tid
--- config
tenant_guard_claim workspace tid;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({tid => 't9', workspace_id => 'ws1'})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: t9



=== TEST 16: tenant_guard_claim: the default claim is no longer read
--- config
tenant_guard_claim workspace tid;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws1'})
--- error_code: 200
--- upstream_headers
!X-Workspace-Id



=== TEST 17: tenant_guard_claim for organization, integration and subject
--- config
tenant_guard_claim organization org;
tenant_guard_claim integration iid;
tenant_guard_claim subject email;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({org => 'o5', iid => 'i5', email => 'a@example.com'})
--- error_code: 200
--- upstream_headers
X-Organization-Id: o5
X-Integration-Id: i5
X-Subject-Id: a@example.com



=== TEST 18: satisfy any + allow: no token needed, client copies still stripped
--- config
location / {
    satisfy any;
    allow 127.0.0.1;
    deny all;
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers
X-Workspace-Id: evil-ws
X-Auth-MFA: true
--- error_code: 200
--- upstream_headers
!X-Workspace-Id
!X-Auth-MFA



=== TEST 19: auth_request subrequest does not see client copies either
--- server_config
--- config
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
--- request
GET /items
--- more_headers
X-Workspace-Id: evil-ws
X-Subject-Id: admin
--- error_code: 200
--- upstream_count: 2
--- upstream_headers_all
!X-Workspace-Id
!X-Subject-Id



=== TEST 20: a refused request's headers are irrelevant: nothing upstream
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers
X-Workspace-Id: ws1
X-Auth-MFA: true
--- error_code: 401
--- json_error: invalid_request
--- no_upstream



=== TEST 21: other client headers pass through untouched
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X-Request-Id: r-1\nX-Workspace-Idx: keep-me\nX-Workspace: keep-too\n" . TG::bearer({})
--- error_code: 200
--- upstream_headers
X-Request-Id: r-1
X-Workspace-Idx: keep-me
X-Workspace: keep-too
X-Workspace-Id: ws1



=== TEST 22: auth_request subrequest in a guarded server does not see client copies
--- config
location / {
    tenant_guard off;
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    tenant_guard off;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
--- request
GET /items
--- more_headers
X-Workspace-Id: evil-ws
X-Subject-Id: admin
--- error_code: 200
--- upstream_count: 2
--- upstream_headers_all
!X-Workspace-Id
!X-Subject-Id



=== TEST 23: a header renamed in one location is stripped in every location, and in another server
The client may not send X-Tenant where the name is not set either: a
location or server without the rename would pass it on as if the edge had
set it.
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    server_name other.example;
    location / {
        proxy_pass http://$TEST_NGINX_UPSTREAM;
    }
}
--- config
location /renamed/ {
    tenant_guard on;
    tenant_guard_header workspace X-Tenant;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /guarded/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /open/ {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /open/x', more_headers => "X-Tenant: evil\nX_Tenant: evil2",
     error_code => 200, upstream_headers => "!X-Tenant\n!X_Tenant"},
    {request => 'GET /guarded/x',
     more_headers => "X-Tenant: evil\n" . TG::bearer({workspace_id => 'ws1'}),
     error_code => 200,
     upstream_headers => "!X-Tenant\nX-Workspace-Id: ws1"},
    {request => 'GET /renamed/x',
     more_headers => "X-Tenant: evil\n" . TG::bearer({workspace_id => 'ws1'}),
     error_code => 200, upstream_headers => "X-Tenant: ws1\n!X-Workspace-Id"},
    {request => 'GET /x', more_headers => "Host: other.example\nX-Tenant: evil",
     error_code => 200, upstream_headers => '!X-Tenant'},
]
--- upstream_count: 4
