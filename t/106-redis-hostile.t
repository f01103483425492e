# A Redis that breaks the protocol: a reply when nothing was asked, two
# replies to one command, messages of the wrong shape on the events link,
# and a reply promised too large to buffer.  Each closes the link it came on (logged once at error, "an
# unexpected reply"), the link is dialed again with backoff, requests get
# the failure mode meanwhile (503 closed, 200 open), no worker crashes (no
# hiredis assert: no "exited on signal", no [alert]), and once a real Redis
# takes the port, the module is back.
#
# Plain Test::More on TG::Redis::Fake's 'script' mode (t/lib/TG/Redis.pm).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use Test::More;
use Time::HiRes qw(time sleep);

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

sub nginx_for {
    my ($addr, %o) = @_;
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis $addr timeout=300ms;\n",
        config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
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
        %o,
    );
    return $n->start;
}

sub bearer { TG::bearer(@_) }

sub no_crash {
    my ($n, $name) = @_;
    my @bad = $n->bad_log_lines;
    ok(!@bad, "$name: no [alert]/[crit]/[emerg], no ASan report")
        or diag(join "\n", @bad[0 .. ($#bad < 10 ? $#bad : 10)]);
    unlike($n->error_log, qr/exited on signal|Assertion/,
           "$name: no worker died");
}

sub show_log_on_failure {
    my ($n) = @_;
    diag("---- error.log (tail):\n" . $n->tail(40))
        unless Test::More->builder->is_passing;
}

# statuses of a few requests to /closed/ and /open/: only 200 and 503
sub only_failure_modes {
    my ($n, $name) = @_;
    my (@closed, @open);
    for (1 .. 4) {
        push @closed, $n->get('/closed/a', bearer({}))->{status} // 'none';
        push @open, $n->get('/open/a', bearer({}))->{status} // 'none';
        sleep 0.1;
    }
    ok(!grep({ $_ ne '200' && $_ ne '503' } @closed),
       "$name: closed gets 200 or 503 (@closed)");
    ok(!grep({ $_ ne '200' } @open), "$name: open gets 200 (@open)");
}

# the fake goes, a real Redis takes its port: requests pass again
sub recovers {
    my ($n, $f, $name) = @_;
    my $port = $f->port;
    $f->stop;
    my $r = TG::Redis->start(port => $port);
    ok($r->wait_links(clients => 1, subscribers => 1, timeout => 5),
       "$name: linked to the real Redis");
    my $t = TG::Redis::poll(sub {
        ($n->get('/closed/a', bearer({}))->{status} // 0) == 200
    }, 3, 0.05);
    ok(defined $t, "$name: requests pass again");
    return $r;
}

subtest 'a reply when nothing was asked (":1" on an idle link): the link is closed, no crash, back with a real Redis' => sub {
    my $f = TG::Redis::Fake->start('script', {late => ":1\r\n", late_after => 0.2});
    my $n = nginx_for($f->addr);
    sleep 1;
    like($n->error_log, qr/\[error\] .*tenant_guard: redis link is down: an unexpected reply/,
         'log: redis link is down: an unexpected reply');
    like($n->error_log, qr/\[error\] .*tenant_guard: redis events link is down: an unexpected reply/,
         'log: redis events link is down: an unexpected reply');
    only_failure_modes($n, 'unsolicited');
    no_crash($n, 'unsolicited');
    my $r = recovers($n, $f, 'unsolicited');
    no_crash($n, 'after the return');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

subtest 'an unasked reply right after the handshake: dials again with backoff, not in a storm' => sub {
    my $f = TG::Redis::Fake->start('script', {late => "+OK\r\n", late_after => 0});
    my $n = nginx_for($f->addr);
    sleep 2;
    my $dials = $f->accepted;
    ok($dials >= 2 && $dials <= 14, "2 to 14 dials in 2s for two links ($dials)");
    no_crash($n, 'right after the handshake');
    show_log_on_failure($n);
    $n->stop;
    $f->stop;
};

subtest 'two replies to one command: the second closes the link; no crash, back with a real Redis' => sub {
    my $f = TG::Redis::Fake->start('script', {'*' => ":0\r\n:0\r\n"});
    my $n = nginx_for($f->addr);
    sleep 0.3;
    only_failure_modes($n, 'two replies');
    ok(scalar(grep { $_ eq 'EXISTS' } $f->commands) >= 1, 'a command was asked');
    like($n->error_log, qr/\[error\] .*tenant_guard: redis link is down: an unexpected reply/,
         'log: redis link is down: an unexpected reply');
    no_crash($n, 'two replies');
    my $r = recovers($n, $f, 'two replies');
    no_crash($n, 'after the return');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

my $ack = "*3\r\n\$9\r\nsubscribe\r\n\$9\r\ntg:events\r\n:1\r\n";
my @shapes = (
    ['an ack of one element', "*1\r\n\$9\r\nsubscribe\r\n"],
    ['a message whose kind is an integer', $ack . "*3\r\n:1\r\n\$9\r\ntg:events\r\n\$1\r\nx\r\n"],
    ['a message whose channel is an integer', $ack . "*3\r\n\$7\r\nmessage\r\n:1\r\n\$1\r\nx\r\n"],
    ['an unsubscribe whose count is a string', $ack . "*3\r\n\$11\r\nunsubscribe\r\n\$9\r\ntg:events\r\n\$1\r\nx\r\n"],
    ['an unsubscribe of two elements', $ack . "*2\r\n\$11\r\nunsubscribe\r\n\$9\r\ntg:events\r\n"],
    ['a pattern message', $ack . "*4\r\n\$8\r\npmessage\r\n\$1\r\n*\r\n\$9\r\ntg:events\r\n\$1\r\nx\r\n"],
    ['a message on another channel', $ack . "*3\r\n\$7\r\nmessage\r\n\$5\r\nother\r\n\$1\r\nx\r\n"],
    ['a nested array', $ack . "*3\r\n\$7\r\nmessage\r\n\$9\r\ntg:events\r\n*1\r\n:1\r\n"],
    ['a status', $ack . "+OK\r\n"],
);

for my $i (0 .. $#shapes) {
    my ($what, $bytes) = @{$shapes[$i]};
    subtest "events link: $what: the events link is closed, the command link stays, no crash" => sub {
        my $f = TG::Redis::Fake->start('script', {SUBSCRIBE => $bytes});
        my $n = nginx_for($f->addr);
        ok($n->wait_log(qr/\[error\] .*tenant_guard: redis events link is down: an unexpected reply/, 2),
           'log: redis events link is down: an unexpected reply');
        unlike($n->error_log, qr/tenant_guard: redis link is down/, 'the command link stays up');
        only_failure_modes($n, $what);
        no_crash($n, $what);
        if ($i == $#shapes) {
            my $r = recovers($n, $f, $what);
            ok($n->wait_log(qr/\[notice\] .*tenant_guard: redis events link is up/, 2),
               'log: redis events link is up');
            no_crash($n, 'after the return');
            $r->stop;
        } else {
            $f->stop;
        }
        show_log_on_failure($n);
        $n->stop;
    };
}

subtest 'a reply promised huge (a 1 GB string): the link is closed once 4 MB are buffered, no crash' => sub {
    my $huge = "\$1073741824\r\n" . ('x' x (6 * 1024 * 1024));
    my $f = TG::Redis::Fake->start('script', {EXISTS => $huge});
    my $n = nginx_for($f->addr);
    sleep 0.3;
    only_failure_modes($n, 'huge');
    ok($n->wait_log(qr/\[error\] .*tenant_guard: redis link is down: a reply over the size limit/, 3),
       'log: redis link is down: a reply over the size limit');
    no_crash($n, 'huge');
    my $r = recovers($n, $f, 'huge');
    no_crash($n, 'after the return');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
};

done_testing();
