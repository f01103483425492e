# Redis mode: concurrent misses of one key coalesce.  Requests that need
# the same answer from Redis while a question for it is on its way (a
# token's tg:revoked:{jti}, a workspace's tg:ws:{ws}, an opaque token's
# tg:token:{sha256}) wait for that one question: Redis sees one command
# per worker, and every request is judged on its own copy of the answer.
# A real redis-server is paused (SIGSTOP) while a burst of first requests
# arrives, then resumed; INFO commandstats counts what it executed.
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm).

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
    is(calls($r)->{get} // 0, 2, 'two GETs: one per token');
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

done_testing();
