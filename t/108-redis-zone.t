# The zone in Redis mode against a real redis-server: what a revocation
# reaches and what an invalid token costs.
#
# Revocation: the jti index names every cached token of a jti, however full
# the zone (a hot token's index is not evicted while the token is cached),
# and however many encodings a token has (an ECDSA signature's high-S twin,
# re-issued tokens of one jti); tg:events' tg:revoked:<jti> drops them all.
#
# Refusals remembered: an opaque token Redis does not know is asked of
# Redis once per few seconds, not once per request, and a token written and
# published after a miss is accepted at once (its tg:events message drops
# the remembered refusal).

use lib 't/lib';
use TG;
use TG::Redis;
use Test::More;
use Math::BigInt;

our (%TOK, @FLOOD, $R);

BEGIN {
    unless (TG::Redis::available()) {
        Test::More::plan(skip_all => "no redis-server ($TG::Redis::SERVER)");
    }
}

$R = TG::Redis->start;

sub bearer_of { return "Authorization: Bearer $_[0]" }

# the same ES256 token with S replaced by n - S: it verifies as well
sub high_s_twin {
    my ($tok) = @_;
    my $n = Math::BigInt->from_hex(
        'FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
    my $sig = TG::sig_bytes($tok);
    die "not an ES256 signature\n" unless length $sig == 64;
    my $s = Math::BigInt->from_hex(unpack 'H*', substr($sig, 32));
    my $hex = substr(('0' x 64) . $n->copy->bsub($s)->as_hex =~ s/^0x//r, -64);
    return TG::with_sig($tok, substr($sig, 0, 32) . pack('H*', $hex));
}

# revoke a jti as the control plane does: SET, then PUBLISH
sub revoke_now {
    my ($jti) = @_;
    $R->revoke($jti);
    $R->publish("tg:revoked:$jti");
}

# how many GETs of that token's key Redis ran since ->monitor
sub gets_of {
    my ($tok) = @_;
    my $key = quotemeta $R->key_of_token($tok);
    return scalar grep { /"GET" "$key"/i } $R->monitor_lines(0.2);
}

TG::Redis::fixture($R);
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: a full zone: a hot token stays cached while 96 others churn through; its revocation still reaches it within a second
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:32k;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
# far more tokens than the zone holds, each with a jti index entry of its
# own; the hot token is used after every 8 of them, its index never
$TOK{hot} = TG::jwt({workspace_id => 'acme', jti => 'jti-hot-106-1'});
@FLOOD = map { TG::jwt({workspace_id => 'acme', pad => 'p' x 300}) } 1 .. 96;
my $hot = main::bearer_of($TOK{hot});
my @reqs = ({request => 'GET /hot', more_headers => $hot, error_code => 200});
for my $r (0 .. 11) {
    for my $k (0 .. 7) {
        my $n = $r * 8 + $k;
        push @reqs, {request => "GET /cold/$n", more_headers => main::bearer_of($FLOOD[$n]),
                     error_code => 200};
    }
    push @reqs, {request => "GET /hot/$r", more_headers => $hot, error_code => 200};
}
push @reqs,
    {request => 'GET /cold/last', more_headers => main::bearer_of($FLOOD[-1]),
     error_code => 200, before => sub { main::revoke_now('jti-hot-106-1') },
     wait => 1},
    (map { +{request => "GET /hot/revoked/$_", more_headers => $hot,
             error_code => 401, json_error => 'invalid_token',
             json_error_description => 'the token has been revoked',
             no_upstream => 1} } 1 .. 2);
\@reqs
--- error_log_count
12 tenant_guard: token from zone, token_id: jti-hot-106-1
2 tenant_guard: invalid token: the token has been revoked, token_id: jti-hot-106-1



=== TEST 2: an ES256 token and its high-S twin both verify and are both cached; revoking the jti refuses both
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{low} = TG::jwt({workspace_id => 'acme', jti => 'jti-ec-106-2'}, alg => 'ES256');
$TOK{high} = main::high_s_twin($TOK{low});
die "the twin is the same token\n" if $TOK{high} eq $TOK{low};
# verified: low and high once each, the other token, and low and high again
# once revoked (then refused by tg:revoked)
[
    (map { +{request => "GET /$_/1", more_headers => main::bearer_of($TOK{$_}),
             error_code => 200, upstream_headers => 'X-Workspace-Id: acme'} } qw(low high)),
    (map { +{request => "GET /$_/2", more_headers => main::bearer_of($TOK{$_}),
             error_code => 200} } qw(low high)),
    {request => 'GET /other', more_headers => TG::bearer({workspace_id => 'other'}),
     error_code => 200, before => sub { main::revoke_now('jti-ec-106-2') }, wait => 1},
    (map { +{request => "GET /$_/revoked", more_headers => main::bearer_of($TOK{$_}),
             error_code => 401, json_error => 'invalid_token',
             json_error_description => 'the token has been revoked',
             no_upstream => 1} } qw(low high)),
]
--- upstream_count: 5
--- error_log_count
5 tenant_guard: verifying token signature
>1 tenant_guard: token from zone, token_id: jti-ec-106-2
2 tenant_guard: invalid token: the token has been revoked, token_id: jti-ec-106-2



=== TEST 3: six tokens issued under one jti, all cached in turn (more than the index names): revoking the jti refuses every one
--- log_level: debug
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
@FLOOD = map { TG::jwt({workspace_id => 'acme', jti => 'jti-six-106-3', n => $_}) } 1 .. 6;
[
    (map { +{request => "GET /t$_", more_headers => main::bearer_of($FLOOD[$_]),
             error_code => 200} } 0 .. 5),
    (map { +{request => "GET /t$_/again", more_headers => main::bearer_of($FLOOD[$_]),
             error_code => 200} } 0 .. 5),
    {request => 'GET /other', more_headers => TG::bearer({workspace_id => 'other'}),
     error_code => 200, before => sub { main::revoke_now('jti-six-106-3') }, wait => 1},
    (map { +{request => "GET /t$_/revoked", more_headers => main::bearer_of($FLOOD[$_]),
             error_code => 401, json_error => 'invalid_token',
             json_error_description => 'the token has been revoked',
             no_upstream => 1} } 0 .. 5),
]
--- upstream_count: 13
--- error_log_count
6 tenant_guard: invalid token: the token has been revoked, token_id: jti-six-106-3



=== TEST 4: one unknown opaque token, 30 times: 401 "unknown token" each time, asked of Redis once
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{op} = TG::Redis::opaque_token();
$TOK{other} = TG::Redis::opaque_token();
[
    (map { +{request => "GET /r$_", more_headers => main::bearer_of($TOK{op}),
             error_code => 401, json_error => 'invalid_token',
             json_error_description => 'unknown token', no_upstream => 1,
             ($_ == 0 ? (before => sub { $main::R->monitor }) : ())} } 0 .. 29),
    # another token, once the 30 are answered: the count so far
    {request => 'GET /other', more_headers => main::bearer_of($TOK{other}),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1,
     before => sub {
         my $gets = main::gets_of($TOK{op});
         $main::R->monitor_stop;
         TG::check($gets >= 1 && $gets <= 2,
                   "TEST 4 - $gets GET of the token's key for 30 requests");
     }},
]
--- no_upstream
--- error_log_count
31 tenant_guard: invalid token: unknown token
--- error_log_like eval
'tenant_guard: invalid token: unknown token, token_id: ' . quotemeta(TG::token_hash_id($TOK{op}))



=== TEST 5: an opaque token written and published right after its miss is accepted at once
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_redis $TEST_NGINX_REDIS;
--- config
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
$TOK{op} = TG::Redis::opaque_token();
my $h = main::bearer_of($TOK{op});
[
    (map { +{request => "GET /miss/$_", more_headers => $h, error_code => 401,
             json_error => 'invalid_token', json_error_description => 'unknown token',
             no_upstream => 1} } 1 .. 2),
    {request => 'GET /written', more_headers => $h, error_code => 200,
     upstream_headers => "X-Workspace-Id: ws-5\nX-Subject-Id: member-5",
     before => sub {
         $main::R->put_token($TOK{op}, {sub => 'member-5', organization_id => 'org-5',
             workspace_id => 'ws-5', integration_id => 'int-5', scope => 'read',
             jti => 'op-jti-106-5'});
         $main::R->publish($main::R->key_of_token($TOK{op}));
         Time::HiRes::sleep(0.05);
     }},
]
--- upstream_count: 1
--- error_log_count
2 tenant_guard: invalid token: unknown token
