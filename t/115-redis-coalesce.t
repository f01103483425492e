# Redis mode: concurrent misses of one key coalesce.  Requests that need
# the same answer from Redis while a question for it is on its way (a
# token's tg:revoked:{jti}, a workspace's tg:ws:{ws}, an opaque token's
# tg:token:{sha256}) wait for that one question: Redis sees one command
# per worker, and every request is judged on its own copy of the answer.
# A real redis-server is paused (SIGSTOP) while a burst of first requests
# arrives, then resumed; INFO commandstats counts what it executed.  A
# Redis of the test's own answers late while tg:events names the key: a
# request after the event does not join the older question, in the worker
# that heard the event nor in one that did not (two workers).
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Select;
use IO::Socket::INET;
use POSIX ();

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

sub T { JSON::PP::true }

my $CONFIG = <<'C';
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
tenant_guard_opaque_tokens on;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C

sub nginx_for {
    my ($r, %o) = @_;
    my $timeout = delete $o{timeout} // '3s';
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis " . $r->addr
                       . " timeout=$timeout;\n",
        config => $CONFIG,
        workers => 1,
        %o,
    )->start;
    ok($r->wait_links(clients => $o{workers} // 1),
       'nginx linked to Redis');
    return $n;
}

# calls of each command since the last reset
sub calls {
    my ($r) = @_;
    my %c;
    for (split /\r?\n/, $r->cmd('INFO', 'commandstats')) {
        $c{lc $1} = $2 if /^cmdstat_([^:]+):calls=(\d+)/;
    }
    return \%c;
}

# burst($r, $n, [[header, client timeout], ...], $hold): with Redis
# stopped, each request is sent from a process of its own; Redis is
# resumed after $hold seconds.  Per request: [status, error, upstream's
# X-Workspace-Id, when it was sent, transport error]; and the resume time.
sub burst {
    my ($r, $n, $reqs, $hold) = @_;
    my $dir = "$TG::ROOT/burst-" . int(rand 1e9);
    mkdir $dir;

    # the client address's ban state is read from Redis on a zone miss
    # (issue 10) and remembered: read it first, so that only the commands
    # of the tokens and policies are counted
    $n->get('/items');

    $r->cmd('CONFIG', 'RESETSTAT');
    $r->pause;
    my @kids;
    for my $i (0 .. $#$reqs) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $sent = time;
            my $res = $n->get('/items', $reqs->[$i][0],
                              {timeout => $reqs->[$i][1] // 8});
            my $ws = '-';
            my $j = eval { JSON::PP->new->decode($res->{body} // '') };
            if (ref $j eq 'HASH' && ref $j->{headers} eq 'ARRAY') {
                for my $h (@{$j->{headers}}) {
                    $ws = $h->[1] if lc $h->[0] eq 'x-workspace-id';
                }
            }
            open my $fh, '>', "$dir/$i" or POSIX::_exit(1);
            printf $fh "%s %s %s %.3f %s\n", $res->{status} // 'none',
                   $res->{json}{error} // '-', $ws, $sent,
                   $res->{error} ? 'ERR' : 'ok';
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    sleep $hold;
    my $resumed = time;
    $r->resume;
    waitpid $_, 0 for @kids;
    return ([map { [split ' ', TG::slurp("$dir/$_")] } 0 .. $#$reqs],
            $resumed);
}

sub all_sent_before {
    my ($rows, $t, $name) = @_;
    my @late = grep { $_->[3] > $t - 0.3 } @$rows;
    ok(!@late, "$name: every request was sent while Redis was stopped")
        or diag(scalar(@late) . ' sent late');
}

sub no_alerts {
    my ($n, $name) = @_;
    my @bad = $n->bad_log_lines;
    ok(!@bad, "$name: no [alert]/[crit]/[emerg] (no worker crashed)")
        or diag(join "\n", @bad[0 .. ($#bad < 10 ? $#bad : 10)]);
}

sub tally {
    my %t;
    $t{join ' ', @{$_}[0, 1, 2]}++ for @{$_[0]};
    return join ', ', map { "$t{$_} x $_" } sort keys %t;
}

# ------------------------------------------------------------------------

subtest '32 first requests of one JWT: one EXISTS and one HGETALL, 32 x 200' => sub {
    my $r = TG::Redis->start;
    $r->set_policy('acme', general => {tokenLifetimeInSeconds => 0});
    my $n = nginx_for($r);
    my $tok = TG::bearer({workspace_id => 'acme'});
    my ($rows, $resumed) = burst($r, $n, [map { [$tok] } 1 .. 32], 1.2);
    all_sent_before($rows, $resumed, 'burst');
    is(tally($rows), '32 x 200 - acme', 'every request passed, with its '
       . 'workspace');
    my $c = calls($r);
    is($c->{exists} // 0, 1, 'Redis executed one EXISTS tg:revoked:{jti}');
    is($c->{hgetall} // 0, 1, 'Redis executed one HGETALL tg:ws:acme');
    no_alerts($n, 'burst');
    $n->stop;
    $r->stop;
};

subtest 'a revoked jti: 16 waiters, one EXISTS, 16 x 401 revoked' => sub {
    my $r = TG::Redis->start;
    $r->revoke('jti-coalesced-revoked');
    my $n = nginx_for($r);
    my $tok = TG::bearer({workspace_id => 'acme',
                          jti => 'jti-coalesced-revoked'});
    my ($rows, $resumed) = burst($r, $n, [map { [$tok] } 1 .. 16], 1.0);
    all_sent_before($rows, $resumed, 'revoked');
    is(tally($rows), '16 x 401 invalid_token -', 'every request refused');
    is(calls($r)->{exists} // 0, 1, 'one EXISTS');
    is($n->count_log('the token has been revoked'), 16,
       'each refusal logged as revoked');
    no_alerts($n, 'revoked');
    $n->stop;
    $r->stop;
};

subtest 'a policy that refuses: one HGETALL, each waiter judged on its own copy' => sub {
    my $r = TG::Redis->start;
    $r->set_policy('strict', mfa => {required => T()});
    my $n = nginx_for($r);
    my @reqs = ((map { [TG::bearer({workspace_id => 'strict', amr => ['pwd'],
                                     jti => "jti-pwd-$_"})] } 1 .. 8),
                (map { [TG::bearer({workspace_id => 'strict', amr => ['mfa'],
                                     jti => "jti-mfa-$_"})] } 1 .. 8));
    my ($rows, $resumed) = burst($r, $n, \@reqs, 1.0);
    all_sent_before($rows, $resumed, 'policy');
    is(tally([@$rows[0 .. 7]]), '8 x 401 insufficient_user_authentication -',
       'without MFA: refused');
    is(tally([@$rows[8 .. 15]]), '8 x 200 - strict', 'with MFA: passed');
    my $c = calls($r);
    is($c->{hgetall} // 0, 1, 'one HGETALL tg:ws:strict for 16 tokens');
    is($c->{exists} // 0, 16, 'one EXISTS per jti: different keys are not '
       . 'coalesced');
    no_alerts($n, 'policy');
    $n->stop;
    $r->stop;
};

subtest 'an opaque token: one GET tg:token:{sha256}; an unknown one: one GET, all 401' => sub {
    my $r = TG::Redis->start;
    my $op = TG::Redis::opaque_token();
    my $unknown = TG::Redis::opaque_token();
    $r->put_token($op, {sub => 'member-1', workspace_id => 'opq',
                        organization_id => 'org-1', jti => 'op-jti-1'});
    my $n = nginx_for($r);
    my ($rows, $resumed) = burst($r, $n,
        [(map { ["Authorization: Bearer $op"] } 1 .. 12),
         (map { ["Authorization: Bearer $unknown"] } 1 .. 12)], 1.0);
    all_sent_before($rows, $resumed, 'opaque');
    is(tally([@$rows[0 .. 11]]), '12 x 200 - opq', 'the known token passed');
    is(tally([@$rows[12 .. 23]]), '12 x 401 invalid_token -',
       'the unknown token refused');
    my $g = calls($r)->{get} // 0;
    is($g, 4, "four GETs: one per token, and the known token's "
       . "tg:revoked-ws and tg:revoked-sub (issue 12), each once");
    no_alerts($n, 'opaque');
    $n->stop;
    $r->stop;
};

subtest 'a waiter whose client goes away: the others are answered, no crash' => sub {
    my $r = TG::Redis->start;
    my $n = nginx_for($r);
    my $tok = TG::bearer({workspace_id => 'gone'});
    my ($rows, $resumed) = burst($r, $n,
        [[$tok], [$tok, 0.3], [$tok], [$tok, 0.3], [$tok], [$tok]], 1.0);
    is(tally([@$rows[0, 2, 4, 5]]), '4 x 200 - gone', 'those that waited: 200');
    ok((grep { $_->[4] eq 'ERR' } @$rows[1, 3]) == 2,
       'those that went away got nothing');
    is(calls($r)->{exists} // 0, 1, 'one EXISTS');
    TG::Redis::passed($n->get('/items', $tok), 'the token, again (zone)',
                      'X-Workspace-Id' => 'gone');
    no_alerts($n, 'gone');
    $n->stop;
    $r->stop;
};

subtest 'Redis does not answer in time: every waiter gets 503, each logged' => sub {
    my $r = TG::Redis->start;
    my $n = nginx_for($r, timeout => '300ms');
    my $tok = TG::bearer({workspace_id => 'late'});
    my ($rows) = burst($r, $n, [map { [$tok] } 1 .. 6], 1.0);
    is(tally($rows), '6 x 503 temporarily_unavailable -',
       'fail closed, for all of them');
    is($n->count_log('redis did not answer in time'), 6,
       'one info line per request');
    ok($r->wait_links(clients => 1), 'linked again');
    TG::Redis::passed($n->get('/items', $tok), 'then the token passes',
                      'X-Workspace-Id' => 'late');
    no_alerts($n, 'timeout');
    $n->stop;
    $r->stop;
};

subtest 'two workers: at most one command per worker' => sub {
    my $r = TG::Redis->start;
    $r->set_policy('two', general => {tokenLifetimeInSeconds => 0});
    my $n = nginx_for($r, workers => 2);
    my $tok = TG::bearer({workspace_id => 'two'});
    my ($rows, $resumed) = burst($r, $n, [map { [$tok] } 1 .. 32], 1.2);
    all_sent_before($rows, $resumed, 'two workers');
    is(tally($rows), '32 x 200 - two', 'every request passed');
    my $c = calls($r);
    ok(($c->{exists} // 0) >= 1 && ($c->{exists} // 0) <= 2,
       "EXISTS: one per worker ($c->{exists})");
    ok(($c->{hgetall} // 0) >= 1 && ($c->{hgetall} // 0) <= 2,
       "HGETALL: one per worker ($c->{hgetall})");
    no_alerts($n, 'two workers');
    $n->stop;
    $r->stop;
};

# ------------------------------------------------------------------------
# A Redis of the test's own, for an event that comes while a question is
# on its way: the first EXISTS is answered (":0", not revoked) a second
# late; 0.3 s after it arrives, "tg:events" names tg:revoked:<jti> to the
# subscriber; every later EXISTS is answered ":1" (revoked), in order.
# With all_early, every EXISTS that comes before the event is answered as
# the first (":0", late): a question Redis took before the revocation.
# With policy, the same is done to HGETALL instead of EXISTS: the first
# is answered late with no policy ("*0") and the event names its key; the
# later ones get a policy that requires MFA; EXISTS answers ":0" at once.
# With record, the same is done to GET: the first is answered late with
# that opaque token's record, the later ones with nil (the token deleted).

sub slow_redis {
    my ($log, %o) = @_;
    my $delay = $o{delay} // 1.0;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 16,
                                  ReuseAddr => 1)
        or die "slow_redis: listen: $!\n";
    my $port = $l->sockport;
    my $pid = fork // die "fork: $!";
    if ($pid) {
        close $l;
        TG::adopt($pid);
        return ($pid, $port);
    }
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
    open my $lf, '>>', $log or POSIX::_exit(1);
    $lf->autoflush(1);
    my $sel = IO::Select->new($l);
    my (%buf, %sub, @due, $first, $event, $published);
    while (1) {
        my $now = time;
        # replies and the event that are due, in order
        while (@due && $due[0][0] <= $now) {
            my ($t, $s, $out) = @{shift @due};
            syswrite($s, $out);
        }
        if (defined $event && $event->[0] <= $now) {
            my $key = $event->[1];
            for my $s (values %sub) {
                syswrite($s, "*3\r\n\$7\r\nmessage\r\n\$9\r\ntg:events\r\n\$"
                             . length($key) . "\r\n$key\r\n");
            }
            print $lf "event $key\n";
            undef $event;
            $published = 1;
        }
        for my $s ($sel->can_read(0.01)) {
            if ($s == $l) {
                my $c = $l->accept or next;
                binmode $c;
                $sel->add($c);
                next;
            }
            my $n = sysread($s, my $chunk, 65536);
            if (!$n) {
                $sel->remove($s);
                delete $sub{$s};
                close $s;
                next;
            }
            $buf{$s} .= $chunk;
            for my $cmd (TG::Redis::Fake::_commands(\$buf{$s})) {
                my $name = uc($cmd->[0] // '');
                print $lf "cmd $name\n";
                my $out;
                my $at = (@due && $due[-1][1] == $s) ? $due[-1][0] : time;
                if ($name eq 'SUBSCRIBE') {
                    $sub{$s} = $s;
                    $out = "*3\r\n\$9\r\nsubscribe\r\n\$" . length($cmd->[1])
                           . "\r\n$cmd->[1]\r\n:1\r\n";
                } elsif ($name eq 'PING') {
                    $out = $sub{$s} ? "*2\r\n\$4\r\npong\r\n\$0\r\n\r\n"
                                    : "+PONG\r\n";
                } elsif ($name eq 'SCAN') {
                    $out = "*2\r\n\$1\r\n0\r\n*0\r\n";
                } elsif ($name eq 'GET' && defined $o{record}
                         && ($cmd->[1] // '') !~ /^tg:token:/) {
                    # the address's ban, tg:revoked-ws/-sub: none
                    $out = "\$-1\r\n";
                } elsif ($name eq 'GET' && defined $o{record}) {
                    print $lf "get tg:token\n";
                    if (!$first++) {
                        $at = time + $delay;
                        $out = "\$" . length($o{record}) . "\r\n"
                               . "$o{record}\r\n";
                        $event = [time + 0.3, $cmd->[1]];
                    } else {
                        $out = "\$-1\r\n";
                    }
                } elsif ($name eq 'EXISTS' && ($o{policy} || $o{record})) {
                    $out = ":0\r\n";
                } elsif ($name eq 'HGETALL' && $o{policy}) {
                    if (!$first++) {
                        $at = time + $delay;
                        $out = "*0\r\n";
                        $event = [time + 0.3, $cmd->[1]];
                    } else {
                        $out = "*2\r\n\$3\r\nmfa\r\n\$17\r\n"
                               . "{\"required\":true}\r\n";
                    }
                } elsif ($name eq 'EXISTS') {
                    if (!$first++) {
                        $at = time + $delay;
                        $out = ":0\r\n";
                        $event = [time + 0.3, $cmd->[1]];
                    } elsif ($o{all_early} && !$published) {
                        $at = time + $delay if $at < time + $delay;
                        $out = ":0\r\n";
                    } else {
                        $out = ":1\r\n";
                    }
                } elsif ($name eq 'HGETALL') {
                    $out = "*0\r\n";
                } elsif ($name eq 'GET') {
                    $out = "\$-1\r\n";
                } else {
                    $out = "+OK\r\n";
                }
                push @due, [$at, $s, $out];
            }
        }
    }
}

subtest 'tg:events names the key while its question is on its way: a later request asks again' => sub {
    my $log = "$TG::ROOT/slow-redis.log";
    my ($pid, $port) = slow_redis($log);
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis 127.0.0.1:$port timeout=3s;\n",
        config => $CONFIG,
        workers => 1,
    )->start;
    my $t = TG::Redis::poll(sub { TG::slurp($log) =~ /cmd SUBSCRIBE/ }, 5,
                            0.05);
    ok(defined $t, 'nginx subscribed to the test\'s Redis');
    sleep 0.3;

    my $tok = TG::bearer({workspace_id => 'evt', jti => 'jti-evt-1'});
    my $dir = "$TG::ROOT/evt";
    mkdir $dir;
    my $kid = fork // die "fork: $!";
    if ($kid == 0) {
        my $res = $n->get('/items', $tok, {timeout => 5});
        open my $fh, '>', "$dir/first" or POSIX::_exit(1);
        print $fh ($res->{status} // 'none'), "\n";
        close $fh;
        POSIX::_exit(0);
    }
    ok(defined TG::Redis::poll(sub { TG::slurp($log) =~ /^event /m }, 3,
                               0.02),
       'the event was sent while the first EXISTS waits');
    sleep 0.1;
    my $second = $n->get('/items', $tok, {timeout => 5});
    waitpid $kid, 0;
    is(TG::slurp("$dir/first") =~ s/\s+//gr, 200,
       'the request that asked before the event: the answer to its question '
       . '(200)');
    TG::Redis::refused($second, 401, 'invalid_token',
                       'the request after the event: a question of its own, '
                       . 'revoked');
    is(scalar(() = TG::slurp($log) =~ /^cmd EXISTS$/mg), 2,
       'two EXISTS: the later request did not join the older question');
    no_alerts($n, 'event');
    $n->stop;
    TG::stop_child($pid);
};

# Only worker 0 subscribes to tg:events: the other workers never hear the
# event.  A request that one of them takes after the revocation must not
# join that worker's older question either.  A second server listens with
# reuseport, so that the kernel spreads connections over both workers by
# their addresses; 16 requests before the event and 16 after it leave each
# worker with some of each (all on one worker: 1 in 32768).

subtest 'two workers: a later request does not join an older question in the worker that did not hear the event' => sub {
    my $log = "$TG::ROOT/slow-redis-2.log";
    my ($pid, $port) = slow_redis($log, delay => 2.0, all_early => 1);
    my $p2 = TG::free_port();
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis 127.0.0.1:$port timeout=5s;\n"
                       . "server {\n"
                       . "    listen 127.0.0.1:$p2 reuseport;\n"
                       . "    tenant_guard_keys \$TEST_NGINX_KEYS/jwks.json;\n"
                       . "    location / {\n"
                       . "        tenant_guard on;\n"
                       . "        add_header X-Pid \$pid always;\n"
                       . "        proxy_pass http://\$TEST_NGINX_UPSTREAM;\n"
                       . "    }\n"
                       . "}\n",
        config => $CONFIG,
        workers => 2,
    )->start;
    my $t = TG::Redis::poll(sub { TG::slurp($log) =~ /cmd SUBSCRIBE/ }, 5,
                            0.05);
    ok(defined $t, 'nginx subscribed to the test\'s Redis');
    sleep 0.3;

    my $tok = TG::bearer({workspace_id => 'evt2', jti => 'jti-evt-2'});
    my $dir = "$TG::ROOT/evt2";
    mkdir $dir;
    my $fire = sub {
        my ($tag) = @_;
        my @kids;
        for my $i (1 .. 16) {
            my $kid = fork // die "fork: $!";
            if ($kid == 0) {
                $n->{port} = $p2;
                my $res = $n->get('/items', $tok, {timeout => 8});
                my ($wpid) = TG::HTTP::header_values($res, 'X-Pid');
                open my $fh, '>', "$dir/$tag-$i" or POSIX::_exit(1);
                print $fh ($res->{status} // 'none'), ' ',
                          ($res->{json}{error} // '-'), ' ',
                          ($wpid // '-'), "\n";
                close $fh;
                POSIX::_exit(0);
            }
            push @kids, $kid;
        }
        return @kids;
    };
    my @kids = $fire->('before');
    ok(defined TG::Redis::poll(sub { TG::slurp($log) =~ /^event /m }, 3,
                               0.02),
       'the event was sent while the first questions wait');
    sleep 0.2;
    push @kids, $fire->('after');
    waitpid $_, 0 for @kids;
    my %rows;
    for my $tag (qw(before after)) {
        $rows{$tag} = [map { [split ' ', TG::slurp("$dir/$tag-$_")] } 1 .. 16];
    }
    my %pids = map { $_->[2] => 1 } map { @$_ } values %rows;
    note('workers that answered: ' . join(' ', sort keys %pids));
    is(join(',', sort map { "$_->[0] $_->[1]" } @{$rows{before}}),
       join(',', ('200 -') x 16),
       'the requests that asked before the event: the answer to their '
       . 'question (200)');
    my @passed = grep { $_->[0] ne '401' } @{$rows{after}};
    is(scalar(@passed), 0, 'every request after the event is refused as '
       . 'revoked, whichever worker took it')
        or diag(join "\n", map { "@$_" } @{$rows{after}});
    is(join(',', sort map { "$_->[0] $_->[1]" } @{$rows{after}}),
       join(',', ('401 invalid_token') x 16), '... 16 x 401 invalid_token');
    no_alerts($n, 'event, two workers');
    $n->stop;
    TG::stop_child($pid);
};

# The answer to a question asked before the event is the asker's, not the
# zone's: a workspace's policy read before a change and answered after
# tg:events named it is not kept, so that the change holds for the next
# request (it was kept, until the next event about the workspace).

subtest 'a policy answered after tg:events named it: used by its asker, not kept' => sub {
    my $log = "$TG::ROOT/slow-redis-3.log";
    my ($pid, $port) = slow_redis($log, delay => 1.0, policy => 1);
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis 127.0.0.1:$port timeout=3s;\n",
        config => $CONFIG,
        workers => 1,
    )->start;
    my $t = TG::Redis::poll(sub { TG::slurp($log) =~ /cmd SUBSCRIBE/ }, 5,
                            0.05);
    ok(defined $t, 'nginx subscribed to the test\'s Redis');
    sleep 0.3;

    my $tok = TG::bearer({workspace_id => 'evt3', amr => ['pwd'],
                          jti => 'jti-evt-3'});
    my $first = $n->get('/items', $tok, {timeout => 5});
    like(TG::slurp($log), qr/^event tg:ws:evt3$/m,
         'the event named the workspace while its HGETALL waited');
    is($first->{status}, 200, 'the request that asked before the change: '
       . 'its answer, no policy (200)');
    my $second = $n->get('/items', $tok, {timeout => 5});
    TG::Redis::refused($second, 401, 'insufficient_user_authentication',
                       'the next request: the changed policy (MFA)');
    is(scalar(() = TG::slurp($log) =~ /^cmd HGETALL$/mg), 2,
       'two HGETALL: the older answer was not kept in the zone');
    no_alerts($n, 'policy event');
    $n->stop;
    TG::stop_child($pid);
};

subtest 'an opaque token answered after tg:events named it: used by its asker, not kept' => sub {
    my $log = "$TG::ROOT/slow-redis-4.log";
    my $op = TG::Redis::opaque_token();
    my $rec = JSON::PP->new->canonical->encode({
        sub => 'member-4', workspace_id => 'opq4', organization_id => 'org-4',
        jti => 'op-jti-4', iat => time, exp => time + 3600});
    my ($pid, $port) = slow_redis($log, delay => 1.0, record => $rec);
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis 127.0.0.1:$port timeout=3s;\n",
        config => $CONFIG,
        workers => 1,
    )->start;
    my $t = TG::Redis::poll(sub { TG::slurp($log) =~ /cmd SUBSCRIBE/ }, 5,
                            0.05);
    ok(defined $t, 'nginx subscribed to the test\'s Redis');
    sleep 0.3;

    my $first = $n->get('/items', "Authorization: Bearer $op",
                        {timeout => 5});
    like(TG::slurp($log), qr/^event tg:token:[0-9a-f]{64}$/m,
         'the event named the token while its GET waited');
    is($first->{status}, 200, 'the request that asked before the change: '
       . 'its answer, the record (200)');
    my $second = $n->get('/items', "Authorization: Bearer $op",
                         {timeout => 5});
    TG::Redis::refused($second, 401, 'invalid_token',
                       'the next request: the token is gone');
    is(scalar(() = TG::slurp($log) =~ /^get tg:token$/mg), 2,
       'two GET: the older record was not kept in the zone');
    no_alerts($n, 'token event');
    $n->stop;
    TG::stop_child($pid);
};

done_testing();
