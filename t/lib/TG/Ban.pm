package TG::Ban;

# The failed-login ban fixture (t/090-ban.t, t/091-ban-config.t), on
# t/lib/TG.pm and TG::Policy:
#
#   use TG;
#   use TG::Ban;                  the blocks of this file get --- policy (see
#                                 TG::Policy), plus
#
#   --- retry_after_decreasing    lines "I J": the Retry-After of request J
#                                 (1-based, of --- requests) is smaller than
#                                 that of request I
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
use TG::Policy ();

sub import {
    TG::Policy->import;
    TG::add_fixture(ban => check => \&check_retry_after);
}

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

# ---------------------------------------------------------------- checks

sub retry_after {
    my ($res) = @_;
    return undef unless $res;
    my @v = map { $_->[1] } grep { lc $_->[0] eq 'retry-after' }
            @{$res->{headers} || []};
    return @v == 1 ? $v[0] : undef;
}

# --- retry_after_decreasing, on the block's responses in the order sent
sub check_retry_after {
    my ($block, $responses) = @_;
    my $name = $block->name;
    for my $l (TG::block_lines($block, 'retry_after_decreasing')) {
        my ($i, $j) = $l =~ /^\s*(\d+)\s+(\d+)\s*$/
            or die "TG::Ban: bad retry_after_decreasing line: $l\n";
        my $a = retry_after($responses->[$i - 1]);
        my $b = retry_after($responses->[$j - 1]);
        TG::check(defined $a && defined $b && $a =~ /^\d+$/ && $b =~ /^\d+$/
                  && $b < $a,
                  "$name - Retry-After of request $j is smaller than of "
                  . "request $i",
                  'got ' . ($a // '<none>') . ' then ' . ($b // '<none>'));
    }
}

1;
