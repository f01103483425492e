# Redis mode when Redis fails: killed under load, restarted (back within a
# second, no reload), a black hole (accepts, never answers: from the start,
# and a real Redis stopped with SIGSTOP so that a command times out), a
# garbage server, an events link that cannot subscribe, a client that goes
# away while its request waits for Redis, a reload meanwhile, a password
# fixed while nginx runs, the reconnect backoff, a large policy kept in the
# zone.
# tenant_guard_redis_failure closed: 503 temporarily_unavailable for what
# needs Redis; open: JWTs judged by the zone and the policy file; opaque
# tokens always need Redis.  Link state changes are logged once, not per
# request; no worker crashes ([alert]) and no request hangs.
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm): several steps per
# nginx, Redis changed between requests.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

my $TIMEOUT_MS = 300;

# /closed/ and /open/ (tenant_guard_redis_failure), opaque tokens on in both
sub server_config {
    return <<'C';
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
tenant_guard_opaque_tokens on;
location /closed/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /open/ {
    tenant_guard on;
    tenant_guard_redis_failure open;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
}

sub nginx_for {
    my ($addr, %o) = @_;
    my $extra = delete $o{redis_args} // "timeout=${TIMEOUT_MS}ms";
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis $addr $extra;\n"
                       . ($o{policy} ? "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n" : ''),
        config => server_config(),
        %o,
    );
    return $n->start;
}

sub bearer { TG::bearer(@_) }
sub auth   { "Authorization: Bearer $_[0]" }

sub no_alerts {
    my ($n, $name) = @_;
    my @bad = $n->bad_log_lines;
    ok(!@bad, "$name: no [alert]/[crit]/[emerg] (no worker crashed)")
        or diag(join "\n", @bad[0 .. ($#bad < 10 ? $#bad : 10)]);
}

sub log_count {
    my ($n, $needle) = @_;
    return $n->count_log($needle);
}

# the requests [path, header] sent at once, each from its own process:
# [status, elapsed, error code, transport error]
sub parallel {
    my ($n, @reqs) = @_;
    my $dir = "$TG::ROOT/par-" . int(rand 1e9);
    mkdir $dir;
    my @kids;
    for my $i (0 .. $#reqs) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $res = $n->get($reqs[$i][0], $reqs[$i][1], {timeout => 3});
            open my $fh, '>', "$dir/$i" or POSIX::_exit(1);
            printf $fh "%s %.3f %s %s\n", $res->{status} // 'none', $res->{elapsed},
                   $res->{json}{error} // '-', $res->{error} ? 'ERR' : 'ok';
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    waitpid $_, 0 for @kids;
    return map { [split ' ', TG::slurp("$dir/$_")] } 0 .. $#reqs;
}

# sleep until just after the next whole second (nginx's clock counts them)
sub align_to_second {
    my $now = time;
    sleep(POSIX::ceil($now) - $now + 0.02);
}

sub show_log_on_failure {
    my ($n) = @_;
    diag("---- error.log (tail):\n" . $n->tail(40))
        unless Test::More->builder->is_passing;
}

# ------------------------------------------------------------------------

subtest 'Redis killed under load, then restarted: 200/503 only, no hang, no crash; back within 1s without a reload' => sub {
    my $r = TG::Redis->start;
    $r->set_policy('acme', general => {tokenLifetimeInSeconds => 0});
    my $n = nginx_for($r->addr, workers => 2);
    ok($r->wait_links(clients => 2), 'two workers linked, one subscriber');

    # every request carries a token nginx has never seen: each one asks Redis
    my $per = 15;
    my @kids;
    my $out = "$TG::ROOT/load";
    mkdir $out;
    my @tokens = map { [map { TG::jwt({workspace_id => 'acme'}) } 1 .. $per] } 1 .. 4;
    my $t0 = time;
    for my $k (0 .. 3) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open my $fh, '>', "$out/$k" or POSIX::_exit(1);
            for my $i (0 .. $per - 1) {
                my $path = ($k % 2) ? '/open/x' : '/closed/x';
                my $res = $n->get($path, auth($tokens[$k][$i]), {timeout => 3});
                my $j = $res->{json};
                printf $fh "%.3f %s %s %.3f %s %s\n", time - $t0, $path,
                       $res->{status} // 'none', $res->{elapsed},
                       $j->{error} // '-', $res->{error} ? 'ERR' : 'ok';
                sleep 0.03;
            }
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    sleep 0.2;
    my $killed = time - $t0;
    $r->kill;
    waitpid $_, 0 for @kids;

    my @rows = map { [split ' '] } map { split /\n/, TG::slurp("$out/$_") } 0 .. 3;
    is(scalar @rows, 4 * $per, '60 requests answered (none lost)');
    my @bad = grep { $_->[2] !~ /^(200|503)$/ || $_->[5] ne 'ok' } @rows;
    ok(!@bad, 'every response is 200 or 503') or diag(join "\n", map { "@$_" } @bad);
    my @slow = grep { $_->[3] > 2 } @rows;
    ok(!@slow, 'no request took more than 2s') or diag(join "\n", map { "@$_" } @slow);
    my @open_bad = grep { $_->[1] eq '/open/x' && $_->[2] ne '200' } @rows;
    ok(!@open_bad, 'failure open: every valid JWT passed, before and after the kill')
        or diag(join "\n", map { "@$_" } @open_bad);
    my @closed_503 = grep { $_->[1] eq '/closed/x' && $_->[2] eq '503' } @rows;
    ok(!grep({ $_->[4] ne 'temporarily_unavailable' } @closed_503),
       'failure closed: every 503 is temporarily_unavailable');
    # row: end time, path, status, elapsed, error code, transport
    my @closed_before = grep { $_->[1] eq '/closed/x' && $_->[0] < $killed } @rows;
    ok(@closed_before && !grep({ $_->[2] ne '200' } @closed_before),
       'failure closed: requests answered before the kill passed')
        or diag(join "\n", map { "@$_" } @closed_before);
    my @closed_after = grep { $_->[1] eq '/closed/x' && $_->[0] - $_->[3] > $killed + 0.05 } @rows;
    ok(@closed_after && !grep({ $_->[2] ne '503' } @closed_after),
       'failure closed: requests sent after the kill got 503 (cold tokens need Redis)')
        or diag(join "\n", map { "@$_" } @closed_after);

    ok($n->wait_log(qr/redis events link is down/, 2),
       'log: tenant_guard: redis events link is down');
    like($n->error_log, qr/\[error\] .*tenant_guard: redis link is down: \S/,
         'log: [error] tenant_guard: redis link is down: <why>');
    like($n->error_log, qr/\[info\] .*tenant_guard: store unavailable, token_id: /,
         'log: tenant_guard: store unavailable');
    my $downs = log_count($n, 'tenant_guard: redis link is down');
    ok($downs >= 1 && $downs <= 2,
       "command link down logged once per worker, not per request or retry ($downs)");
    is(log_count($n, 'tenant_guard: redis events link is down'), 1,
       'events link down logged once');

    # ---- restart: back within a second, no reload
    my $master = $n->pid;
    my $mark = $n->mark;
    sleep 1.3;     # failed re-dials: the backoff is now at its 500ms ceiling
    is(log_count($n, 'tenant_guard: redis link is down'), $downs,
       'no new "link is down" line for the failed re-dials');
    $r->restart;
    my $t1 = time;
    my $streak = 0;
    my $first_ok;
    my $took = TG::Redis::poll(sub {
        my $res = $n->get('/closed/x', bearer({workspace_id => 'acme'}));
        if (($res->{status} // 0) == 200) {
            $first_ok //= time - $t1;
            return ++$streak >= 6;
        }
        ($streak, $first_ok) = (0, undef);
        return 0;
    }, 3, 0.02);
    ok(defined $took, 'after the restart, requests with new tokens pass again');
    ok(defined $first_ok && $first_ok <= 1.0,
       sprintf 'every worker back within 1s of the restart (%.3fs)', $first_ok // -1);
    ok($n->wait_log(qr/\[notice\] .*tenant_guard: redis link is up/, 1, $mark),
       'log: [notice] tenant_guard: redis link is up');
    ok($n->wait_log(qr/\[notice\] .*tenant_guard: redis events link is up/, 1, $mark),
       'log: [notice] tenant_guard: redis events link is up');
    my $since = $n->log_since($mark);
    unlike($since, qr/reconfiguring|signal 1 \(SIGHUP\)|start worker process/,
           'no reload and no new worker: the same workers re-linked');
    is($n->pid, $master, 'the same master');
    no_alerts($n, 'kill + restart');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'Redis killed: a warm token older than 1s is re-read (closed: 503, open: 200); a Redis policy in the zone still applies with open; opaque: 503' => sub {
    my $r = TG::Redis->start;
    $r->set_policy('strict', mfa => {required => \1});
    my $op = TG::Redis::opaque_token();
    $r->put_token($op, {sub => 'm1', organization_id => 'o1', workspace_id => 'w1',
                        integration_id => 'i1', scope => 'read', jti => 'op-warm'});
    my $n = nginx_for($r->addr);
    ok($r->wait_links(clients => 1), 'linked');
    my $tok = TG::jwt({workspace_id => 'w1'});
    my $strict = TG::jwt({workspace_id => 'strict'});
    TG::Redis::passed($n->get('/closed/a', auth($tok)), 'warm: JWT');
    TG::Redis::passed($n->get('/closed/a', auth($op)), 'warm: opaque token', 'X-Workspace-Id' => 'w1');
    TG::Redis::refused($n->get('/open/a', auth($strict)), 401,
                       'insufficient_user_authentication', 'warm: Redis policy of "strict"');
    $r->kill;
    ok($n->wait_log(qr/redis events link is down/, 2), 'events link down');
    sleep 2.05;     # the warm entries are now older than 1s (whole seconds)
    my $mark = $n->mark;
    my $res = $n->get('/closed/a', auth($tok));
    TG::Redis::refused($res, 503, 'temporarily_unavailable', 'closed, stale token entry');
    ok($res->{elapsed} < $TIMEOUT_MS / 1000 + 0.5, sprintf 'answered at once (%.3fs)', $res->{elapsed});
    TG::Redis::passed($n->get('/open/a', auth($tok)), 'open, stale token entry',
                      'X-Workspace-Id' => 'w1');
    TG::Redis::refused($n->get('/closed/a', auth($op)), 503, 'temporarily_unavailable',
                       'closed, opaque token');
    TG::Redis::refused($n->get('/open/a', auth($op)), 503, 'temporarily_unavailable',
                       'open, opaque token (only Redis knows it)');
    TG::Redis::refused($n->get('/open/a', bearer({workspace_id => 'strict'})), 401,
                       'insufficient_user_authentication',
                       'open, a new token of "strict": the policy the zone has still applies');
    TG::Redis::passed($n->get('/open/a', bearer({workspace_id => 'strict', amr => ['otp']})),
                      'open, the same with MFA');
    TG::Redis::refused($n->get('/closed/a', bearer({})), 503, 'temporarily_unavailable',
                       'closed, cold token');
    like($n->log_since($mark), qr/\[info\] .*tenant_guard: store unavailable, token_id: \Q@{[TG::jti_of($tok)]}\E/,
         'log: store unavailable, with the token id');
    is(log_count($n, 'tenant_guard: redis link is down'), 1, 'link down logged once');
    no_alerts($n, 'stale entries');
    show_log_on_failure($n);
    $n->stop;
};

subtest 'black-hole Redis (accepts, never answers) from the start: 503 (closed) or 200 (open) within timeout+0.5s; re-dialed; logged once' => sub {
    my $f = TG::Redis::Fake->start('blackhole');
    my $n = nginx_for($f->addr, workers => 1);
    sleep 0.1;
    my $limit = $TIMEOUT_MS / 1000 + 0.5;
    for my $i (1 .. 3) {
        my $res = $n->get('/closed/a', bearer({}));
        TG::Redis::refused($res, 503, 'temporarily_unavailable', "closed no. $i");
        ok($res->{elapsed} <= $limit, sprintf "closed no. $i answered within %.1fs (%.3fs)", $limit, $res->{elapsed});
        $res = $n->get('/open/a', bearer({workspace_id => 'ws1'}));
        TG::Redis::passed($res, "open no. $i", 'X-Workspace-Id' => 'ws1');
        ok($res->{elapsed} <= $limit, sprintf "open no. $i answered within %.1fs (%.3fs)", $limit, $res->{elapsed});
        $res = $n->get('/open/a', auth(TG::Redis::opaque_token()));
        TG::Redis::refused($res, 503, 'temporarily_unavailable', "open, opaque no. $i");
        ok($res->{elapsed} <= $limit, sprintf "opaque no. $i answered within %.1fs (%.3fs)", $limit, $res->{elapsed});
        sleep 0.25;
    }
    ok(TG::Redis::poll(sub { $f->accepted >= 4 }, 2),
       'the links were dropped and re-dialed (' . $f->accepted . ' connections)');
    like($n->error_log, qr/\[error\] .*tenant_guard: redis link is down: timed out/,
         'log: redis link is down: timed out');
    is(log_count($n, 'tenant_guard: redis link is down'), 1, 'logged once, not per re-dial');
    is(log_count($n, 'tenant_guard: redis events link is down'), 1, 'events link: logged once');
    like($n->error_log, qr/tenant_guard: store unavailable/, 'log: store unavailable');
    unlike($n->error_log, qr/redis link is up/, 'never up');
    no_alerts($n, 'black hole');
    show_log_on_failure($n);
    $n->stop;
    $f->stop;
};

subtest 'Redis stops answering while linked (SIGSTOP): commands time out (503 closed / 200 open), waiting requests all answered, the link is dropped; SIGCONT: back within 1s' => sub {
    my $r = TG::Redis->start;
    my $n = nginx_for($r->addr);
    # the events link too: the SCAN of the bans it sends when it comes up
    # must not be the command that times out first
    ok($r->wait_links(clients => 1, subscribers => 1), 'linked');
    TG::Redis::passed($n->get('/closed/a', bearer({})), 'before');
    my $limit = $TIMEOUT_MS / 1000 + 0.5;

    # six requests wait on the same link when the first command times out
    $r->pause;
    my @paths = map { $_ % 2 ? '/open/p' : '/closed/p' } 1 .. 6;
    my @rows = parallel($n, map { [$_, bearer({})] } @paths);
    my @open = @rows[grep { $paths[$_] eq '/open/p' } 0 .. 5];
    my @closed = @rows[grep { $paths[$_] eq '/closed/p' } 0 .. 5];
    ok(!grep({ $_->[0] ne '200' } @open), 'concurrent, open: all 200')
        or diag(join "\n", map { "@$_" } @open);
    ok(!grep({ $_->[0] ne '503' || $_->[2] ne 'temporarily_unavailable' } @closed),
       'concurrent, closed: all 503 temporarily_unavailable')
        or diag(join "\n", map { "@$_" } @closed);
    ok(!grep({ $_->[1] > $limit || $_->[3] ne 'ok' } @rows),
       "concurrent: all six answered within ${limit}s")
        or diag(join "\n", map { "@$_" } @rows);
    like($n->error_log, qr/\[info\] .*tenant_guard: redis did not answer in time/,
         'log: redis did not answer in time');
    like($n->error_log, qr/\[error\] .*tenant_guard: redis link is down: a command timed out/,
         'log: redis link is down: a command timed out');
    is(log_count($n, 'tenant_guard: redis link is down'), 1, 'link down logged once');

    # once more, one at a time
    $r->resume;
    ok($r->wait_links(clients => 1), 're-linked after SIGCONT');
    ok(TG::Redis::poll(sub { ($n->get('/closed/a', bearer({}))->{status} // 0) == 200 }, 2),
       'passing again');
    $r->pause;
    my $res = $n->get('/open/a', bearer({workspace_id => 'ws-open'}));
    TG::Redis::passed($res, 'open, the revocation check timed out', 'X-Workspace-Id' => 'ws-open');
    ok($res->{elapsed} >= $TIMEOUT_MS / 1000 - 0.05 && $res->{elapsed} <= $limit,
       sprintf 'open: answered after the command timeout, within %.1fs (%.3fs)', $limit, $res->{elapsed});
    for my $i (1 .. 3) {
        $res = $n->get('/closed/a', bearer({}));
        TG::Redis::refused($res, 503, 'temporarily_unavailable', "closed, one at a time, no. $i");
        ok($res->{elapsed} <= $limit, sprintf "closed no. $i answered within %.1fs (%.3fs)", $limit, $res->{elapsed});
        sleep 0.15;
    }

    my $mark = $n->mark;
    $r->resume;
    my $t = TG::Redis::poll(sub {
        ($n->get('/closed/a', bearer({}))->{status} // 0) == 200
    }, 3, 0.02);
    ok(defined $t && $t <= 1.0, sprintf 'after SIGCONT, back within 1s (%.3fs)', $t // -1);
    ok($n->wait_log(qr/tenant_guard: redis link is up/, 1, $mark), 'log: redis link is up');
    no_alerts($n, 'SIGSTOP');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'reconnect backoff: 50ms doubling to a 500ms ceiling, per link (a server that closes every connection)' => sub {
    my $f = TG::Redis::Fake->start('close');
    my $n = nginx_for($f->addr);
    sleep 3;
    for my $cmd (qw(PING SUBSCRIBE)) {
        my @t = $f->first_times($cmd);
        my @gap = map { $t[$_] - $t[$_ - 1] } 1 .. $#t;
        my $desc = join ' ', map { sprintf '%.0f', $_ * 1000 } @gap;
        ok(@t >= 6 && @t <= 14, "$cmd link: 6 to 14 dials in 3s, no storm (" . scalar(@t) . ')');
        ok(@gap && $gap[0] < 0.15, "$cmd link: first re-dial after about 50ms (ms: $desc)");
        ok(!grep({ $_ > 0.6 } @gap), "$cmd link: never more than 500ms between dials (ms: $desc)");
        ok(@gap >= 5 && $gap[-1] >= 0.4, "$cmd link: the gap grows to about 500ms (ms: $desc)");
    }
    like($n->error_log, qr/\[error\] .*tenant_guard: redis link is down: /, 'log: redis link is down');
    is(log_count($n, 'tenant_guard: redis link is down'), 1, 'logged once for all the re-dials');
    is(log_count($n, 'tenant_guard: redis events link is down'), 1, 'events link: logged once too');
    TG::Redis::refused($n->get('/closed/a', bearer({})), 503, 'temporarily_unavailable', 'closed');
    no_alerts($n, 'backoff');
    show_log_on_failure($n);
    $n->stop;
    $f->stop;
};

subtest 'a large Redis ipPolicy (300 ranges): served from the zone once warm, and still enforced (open) while Redis does not answer' => sub {
    my $r = TG::Redis->start;
    my @ranges = map { sprintf '10.%d.%d.0/24', int($_ / 256), $_ % 256 } 1 .. 300;
    $r->set_policy('big', ipPolicy => {enabled => \1, ipPolicy => \@ranges});
    my $n = nginx_for($r->addr);
    ok($r->wait_links(clients => 1), 'linked');
    my $tok = TG::jwt({workspace_id => 'big'});
    TG::Redis::refused($n->get('/open/a', auth($tok)), 403, 'ip_not_allowed', 'warm');
    $r->monitor;
    TG::Redis::refused($n->get('/open/a', auth($tok)), 403, 'ip_not_allowed', 'warm, again');
    my @cmds = $r->monitor_lines(0.1);
    is(scalar @cmds, 0, 'MONITOR: no Redis command once warm')
        or diag(join "\n", @cmds);
    $r->monitor_stop;
    $r->pause;
    my $res = $n->get('/open/a', auth($tok));
    TG::Redis::refused($res, 403, 'ip_not_allowed',
                       'Redis not answering, failure open: the policy the zone has still applies');
    $r->resume;
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'a client that goes away while its request waits for Redis: no crash, the worker goes on' => sub {
    my $r = TG::Redis->start;
    my $n = nginx_for($r->addr, redis_args => 'timeout=1s');
    ok($r->wait_links(clients => 1), 'linked');
    $r->pause;
    for my $i (1 .. 3) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $n->port)
            or die "connect: $!";
        print $s TG::HTTP::build('GET /closed/gone', bearer({}));
        sleep 0.05;
        close $s;
    }
    sleep 0.1;
    $r->resume;
    sleep 0.1;
    my $res;
    my $t = TG::Redis::poll(sub {
        $res = $n->get('/closed/b', bearer({workspace_id => 'after'}));
        ($res->{status} // 0) == 200;
    }, 3, 0.05);
    ok(defined $t, 'a new request passes') or diag($res->{status} // $res->{error});
    TG::Redis::passed($res, 'the request after', 'X-Workspace-Id' => 'after');
    no_alerts($n, 'client gone');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'reload (HUP) while a request waits for a stopped Redis: it is answered, the new workers link, no alert' => sub {
    my $r = TG::Redis->start;
    my $n = nginx_for($r->addr, workers => 2, redis_args => 'timeout=1s');
    ok($r->wait_links(clients => 2), 'linked');
    $r->pause;
    my $dir = "$TG::ROOT/reload";
    mkdir $dir;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $res = $n->get('/closed/w', bearer({workspace_id => 'waiting'}), {timeout => 5});
        open my $fh, '>', "$dir/res" or POSIX::_exit(1);
        printf $fh "%s %.3f\n", $res->{status} // 'none', $res->{elapsed};
        close $fh;
        POSIX::_exit(0);
    }
    sleep 0.1;
    kill 'HUP', $n->pid;
    sleep 0.2;
    $r->resume;
    waitpid $pid, 0;
    my ($status, $elapsed) = split ' ', TG::slurp("$dir/res");
    is($status, 200, 'the waiting request is answered once Redis answers: 200');
    ok(defined $elapsed && $elapsed < 1.5, sprintf 'within the timeout (%.3fs)', $elapsed // -1);
    ok($n->wait_log(qr/gracefully shutting down/, 3), 'the old workers shut down');
    my $t = TG::Redis::poll(sub {
        ($n->get('/closed/n', bearer({workspace_id => 'new'}))->{status} // 0) == 200
    }, 3, 0.05);
    ok(defined $t, 'the new workers pass requests with new tokens');
    ok($r->wait_links(clients => 2, subscribers => 1), 'the new workers linked, one subscriber');
    no_alerts($n, 'reload');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'garbage Redis (answers junk): no crash; 503 (closed), 200 (open), opaque 503; logged once' => sub {
    my $f = TG::Redis::Fake->start('garbage');
    my $n = nginx_for($f->addr, workers => 2);
    sleep 0.1;
    for my $i (1 .. 4) {
        TG::Redis::refused($n->get('/closed/a', bearer({})), 503, 'temporarily_unavailable', "closed no. $i");
        TG::Redis::passed($n->get('/open/a', bearer({workspace_id => 'g'})), "open no. $i", 'X-Workspace-Id' => 'g');
        TG::Redis::refused($n->get('/open/a', auth(TG::Redis::opaque_token())), 503,
                           'temporarily_unavailable', "open, opaque no. $i");
        sleep 0.1;
    }
    ok($f->reads >= 2, 'nginx did talk to it (' . $f->reads . ' reads)');
    like($n->error_log, qr/\[error\] .*tenant_guard: redis link is down: .*[Pp]rotocol error/,
         'log: redis link is down: Protocol error ...');
    my $downs = log_count($n, 'tenant_guard: redis link is down');
    ok($downs >= 1 && $downs <= 2, "logged once per worker ($downs)");
    is(log_count($n, 'tenant_guard: redis events link is down'), 1, 'events link: logged once');
    no_alerts($n, 'garbage');
    show_log_on_failure($n);
    $n->stop;
    $f->stop;
};

subtest 'events link down, command link up: entries older than 1s are re-read; its return flushes the zone' => sub {
    my $r = TG::Redis->start;
    # the default user may not subscribe: SUBSCRIBE fails, commands work
    $r->cmd('ACL', 'SETUSER', 'default', 'resetchannels');
    my $n = nginx_for($r->addr);
    ok($r->wait_links(clients => 1, subscribers => 0), 'command link up');
    ok($n->wait_log(qr/\[error\] .*tenant_guard: redis events link is down: NOPERM/, 2),
       'log: redis events link is down: NOPERM ... (the Redis error)');
    my $tok = TG::jwt({workspace_id => 'w', jti => 'jti-events-down'});
    align_to_second();
    TG::Redis::passed($n->get('/closed/a', auth($tok)), 'warm');
    $r->revoke('jti-events-down');          # not published: nobody listens
    TG::Redis::passed($n->get('/closed/a', auth($tok)),
                      'at once (well under 1s): still served from the zone');
    my $t = TG::Redis::poll(sub {
        ($n->get('/closed/a', auth($tok))->{status} // 0) == 401
    }, 3, 0.05);
    ok(defined $t && $t <= 2.1, sprintf 'the revocation is seen once the entry is older than 1s (%.2fs)', $t // -1);
    TG::Redis::refused($n->get('/closed/a', auth($tok)), 401, 'invalid_token',
                       'revoked', 'the token has been revoked');
    is(log_count($n, 'tenant_guard: redis events link is down'), 1,
       'events link down logged once, not per re-dial');
    unlike($n->error_log, qr/tenant_guard: redis link is down/, 'command link never down');

    # its return: the zone is flushed, a warm entry is read again at once
    my $tok2 = TG::jwt({workspace_id => 'w', jti => 'jti-events-back'});
    TG::Redis::passed($n->get('/closed/a', auth($tok2)), 'warm another token');
    $r->revoke('jti-events-back');
    my $mark = $n->mark;
    $r->cmd('ACL', 'SETUSER', 'default', 'allchannels');
    ok($r->wait_links(clients => 1, subscribers => 1), 'subscribed again');
    ok($n->wait_log(qr/\[notice\] .*tenant_guard: redis events link is up/, 1, $mark),
       'log: redis events link is up');
    TG::Redis::refused($n->get('/closed/a', auth($tok2)), 401, 'invalid_token',
                       'after the events link came back, the flushed zone asks Redis',
                       'the token has been revoked');
    no_alerts($n, 'events link');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'contract: while the events link is down, an entry 1.3s old is re-read from Redis' => sub {
    my $r = TG::Redis->start;
    $r->cmd('ACL', 'SETUSER', 'default', 'resetchannels');
    my $n = nginx_for($r->addr);
    ok($r->wait_links(clients => 1, subscribers => 0), 'command link up');
    ok($n->wait_log(qr/redis events link is down/, 2), 'events link down');
    my $tok = TG::jwt({workspace_id => 'w', jti => 'jti-13'});
    # warm just after a second starts, so that whole-second clocks show it
    align_to_second();
    my $t0 = time;
    TG::Redis::passed($n->get('/closed/a', auth($tok)), 'warm');
    $r->revoke('jti-13');
    sleep($t0 + 1.3 - time);
    my $res = $n->get('/closed/a', auth($tok));
    note(sprintf 'warmed at %.3f, asked at %.3f', $t0, time);
    TG::Redis::refused($res, 401, 'invalid_token',
                       'the entry is older than 1s: Redis is asked, the revocation seen',
                       'the token has been revoked');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'a revocation made while Redis was away is seen after its return (the zone is flushed)' => sub {
    my $r = TG::Redis->start;
    my $n = nginx_for($r->addr);
    ok($r->wait_links(clients => 1), 'linked');
    my $tok = TG::jwt({jti => 'jti-while-away'});
    TG::Redis::passed($n->get('/closed/a', auth($tok)), 'warm');
    my $t0 = time;
    $r->kill;
    $r->restart;        # empty, on the same port
    $r->revoke('jti-while-away');
    ok($r->wait_links(clients => 1, subscribers => 1), 're-linked');
    my $res = $n->get('/closed/a', auth($tok));
    note(sprintf '%.3fs after the warm request', time - $t0);
    TG::Redis::refused($res, 401, 'invalid_token', 'the warm token after the return',
                       'the token has been revoked');
    no_alerts($n, 'revoked while away');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'wrong password fixed on the Redis side while nginx runs: links come up, logged once each way' => sub {
    my $r = TG::Redis->start(password => 'first-Pa55');
    my $n = nginx_for($r->addr, redis_args => "password=second-Pa55 timeout=${TIMEOUT_MS}ms");
    ok($n->wait_log(qr/tenant_guard: redis link is down: WRONGPASS/, 2), 'log: WRONGPASS');
    TG::Redis::refused($n->get('/closed/a', bearer({})), 503, 'temporarily_unavailable', 'closed');
    sleep 0.5;
    is(log_count($n, 'tenant_guard: redis link is down'), 1, 'logged once despite re-dials');
    my $mark = $n->mark;
    $r->cmd('CONFIG', 'SET', 'requirepass', 'second-Pa55');
    $r->{password} = 'second-Pa55';
    $r->_drop;
    my $t = TG::Redis::poll(sub {
        ($n->get('/closed/a', bearer({}))->{status} // 0) == 200
    }, 3, 0.02);
    ok(defined $t && $t <= 1.0, sprintf 'requests pass within 1s (%.3fs)', $t // -1);
    ok($n->wait_log(qr/\[notice\] .*tenant_guard: redis link is up/, 1, $mark), 'log: redis link is up');
    ok($n->wait_log(qr/\[notice\] .*tenant_guard: redis events link is up/, 1, $mark), 'log: redis events link is up');
    unlike($n->error_log, qr/first-Pa55|second-Pa55/, 'no password in the log');
    no_alerts($n, 'password fixed');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

done_testing();
