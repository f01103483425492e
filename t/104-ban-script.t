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

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use Test::More;

use lib 't/lib';
use TG;
use TG::Redis;

my $top = abs_path(File::Spec->catdir(dirname(abs_path(__FILE__)), '..'));

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

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

# ---- a redis-server of our own (TG::Redis: a free loopback port)

my $r = TG::Redis->start;
pass('redis-server on ' . $r->addr);

# ---- the script's steps: EVAL as the glue sends it

my $key_n = 0;

sub redis_steps {
    my (@steps) = @_;
    my ($key, @out) = ('tg:test:fail:' . ++$key_n);

    for my $s (@steps) {
        my ($ok, $v) = $r->try('EVAL', $script, 1, $key, $s->[0], $s->[1]);

        if (!$ok || ref $v ne 'ARRAY' || @$v != 2) {
            push @out, 'error: ' . ($ok ? 'not {count, window}' : $v);
            next;
        }

        # the hash kept, and alive until the window closes
        my $pttl = $r->cmd('PTTL', $key);
        my $h = $r->cmd('HGET', $key, 'c') . ' ' . $r->cmd('HGET', $key, 'w');
        my $line = "$v->[0] $v->[1]";

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
