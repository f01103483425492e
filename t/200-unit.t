#!/usr/bin/perl
#
# The engine's C unit tests (t/unit/test_*.c): builds them with gcc,
# AddressSanitizer and UndefinedBehaviorSanitizer (t/unit/Makefile, into
# build/unit/), runs each program and passes its TAP through, one assertion
# per unit test case, named "<program>: <case>".  Each program also gets
# three assertions of its own: it exits 0, it printed as many cases as its
# plan says, and the sanitizers reported nothing (leaks included).
#
#   prove -v t/200-unit.t
#   TG_UNIT_BUILD=/tmp/u prove t/200-unit.t     # build somewhere else
#
# Known engine bugs are TAP "TODO" cases: reported, not counted as
# failures; prove says "TODO passed" once one is fixed.

use strict;
use warnings;

use File::Basename qw(basename dirname);
use File::Spec;
use File::Temp qw(tempfile);
use Cwd qw(abs_path);
use Test::More;

my $top = abs_path(File::Spec->catdir(dirname(abs_path(__FILE__)), '..'));
my $build = $ENV{TG_UNIT_BUILD} || "$top/build/unit";

# ---- build ----

my $jobs = $ENV{TG_UNIT_JOBS} || 2;
my ($log, $built);

{
    # not a sub-make of "make test": its flags and jobserver stay there
    delete local @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};

    $log = `make -s -j$jobs -C "$top/t/unit" BUILD="$build" 2>&1`;
    $built = $? == 0;
}

ok($built, 'unit tests build (gcc -fsanitize=address,undefined '
           . '-Wall -Wextra -Werror)')
    or diag($log);

unless ($built) {
    done_testing();
    exit;
}

my @programs = sort map { basename($_, '.c') } glob("$top/t/unit/test_*.c");

ok(scalar @programs, 'there are unit test programs');

# ---- run ----

# Leak detection on, and a halt at the first UB report so that a report
# also fails the exit status: appended to any options already set (say,
# for "make asan"'s nginx), so that they cannot be turned off here.
sub opts {
    my ($name, $ours) = @_;
    my $theirs = $ENV{$name} // '';
    return $theirs eq '' ? $ours : "$theirs:$ours";
}

local $ENV{ASAN_OPTIONS} = opts('ASAN_OPTIONS',
    'detect_leaks=1:halt_on_error=1:abort_on_error=0:'
    . 'check_initialization_order=1:strict_string_checks=1');
local $ENV{UBSAN_OPTIONS} = opts('UBSAN_OPTIONS',
    'halt_on_error=1:print_stacktrace=1');

my $sanitizer = qr/(?:ERROR|WARNING): \w*Sanitizer|runtime error:|SUMMARY: \w*Sanitizer|LeakSanitizer/;

for my $prog (@programs) {
    my $bin = "$build/$prog";
    my $short = $prog;
    $short =~ s/^test_//;

    my ($efh, $errfile) = tempfile('tg-unit-XXXXXX', TMPDIR => 1,
                                   UNLINK => 1);
    close $efh;

    my @out = `"$bin" 2>"$errfile"`;
    my $status = $?;

    open my $fh, '<', $errfile or die "$errfile: $!";
    my $stderr = do { local $/; <$fh> };
    close $fh;

    my ($plan, $cases) = (undef, 0);
    my @pending;             # diagnostics of the last case

    for my $line (@out) {
        chomp $line;

        if ($line =~ /^1\.\.(\d+)/) {
            $plan = $1;
            next;
        }

        if ($line =~ /^#(.*)$/) {
            if ($cases && $pending[-1] eq 'fail') {
                diag("$short:$1");
            } elsif ($cases && $pending[-1] eq 'todo') {
                note("$short:$1");
            }
            next;
        }

        next unless $line =~ /^(not )?ok \d+(?: - )?(.*)$/;

        my ($pass, $rest) = (!defined $1, $2);
        my ($name, $directive, $reason) = ($rest, '', '');

        if ($rest =~ /^(.*?)\s+# (TODO|SKIP)\b\s*(.*)$/i) {
            ($name, $directive, $reason) = ($1, uc $2, $3);
        }

        $cases++;

        if ($directive eq 'SKIP') {
            SKIP: { skip("$short: $name: $reason", 1); }
            push @pending, '';

        } elsif ($directive eq 'TODO') {
            TODO: {
                local $TODO = $reason;
                ok($pass, "$short: $name");
            }
            push @pending, $pass ? '' : 'todo';

        } else {
            ok($pass, "$short: $name");
            push @pending, $pass ? '' : 'fail';
        }
    }

    my $exit = $status == -1 ? -1 : $status >> 8;
    my $signal = $status == -1 ? 0 : $status & 127;

    ok($status == 0, "$short: exits 0")
        or diag("$short: exit $exit" . ($signal ? ", signal $signal" : ''));

    ok(defined $plan && $plan == $cases,
       "$short: ran its whole plan (" . ($plan // 'no plan') . ")")
        or diag("$short: $cases cases printed");

    ok($stderr !~ $sanitizer, "$short: no sanitizer report")
        or diag($stderr);

    diag("$short stderr:\n$stderr")
        if $stderr ne '' && $stderr !~ $sanitizer && $status != 0;
}

done_testing();
