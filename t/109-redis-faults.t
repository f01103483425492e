# Redis faults under light load on two hosts (both through TG::Proxy, two
# workers each, timeout=200ms): Redis killed and restarted empty, frozen
# (SIGSTOP), its clients killed (CLIENT KILL), and the path cut without a
# close (the proxy freezes).  After each fault, the ban whose threshold was
# crossed during it exists on both hosts; a revocation published while a
# host's events link is silently dead is refused there within 2 x timeout
# + 1 s; a worker's memory stays bounded while Redis hangs; no request
# waits past the timeout; a host started while bans live in Redis enforces
# them.  The figures measured are printed (note) for the README.
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm) and TG::Proxy.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::Proxy;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

my $TIMEOUT = 0.2;                      # timeout=200ms, the default
my $SLACK = 0.15;                       # scheduling, on a loaded machine

my $r = TG::Redis->start;
my $p = TG::Proxy->start($r->addr);

my $policy = {
    default => {
        ban => {
            blockingForClientEnabled => JSON::PP::true,
            firstBanThreshold => 3, firstBanCollectingTime => 60,
            firstBanDuration => 60,
        },
        # idle sign-out: every token's use is written behind (tg:seen)
        passwordPolicy => {maxIdleTime => 900},
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
                       . "tenant_guard_redis " . $p->addr . ";\n"
                       . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
        config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=ws1;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/check {
    tenant_guard_login identifier=$http_x_login workspace=ws1;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
    )->start;
}

my %H = (A => host('a'), B => host('b'));
ok($r->wait_links(clients => 4, subscribers => 2),
   'both hosts linked to Redis through the proxy');

my $slowest = 0;

sub timed {
    my ($res) = @_;
    $slowest = $res->{elapsed} if $res->{elapsed} > $slowest;
    return $res;
}

sub login { timed($H{$_[0]}->get('/auth/login', "X-Login: $_[1]")) }

# a login the upstream accepts: refused when banned, and never counted, so
# that looking does not add the failure that a lost count would miss
sub check { timed($H{$_[0]}->get('/auth/check', "X-Login: $_[1]")) }

sub banned {
    my ($res) = @_;
    return ($res->{status} // 0) == 429
        && ($res->{json}{error} // '') eq 'banned';
}

sub ban_key { "tg:ban:{id:" . TG::Redis::sha256_hex("n1ws1\0" . lc $_[0]) . "}" }

# both hosts refuse $who within $secs; the seconds it took (the slower)
sub banned_everywhere {
    my ($who, $secs) = @_;
    my $worst = 0;
    for my $h (qw(A B)) {
        my $t = TG::Redis::poll(sub { banned(check($h, $who)) }, $secs, 0.05);
        return undef unless defined $t;
        $worst = $t if $t > $worst;
    }
    return $worst;
}

sub scenario {
    my ($name, $fault, $heal) = @_;
    my $who = "user-$name\@example.com";
    # two failures counted in Redis, one on each host
    is(login('A', $who)->{status}, 401, "$name: failure 1 (A)");
    is(login('B', $who)->{status}, 401, "$name: failure 2 (B)");
    $fault->($who);
    # the third, during the fault, crosses the threshold
    my $res = login('A', $who);
    ok(($res->{status} // 0) == 401 || banned($res),
       "$name: failure 3 (A) during the fault: answered ($res->{status})");
    ok($res->{elapsed} <= $TIMEOUT + $SLACK,
       sprintf "$name: it waited no longer than the timeout (%.3fs)",
       $res->{elapsed});
    my $t0 = time;
    $heal->();
    my $took = banned_everywhere($who, 5);
    ok(defined $took, sprintf "$name: after the fault both hosts refuse the "
                              . "identifier (within %.2fs of the heal)",
                              time - $t0);
    note(sprintf "FIGURE %s: ban on both hosts %.2fs after the heal",
         $name, time - $t0);
    ok(TG::Redis::poll(sub { ($r->try('EXISTS', ban_key($who)))[1] }, 2),
       "$name: the ban is in Redis");
    return $who;
}

# ---- Redis killed (the connections reset), restarted empty
scenario('kill', sub {
    # the two earlier counts die with it: three failures during the fault
    $r->kill;
    is(login('A', $_[0])->{status}, 401, 'kill: a failure while Redis is down');
    is(login('A', $_[0])->{status}, 401, 'kill: another');
}, sub { $r->restart; $r->wait_links(clients => 4, subscribers => 2) });

# ---- SIGSTOP: connections open, nothing answers (the reply never arrives)
scenario('sigstop', sub { $r->pause }, sub { sleep 0.3; $r->resume });

# ---- CLIENT KILL of every link
scenario('client-kill', sub {
    $r->cmd('CLIENT', 'KILL', 'TYPE', $_, 'SKIPME', 'yes')
        for qw(normal pubsub);
}, sub { });

# ---- the path cut without a close
my $cut = scenario('cut', sub { $p->freeze }, sub { sleep 0.3; $p->thaw });

ok($r->wait_links(clients => 4, subscribers => 2, timeout => 3),
   'the links are back after the faults');

# ---- a revocation while A's events link is silently dead
{
    my $tok = TG::jwt({workspace_id => 'ws1', jti => 'jti-faults-1'});
    my $auth = "Authorization: Bearer $tok";
    is(timed($H{A}->get('/x', $auth))->{status}, 200, 'revocation: warm on A');
    sleep 1.1;                          # cached in an earlier second
    my $t0 = time;
    $p->freeze('sub');
    $r->revoke('jti-faults-1');
    $r->publish('tg:revoked:jti-faults-1');
    my $took = TG::Redis::poll(sub {
        (timed($H{A}->get('/x', $auth))->{status} // 0) == 401
    }, 3, 0.02);
    my $bound = 2 * $TIMEOUT + 1;
    ok(defined $took && time - $t0 <= $bound + $SLACK,
       sprintf 'revocation published while the events link is silently '
               . 'dead: refused on A %.3fs after the cut (bound %.1fs)',
               defined $took ? $took + 0.05 : -1, $bound);
    note(sprintf 'FIGURE revocation: refused %.3fs after the events link '
                 . 'was cut', defined $took ? $took + 0.05 : -1);
    ok($H{A}->wait_log(qr/redis events link is down: no answer to PING/, 1),
       'log: the events link is declared dead by its PING');
    $p->thaw;
    ok($r->wait_links(clients => 4, subscribers => 2, timeout => 3),
       'the events link is rebuilt');
}

# ---- memory while Redis hangs, under light load
{
    sub workers_rss {
        my ($n) = @_;
        my $kb = 0;
        for my $stat (glob '/proc/[0-9]*/stat') {
            open my $fh, '<', $stat or next;
            my $l = <$fh> // '';
            close $fh;
            my ($pid, $ppid) = $l =~ /^(\d+) \(.*\) \S (\d+)/ or next;
            next unless $ppid == $n->pid;
            open $fh, '<', "/proc/$pid/status" or next;
            while (<$fh>) { $kb += $1 if /^VmRSS:\s+(\d+)/ }
            close $fh;
        }
        return $kb;
    }
    my @tok = map { TG::jwt({workspace_id => 'ws1', jti => "jti-mem-$_"}) }
              1 .. 20;
    timed($H{A}->get('/x', "Authorization: Bearer $_")) for @tok;
    my $before = workers_rss($H{A});
    $r->pause;
    my ($n, $t0, %seen) = (0, time);
    while (time - $t0 < 2) {
        login('A', "mem-$n\@example.com");
        my $res = timed($H{A}->get('/x',
                                   "Authorization: Bearer $tok[$n % @tok]"));
        my $when = time - $t0 < 2 * $TIMEOUT ? 'early' : 'late';
        $seen{"$when $res->{status}"}++;
        $n++;
    }
    my $after = workers_rss($H{A});
    $r->resume;
    ok($before > 0, "memory: the workers' VmRSS is read ($before kB)");
    SKIP: {
        # ASan keeps freed memory in quarantine (256 MB): RSS grows anyway
        skip 'VmRSS under AddressSanitizer says nothing of a queue', 1
            if ($ENV{TG_MODULE_PRELOAD} // '') =~ /asan/;
        ok($after - $before < 4096,
           sprintf 'memory: %d requests while Redis hangs for 2s: the '
                   . 'workers grew %d kB (bound 4096)', $n * 2,
                   $after - $before);
    }
    note(sprintf 'FIGURE memory: %d requests in 2s of SIGSTOP, VmRSS '
                 . '%d -> %d kB', $n * 2, $before, $after);
    note('FIGURE tokens while Redis hangs (early: < 2 x timeout, failure '
         . 'closed): ' . join ', ', map { "$_: $seen{$_}" } sort keys %seen);
}

ok($slowest <= $TIMEOUT + $SLACK,
   sprintf 'no request waited past the timeout (slowest %.3fs)', $slowest);
note(sprintf 'FIGURE slowest request during the faults: %.3fs', $slowest);

# ---- a host started while bans live in Redis enforces them
ok($r->wait_links(clients => 4, subscribers => 2, timeout => 3),
   'links back after the hang');
$H{B}->stop;
my $t0 = time;
$H{B} = host('b2');
my $took = TG::Redis::poll(sub { banned(check('B', $cut)) }, 2, 0.02);
ok(defined $took, sprintf 'a host started anew refuses the ban set before '
                          . 'it started (%.3fs after its start)', time - $t0);
note(sprintf 'FIGURE restart: ban enforced %.3fs after the start',
     time - $t0);
my $other = 'never-failed@example.com';
is(check('B', $other)->{status}, 200,
   'the new host lets an identifier with no ban through');

for my $h (qw(A B)) {
    unlike($H{$h}->error_log, qr/\[(alert|crit|emerg)\]|AddressSanitizer/,
           "host $h: no alert in the error log");
}

$_->stop for values %H;
$p->stop;
$r->stop;

done_testing();
