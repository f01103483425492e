# tenant_guard_require_claim NAME OP VALUE...: eq, ne, in, nin, has; typed
# values (a number never equals a string, "123" in quotes is the string);
# dotted paths into objects (Keycloak's realm_access.roles); several rules
# all hold, a location's rules add to its server's; values may be
# variables.  A refusal is 403 insufficient_claims, nothing upstream, one
# info line.  The awkward claims (an object, an array of objects, a number
# that looks like a string, absent, a path through a non-object) fail
# closed.

use lib 't/lib';
use TG;

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

sub ok_req {
    my ($uri, $claims) = @_;
    return {request => "GET $uri", more_headers => TG::bearer($claims), error_code => 200};
}

sub no_req {
    my ($uri, $claims) = @_;
    return {request => "GET $uri", more_headers => TG::bearer($claims), error_code => 403,
            json_error => 'insufficient_claims', no_upstream => 1};
}

run_tests();
done_testing();

__DATA__

=== TEST 1: eq on a string, pass and fail; the refusal's body, description and log line
--- config
location / {
    tenant_guard on;
    tenant_guard_require_claim tier eq gold;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    main::ok_req('/a', {tier => 'gold'}),
    {%{main::no_req('/b', {tier => 'silver', jti => 'jti-silver'})},
     json_error_description => 'claim "tier" fails its rule'},
    main::no_req('/c', {tier => 'Gold'}),
    main::no_req('/d', {}),
]
--- upstream_count: 1
--- error_log
tenant_guard: insufficient claims: claim "tier" fails its rule, token_id: jti-silver



=== TEST 2: eq and ne are typed: a number never equals a string
--- config
location /num {
    tenant_guard on;
    tenant_guard_require_claim level eq 3;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /str {
    tenant_guard on;
    tenant_guard_require_claim level eq '"3"';
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /ne {
    tenant_guard on;
    tenant_guard_require_claim level ne 3;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /bool {
    tenant_guard on;
    tenant_guard_require_claim email_verified eq true;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    main::ok_req('/num', {level => 3}),
    main::ok_req('/num', {level => 3.0}),
    main::no_req('/num', {level => '3'}),
    main::ok_req('/str', {level => '3'}),
    main::no_req('/str', {level => 3}),
    main::ok_req('/ne', {level => '3'}),
    main::ok_req('/ne', {level => 4}),
    main::no_req('/ne', {level => 3}),
    main::no_req('/ne', {}),
    main::no_req('/ne', {level => [4]}),
    main::ok_req('/bool', {email_verified => \1}),
    main::no_req('/bool', {email_verified => 'true'}),
    main::no_req('/bool', {email_verified => \0}),
    main::no_req('/bool', {email_verified => 1}),
]
--- upstream_count: 6



=== TEST 3: in and nin
--- config
location /in {
    tenant_guard on;
    tenant_guard_require_claim plan in pro enterprise 7;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /nin {
    tenant_guard on;
    tenant_guard_require_claim plan nin free trial;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    main::ok_req('/in', {plan => 'pro'}),
    main::ok_req('/in', {plan => 'enterprise'}),
    main::ok_req('/in', {plan => 7}),
    main::no_req('/in', {plan => '7'}),
    main::no_req('/in', {plan => 'free'}),
    main::no_req('/in', {plan => ['pro']}),
    main::ok_req('/nin', {plan => 'pro'}),
    main::no_req('/nin', {plan => 'trial'}),
    main::no_req('/nin', {}),
    main::no_req('/nin', {plan => {name => 'pro'}}),
]
--- upstream_count: 4



=== TEST 4: has on a nested array (Keycloak realm_access.roles)
--- config
location / {
    tenant_guard on;
    tenant_guard_require_claim realm_access.roles has admin auditor;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    main::ok_req('/1', {realm_access => {roles => ['user', 'admin']}}),
    main::ok_req('/2', {realm_access => {roles => ['auditor']}}),
    main::no_req('/3', {realm_access => {roles => ['user']}}),
    main::no_req('/4', {realm_access => {roles => []}}),
    # a string is no array, even one that names the role
    main::no_req('/5', {realm_access => {roles => 'admin'}}),
    main::no_req('/6', {realm_access => {roles => 'admin auditor'}}),
    # the path, not a top-level claim of that name
    main::no_req('/7', {'realm_access.roles' => ['admin']}),
    main::no_req('/8', {roles => ['admin']}),
    # a path through a non-object
    main::no_req('/9', {realm_access => ['admin']}),
    main::no_req('/10', {realm_access => 'admin'}),
    # an array of objects: an object element never matches
    main::no_req('/11', {realm_access => {roles => [{name => 'admin'}]}}),
    main::ok_req('/12', {realm_access => {roles => [{name => 'x'}, 'admin']}}),
]
--- upstream_count: 3



=== TEST 5: the awkward claims fail closed: an object, a number that looks like a string
--- config
location /obj {
    tenant_guard on;
    tenant_guard_require_claim address ne nowhere;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /deep {
    tenant_guard on;
    tenant_guard_require_claim org.billing.account eq '"00123"';
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /hasnum {
    tenant_guard on;
    tenant_guard_require_claim groups has 42;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    main::no_req('/obj', {address => {city => 'x'}}),
    main::no_req('/obj', {address => undef}),
    main::ok_req('/obj', {address => 'somewhere'}),
    main::ok_req('/deep', {org => {billing => {account => '00123'}}}),
    main::no_req('/deep', {org => {billing => {account => 123}}}),
    main::no_req('/deep', {org => {billing => 'x'}}),
    main::ok_req('/hasnum', {groups => [1, 42]}),
    main::no_req('/hasnum', {groups => ['42']}),
]
--- upstream_count: 3



=== TEST 6: several rules all hold; a location's rules add to its server's
--- config
tenant_guard_require_claim tier eq gold;
location / {
    tenant_guard on;
    tenant_guard_require_claim realm_access.roles has admin;
    tenant_guard_require_claim email_verified eq true;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /plain/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my %all = (tier => 'gold', realm_access => {roles => ['admin']}, email_verified => \1);
[
    main::ok_req('/a', {%all}),
    main::no_req('/b', {%all, tier => 'silver'}),
    main::no_req('/c', {%all, realm_access => {roles => ['user']}}),
    main::no_req('/d', {%all, email_verified => \0}),
    main::ok_req('/plain/e', {tier => 'gold'}),
    main::no_req('/plain/f', {tier => 'silver'}),
]
--- upstream_count: 2



=== TEST 7: values may be variables, read with the same typing
--- config
location ~ ^/orgs/(?<org>[^/]+)/ {
    tenant_guard on;
    tenant_guard_require_claim org_ids has $org;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /level {
    tenant_guard on;
    tenant_guard_require_claim level eq $arg_want;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    main::ok_req('/orgs/o1/x', {org_ids => ['o1', 'o2']}),
    main::no_req('/orgs/o3/x', {org_ids => ['o1', 'o2']}),
    main::ok_req('/orgs/5/x', {org_ids => [5]}),
    main::ok_req('/level?want=2', {level => 2}),
    main::no_req('/level?want=%222%22', {level => 2}),
    # an empty value never matches: not even an empty claim
    main::no_req('/level', {level => ''}),
    main::no_req('/level?want=', {level => ''}),
]
--- upstream_count: 3



=== TEST 8: a claim rule reads claims of a token from the zone as it does of a fresh one
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location /admin/ {
    tenant_guard on;
    tenant_guard_require_claim realm_access.roles has admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my $user = TG::jwt({realm_access => {roles => ['user']}});
my $admin = TG::jwt({realm_access => {roles => ['admin']}});
[
    {request => 'GET /x', more_headers => "Authorization: Bearer $user", error_code => 200},
    {request => 'GET /admin/x', more_headers => "Authorization: Bearer $user", error_code => 403,
     json_error => 'insufficient_claims'},
    {request => 'GET /x', more_headers => "Authorization: Bearer $admin", error_code => 200},
    {request => 'GET /admin/x', more_headers => "Authorization: Bearer $admin", error_code => 200},
]
--- upstream_count: 3
