# The shared zone (tenant_guard_zone): verified tokens cached across requests
# and workers (debug lines "verifying token signature" / "token from zone"),
# what a cached verdict may not skip (policy, binds, scopes, expiry, another
# location's keys, issuer, MFA values or leeway), a full zone (LRU eviction:
# every request still judged correctly), and idle sign-out
# (passwordPolicy.maxIdleTime) with two workers.

use lib 't/lib';
use TG;
use TG::Policy;

# tokens shared between the sections of a block
our (%TOK, @FLOOD, %CNT);

sub bearer_of { return "Authorization: Bearer $_[0]" }

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: the same token again is served from the zone, on either worker
--- workers: 2
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
# a second server on the test port with "reuseport": the kernel spreads new
# connections over both workers (without it one worker takes nearly all)
log_format tg_pid 'pid=$pid "$request" $status';
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT reuseport;
    server_name spread.invalid;
    return 404;
}
--- config
access_log logs/access.log tg_pid;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'acme', amr => ['otp'], scope => 'read'});
[
    map { +{request => "GET /r$_", more_headers => main::bearer_of($TOK{a}),
            error_code => 200,
            upstream_headers => "X-Workspace-Id: acme\nX-Auth-MFA: true\nX-Auth-Scopes: read\nX-Subject-Id: user1"} }
    1 .. 16
]
--- upstream_count: 16
--- pids_serving
2 GET /r
--- error_log_count
1 tenant_guard: verifying token signature
15 tenant_guard: token from zone
--- error_log_like eval
'tenant_guard: token from zone, token_id: ' . quotemeta(TG::jti_of($TOK{a}))



=== TEST 2: without tenant_guard_zone every request verifies the signature
--- log_level: debug
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({});
[
    map { +{request => "GET /r$_", more_headers => main::bearer_of($TOK{a}), error_code => 200} }
    1 .. 3
]
--- upstream_count: 3
--- error_log_count
3 tenant_guard: verifying token signature
0 tenant_guard: token from zone



=== TEST 3: a token from the zone is still judged by its workspace's policy
--- log_level: debug
--- policy
{"workspaces": {"acme": {"mfa": {"required": true}, "ipPolicy": {"enabled": true, "ipPolicy": ["10.0.0.0/8"]}},
                "beta": {"mfa": {"required": true}}}}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{acme} = TG::jwt({workspace_id => 'acme', amr => ['otp']});
$TOK{beta} = TG::jwt({workspace_id => 'beta'});
[
    (map { +{request => "GET /acme$_", more_headers => main::bearer_of($TOK{acme}),
             error_code => 403, json_error => 'ip_not_allowed',
             response_headers => '!WWW-Authenticate', no_upstream => 1} } 1 .. 2),
    (map { +{request => "GET /beta$_", more_headers => main::bearer_of($TOK{beta}),
             error_code => 401, json_error => 'insufficient_user_authentication',
             response_headers_like => 'WWW-Authenticate: error="insufficient_user_authentication", .*acr_values="mfa"$',
             no_upstream => 1} } 1 .. 2),
]
--- no_upstream
--- error_log_count
2 tenant_guard: verifying token signature
2 tenant_guard: token from zone
2 tenant_guard: ip not allowed
2 tenant_guard: mfa required
--- error_log_like eval
[TG::Policy::log_refusal('ip not allowed', $TOK{acme}),
 TG::Policy::log_refusal('mfa required', $TOK{beta})]



=== TEST 4: a token from the zone is still held to binds and scopes (claims come from the zone)
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location ~ ^/provider/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind claim=provider_id $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /admin {
    tenant_guard on;
    tenant_guard_require_scope admin;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'ws1', scope => 'read', provider_id => 'p1'});
my $h = main::bearer_of($TOK{a});
[
    {request => 'GET /ws/ws1/items', more_headers => $h, error_code => 200,
     upstream_headers => 'X-Workspace-Id: ws1'},
    {request => 'GET /ws/ws2/items', more_headers => $h, error_code => 403,
     json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /provider/p1/x', more_headers => $h, error_code => 200},
    {request => 'GET /provider/p2/x', more_headers => $h, error_code => 403,
     json_error => 'claim_mismatch', no_upstream => 1},
    {request => 'GET /admin', more_headers => $h, error_code => 403,
     json_error => 'insufficient_scope',
     response_headers => 'WWW-Authenticate: Bearer realm="tenant_guard", error="insufficient_scope", scope="admin"',
     no_upstream => 1},
    {request => 'GET /ws/ws1/again', more_headers => $h, error_code => 200,
     upstream_headers => 'X-Workspace-Id: ws1'},
]
--- upstream_count: 3
--- error_log_count
1 tenant_guard: verifying token signature
5 tenant_guard: token from zone
1 tenant_guard: workspace mismatch
1 tenant_guard: claim mismatch
1 tenant_guard: insufficient scope



=== TEST 5: the cached token's header and payload with another signature are verified and refused
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{good} = TG::jwt({workspace_id => 'acme'});
my ($h, $p, $s) = split /\./, $TOK{good};
my $sig = TG::sig_bytes($TOK{good});
substr($sig, 10, 1) = chr(ord(substr($sig, 10, 1)) ^ 1);
$TOK{flipped} = "$h.$p." . TG::b64url($sig);
$TOK{other} = "$h.$p." . TG::b64url(TG::sign('RS256', 'rsa2', "$h.$p"));
$TOK{short} = "$h.$p." . substr($s, 0, -4);
[
    {request => 'GET /good', more_headers => main::bearer_of($TOK{good}), error_code => 200},
    (map { +{request => "GET /$_", more_headers => main::bearer_of($TOK{$_}),
             error_code => 401, json_error => 'invalid_token',
             response_headers_like => 'WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token", error_description="[^"]+"$',
             no_upstream => 1} } qw(flipped other short)),
    {request => 'GET /good-again', more_headers => main::bearer_of($TOK{good}), error_code => 200},
]
--- upstream_count: 2
--- error_log_count
4 tenant_guard: verifying token signature
1 tenant_guard: token from zone
3 tenant_guard: invalid token
--- error_log_like eval
[map { TG::log_invalid_hash($TOK{$_}) } qw(flipped other short)]



=== TEST 6: a verdict cached under one location's keys, issuer, audience or MFA values is not reused by another
--- log_level: debug
--- policy
{"default": {"mfa": {"required": true}}}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
tenant_guard_mfa_amr fido;
location /a {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /rsa2-only {
    tenant_guard on;
    tenant_guard_keys $TEST_NGINX_KEYS/rsa2.pem;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /issuer {
    tenant_guard on;
    tenant_guard_issuer https://login.example.com/;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /audience {
    tenant_guard on;
    tenant_guard_audience connectors;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /default-amr {
    tenant_guard on;
    tenant_guard_mfa_amr mfa otp hwk swk;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /tenant-claim {
    tenant_guard on;
    tenant_guard_claim workspace tenant;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'ws1', tenant => 'tn1', amr => ['fido']});
my $h = main::bearer_of($TOK{a});
[
    {request => 'GET /a', more_headers => $h, error_code => 200,
     upstream_headers => "X-Workspace-Id: ws1\nX-Auth-MFA: true"},
    {request => 'GET /a/again', more_headers => $h, error_code => 200},
    {request => 'GET /rsa2-only', more_headers => $h, error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /issuer', more_headers => $h, error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /audience', more_headers => $h, error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /default-amr', more_headers => $h, error_code => 401,
     json_error => 'insufficient_user_authentication', no_upstream => 1},
    {request => 'GET /tenant-claim', more_headers => $h, error_code => 200,
     upstream_headers => 'X-Workspace-Id: tn1'},
]
--- upstream_count: 3
--- error_log_count
6 tenant_guard: verifying token signature
1 tenant_guard: token from zone
3 tenant_guard: invalid token
1 tenant_guard: mfa required



=== TEST 7: a verdict cached under a lenient leeway is not reused where the leeway is strict (nbf, iat)
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location /lenient {
    tenant_guard on;
    tenant_guard_leeway 300s;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /strict {
    tenant_guard on;
    tenant_guard_leeway 0s;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{nbf} = TG::jwt({nbf => time + 120});
$TOK{iat} = TG::jwt({iat => time + 120});
$TOK{exp} = TG::jwt({exp => time - 120});
$TOK{fresh} = TG::jwt({nbf => time + 120});
[
    # control: never cached, refused where the leeway is strict
    {request => 'GET /strict/fresh', more_headers => main::bearer_of($TOK{fresh}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    (map { +{request => "GET /lenient/$_", more_headers => main::bearer_of($TOK{$_}),
             error_code => 200} } qw(nbf iat exp)),
    (map { +{request => "GET /strict/$_", more_headers => main::bearer_of($TOK{$_}),
             error_code => 401, json_error => 'invalid_token',
             response_headers_like => 'WWW-Authenticate: error="invalid_token"',
             no_upstream => 1} } qw(nbf iat exp)),
]
--- upstream_count: 3
--- error_log_count
4 tenant_guard: invalid token



=== TEST 8: a token is kept in the zone only until its exp
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
$TOK{a} = TG::jwt({exp => time + 2});
[
    {request => 'GET /1', more_headers => main::bearer_of($TOK{a}), error_code => 200},
    {request => 'GET /2', more_headers => main::bearer_of($TOK{a}), error_code => 200,
     wait => 3.2},
    {request => 'GET /3', more_headers => main::bearer_of($TOK{a}), error_code => 401,
     json_error => 'invalid_token',
     response_headers_like => 'WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token", error_description="[^"]+"$',
     no_upstream => 1},
]
--- upstream_count: 2
--- error_log_like eval
TG::log_invalid($TOK{a})
--- error_log_count
1 tenant_guard: invalid token



=== TEST 9: a full 32k zone: 300 tokens (valid, expired, wrong workspace, MFA refused), some used twice, all judged correctly
--- workers: 2
--- policy
{"workspaces": {"mfa-ws": {"mfa": {"required": true}}}}
--- http_config
tenant_guard_zone zone=tg:32k;
tenant_guard_policy_file $TEST_NGINX_POLICY;
# a second server on the test port with "reuseport": the kernel spreads new
# connections over both workers (without it one worker takes nearly all)
log_format tg_pid 'pid=$pid "$request" $status';
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT reuseport;
    server_name spread.invalid;
    return 404;
}
--- config
access_log logs/access.log tg_pid;
location ~ ^/ws/([^/]+)/ {
    tenant_guard on;
    tenant_guard_bind workspace $1;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
# kinds by i % 6: 0-2 valid, 3 expired, 4 valid on another workspace's path,
# 5 valid in a workspace that requires MFA; the second round takes the first
# 30 (evicted by then) and the last 30 (likely still cached) again, kind 2
# now on another workspace's path
my $pad = 'p' x 300;
my @toks;
for my $i (0 .. 299) {
    my $kind = $i % 6;
    my $ws = $kind == 5 ? 'mfa-ws' : "ws-$i";
    push @toks, [$i, $kind, $ws,
                 TG::jwt({workspace_id => $ws, pad => $pad,
                          ($kind == 3 ? (exp => time - 100) : ())})];
}
my @reqs;
%CNT = ();
for my $t (@toks, @toks[0 .. 29, 270 .. 299]) {
    my ($i, $kind, $ws, $tok) = @$t;
    my $h = main::bearer_of($tok);
    my $wrong = $kind == 4 || ($kind == 2 && $CNT{"seen$i"}++);
    my $path = $wrong ? "/ws/ws-x$i/items" : "/ws/$ws/items";
    my %r = (request => "GET $path", more_headers => $h);
    if ($kind == 3) {
        %r = (%r, error_code => 401, json_error => 'invalid_token', no_upstream => 1,
              response_headers_like => 'WWW-Authenticate: error="invalid_token"');
        $CNT{invalid}++;
    } elsif ($wrong) {
        %r = (%r, error_code => 403, json_error => 'workspace_mismatch', no_upstream => 1);
        $CNT{mismatch}++;
    } elsif ($kind == 5) {
        %r = (%r, error_code => 401, json_error => 'insufficient_user_authentication',
              no_upstream => 1);
        $CNT{mfa}++;
    } else {
        %r = (%r, error_code => 200, upstream_headers => "X-Workspace-Id: $ws",
              upstream_count => 1);
        $CNT{ok}++;
    }
    push @reqs, \%r;
}
\@reqs
--- upstream_count eval
$CNT{ok}
--- pids_serving
2 GET /ws/
--- error_log_count eval
"$CNT{invalid} tenant_guard: invalid token\n"
. "$CNT{mismatch} tenant_guard: workspace mismatch\n"
. "$CNT{mfa} tenant_guard: mfa required\n"



=== TEST 10: least recently used goes first: a token used all along stays in a full zone, an old one is evicted
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:32k;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
# 64 cold tokens, 8 between two uses of the hot one: far more than the zone
# holds, so the hot token stays only if eviction takes the least recently
# used entry (not the oldest one)
$TOK{hot} = TG::jwt({workspace_id => 'hot'});
@FLOOD = map { TG::jwt({workspace_id => "cold-$_"}) } 1 .. 64;
my @reqs = ({request => 'GET /hot', more_headers => main::bearer_of($TOK{hot}),
             error_code => 200, upstream_headers => 'X-Workspace-Id: hot'});
for my $r (0 .. 7) {
    for my $k (0 .. 7) {
        my $n = $r * 8 + $k;
        push @reqs, {request => "GET /cold/$n", more_headers => main::bearer_of($FLOOD[$n]),
                     error_code => 200, upstream_headers => 'X-Workspace-Id: cold-' . ($n + 1)};
    }
    push @reqs, {request => "GET /hot/$r", more_headers => main::bearer_of($TOK{hot}),
                 error_code => 200, upstream_headers => 'X-Workspace-Id: hot'};
}
push @reqs, {request => 'GET /cold/0/again', more_headers => main::bearer_of($FLOOD[0]),
             error_code => 200, upstream_headers => 'X-Workspace-Id: cold-1'};
\@reqs
--- upstream_count: 74
--- error_log_count eval
"8 tenant_guard: token from zone, token_id: " . TG::jti_of($TOK{hot}) . "\n"
. "8 tenant_guard: token from zone\n"
. "66 tenant_guard: verifying token signature\n"



=== TEST 11: idle sign-out with two workers: each use refreshes; after the idle gap every request is refused
--- workers: 2
--- policy
{"default": {"passwordPolicy": {"maxIdleTime": 2}}}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
# a second server on the test port with "reuseport": the kernel spreads new
# connections over both workers (without it one worker takes nearly all)
log_format tg_pid 'pid=$pid "$request" $status';
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT reuseport;
    server_name spread.invalid;
    return 404;
}
--- config
access_log logs/access.log tg_pid;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'acme'});
$TOK{b} = TG::jwt({workspace_id => 'acme'});
my $idle = {error_code => 401, json_error => 'session_idle',
            response_headers_like => 'WWW-Authenticate: ' . TG::Policy::challenge('session_idle'),
            no_upstream => 1};
[
    {request => 'GET /b/0', more_headers => main::bearer_of($TOK{b}), error_code => 200},
    # a used every second (0 to 4 s): older than maxIdleTime since its iat,
    # kept alive by use, whichever worker serves it
    (map { +{request => "GET /a/$_", more_headers => main::bearer_of($TOK{a}),
             error_code => 200, upstream_headers => 'X-Workspace-Id: acme', wait => 1} } 0 .. 3),
    # b, unused for about 4 s, is idle although a was used meanwhile
    {request => 'GET /b/1', more_headers => main::bearer_of($TOK{b}), %$idle},
    {request => 'GET /a/4', more_headers => main::bearer_of($TOK{a}), error_code => 200,
     wait => 3.2},
    # a, unused for 3.2 s: refused on every new connection, on both workers;
    # the refusals do not refresh it
    (map { +{request => "GET /a/idle/$_", more_headers => main::bearer_of($TOK{a}), %$idle} } 1 .. 16),
]
--- upstream_count: 6
--- pids_serving
2 GET /a/idle/
--- error_log_count
17 tenant_guard: session idle
--- error_log_like eval
[TG::Policy::log_refusal('session idle', $TOK{a}), TG::Policy::log_refusal('session idle', $TOK{b})]



=== TEST 12: idle: a token the host has never seen counts from its iat
--- workers: 2
--- policy
{"workspaces": {"free": {}}, "default": {"passwordPolicy": {"maxIdleTime": 2}}}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{old} = TG::jwt({iat => time - 4});
$TOK{edge} = TG::jwt({iat => time - 1});
$TOK{new} = TG::jwt({});
$TOK{free} = TG::jwt({workspace_id => 'free', iat => time - 3600});
[
    {request => 'GET /edge', more_headers => main::bearer_of($TOK{edge}), error_code => 200},
    {request => 'GET /old', more_headers => main::bearer_of($TOK{old}), error_code => 401,
     json_error => 'session_idle',
     response_headers_like => 'WWW-Authenticate: ' . TG::Policy::challenge('session_idle'),
     no_upstream => 1},
    {request => 'GET /old/again', more_headers => main::bearer_of($TOK{old}), error_code => 401,
     json_error => 'session_idle', no_upstream => 1},
    {request => 'GET /new', more_headers => main::bearer_of($TOK{new}), error_code => 200},
    {request => 'GET /free', more_headers => main::bearer_of($TOK{free}), error_code => 200,
     upstream_headers => 'X-Workspace-Id: free'},
]
--- upstream_count: 3
--- error_log_count
2 tenant_guard: session idle
--- error_log_like eval
TG::Policy::log_refusal('session idle', $TOK{old})



=== TEST 13: idle is checked last: a token refused for scope or bind is not refused as idle, and not refreshed
--- policy
{"default": {"passwordPolicy": {"maxIdleTime": 2}}}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location /admin {
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
$TOK{old} = TG::jwt({iat => time - 10, scope => 'read'});
[
    {request => 'GET /admin', more_headers => main::bearer_of($TOK{old}), error_code => 403,
     json_error => 'insufficient_scope', no_upstream => 1},
    {request => 'GET /ws/other/x', more_headers => main::bearer_of($TOK{old}), error_code => 403,
     json_error => 'workspace_mismatch', no_upstream => 1},
    {request => 'GET /ws/ws1/x', more_headers => main::bearer_of($TOK{old}), error_code => 401,
     json_error => 'session_idle', no_upstream => 1},
]
--- no_upstream
--- error_log_count
1 tenant_guard: insufficient scope
1 tenant_guard: workspace mismatch
1 tenant_guard: session idle



=== TEST 14: an idle token stays refused after a full zone has evicted its entry
--- policy
{"workspaces": {"flood": {}}, "default": {"passwordPolicy": {"maxIdleTime": 2}}}
--- http_config
tenant_guard_zone zone=tg:32k;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{a} = TG::jwt({workspace_id => 'acme'});
@FLOOD = map { TG::jwt({workspace_id => 'flood', pad => 'p' x 300}) } 1 .. 60;
[
    {request => 'GET /a', more_headers => main::bearer_of($TOK{a}), error_code => 200},
    {request => 'GET /a/2', more_headers => main::bearer_of($TOK{a}), error_code => 200,
     wait => 3.2},
    (map { +{request => "GET /flood/$_", more_headers => main::bearer_of($FLOOD[$_]),
             error_code => 200, upstream_headers => 'X-Workspace-Id: flood'} } 0 .. $#FLOOD),
    {request => 'GET /a/idle', more_headers => main::bearer_of($TOK{a}), error_code => 401,
     json_error => 'session_idle',
     response_headers_like => 'WWW-Authenticate: ' . TG::Policy::challenge('session_idle'),
     no_upstream => 1},
]
--- upstream_count: 62
--- error_log_like eval
TG::Policy::log_refusal('session idle', $TOK{a})
--- error_log_count
1 tenant_guard: session idle



=== TEST 40: no two configurations share a fingerprint: issuer "a|b" is not issuer "a" with audience "b"
A token verified where the issuer is "a|b" (no audience asked) is not a
zone hit where the issuer must be "a" and the audience "b": it is verified
there, and refused.
--- http_config
tenant_guard_zone zone=tg:1m;
--- config
location /one/ {
    tenant_guard on;
    tenant_guard_issuer "a|b";
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /two/ {
    tenant_guard on;
    tenant_guard_issuer a;
    tenant_guard_audience b;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my $t = TG::bearer({iss => 'a|b', aud => undef});
[
    {request => 'GET /one/x', more_headers => $t, error_code => 200},
    {request => 'GET /one/y', more_headers => $t, error_code => 200},
    {request => 'GET /two/x', more_headers => $t, error_code => 401,
     json_error => 'invalid_token', no_upstream => 1},
]
--- upstream_count: 2
