# Failed-login bans across two hosts sharing one Redis: failures counted
# together ban at exactly the threshold, the ban reaches the other host
# through tg:events, and a reset on one host lifts it on both.
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use JSON::PP;
use Test::More;

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

my $r = TG::Redis->start;

my $policy = {
    default => {
        ban => {
            blockingForClientEnabled => JSON::PP::true,
            firstBanThreshold => 4, firstBanCollectingTime => 60,
            firstBanDuration => 30,
        },
    },
    workspaces => {},
};

sub host {
    my ($name) = @_;
    return TG::Redis::Nginx->new(
        name => $name,
        workers => 2,
        policy => $policy,
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis " . $r->addr . ";\n"
                       . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
        config => <<'C',
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=ws1;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=$http_x_login workspace=ws1;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/iam/reset;
}
location = /iam/reset {
    add_header X-Tenant-Guard-Reset $http_x_confirm always;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
C
    )->start;
}

my %H = (A => host('a'), B => host('b'));
ok($r->wait_links(clients => 4, subscribers => 2),
   'both hosts linked to Redis and subscribed to tg:events');

sub login { $H{$_[0]}->get('/auth/login', "X-Login: $_[1]") }

sub banned {
    my ($res) = @_;
    my $j = eval { decode_json($res->{body} // '') } || {};
    return ($res->{status} // 0) == 429 && ($j->{error} // '') eq 'banned';
}

# four failures, alternating hosts: each reaches the upstream
my @order = qw(A B A B);
for my $i (0 .. $#order) {
    my $res = login($order[$i], 'Carol@Example.com');
    is($res->{status}, 401,
       "failure no. " . ($i + 1) . " on host $order[$i] reaches the upstream");
}

# the fourth failure banned the identifier, on both hosts
for my $h (qw(A B)) {
    my $took = TG::Redis::poll(sub { banned(login($h, 'carol@example.com')) },
                               1.0);
    ok(defined $took, "host $h refuses carol (any case) with 429 banned "
                      . "within a second");
}

my $res = login('B', 'carol@example.com');
my ($retry) = TG::HTTP::header_values($res, 'Retry-After');
ok(defined $retry && $retry > 25 && $retry <= 30,
   'Retry-After is the seconds left of the 30 s ban')
    or diag("Retry-After: " . ($retry // 'none'));

my @keys = sort @{ $r->cmd('KEYS', 'tg:ban:*') || [] };
is(scalar @keys, 2, 'two ban keys in Redis: in ws1 and in no workspace');
like($keys[$_] // '', qr/^tg:ban:\{id:[0-9a-f]{64}\}$/,
     'the identifier is stored hashed, in a hash-tagged key') for 0, 1;
unlike(join(' ', @{ $r->cmd('KEYS', '*') || [] }), qr/carol/i,
       'no key names the identifier in clear');

# another identifier still passes
is(login('A', 'dave@example.com')->{status}, 401,
   'another identifier still reaches the upstream');

# a reset on B lifts the ban on both hosts
is($H{B}->get('/auth/reset', "X-Login: carol\@example.com")->{status}, 200,
   'an unconfirmed reset on host B is not refused');
ok(banned(login('A', 'carol@example.com')),
   'a reset the upstream does not confirm lifts nothing');
is($H{B}->get('/auth/reset', "X-Confirm: CAROL\@example.com")->{status},
   200, 'the confirmed reset on host B is not refused and succeeds');

for my $h (qw(A B)) {
    my $took = TG::Redis::poll(
        sub { (login($h, 'carol@example.com')->{status} // 0) == 401 }, 1.0);
    ok(defined $took, "host $h lets carol reach the upstream again within "
                      . "a second of the reset");
}

is(scalar @{ $r->cmd('KEYS', 'tg:ban:*') || [] }, 0,
   'the reset deleted the ban key');

# a token judged after waiting for Redis (an unknown opaque token) still
# counts toward the address's permanent level
my $C = TG::Redis::Nginx->new(
    name => 'c',
    policy => {default => {ban => {permanentBanThreshold => 3,
                                   permanentBanCollectingTime => 60,
                                   permanentBanDuration => 30}}},
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_redis " . $r->addr . ";\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n"
                   . "log_format tg '\$tenant_guard_result "
                   . "\$tenant_guard_token_id';\n",
    config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
access_log logs/tg.log tg;
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
)->start;
ok($r->wait_links(clients => 5, subscribers => 3), 'host C linked');

for my $n (1 .. 3) {
    TG::Redis::refused($C->get('/x', "Authorization: Bearer unknown-$n"),
                       401, 'invalid_token', "unknown opaque token no. $n");
}

# the count comes back from Redis without the request waiting for it
my $ip;
TG::Redis::poll(sub {
    $ip = $C->get('/x', 'Authorization: Bearer unknown-4');
    ($ip->{status} // 0) == 429;
}, 1.0);
TG::Redis::refused($ip, 429, 'banned',
                   'the third unknown token banned the address');

my $log = TG::slurp($C->prefix . '/logs/tg.log');
like($log, qr/^invalid_token [0-9a-f]{16}$/m,
     '$tenant_guard_result and $tenant_guard_token_id are set after a wait');
$C->stop;

for my $h (qw(A B)) {
    unlike($H{$h}->error_log, qr/\[(alert|crit|emerg)\]|AddressSanitizer/,
           "host $h: no alert in the error log");
}

$_->stop for values %H;
$r->stop;

done_testing();
