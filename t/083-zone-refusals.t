# Refusals the zone remembers (a few seconds): a JWT refused for a reason
# no later time changes (bad signature, malformed, unknown kid) is verified
# once however often it comes (debug line "verifying token signature", and
# "refusal from zone" for the others), with the first refusal's description;
# a refusal for a time claim (nbf, iat, exp) is never remembered; each
# remembered refusal still counts toward the address's ban; the refusals
# are per verifying configuration; and they live in a share of the zone of
# their own, so that a flood of distinct invalid tokens evicts no verified
# token.

use lib 't/lib';
use TG;
use TG::Ban;

our (%TOK, @FLOOD);

sub bearer_of { return "Authorization: Bearer $_[0]" }

block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: a token signed by an unknown key, 10 times: one signature check, the same refusal each time
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{evil} = TG::jwt({workspace_id => 'acme'}, key => 'evil_rsa', kid => 'rsa1');
[
    map { +{request => "GET /r$_", more_headers => main::bearer_of($TOK{evil}),
            error_code => 401, json_error => 'invalid_token',
            json_error_description => 'the signature does not verify',
            response_headers => 'WWW-Authenticate: Bearer realm="tenant_guard", error="invalid_token", error_description="the signature does not verify"',
            no_upstream => 1} } 1 .. 10
]
--- no_upstream
--- error_log_count
1 tenant_guard: verifying token signature
9 tenant_guard: refusal from zone
10 tenant_guard: invalid token: the signature does not verify
--- error_log_like eval
TG::log_invalid_hash($TOK{evil})



=== TEST 2: malformed tokens and an unknown kid are remembered too, each with its own description
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{notjws} = 'abc.def';
$TOK{kid} = TG::jwt({}, kid => 'nobody');
$TOK{header} = TG::raw_token('{"alg":', {sub => 'x'}, 'c2ln');
my @reqs;
for my $round (1 .. 3) {
    for my $k (qw(notjws kid header)) {
        push @reqs, {request => "GET /$k/$round", more_headers => main::bearer_of($TOK{$k}),
                     error_code => 401, json_error => 'invalid_token', no_upstream => 1,
                     json_error_description_like => {notjws => '^the token is not a compact JWS$',
                                                     kid => '^unknown kid',
                                                     header => '^the header: '}->{$k}};
    }
}
\@reqs
--- error_log_count
3 tenant_guard: verifying token signature
6 tenant_guard: refusal from zone
9 tenant_guard: invalid token



=== TEST 3: a token refused for nbf in the future is not remembered: accepted once nbf has passed
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
tenant_guard_leeway 0s;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{soon} = TG::jwt({workspace_id => 'acme', nbf => time + 2});
[
    {request => 'GET /early/1', more_headers => main::bearer_of($TOK{soon}), error_code => 401,
     json_error => 'invalid_token', json_error_description => 'the token is not valid yet',
     no_upstream => 1},
    {request => 'GET /early/2', more_headers => main::bearer_of($TOK{soon}), error_code => 401,
     json_error => 'invalid_token', json_error_description => 'the token is not valid yet',
     no_upstream => 1, wait => 2.5},
    {request => 'GET /now', more_headers => main::bearer_of($TOK{soon}), error_code => 200,
     upstream_headers => 'X-Workspace-Id: acme'},
]
--- upstream_count: 1
--- error_log_count
3 tenant_guard: verifying token signature
0 tenant_guard: refusal from zone



=== TEST 4: expired and issued-in-the-future tokens are verified every time
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
tenant_guard_leeway 0s;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{old} = TG::jwt({exp => time - 10});
$TOK{future} = TG::jwt({iat => time + 600});
[
    map { +{request => "GET /$_->[0]/$_->[1]", more_headers => main::bearer_of($TOK{$_->[0]}),
            error_code => 401, json_error => 'invalid_token', no_upstream => 1} }
    map { ([old => $_], [future => $_]) } 1 .. 3
]
--- error_log_count
6 tenant_guard: verifying token signature
0 tenant_guard: refusal from zone



=== TEST 5: a refusal is remembered for a few seconds only
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{evil} = TG::jwt({}, key => 'evil_rsa', kid => 'rsa1');
[
    {request => 'GET /1', more_headers => main::bearer_of($TOK{evil}), error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /2', more_headers => main::bearer_of($TOK{evil}), error_code => 401,
     json_error => 'invalid_token', no_upstream => 1, wait => 6.2},
    {request => 'GET /3', more_headers => main::bearer_of($TOK{evil}), error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
]
--- error_log_count
2 tenant_guard: verifying token signature
1 tenant_guard: refusal from zone



=== TEST 6: a refusal under one location's keys is not another location's: valid there, refused here, each remembered apart
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location /rsa2-only {
    tenant_guard on;
    tenant_guard_keys $TEST_NGINX_KEYS/rsa2.pem;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'acme'});
my $h = main::bearer_of($TOK{a});
[
    {request => 'GET /rsa2-only/1', more_headers => $h, error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /any/1', more_headers => $h, error_code => 200,
     upstream_headers => 'X-Workspace-Id: acme'},
    {request => 'GET /rsa2-only/2', more_headers => $h, error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /any/2', more_headers => $h, error_code => 200},
]
--- upstream_count: 2
--- error_log_count
2 tenant_guard: verifying token signature
1 tenant_guard: refusal from zone
1 tenant_guard: token from zone



=== TEST 7: a remembered refusal counts toward the address's ban like any invalid token
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [3, 60, 60])}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{evil} = TG::jwt({}, key => 'evil_rsa', kid => 'rsa1');
my $bad = {request => 'GET /api/items', more_headers => main::bearer_of($TOK{evil}),
           error_code => 401, json_error => 'invalid_token', no_upstream => 1};
[
    $bad, $bad, $bad,
    TG::Ban::banned('ip', [58, 60], 'GET /api/items', TG::bearer({})),
]
--- no_upstream
--- error_log_count
3 tenant_guard: invalid token
1 tenant_guard: client address banned, level 3, for 60 s



=== TEST 8: 200 distinct invalid tokens through a 32k zone: a token used before and after is still served from the zone
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:32k;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{good} = TG::jwt({workspace_id => 'acme', jti => 'jti-good-083-8'});
@FLOOD = map { TG::jwt({workspace_id => 'acme', n => $_}, key => 'evil_rsa', kid => 'rsa1') } 1 .. 200;
[
    {request => 'GET /good/1', more_headers => main::bearer_of($TOK{good}), error_code => 200},
    (map { +{request => "GET /bad/$_", more_headers => main::bearer_of($FLOOD[$_]),
             error_code => 401, json_error => 'invalid_token', no_upstream => 1} } 0 .. 199),
    {request => 'GET /good/2', more_headers => main::bearer_of($TOK{good}), error_code => 200,
     upstream_headers => 'X-Workspace-Id: acme'},
    # the last flood token is still remembered: the share recycles itself
    {request => 'GET /bad/last', more_headers => main::bearer_of($FLOOD[-1]),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
]
--- upstream_count: 2
--- error_log_count
201 tenant_guard: verifying token signature
1 tenant_guard: token from zone, token_id: jti-good-083-8
1 tenant_guard: refusal from zone
