# Configuration of workspace policies, through nginx -t: the policy file
# (JSON errors, unknown fields, types, ranges, addresses, maxIdleTime without
# a zone, a missing file), tenant_guard_zone and tenant_guard_support_subnets.
# Every error is an [emerg] that names the file and the line of the
# directive; a complete IAM-shaped file (ignored fields too) is accepted.

use lib 't/lib';
use TG;
use TG::Policy;

# every block reads its policy file; a block's own --- http_config replaces
# that (an empty one: no policy file)
block_defaults(http_config => 'tenant_guard_policy_file $TEST_NGINX_POLICY;');

run_tests();
done_testing();

__DATA__

=== TEST 1: a complete policy file with every IAM field (ignored ones too) passes nginx -t
--- policy
{
  "workspaces": {
    "acme": {
      "ipPolicy": {"enabled": true, "enableSupportSubnets": true,
                   "ipPolicy": ["203.0.113.7", "198.51.100.0/24", "2001:db8::/48",
                                "2001:db8:ffff::1", "::ffff:192.0.2.1", "::ffff:10.0.0.0/104",
                                "0.0.0.0/0", "::/0"]},
      "ban": {"blockingForClientEnabled": true,
              "firstBanThreshold": 5, "firstBanCollectingTime": 300, "firstBanDuration": 600,
              "secondBanThreshold": 10, "secondBanCollectingTime": 900, "secondBanDuration": 3600,
              "permanentBanThreshold": 50, "permanentBanCollectingTime": 3600,
              "permanentBanDuration": 86400},
      "mfa": {"required": true},
      "general": {"tokenLifetimeInSeconds": 3600,
                  "voucherPoolUuid": "6f1c2a8e-1b7d-4c55-9d0e-2a1f3b4c5d6e",
                  "allowOverwriteCustomIdentify": true,
                  "allowOverwriteExternalId": false,
                  "allowEmailChangeFromWebForm": true,
                  "allowToPassCustomIdentifyWithVoucherPool": false},
      "passwordPolicy": {"maxIdleTime": 900, "attempts": 5, "block": 15, "different": 3,
                         "digits": 1, "expiration": 90, "lowerLetters": 1, "maxLength": 128,
                         "minLength": 12, "nextChange": 1, "specialChars": 1,
                         "upperLetters": 1}
    },
    "beta": {
      "general": {"tokenLifetimeInSeconds": 0, "voucherPoolUuid": null,
                  "allowOverwriteCustomIdentify": null},
      "passwordPolicy": {"maxIdleTime": null, "attempts": null, "minLength": null}
    },
    "gamma": {},
    "42": {"mfa": {"required": false}}
  },
  "default": {
    "ipPolicy": {"enabled": false, "enableSupportSubnets": false, "ipPolicy": []},
    "ban": {"blockingForClientEnabled": false, "permanentBanThreshold": 100,
            "permanentBanCollectingTime": 3600, "permanentBanDuration": 3600},
    "mfa": {"required": false},
    "general": {"tokenLifetimeInSeconds": 3153600000},
    "passwordPolicy": {"maxIdleTime": 0}
  }
}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
tenant_guard_support_subnets 192.0.2.0/24 10.20.0.1 2001:db8:ffff::/48 ::1;
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
tenant_guard_mfa_amr otp hwk;
tenant_guard_mfa_acr urn:acme:loa:2;
location / {
    tenant_guard on;
    return 200;
}
--- config_ok
--- no_config_output
[emerg]
[warn]



=== TEST 2: a file with only "default" passes nginx -t
--- policy
{"default": {"mfa": {"required": true}}}
--- config
location / {
    return 200;
}
--- config_ok



=== TEST 3: an empty object passes nginx -t
--- policy
{}
--- config
location / {
    return 200;
}
--- config_ok



=== TEST 4: maxIdleTime null needs no zone
--- policy
{"workspaces": {"acme": {"passwordPolicy": {"maxIdleTime": null, "minLength": 8}}}}
--- config
location / {
    return 200;
}
--- config_ok



=== TEST 5: invalid JSON
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": invalid JSON:
--- config_error_line: tenant_guard_policy_file



=== TEST 6: invalid JSON: trailing garbage after the object
--- policy
{"workspaces": {}} {"default": {}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": invalid JSON:
--- config_error_line: tenant_guard_policy_file



=== TEST 7: an empty file is not a policy
--- policy eval
""
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": invalid JSON:
--- config_error_line: tenant_guard_policy_file



=== TEST 8: a workspace listed twice (duplicate JSON key) is refused, not silently merged
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}}, "acme": {}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": invalid JSON:
duplicate
--- config_error_line: tenant_guard_policy_file



=== TEST 9: the top level must be an object
--- policy
[{"workspaces": {}}]
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": JSON is not an object
--- config_error_line: tenant_guard_policy_file



=== TEST 10: an unknown top-level field
--- policy
{"workspaces": {}, "x": 1}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": unknown field "x" (expected "workspaces" and "default")
--- config_error_line: tenant_guard_policy_file



=== TEST 11: "workspaces" must be an object
--- policy
{"workspaces": [{"acme": {}}]}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": "workspaces" is not an object
--- config_error_line: tenant_guard_policy_file



=== TEST 12: a workspace's policy must be an object
--- policy
{"workspaces": {"acme": ["mfa"]}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": the policy is not an object
--- config_error_line: tenant_guard_policy_file



=== TEST 13: an unknown field in a workspace's policy
--- policy
{"workspaces": {"ok": {}, "acme": {"mfa": {"required": true}, "foo": {}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": unknown field "foo"
--- config_error_line: tenant_guard_policy_file



=== TEST 14: a part that is not an object
--- policy
{"workspaces": {"acme": {"mfa": true}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": mfa: not an object
--- config_error_line: tenant_guard_policy_file



=== TEST 15: mfa.required must be a boolean (a string)
--- policy
{"workspaces": {"acme": {"mfa": {"required": "yes"}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": mfa.required: not a boolean
--- config_error_line: tenant_guard_policy_file



=== TEST 16: mfa.required must be a boolean (a number)
--- policy
{"workspaces": {"acme": {"mfa": {"required": 1}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": mfa.required: not a boolean
--- config_error_line: tenant_guard_policy_file



=== TEST 17: ipPolicy.enableSupportSubnets must be a boolean
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "enableSupportSubnets": "true", "ipPolicy": []}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ipPolicy.enableSupportSubnets: not a boolean
--- config_error_line: tenant_guard_policy_file



=== TEST 18: ipPolicy.ipPolicy[1] is not an address
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.1", "300.0.0.1"]}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ipPolicy.ipPolicy[1]: "300.0.0.1" is not an IPv4 or IPv6 address or CIDR range
--- config_error_line: tenant_guard_policy_file



=== TEST 19: an IPv4 prefix longer than 32
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/33"]}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ipPolicy.ipPolicy[0]: "10.0.0.0/33" is not an IPv4 or IPv6 address or CIDR range
--- config_error_line: tenant_guard_policy_file



=== TEST 20: an IPv6 prefix longer than 128
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.1", "::1", "2001:db8::/129"]}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ipPolicy.ipPolicy[2]: "2001:db8::/129" is not an IPv4 or IPv6 address or CIDR range
--- config_error_line: tenant_guard_policy_file



=== TEST 21: a host name is not an address
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": false, "ipPolicy": ["office.example.com"]}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ipPolicy.ipPolicy[0]: "office.example.com" is not an IPv4 or IPv6 address or CIDR range
--- config_error_line: tenant_guard_policy_file



=== TEST 22: an empty prefix length is not a CIDR range
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/"]}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ipPolicy.ipPolicy[0]: "10.0.0.0/" is not an IPv4 or IPv6 address or CIDR range
--- config_error_line: tenant_guard_policy_file



=== TEST 23: ipPolicy.ipPolicy must be an array
--- policy
{"workspaces": {"acme": {"ipPolicy": {"enabled": true, "ipPolicy": "10.0.0.0/8"}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ipPolicy.ipPolicy: not an array
--- config_error_line: tenant_guard_policy_file



=== TEST 24: general.tokenLifetimeInSeconds: negative
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": -1}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": general.tokenLifetimeInSeconds: not a whole number from 0 to 3153600000
--- config_error_line: tenant_guard_policy_file



=== TEST 25: general.tokenLifetimeInSeconds: one past the maximum
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 3153600001}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": general.tokenLifetimeInSeconds: not a whole number from 0 to 3153600000
--- config_error_line: tenant_guard_policy_file



=== TEST 26: general.tokenLifetimeInSeconds: a fraction
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 1.5}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": general.tokenLifetimeInSeconds: not a whole number from 0 to 3153600000
--- config_error_line: tenant_guard_policy_file



=== TEST 27: general.tokenLifetimeInSeconds: a string
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": "3600"}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": general.tokenLifetimeInSeconds: not a whole number from 0 to 3153600000
--- config_error_line: tenant_guard_policy_file



=== TEST 28: general: an unknown field
--- policy
{"workspaces": {"acme": {"general": {"tokenLifetimeInSeconds": 60, "sessionLifetime": 5}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": general.sessionLifetime: unknown field
--- config_error_line: tenant_guard_policy_file



=== TEST 29: passwordPolicy: an unknown field
--- policy
{"workspaces": {"acme": {"passwordPolicy": {"minLength": 8, "foo": 1}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": passwordPolicy.foo: unknown field
--- config_error_line: tenant_guard_policy_file



=== TEST 30: passwordPolicy.maxIdleTime: negative
--- policy
{"workspaces": {"acme": {"passwordPolicy": {"maxIdleTime": -900}}}}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": passwordPolicy.maxIdleTime: not a whole number from 0 to 3153600000
--- config_error_line: tenant_guard_policy_file



=== TEST 31: mfa: an unknown field
--- policy
{"workspaces": {"acme": {"mfa": {"required": true, "methods": ["otp"]}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": mfa.methods: unknown field
--- config_error_line: tenant_guard_policy_file



=== TEST 32: ban: a threshold that is not a whole number (parsed even though not yet enforced)
--- policy
{"workspaces": {"acme": {"ban": {"blockingForClientEnabled": true, "firstBanThreshold": "5"}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ban.firstBanThreshold: not a whole number from 0 to 3153600000
--- config_error_line: tenant_guard_policy_file



=== TEST 33: ban: an unknown field
--- policy
{"workspaces": {"acme": {"ban": {"thirdBanThreshold": 5}}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": workspace "acme": ban.thirdBanThreshold: unknown field
--- config_error_line: tenant_guard_policy_file



=== TEST 34: the default policy's errors say "default"
--- policy
{"workspaces": {"acme": {}}, "default": {"mfa": {"required": "no"}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": default: mfa.required: not a boolean
--- config_error_line: tenant_guard_policy_file



=== TEST 35: the default policy: an unknown field
--- policy
{"default": {"general": {"tokenLifetimeInSeconds": 60}, "bar": null}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": default: unknown field "bar"
--- config_error_line: tenant_guard_policy_file



=== TEST 36: the default policy: a bad address
--- policy
{"default": {"ipPolicy": {"enabled": true, "ipPolicy": ["300.0.0.1"]}}}
--- config
location / {
    return 200;
}
--- config_error
invalid policy file "$TEST_NGINX_POLICY": default: ipPolicy.ipPolicy[0]: "300.0.0.1" is not an IPv4 or IPv6 address or CIDR range
--- config_error_line: tenant_guard_policy_file



=== TEST 37: a workspace sets maxIdleTime and there is no tenant_guard_zone
--- policy
{"workspaces": {"a": {}, "acme": {"passwordPolicy": {"maxIdleTime": 900}}}}
--- config
location / {
    return 200;
}
--- config_error
[emerg]
policy file "$TEST_NGINX_POLICY" sets "maxIdleTime", which needs "tenant_guard_zone"
nginx.conf:



=== TEST 38: the default sets maxIdleTime and there is no tenant_guard_zone
--- policy
{"default": {"passwordPolicy": {"maxIdleTime": 60}}}
--- config
location / {
    return 200;
}
--- config_error
[emerg]
policy file "$TEST_NGINX_POLICY" sets "maxIdleTime", which needs "tenant_guard_zone"
nginx.conf:



=== TEST 39: maxIdleTime with a zone (declared after the policy file) passes
--- policy
{"default": {"passwordPolicy": {"maxIdleTime": 60}}}
--- http_config
tenant_guard_policy_file $TEST_NGINX_POLICY;
tenant_guard_zone zone=tg:64k;
--- config
location / {
    return 200;
}
--- config_ok



=== TEST 40: a missing policy file: open() failed, relative to the conf prefix
--- http_config
tenant_guard_policy_file no-such-policy.json;
--- config
location / {
    return 200;
}
--- config_error
open() "
/conf/no-such-policy.json" failed
--- config_error_line: tenant_guard_policy_file



=== TEST 41: tenant_guard_policy_file twice
--- policy
{}
--- http_config
tenant_guard_policy_file $TEST_NGINX_POLICY;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    return 200;
}
--- config_error
"tenant_guard_policy_file" directive is duplicate



=== TEST 42: tenant_guard_policy_file is http-only
--- policy
{}
--- http_config
--- config
tenant_guard_policy_file $TEST_NGINX_POLICY;
location / {
    return 200;
}
--- config_error
"tenant_guard_policy_file" directive is not allowed here
--- config_error_line: tenant_guard_policy_file



=== TEST 43: tenant_guard_zone: the smallest zone (8 pages, 32k) passes
--- http_config
tenant_guard_zone zone=tg:32k;
--- config
location / {
    return 200;
}
--- config_ok



=== TEST 44: tenant_guard_zone: too small
--- http_config
tenant_guard_zone zone=tg:28k;
--- config
location / {
    return 200;
}
--- config_error
zone "
" is too small
--- config_error_line: tenant_guard_zone



=== TEST 45: tenant_guard_zone: a size that is not a size
--- http_config
tenant_guard_zone zone=tg:lots;
--- config
location / {
    return 200;
}
--- config_error
invalid zone size
--- config_error_line: tenant_guard_zone



=== TEST 46: tenant_guard_zone: no size
--- http_config
tenant_guard_zone zone=tg;
--- config
location / {
    return 200;
}
--- config_error
invalid zone size
--- config_error_line: tenant_guard_zone



=== TEST 47: tenant_guard_zone: no name
--- http_config
tenant_guard_zone zone=:1m;
--- config
location / {
    return 200;
}
--- config_error
invalid zone size
--- config_error_line: tenant_guard_zone



=== TEST 48: tenant_guard_zone twice
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_zone zone=tg2:1m;
--- config
location / {
    return 200;
}
--- config_error
"tenant_guard_zone" directive is duplicate
--- config_error_line: zone=tg2



=== TEST 49: tenant_guard_zone is http-only
--- http_config
--- config
location / {
    tenant_guard_zone zone=tg:1m;
    return 200;
}
--- config_error
"tenant_guard_zone" directive is not allowed here
--- config_error_line: tenant_guard_zone



=== TEST 50: tenant_guard_support_subnets: a bad entry
--- http_config
tenant_guard_support_subnets 192.0.2.0/24 x;
--- config
location / {
    return 200;
}
--- config_error
invalid address or CIDR range "x"
--- config_error_line: tenant_guard_support_subnets



=== TEST 51: tenant_guard_support_subnets: IPv4 prefix too long
--- http_config
tenant_guard_support_subnets 10.0.0.0/33;
--- config
location / {
    return 200;
}
--- config_error
invalid address or CIDR range "10.0.0.0/33"
--- config_error_line: tenant_guard_support_subnets



=== TEST 52: tenant_guard_support_subnets: IPv6 prefix too long
--- http_config
tenant_guard_support_subnets 2001:db8::/48 2001:db8::/129;
--- config
location / {
    return 200;
}
--- config_error
invalid address or CIDR range "2001:db8::/129"
--- config_error_line: tenant_guard_support_subnets



=== TEST 53: tenant_guard_support_subnets is http-only
--- http_config
--- config
tenant_guard_support_subnets 10.0.0.0/8;
location / {
    return 200;
}
--- config_error
"tenant_guard_support_subnets" directive is not allowed here
--- config_error_line: tenant_guard_support_subnets
