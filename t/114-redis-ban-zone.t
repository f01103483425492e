# Redis mode, the zone and Redis together (issue 10, point 8):
#
#   - a flood of failed logins from 400 IPv6 /64s fills a 32k zone with
#     bans; the oldest bans are evicted from the zone (and that is logged),
#     yet the first banned /64 is still refused: a ban missing from the
#     zone is read from Redis;
#   - a warm accepted request makes no Redis round trip for the address
#     check ("no ban" is remembered for a few seconds), and a ban written
#     to Redis without a tg:events message is found once that lapses.
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

my $n = TG::Redis::Nginx->new(
    name => 'flood',
    policy => {default => {ban => {
        blockingForClientEnabled => JSON::PP::false,
        permanentBanThreshold => 1, permanentBanCollectingTime => 600,
        permanentBanDuration => 600}}},
    http_config => "tenant_guard_zone zone=tg:32k;\n"
                   . "tenant_guard_redis " . $r->addr . ";\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
)->start;
ok($r->wait_links(clients => 1, subscribers => 1), 'linked to Redis');

sub login {
    my ($ip, $id) = @_;
    return $n->get('/auth/login', "X-Login: $id", "X-Real-IP: $ip");
}

# ---- the flood: every /64 banned at its first failure
my $first = '2001:db8:0:1::1';
is(login($first, 'u0')->{status}, 401, 'the first /64 fails once');

for my $i (2 .. 400) {
    login(sprintf('2001:db8:0:%x::1', $i), "u$i");
}

ok(defined TG::Redis::poll(
       sub { @{ $r->cmd('KEYS', 'tg:ban:*') || [] } >= 400 }, 5),
   '400 address bans are in Redis');

ok($n->wait_log(qr/is full of bans and failure counters: the oldest \w+ was evicted/, 5),
   'the zone evicted state, and said so');

# the first /64's key (the address masked to 64 bits, in hex)
my $first_key = 'tg:ban:{ip:20010db8000000010000000000000000}';
ok($r->cmd('EXISTS', $first_key), "the first /64's ban is in Redis");

$r->monitor;
$r->monitor_lines;
my $res = login('2001:db8:0:1::beef', 'someone');
my @asked = grep { /"GET" "\Q$first_key\E"/ } $r->monitor_lines(0.1);
$r->monitor_stop;
is(scalar @asked, 1, 'the zone had lost the ban: it was asked of Redis');
TG::Redis::refused($res, 429, 'banned',
                   'the first /64, evicted from the zone, is still banned '
                   . '(read from Redis)');
is($res->{json}{error_description}, 'the client address is banned',
   '... as an address');

# ---- a warm request: no round trip; a ban that Redis has and the zone
# does not is found once "no ban" lapses
my $tok = TG::bearer({workspace_id => 'ws1'});
my $ip = '192.0.2.10';
is($n->get('/api/items', $tok, "X-Real-IP: $ip")->{status}, 200,
   'a new address: accepted (Redis asked)');

$r->monitor;
$r->monitor_lines;
is($n->get('/api/items', $tok, "X-Real-IP: $ip")->{status}, 200,
   'the same address again: accepted');
my @gets = grep { /"GET" "tg:ban:/ } $r->monitor_lines(0.1);
is(scalar @gets, 0, 'a warm accepted request asks Redis for no ban')
    or diag(join "\n", @gets);
$r->monitor_stop;

# banned in Redis, with no message on tg:events
$r->cmd('SET', 'tg:ban:{ip:c000020a}', time + 300, 'EX', 300);

my $t = TG::Redis::poll(sub {
    ($n->get('/api/items', $tok, "X-Real-IP: $ip")->{status} // 0) == 429;
}, 8, 0.25);
ok(defined $t, 'a ban only Redis knows is found when "no ban" lapses');
ok(defined $t && $t <= 6.5, sprintf('... within the 5 s it is remembered '
                                    . '(%.2fs)', $t // -1));

is(join("\n", $n->bad_log_lines), '', 'no alert in the error log');

$n->stop;
$r->stop;

done_testing();
