package TG::Ban;

# Helpers for the failed-login ban tests (t/090-ban.t, t/091-ban-config.t),
# on top of t/lib/TG.pm.  Load TG first ("use TG;"), then this.
#
#   TG::Ban::run_tests();         instead of run_tests(): the same runner, plus
#
#   --- policy                    the policy file's text (or, with "eval", a
#                                 hash ref encoded as JSON); written to a file
#                                 of the block, named by $TEST_NGINX_POLICY in
#                                 the config sections
#   --- error_log_count           lines "N TEXT", ">N TEXT" or "<N TEXT": how
#                                 many times TEXT is in error.log
#   --- retry_after_decreasing    lines "I J": the Retry-After of request J
#                                 (1-based, of --- requests) is smaller than
#                                 that of request I
#   --- pids_serving              lines "N TEXT": the access.log lines holding
#                                 TEXT name at least N distinct "pid=NNN"
#                                 (with a log_format that writes pid=$pid)
#
# and helpers for "--- requests eval" (each returns one request's hash):
#
#   TG::Ban::passes($request, $headers, %more)
#       a request that must reach the upstream once and carry the upstream's
#       answer (X-Mock-Upstream: 1); status 401 unless error_code => N
#   TG::Ban::banned($kind, [$min, $max], $request, $headers, %more)
#       a refusal for a ban: 429, JSON error "banned" with the description of
#       $kind ('id': "the login identifier is banned", 'ip': "the client
#       address is banned"), Retry-After an integer in [$min, $max], not the
#       upstream's answer, nothing upstream
#   TG::Ban::ban(first => [T, C, D], second => [...], permanent => [...],
#                blocking => 0|1)
#       a "ban" policy object; absent levels are 0 (off), blocking defaults
#       to true
#   TG::Ban::policy_ban(...)
#       a POLICY object with just that "ban": {"ban": ban(...)}
#   TG::Ban::chunked($request_line, $headers, @chunks)
#       a raw request with a chunked body

use strict;
use warnings;

use JSON::PP ();
use Test::Base ();
use Test::More ();
use TG::Policy ();


our @RESPONSES;     # the responses of the running block, in order

# ---------------------------------------------------------------- helpers

sub ban {
    my (%o) = @_;
    my %b = (blockingForClientEnabled =>
             (!exists $o{blocking} || $o{blocking})
             ? JSON::PP::true() : JSON::PP::false());
    for my $l (qw(first second permanent)) {
        my ($t, $c, $d) = @{$o{$l} // [0, 0, 0]};
        $b{"${l}BanThreshold"} = $t;
        $b{"${l}BanCollectingTime"} = $c;
        $b{"${l}BanDuration"} = $d;
    }
    return \%b;
}

sub policy_ban {
    return {ban => ban(@_)};
}

sub passes {
    my ($request, $headers, %more) = @_;
    my %r = (
        request          => $request,
        more_headers     => $headers,
        error_code       => 401,
        upstream_count   => 1,
        response_headers => "X-Mock-Upstream: 1\n!Retry-After",
    );
    return {%r, %more};
}

my %DESCRIPTION = (
    id => 'the login identifier is banned',
    ip => 'the client address is banned',
);

sub range_re {
    my ($min, $max) = @_;
    return '^(?:' . join('|', $min .. $max) . ')$';
}

sub banned {
    my ($kind, $range, $request, $headers, %more) = @_;
    my $desc = $DESCRIPTION{$kind} or die "TG::Ban: unknown kind $kind\n";
    my ($min, $max) = @$range;
    my %r = (
        request                => $request,
        more_headers           => $headers,
        error_code             => 429,
        json_error             => 'banned',
        json_error_description => $desc,
        response_headers       => '!X-Mock-Upstream',
        response_headers_like  => 'Retry-After: ' . range_re($min, $max),
        no_upstream            => 1,
    );
    return {%r, %more};
}

sub chunked {
    my ($line, $headers, @chunks) = @_;
    my @h = ('Host: localhost', 'Connection: close',
             'Transfer-Encoding: chunked',
             grep { length } split /\n/, $headers // '');
    my $raw = join('', map { "$_\r\n" } "$line HTTP/1.1", @h) . "\r\n";
    $raw .= sprintf("%x\r\n%s\r\n", length $_, $_) for @chunks;
    return $raw . "0\r\n\r\n";
}

# ---------------------------------------------------------------- runner

# the policy file of a block: written, and named in its sections, as
# TG::Policy does it
*prefix_of   = \&TG::Policy::prefix_of;
*policy_path = \&TG::Policy::policy_path;
*prepare     = \&TG::Policy::prepare;

sub retry_after {
    my ($res) = @_;
    return undef unless $res;
    my @v = map { $_->[1] } grep { lc $_->[0] eq 'retry-after' }
            @{$res->{headers} || []};
    return @v == 1 ? $v[0] : undef;
}

sub after {
    my ($block) = @_;
    my $name = $block->name;
    my $prefix = prefix_of($block);

    if (exists $block->{error_log_count}) {
        my $log = TG::slurp("$prefix/logs/error.log");
        for my $l (TG::block_lines($block, 'error_log_count')) {
            my ($op, $n, $text) = $l =~ /^\s*([<>]?)(\d+)\s+(.+?)\s*$/
                or die "TG::Ban: bad error_log_count line: $l\n";
            my $got = () = $log =~ /\Q$text\E/g;
            if ($op eq '') {
                TG::check_is($got, $n, "$name - error.log has $n times: $text");
            } elsif ($op eq '>') {
                TG::check($got > $n, "$name - error.log has more than $n: $text",
                          "got $got");
            } else {
                TG::check($got < $n, "$name - error.log has fewer than $n: $text",
                          "got $got");
            }
        }
    }

    for my $l (TG::block_lines($block, 'retry_after_decreasing')) {
        my ($i, $j) = $l =~ /^\s*(\d+)\s+(\d+)\s*$/
            or die "TG::Ban: bad retry_after_decreasing line: $l\n";
        my $a = retry_after($RESPONSES[$i - 1]);
        my $b = retry_after($RESPONSES[$j - 1]);
        TG::check(defined $a && defined $b && $a =~ /^\d+$/ && $b =~ /^\d+$/
                  && $b < $a,
                  "$name - Retry-After of request $j is smaller than of "
                  . "request $i",
                  'got ' . ($a // '<none>') . ' then ' . ($b // '<none>'));
    }

    for my $l (TG::block_lines($block, 'pids_serving')) {
        my ($n, $text) = $l =~ /^\s*(\d+)\s+(.+?)\s*$/
            or die "TG::Ban: bad pids_serving line: $l\n";
        my $log = TG::slurp("$prefix/logs/access.log");
        my %pids = map { /\bpid=(\d+)/ ? ($1 => 1) : () }
                   grep { index($_, $text) >= 0 } split /\n/, $log;
        TG::check(keys %pids >= $n,
                  "$name - at least $n worker processes served: $text",
                  'pids: ' . join(' ', sort keys %pids),
                  "access.log:\n$log");
    }
}

# TG::run_tests, with prepare() before and after() after each block, and
# the responses of each block kept for after()
sub run_tests {
    TG::init_root();
    TG::start_upstream();
    TG::keys_dir();
    Test::More->builder->plan('no_plan')
        unless Test::More->builder->has_plan;
    Test::Base::default_object()->filters_delay(1);
    my $send = \&TG::HTTP::send_request;
    no warnings 'redefine';
    local *TG::HTTP::send_request = sub {
        my $res = $send->(@_);
        push @RESPONSES, $res;
        return $res;
    };
    for my $block (Test::Base::default_object()->blocks) {
        unless ($block->is_filtered) {
            unless (eval { $block->run_filters; 1 }) {
                TG::check(0, $block->name . ' - sections evaluate', $@);
                next;
            }
        }
        @RESPONSES = ();
        prepare($block);
        TG::run_block($block);
        after($block);
    }
}

1;
