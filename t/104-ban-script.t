#!/usr/bin/perl
#
# One ban window: the zone counts failures with tg_ban_window_count()
# (src/tg_ban.c), hosts sharing Redis count them with tg_ban_count_script
# (the same file) run by EVAL.  This test runs both on the same steps
# (now, longest) and wants the same {count, window} after every step: the
# C function through t/unit/ban_window_driver, the script, as the driver
# prints it from the engine, in a real redis-server on a free loopback
# port.  Steps cover the window's edge, now going backwards, longest
# changing, now 0, negative and big values, and a long random walk.
#
# Lua numbers are doubles: the script is exact below 2^53.  The steps stay
# below 10^16 (times are bounded by 10^15 in the engine, longest by the
# policy's 3153600000), where both must agree.
#
#   prove -v t/104-ban-script.t

use strict;
use warnings;
no warnings qw(exec);

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();
use Test::More;

my $top = abs_path(File::Spec->catdir(dirname(abs_path(__FILE__)), '..'));
my $server = $ENV{TG_REDIS_SERVER} // '/usr/bin/redis-server';

plan skip_all => "no redis-server ($server)" unless -x $server;

# ---- the C side: built apart from t/200-unit.t's build, which may run
# at the same time under prove -j

my $build = "$top/build/ban-script";
my $driver = "$build/ban_window_driver";

{
    delete local @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};
    my $log = `make -s -C "$top/t/unit" BUILD="$build" "$driver" 2>&1`;
    ok($? == 0, 'ban_window_driver builds') or diag($log);
}

my $script = `"$driver" script`;
ok($? == 0 && $script =~ /\breturn \{c, w\}/,
   'the driver prints tg_ban_count_script')
    or BAIL_OUT('no script from the driver');

my $dir = tempdir('tg-ban-script-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub c_steps {
    my (@steps) = @_;
    my $in = "$dir/steps";
    open my $fh, '>', $in or die "$in: $!";
    print $fh "$_->[0] $_->[1]\n" for @steps;
    close $fh;
    my @out = `"$driver" < "$in"`;
    die "ban_window_driver failed: $?\n" if $?;
    chomp @out;
    return @out;
}

# ---- a redis-server of our own, and just enough RESP to talk to it

my ($pid, $sock, $port);

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die "no free port: $!\n";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub cmd {
    my (@args) = @_;
    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print {$sock} $req or die "redis: write: $!\n";
    return reply();
}

sub reply {
    local $/ = "\r\n";
    my $line = <$sock>;
    die "redis: connection closed\n" unless defined $line;
    chomp $line;
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+';
    return { error => $rest } if $type eq '-';
    return 0 + $rest if $type eq ':';

    if ($type eq '$') {
        return undef if $rest < 0;
        my $data = '';
        while (length($data) < $rest + 2) {
            my $n = read($sock, $data, $rest + 2 - length($data),
                         length($data));
            die "redis: connection closed\n" unless $n;
        }
        return substr($data, 0, $rest);
    }

    return [ map { reply() } 1 .. $rest ] if $type eq '*';

    die "redis: cannot read '$line'\n";
}

sub start_redis {
    my $why = '';

    for my $try (1 .. 5) {
        $port = free_port();
        $pid = fork // die "fork: $!\n";

        if ($pid == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>>', "$dir/redis.out";
            open STDERR, '>&', \*STDOUT;
            exec $server, '--port', $port, '--bind', '127.0.0.1',
                 '--save', '', '--appendonly', 'no', '--dir', $dir,
                 '--daemonize', 'no', '--protected-mode', 'no';
            POSIX::_exit(127);
        }

        my $deadline = Time::HiRes::time() + 10;

        while (Time::HiRes::time() < $deadline) {
            if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
                $why = 'redis-server exited';
                undef $pid;
                last;
            }

            $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $port, Proto => 'tcp');
            if ($sock) {
                my $pong = eval { cmd('PING') };
                return if defined $pong && !ref $pong && $pong eq 'PONG';
                undef $sock;
            }

            Time::HiRes::sleep(0.02);
        }

        if ($pid) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            undef $pid;
            $why ||= 'no PONG within 10 s';
        }
    }

    die "cannot start redis-server: $why\n";
}

END {
    if ($pid) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}

start_redis();
pass("redis-server on 127.0.0.1:$port");

# ---- the script's steps: EVAL as the glue sends it

my $key_n = 0;

sub redis_steps {
    my (@steps) = @_;
    my ($key, @out) = ('tg:test:fail:' . ++$key_n);

    for my $s (@steps) {
        my $r = cmd('EVAL', $script, 1, $key, $s->[0], $s->[1]);

        if (ref $r ne 'ARRAY' || @$r != 2) {
            push @out, 'error: ' . (ref $r eq 'HASH' ? $r->{error}
                                                     : 'not {count, window}');
            next;
        }

        # the hash kept, and alive until the window closes
        my $pttl = cmd('PTTL', $key);
        my $h = cmd('HGET', $key, 'c') . ' ' . cmd('HGET', $key, 'w');
        my $line = "$r->[0] $r->[1]";

        $line .= " (but the hash holds $h)" if $h ne $line;
        $line .= " (but the key expires: PTTL $pttl)"
            unless !ref $pttl && $pttl > 0;

        push @out, $line;
    }

    return @out;
}

sub same {
    my ($name, @steps) = @_;
    my @c = c_steps(@steps);
    my @r = redis_steps(@steps);

    if (@steps <= 20) {
        for my $i (0 .. $#steps) {
            is($r[$i], $c[$i], "$name: step $i (now $steps[$i][0], "
                               . "longest $steps[$i][1]): count window");
        }
        return;
    }

    my ($first) = grep { ($r[$_] // '') ne ($c[$_] // '') } 0 .. $#steps;

    ok(!defined $first && @r == @c, "$name: " . @steps . ' steps agree')
        or diag("step $first (now $steps[$first][0], longest "
                . "$steps[$first][1]): script '$r[$first]', C '$c[$first]'");
}

my $t = 1_700_000_000;

same('the window and its edge',
     [$t, 60], [$t + 1, 60], [$t + 59, 60], [$t + 60, 60],
     [$t + 61, 60], [$t + 61, 60], [$t + 121, 60], [$t + 122, 60],
     [$t + 1000, 60]);

same('now going backwards',
     [$t, 60], [$t - 10, 60], [$t - 100000, 60], [$t + 30, 60],
     [$t + 61, 60], [$t + 1, 60], [$t + 122, 60], [$t + 121, 60]);

same('longest changing',
     [$t, 300], [$t + 100, 300], [$t + 150, 60], [$t + 200, 3600],
     [$t + 3750, 3600], [$t + 3751, 3600], [$t + 3751, 0],
     [$t + 3752, 0], [$t + 3752, 0], [$t + 3753, 1], [$t + 3755, 1],
     [$t + 3755, 3153600000], [$t + 3153603755, 3153600000],
     [$t + 3153603756, 3153600000]);

same('now 0 opens no lasting window',
     [0, 60], [0, 60], [5, 60], [6, 60], [70, 60], [0, 60]);

same('negative times',
     [-5, 60], [-4, 60], [-66, 60], [-65, 60], [0, 60], [60, 60]);

my $big = 999_999_999_000_000;
my $top53 = 9_007_199_254_740_992 - 10_000_000_000;     # 2^53 - 10^10

same('big values',
     [$big, 3153600000], [$big + 3153600000, 3153600000],
     [$big + 3153600001, 3153600000], [$big + 3153600001, 0],
     [$big + 6307200002, 3153600000], [$top53, 3153600000],
     [$top53 + 3153600000, 3153600000], [$top53 + 3153600001, 3153600000],
     [$top53 + 3153600001, 1], [$top53 + 3153600003, 1]);

# a random walk: small and large steps forward, some back, longest from
# the policy's typical and extreme values

srand($ENV{TG_BAN_SEED} // 104);

my @walk;
my $now = $t;
my @longest = (0, 1, 2, 60, 300, 3600, 86400, 3153600000);
my $longest = 60;

for (1 .. 600) {
    my $r = rand();

    $now += $r < 0.6 ? int(rand(5))
          : $r < 0.8 ? int(rand(200))
          : $r < 0.9 ? -int(rand(100))
          : int(rand(5000));
    $longest = $longest[int(rand(@longest))] if rand() < 0.1;

    push @walk, [$now, $longest];
}

same('a random walk of 600 steps', @walk);

done_testing();
