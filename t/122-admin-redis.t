# The admin API with Redis, two nginx hosts on one Redis: a write through
# host A (revocation by subject, workspace, jti; a policy part; lifting a
# ban) lands in Redis under SPEC's keys, is published on tg:events, and
# takes effect on host B within one second, cached tokens included; a host
# that starts later reads a revocation from Redis on a zone miss; once
# warm, the revocation checks make no Redis round trip; with Redis down a
# write is refused (503) and nothing changes.
#
# Plain Test::More on TG::Redis and TG::Redis::Nginx.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::Admin;
use Test::More;
use Time::HiRes qw(sleep time);

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

my $r = TG::Redis->start;

my $policy = {
    default => {
        ban => {blockingForClientEnabled => JSON::PP::true(),
                firstBanThreshold => 50, firstBanCollectingTime => 300,
                firstBanDuration => 600, secondBanThreshold => 60,
                secondBanCollectingTime => 300, secondBanDuration => 600,
                permanentBanThreshold => 20, permanentBanCollectingTime => 300,
                permanentBanDuration => 600},
    },
};

sub host {
    my ($name) = @_;
    my $n = TG::Redis::Nginx->new(name => $name, policy => $policy,
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n"
                       . "tenant_guard_redis " . $r->addr . ";\n",
        config => <<'C');
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /admin/ {
    tenant_guard_admin token=$TEST_NGINX_PREFIX/admin.tokens;
}
C
    TG::Admin::write_tokens($n);
    return $n->start;
}

my $a = host('a');
my $b = host('b');
ok($r->wait_links(clients => 2, subscribers => 2), 'both hosts are linked');

sub bearer { 'Authorization: Bearer ' . $_[0] }

# seconds until host $n answers $status for token $tok, or undef
sub within {
    my ($n, $tok, $status) = @_;
    return TG::Redis::poll(sub {
        $n->get('/x', bearer($tok))->{status} == $status
    }, 3, 0.05);
}

# ---------------------------------------------------------------- subject

my $u1 = TG::jwt({workspace_id => 'acme', sub => 'u1', iat => time - 5});
my $u2 = TG::jwt({workspace_id => 'acme', sub => 'u2', iat => time - 5});
is($b->get('/x', bearer($u1))->{status}, 200, 'B: u1 passes and is cached');
is($b->get('/x', bearer($u1))->{status}, 200, 'B: u1 again, from the zone');

# warm: the revocation checks are answered by the zone
$r->monitor;
is($b->get('/x', bearer($u1))->{status}, 200, 'B: u1, warm');
my @cmds = $r->monitor_lines(0.1);
is_deeply([grep { /revoked/ } @cmds], [],
          'a warm request asks Redis nothing about revocations')
    or diag(join "\n", @cmds);
$r->monitor_stop;

my $res = TG::Admin::admin($a, 'POST', '/admin/tokens/revoke',
                           '{"workspace":"acme","subject":"u1"}');
is($res->{status}, 200, 'A: revoke the subject');
my $at = $res->{json}{at};
is($r->cmd('GET', 'tg:revoked-sub:acme:u1'), $at,
   'Redis holds tg:revoked-sub:{ws}:{sub} = the cut-off');
cmp_ok($r->cmd('TTL', 'tg:revoked-sub:acme:u1'), '>', 86400,
       'with a TTL');

my $t = within($b, $u1, 401);
ok(defined $t && $t < 1, 'B refuses the cached token within a second')
    or diag("took " . ($t // 'more than 3') . " s");
is($b->get('/x', bearer($u2))->{status}, 200, 'B: another subject passes');
is($b->get('/x', bearer(TG::jwt({workspace_id => 'acme', sub => 'u1',
                                 iat => $at + 1})))->{status}, 200,
   'B: a token issued after the cut-off passes');

# refused tokens count toward the address's ban: each part starts afresh
sub lift {
    TG::Admin::admin($a, 'DELETE', '/admin/bans/ip/127.0.0.1');
    sleep 0.2;
}

# ---------------------------------------------------------------- workspace

is($b->get('/x', bearer($u2))->{status}, 200, 'B: u2 is cached');
$res = TG::Admin::admin($a, 'POST', '/admin/tokens/revoke',
                        '{"workspace":"acme"}');
is($res->{status}, 200, 'A: revoke the workspace');
is($r->cmd('GET', 'tg:revoked-ws:acme'), $res->{json}{at},
   'Redis holds tg:revoked-ws:{ws}');
$t = within($b, $u2, 401);
ok(defined $t && $t < 1, 'B refuses the workspace\'s tokens within a second');

# a host started after the revocation reads it from Redis on a miss
lift();
my $c = host('c');
ok($r->wait_links(clients => 3, subscribers => 3), 'host C is linked');
TG::Redis::refused($c->get('/x', bearer($u2)), 401, 'invalid_token',
                   'C, started later, refuses the revoked workspace\'s token');
is($c->get('/x', bearer(TG::jwt({workspace_id => 'other'})))->{status}, 200,
   'C: another workspace passes (its "none" is remembered)');
$c->stop;

lift();

# ---------------------------------------------------------------- jti

my $j = TG::jwt({workspace_id => 'w2', jti => 'jti-redis-admin'});
is($b->get('/x', bearer($j))->{status}, 200, 'B: the token is cached');
is(TG::Admin::admin($a, 'POST', '/admin/tokens/revoke',
                    '{"jti":"jti-redis-admin"}')->{status}, 200,
   'A: revoke the jti');
ok($r->cmd('EXISTS', 'tg:revoked:jti-redis-admin'), 'Redis holds tg:revoked:{jti}');
$t = within($b, $j, 401);
ok(defined $t && $t < 1, 'B refuses the revoked jti within a second');

lift();

# ---------------------------------------------------------------- policy

my $d = TG::jwt({workspace_id => 'delta'});
is($b->get('/x', bearer($d))->{status}, 200, 'B: delta passes without MFA');
is(TG::Admin::admin($a, 'PUT', '/admin/workspaces/delta/mfa',
                    '{"required":true}')->{status}, 200, 'A: PUT mfa');
is($r->cmd('HGET', 'tg:ws:delta', 'mfa'), '{"required":true}',
   'Redis holds the part in tg:ws:{ws}');
$t = within($b, $d, 401);
ok(defined $t && $t < 1, 'B requires MFA within a second');
is(TG::Admin::admin($b, 'GET', '/admin/workspaces/delta/mfa')->{body},
   '{"required":true}', 'B: GET shows what Redis holds');
is_deeply(TG::Admin::admin($b, 'GET', '/admin/workspaces/none/mfa')->{json},
          {required => JSON::PP::false()},
          'B: GET of a part Redis lacks shows the file\'s');
is(TG::Admin::admin($a, 'PUT', '/admin/workspaces/delta/mfa',
                    '{"required":"yes"}')->{status}, 400,
   'A: an invalid PUT is refused');
is($r->cmd('HGET', 'tg:ws:delta', 'mfa'), '{"required":true}',
   'Redis is unchanged');
is(TG::Admin::admin($a, 'DELETE', '/admin/workspaces/delta/mfa')->{status},
   200, 'A: DELETE mfa');
$t = within($b, $d, 200);
ok(defined $t && $t < 1, 'B lets the token pass again within a second');

lift();

# ---------------------------------------------------------------- bans

for my $i (1 .. 20) {
    $b->get('/x', bearer(TG::jwt({jti => "inv-$i"}, key => 'evil_rsa',
                                 kid => 'rsa1')));
}
my $ok = TG::jwt({workspace_id => 'w3'});
$t = within($b, $ok, 429);
ok(defined $t, 'B: the address is banned');
ok(TG::Redis::poll(sub { $a->get('/x', bearer($ok))->{status} == 429 }, 2),
   'A: the ban reached host A');
my $lines = TG::Admin::admin($a, 'GET', '/admin/workspaces/w3/bans')->{json};
ok(grep({ ($_->{address} // '') eq '127.0.0.1' } @{$lines->{bans}}),
   'A lists the address ban');
is(TG::Admin::admin($a, 'DELETE', '/admin/bans/ip/127.0.0.1')->{status}, 200,
   'A: lift the address ban');
$t = within($b, $ok, 200);
ok(defined $t && $t < 1, 'B lets the address in within a second');

# ---------------------------------------------------------------- the hold

# Right after tg:events names a revocation key, a "none" Redis gives may
# predate the change: it is not remembered until the hold ends (timeout +
# 2 s), so each request asks; after that, the answer is remembered again.
my $h = TG::jwt({workspace_id => 'held', sub => 'h1'});
is($b->get('/x', bearer($h))->{status}, 200, 'B: a token of "held" passes');
$r->publish('tg:revoked-ws:held');
sleep 0.3;
$r->monitor;
$b->get('/x', bearer($h)) for 1 .. 2;
my $asked = grep { /"GET" "tg:revoked-ws:held"/ } $r->monitor_lines(0.1);
is($asked, 2, 'during the hold, each request asks Redis');
$r->monitor_stop;
sleep 2.5;
$b->get('/x', bearer($h));
$r->monitor;
$b->get('/x', bearer($h)) for 1 .. 2;
$asked = grep { /"GET" "tg:revoked-ws:held"/ } $r->monitor_lines(0.1);
is($asked, 0, 'after the hold, the "none" is remembered again');
$r->monitor_stop;

# ---------------------------------------------------------------- status, metrics

$res = TG::Admin::admin($b, 'GET', '/admin/status');
is($res->{json}{mode}, 'redis', '/status: mode redis');
is($res->{json}{redis}{link}, 'up', '/status: the Redis link is up');
$res = TG::Admin::admin($b, 'GET', '/admin/metrics');
like($res->{body}, qr/^tenant_guard_redis_up 1$/m, '/metrics: redis_up 1');
my ($okc) = $res->{body}
    =~ /^tenant_guard_redis_commands_total\{result="ok"\} (\d+)$/m;
cmp_ok($okc // 0, '>', 0, '/metrics: Redis commands counted');
my ($hits) = $res->{body}
    =~ /^tenant_guard_cache_lookups_total\{cache="policy",result="miss"\} (\d+)$/m;
cmp_ok($hits // 0, '>', 0, '/metrics: policy lookups counted');
like($res->{body}, qr/^tenant_guard_invalid_tokens_total\{cause="revoked"\} [1-9]/m,
     '/metrics: revoked tokens counted by cause');

# ---------------------------------------------------------------- Redis down

$r->stop;
ok(TG::Redis::poll(sub {
       TG::Admin::admin($a, 'GET', '/admin/status')->{json}{redis}{link}
       eq 'down' }, 3), '/status: the Redis link is down');
TG::Redis::refused(TG::Admin::admin($a, 'POST', '/admin/tokens/revoke',
                                    '{"workspace":"zeta"}'),
                   503, 'temporarily_unavailable',
                   'a write with Redis down is refused');
$r->restart;
ok($r->wait_links(clients => 2, subscribers => 2), 'the hosts are linked again');
ok(!$r->cmd('EXISTS', 'tg:revoked-ws:zeta'), 'nothing was written');
is($a->get('/x', bearer(TG::jwt({workspace_id => 'zeta'})))->{status}, 200,
   'A did not revoke the workspace either');

for ($a, $b) {
    $_->stop;
    is_deeply([$_->bad_log_lines], [], 'no alert, crit or emerg in the log');
}
$r->stop;

done_testing();
