# Workspace policies through real nginx (embedded mode: tenant_guard_policy_file):
# the IP allowlist (support subnets, realip, IPv6, IPv4-mapped addresses),
# MFA (amr array or string, acr, custom values), the token lifetime at its
# edges, which policy a token gets (listed workspace, unlisted = default,
# listed with nothing = nothing enforced), and the order of the checks.
# Every refusal: status, JSON error, the challenge (or its absence), the info
# log line, nothing upstream.

use lib 't/lib';
use TG;
use TG::Policy;

# every block reads its policy file and starts its server {} with the keys;
# a block's own --- http_config or --- server_config replaces them
block_defaults(
    http_config   => 'tenant_guard_policy_file $TEST_NGINX_POLICY;',
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: ip allowlist holds the client address: 200
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["203.0.113.7", "127.0.0.1"]}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme'})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: acme
--- no_error_log
tenant_guard: ip not allowed



=== TEST 2: ip allowlist without the client address: 403 ip_not_allowed, no challenge
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["203.0.113.7", "10.0.0.0/8"]}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme'})
--- error_code: 403
--- json_error: ip_not_allowed
--- response_headers
!WWW-Authenticate
--- no_upstream
--- error_log_like eval
TG::log_refusal('ip not allowed')
--- error_log_once
tenant_guard: ip not allowed
--- no_error_log eval
TG::secret_parts()



=== TEST 3: a CIDR range holds the client: 200
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["127.0.0.0/8"]}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme'})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: acme



=== TEST 4: ipPolicy with enabled false (or no "enabled") is not enforced
--- policy
{"workspaces": {"off": {"ipPolicy": {"enabled": false, "ipPolicy": ["10.0.0.0/8"]}},
                "unset": {"ipPolicy": {"ipPolicy": ["10.0.0.0/8"]}},
                "on": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/8"]}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /off', more_headers => TG::bearer({workspace_id => 'off'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: off'},
    {request => 'GET /unset', more_headers => TG::bearer({workspace_id => 'unset'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: unset'},
    {request => 'GET /on', more_headers => TG::bearer({workspace_id => 'on'}),
     error_code => 403, json_error => 'ip_not_allowed',
     response_headers => '!WWW-Authenticate', no_upstream => 1},
]
--- upstream_count: 2
--- error_log_once
tenant_guard: ip not allowed



=== TEST 5: enableSupportSubnets true adds tenant_guard_support_subnets (IPv4 and IPv6)
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "enableSupportSubnets": true,
                                      "ipPolicy": ["10.0.0.0/8"]}}}}
--- http_config
tenant_guard_policy_file $TEST_NGINX_POLICY;
tenant_guard_support_subnets 192.0.2.0/24 127.0.0.0/30 2001:db8:ffff::/48;
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Forwarded-For;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /loopback', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
    (map { +{request => "GET /in/$_",
             more_headers => "X-Forwarded-For: $_\n" . TG::bearer({workspace_id => 'acme'}),
             error_code => 200, upstream_headers => 'X-Workspace-Id: acme'} }
     '192.0.2.200', '2001:db8:ffff:1::9', '10.200.0.1'),
    (map { +{request => "GET /out/$_",
             more_headers => "X-Forwarded-For: $_\n" . TG::bearer({workspace_id => 'acme'}),
             error_code => 403, json_error => 'ip_not_allowed',
             response_headers => '!WWW-Authenticate', no_upstream => 1} }
     '192.0.3.1', '127.0.0.4', '2001:db8:fffe::9'),
]
--- upstream_count: 4
--- error_log_count
3 tenant_guard: ip not allowed



=== TEST 6: enableSupportSubnets false: the support subnets are not added: 403
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "enableSupportSubnets": false,
                                      "ipPolicy": ["10.0.0.0/8"]}},
                "nosub": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/8"]}}}}
--- http_config
tenant_guard_policy_file $TEST_NGINX_POLICY;
tenant_guard_support_subnets 127.0.0.0/8;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /a', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 403, json_error => 'ip_not_allowed',
     response_headers => '!WWW-Authenticate', no_upstream => 1},
    {request => 'GET /b', more_headers => TG::bearer({workspace_id => 'nosub'}),
     error_code => 403, json_error => 'ip_not_allowed',
     response_headers => '!WWW-Authenticate', no_upstream => 1},
]
--- no_upstream
--- error_log_like eval
TG::log_refusal('ip not allowed')



=== TEST 7: enableSupportSubnets true without tenant_guard_support_subnets adds nothing: 403
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "enableSupportSubnets": true,
                                      "ipPolicy": ["10.0.0.0/8"]}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme'})
--- error_code: 403
--- json_error: ip_not_allowed
--- response_headers
!WWW-Authenticate
--- no_upstream
--- error_log_like eval
TG::log_refusal('ip not allowed')



=== TEST 8: the client address is the one realip sets from X-Forwarded-For
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.1.2.0/24"]}}}}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Forwarded-For;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /in',
     more_headers => "X-Forwarded-For: 10.1.2.3\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
    {request => 'GET /out',
     more_headers => "X-Forwarded-For: 10.1.3.3\n" . ($T = TG::bearer({workspace_id => 'acme'})),
     error_code => 403, json_error => 'ip_not_allowed',
     response_headers => '!WWW-Authenticate', no_upstream => 1},
    {request => 'GET /loopback', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
]
--- upstream_count: 1
--- error_log_like eval
[TG::Policy::log_refusal('ip not allowed', $T =~ s/^Authorization: Bearer //r),
 'tenant_guard: ip not allowed, .*client: 10\.1\.3\.3']



=== TEST 9: without realip, a client-sent X-Forwarded-For does not change the address
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.1.2.3"]}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X-Forwarded-For: 10.1.2.3\nX-Real-IP: 10.1.2.3\n" . TG::bearer({workspace_id => 'acme'})
--- error_code: 403
--- json_error: ip_not_allowed
--- response_headers
!WWW-Authenticate
--- no_upstream
--- error_log_like eval
TG::log_refusal('ip not allowed')



=== TEST 10: IPv6 entry: a client in 2001:db8::/48 passes, one outside is refused
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["2001:db8::/48", "2001:db8:ffff::7"]}}}}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Forwarded-For;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /in',
     more_headers => "X-Forwarded-For: 2001:db8::5\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
    {request => 'GET /in-last',
     more_headers => "X-Forwarded-For: 2001:db8:0:ffff:ffff:ffff:ffff:ffff\n"
                     . TG::bearer({workspace_id => 'acme'}),
     error_code => 200},
    {request => 'GET /single',
     more_headers => "X-Forwarded-For: 2001:db8:ffff::7\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 200},
    {request => 'GET /single-next',
     more_headers => "X-Forwarded-For: 2001:db8:ffff::8\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
    {request => 'GET /out',
     more_headers => "X-Forwarded-For: 2001:db8:1::5\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 403, json_error => 'ip_not_allowed',
     response_headers => '!WWW-Authenticate', no_upstream => 1},
    {request => 'GET /v4',
     more_headers => "X-Forwarded-For: 10.1.2.3\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
]
--- upstream_count: 3
--- error_log_like
tenant_guard: ip not allowed, .*client: 2001:db8:1::5
tenant_guard: ip not allowed, .*client: 10\.1\.2\.3



=== TEST 11: IPv4 entries do not match IPv6 clients
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["0.0.0.0/0"]}}}}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Forwarded-For;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /v4',
     more_headers => "X-Forwarded-For: 198.51.100.1\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 200},
    {request => 'GET /v6',
     more_headers => "X-Forwarded-For: 2001:db8::5\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
]
--- upstream_count: 1
--- error_log_like
tenant_guard: ip not allowed, .*client: 2001:db8::5



=== TEST 12: an IPv4-mapped IPv6 entry matches the IPv4 client
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["::ffff:127.0.0.1"]}},
                "other": {"ipPolicy": {"enabled": true, "ipPolicy": ["::ffff:127.0.0.2"]}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /acme', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
    {request => 'GET /other', more_headers => TG::bearer({workspace_id => 'other'}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
]
--- upstream_count: 1
--- error_log_once
tenant_guard: ip not allowed



=== TEST 13: an IPv4-mapped IPv6 client matches IPv4 entries (realip)
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.1.2.0/24"]}}}}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Forwarded-For;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /in',
     more_headers => "X-Forwarded-For: ::ffff:10.1.2.3\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
    {request => 'GET /out',
     more_headers => "X-Forwarded-For: ::ffff:10.9.2.3\n" . TG::bearer({workspace_id => 'acme'}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
]
--- upstream_count: 1
--- error_log_once
tenant_guard: ip not allowed



=== TEST 14: the ip check comes before MFA: 403 ip_not_allowed, not 401
--- policy
{"default": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/8"]},
             "mfa": {"required": true},
             "general": {"tokenLifetimeInSeconds": 60}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', iat => time - 3600})
--- error_code: 403
--- json_error: ip_not_allowed
--- response_headers
!WWW-Authenticate
--- no_upstream
--- error_log_like eval
TG::log_refusal('ip not allowed')
--- no_error_log
tenant_guard: mfa required
tenant_guard: token older



=== TEST 15: MFA required, token without amr: 401 insufficient_user_authentication (RFC 9470)
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme'})
--- error_code: 401
--- json_error: insufficient_user_authentication
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="insufficient_user_authentication", error_description="[^"\\]+", acr_values="mfa"$
--- no_upstream
--- error_log_like eval
TG::log_refusal('mfa required')
--- error_log_once
tenant_guard: mfa required
--- no_error_log eval
TG::secret_parts()



=== TEST 16: MFA required: an amr array holding one of mfa otp hwk swk passes, X-Auth-MFA true
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    (map {
        +{request => "GET /$_->[0]",
         more_headers => TG::bearer({workspace_id => 'acme', amr => $_}),
         error_code => 200,
         upstream_headers => "X-Auth-MFA: true\nX-Workspace-Id: acme"}
     } ['pwd', 'otp'], ['mfa'], ['hwk', 'pwd'], ['swk']),
    (map {
        +{request => "GET /refused",
         more_headers => TG::bearer({workspace_id => 'acme', amr => $_}),
         error_code => 401, json_error => 'insufficient_user_authentication',
         response_headers_like =>
             'WWW-Authenticate: ^Bearer realm="tenant_guard", error="insufficient_user_authentication", .*acr_values="mfa"$',
         no_upstream => 1}
     } ['pwd'], [], ['MFA'], ['xotp', 'mfax', 'otp '], ['pwd otp']),
]
--- upstream_count: 4
--- upstream_headers_all
X-Auth-MFA: true



=== TEST 17: MFA required: an amr string (space-separated) passes when it holds a value
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    (map {
        +{request => "GET /pass",
         more_headers => TG::bearer({workspace_id => 'acme', amr => $_}),
         error_code => 200, upstream_headers => 'X-Auth-MFA: true'}
     } 'otp', 'pwd otp', 'pwd hwk swk'),
    (map {
        +{request => "GET /refused",
         more_headers => TG::bearer({workspace_id => 'acme', amr => $_}),
         error_code => 401, json_error => 'insufficient_user_authentication',
         response_headers_like =>
             'WWW-Authenticate: error="insufficient_user_authentication", .*acr_values="mfa"$',
         no_upstream => 1}
     } 'pwd', '', 'pwdotp', 'xotp mfax', 'OTP'),
]
--- upstream_count: 3
--- error_log_like
tenant_guard: mfa required, token_id: jti-



=== TEST 18: MFA required: acr equal to "mfa" passes (X-Auth-MFA true); another acr is refused
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /acr', more_headers => TG::bearer({workspace_id => 'acme', acr => 'mfa'}),
     error_code => 200, upstream_headers => "X-Auth-MFA: true\nX-Workspace-Id: acme"},
    {request => 'GET /acr-pwd-amr',
     more_headers => TG::bearer({workspace_id => 'acme', acr => 'mfa', amr => ['pwd']}),
     error_code => 200, upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /low',
     more_headers => ($T = TG::bearer({workspace_id => 'acme', acr => 'urn:loa:1'})),
     error_code => 401, json_error => 'insufficient_user_authentication',
     response_headers_like =>
         'WWW-Authenticate: ^Bearer realm="tenant_guard", error="insufficient_user_authentication", error_description="[^"]+", acr_values="mfa"$',
     no_upstream => 1},
    {request => 'GET /prefix', more_headers => TG::bearer({workspace_id => 'acme', acr => 'mfa2'}),
     error_code => 401, json_error => 'insufficient_user_authentication', no_upstream => 1},
]
--- upstream_count: 2
--- error_log_like eval
TG::Policy::log_refusal('mfa required', $T =~ s/^Authorization: Bearer //r)



=== TEST 19: custom tenant_guard_mfa_amr / tenant_guard_mfa_acr replace the defaults
--- policy
{"default": {"mfa": {"required": true}}}
--- config
tenant_guard_mfa_amr fido face;
tenant_guard_mfa_acr urn:acme:loa:2 gold;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /fido', more_headers => TG::bearer({amr => ['pwd', 'fido']}),
     error_code => 200, upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /face', more_headers => TG::bearer({amr => 'face'}),
     error_code => 200, upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /gold', more_headers => TG::bearer({acr => 'gold'}),
     error_code => 200, upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /loa2', more_headers => TG::bearer({acr => 'urn:acme:loa:2'}),
     error_code => 200, upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /otp', more_headers => TG::bearer({amr => ['otp', 'mfa']}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     response_headers_like =>
         'WWW-Authenticate: ^Bearer realm="tenant_guard", error="insufficient_user_authentication", error_description="[^"]+", acr_values="urn:acme:loa:2 gold"$',
     no_upstream => 1},
    {request => 'GET /acr-mfa', more_headers => TG::bearer({acr => 'mfa'}),
     error_code => 401, json_error => 'insufficient_user_authentication',
     response_headers_like => 'WWW-Authenticate: acr_values="urn:acme:loa:2 gold"$',
     no_upstream => 1},
]
--- upstream_count: 4
--- error_log_like
tenant_guard: mfa required, token_id: jti-



=== TEST 20: MFA not required: a token without amr passes with X-Auth-MFA false
--- policy
{"workspaces": {"acme": {"mfa": {"required": false}}}, "default": {"mfa": {"required": true}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', amr => ['pwd']})
--- error_code: 200
--- upstream_headers
X-Auth-MFA: false
X-Workspace-Id: acme



=== TEST 21: MFA comes before the lifetime: 401 insufficient_user_authentication
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}, "general": {"tokenLifetimeInSeconds": 60}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', iat => time - 3600})
--- error_code: 401
--- json_error: insufficient_user_authentication
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="insufficient_user_authentication", error_description="[^"]+", acr_values="mfa"$
--- no_upstream
--- error_log_like eval
TG::log_refusal('mfa required')
--- no_error_log
tenant_guard: token older



=== TEST 22: lifetime 60: a token issued 59 s ago passes
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 60}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', iat => time - 59})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: acme
--- no_error_log
tenant_guard: token older



=== TEST 23: lifetime 60: a token issued 61 s ago is refused (401 invalid_token, says why)
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 60}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', iat => time - 61})
--- error_code: 401
--- json_error: invalid_token
--- json_error_description: the token is older than the workspace's token lifetime
--- response_headers
WWW-Authenticate: Bearer realm="tenant_guard", error="invalid_token", error_description="the token is older than the workspace's token lifetime"
--- no_upstream
--- error_log_like eval
TG::Policy::log_refusal('token older than workspace lifetime')
--- error_log_once
tenant_guard: token older than workspace lifetime
--- no_error_log eval
TG::secret_parts()



=== TEST 24: lifetime 60: 62 s ago refused, 3600 s ago refused; exp still later
--- policy
{"default": {"general": {"tokenLifetimeInSeconds": 60}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    (map {
        +{request => "GET /age/$_",
         more_headers => TG::bearer({iat => time - $_, exp => time + 86400}),
         error_code => 401, json_error => 'invalid_token',
         response_headers_like => 'WWW-Authenticate: error="invalid_token", error_description="[^"]*token lifetime"$',
         no_upstream => 1}
     } 62, 3600),
    {request => 'GET /fresh', more_headers => TG::bearer({}), error_code => 200},
]
--- upstream_count: 1



=== TEST 25: tokenLifetimeInSeconds 0 means no workspace limit
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 0}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', iat => time - 10 * 365 * 86400})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: acme



=== TEST 26: a lifetime is set and the token has no iat: 401 invalid_token, says so
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 3600}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', iat => undef})
--- error_code: 401
--- json_error: invalid_token
--- response_body_like
"error_description":"[^"]*lifetime[^"]*has no \\"iat\\""
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token", error_description="[^"]*lifetime[^"]*has no [^"]*iat[^"]*"$
--- no_upstream
--- error_log_like eval
TG::Policy::log_refusal('token older than workspace lifetime')



=== TEST 27: no lifetime set: a token without iat passes
--- policy
{"workspaces": {"acme": {"mfa": {"required": false}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'acme', iat => undef})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: acme



=== TEST 28: the lifetime comes before scopes and binds: 401 invalid_token, not 403
--- policy
{"default": {"general": {"tokenLifetimeInSeconds": 60}}}
--- config
location /scoped {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /scoped', more_headers => TG::bearer({scope => 'read', iat => time - 120}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1,
     response_headers_like => 'WWW-Authenticate: error="invalid_token"'},
    {request => 'GET /ws/other/x', more_headers => TG::bearer({iat => time - 120}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /scoped', more_headers => TG::bearer({scope => 'read'}),
     error_code => 403, json_error => 'insufficient_scope', no_upstream => 1},
    {request => 'GET /ws/other/x', more_headers => TG::bearer({}),
     error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /ws/ws1/x', more_headers => TG::bearer({}), error_code => 200},
]
--- upstream_count: 1
--- error_log_count
2 tenant_guard: token older than workspace lifetime
1 tenant_guard: insufficient scope
1 tenant_guard: workspace mismatch



=== TEST 29: a workspace not listed (or no workspace claim) gets the default policy
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 0}}},
 "default": {"mfa": {"required": true}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /acme', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
    (map {
        +{request => "GET /ws/" . ($_ =~ s/ /_/gr),
         more_headers => TG::bearer({workspace_id => $_}),
         error_code => 401, json_error => 'insufficient_user_authentication',
         response_headers_like => 'WWW-Authenticate: acr_values="mfa"$',
         no_upstream => 1}
     } 'other', 'ACME', 'acm', 'acme2', ' acme'),
    {request => 'GET /none', more_headers => TG::bearer({workspace_id => undef}),
     error_code => 401, json_error => 'insufficient_user_authentication', no_upstream => 1},
    {request => 'GET /other-mfa', more_headers => TG::bearer({workspace_id => 'other', amr => ['otp']}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: other'},
]
--- upstream_count: 2
--- error_log_count
6 tenant_guard: mfa required, token_id:



=== TEST 30: a listed workspace with {} gets nothing enforced, not the default
--- policy
{"workspaces": {"acme": {}},
 "default": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/8"]},
             "mfa": {"required": true},
             "general": {"tokenLifetimeInSeconds": 60}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /acme', more_headers => TG::bearer({workspace_id => 'acme', iat => time - 3600}),
     error_code => 200, upstream_headers => "X-Workspace-Id: acme\nX-Auth-MFA: false"},
    {request => 'GET /other', more_headers => TG::bearer({workspace_id => 'other', iat => time - 3600}),
     error_code => 403, json_error => 'ip_not_allowed', no_upstream => 1},
]
--- upstream_count: 1
--- error_log_once
tenant_guard: ip not allowed



=== TEST 31: parts are not merged with the default: a listed workspace's absent part is not enforced
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}},
 "default": {"general": {"tokenLifetimeInSeconds": 60},
             "ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/8"]}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /old-mfa',
     more_headers => TG::bearer({workspace_id => 'acme', amr => ['otp'], iat => time - 3600}),
     error_code => 200, upstream_headers => 'X-Auth-MFA: true'},
    {request => 'GET /no-mfa',
     more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 401, json_error => 'insufficient_user_authentication', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 32: null parts are absent
--- policy
{"workspaces": {"acme": {"ipPolicy": null, "ban": null, "mfa": null, "general": null, "passwordPolicy": null},
                "beta": {"mfa": {"required": null}, "general": {"tokenLifetimeInSeconds": null},
                         "ipPolicy": {"enabled": null, "ipPolicy": ["10.0.0.0/8"]}}},
 "default": {"mfa": {"required": true}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /acme', more_headers => TG::bearer({workspace_id => 'acme', iat => time - 3600}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: acme'},
    {request => 'GET /beta', more_headers => TG::bearer({workspace_id => 'beta', iat => time - 3600}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: beta'},
    {request => 'GET /other', more_headers => TG::bearer({workspace_id => 'other'}),
     error_code => 401, json_error => 'insufficient_user_authentication', no_upstream => 1},
]
--- upstream_count: 2



=== TEST 33: no "default" in the file: an unlisted workspace gets nothing enforced
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /other', more_headers => TG::bearer({workspace_id => 'other', iat => time - 3600}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: other'},
    {request => 'GET /acme', more_headers => TG::bearer({workspace_id => 'acme'}),
     error_code => 401, json_error => 'insufficient_user_authentication', no_upstream => 1},
]
--- upstream_count: 1



=== TEST 34: the policy is picked by the configured workspace claim
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}}}
--- config
tenant_guard_claim workspace tenant;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /tenant', more_headers => TG::bearer({tenant => 'acme', workspace_id => 'free'}),
     error_code => 401, json_error => 'insufficient_user_authentication', no_upstream => 1},
    {request => 'GET /ws', more_headers => TG::bearer({tenant => 'free', workspace_id => 'acme'}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: free'},
]
--- upstream_count: 1



=== TEST 35: an integer workspace id picks the policy listed under its decimal string
--- policy
{"workspaces": {"42": {"mfa": {"required": true}}}}
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /int', more_headers => TG::bearer({workspace_id => 42}),
     error_code => 401, json_error => 'insufficient_user_authentication', no_upstream => 1},
    {request => 'GET /int-mfa', more_headers => TG::bearer({workspace_id => 42, amr => ['otp']}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: 42'},
    {request => 'GET /other', more_headers => TG::bearer({workspace_id => 43}),
     error_code => 200, upstream_headers => 'X-Workspace-Id: 43'},
]
--- upstream_count: 2



=== TEST 36: every rule of a workspace holds at once: 200 with the tenant headers
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "enableSupportSubnets": true, "ipPolicy": ["10.0.0.0/8"]},
                         "ban": {"blockingForClientEnabled": true, "firstBanThreshold": 5,
                                 "firstBanCollectingTime": 300, "firstBanDuration": 600},
                         "mfa": {"required": true},
                         "general": {"tokenLifetimeInSeconds": 3600}}}}
--- http_config
tenant_guard_policy_file $TEST_NGINX_POLICY;
tenant_guard_support_subnets 127.0.0.1;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
"X-Workspace-Id: evil\nX-Auth-MFA: true\n"
. TG::bearer({workspace_id => 'acme', organization_id => 'org9', amr => ['hwk'], iat => time - 3000})
--- error_code: 200
--- upstream_headers
X-Workspace-Id: acme
X-Organization-Id: org9
X-Auth-MFA: true
--- no_error_log
tenant_guard: ip not allowed
tenant_guard: mfa required
tenant_guard: token older
