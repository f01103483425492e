#!/usr/bin/env perl
# A tiny HTTP/1.0 and HTTP/1.1 backend for the tests.
#
#   mock_upstream.pl --port N --log FILE [--host 127.0.0.1]
#
# One forked child per connection.  Every request is appended to FILE as one
# JSON line {"method","uri","version","headers":[[name,value],...],"body"}
# BEFORE the response is sent, so whoever got the response can read the log.
# The answer is 200 application/json with that same JSON as body (so a human
# using curl sees what the backend saw); a path starting with /status/NNN
# answers NNN instead.  Always "Connection: close".

use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;
use JSON::PP;
use Fcntl qw(:flock O_WRONLY O_APPEND O_CREAT);
use POSIX ();

my ($port, $log, $host) = (undef, undef, '127.0.0.1');
GetOptions('port=i' => \$port, 'log=s' => \$log, 'host=s' => \$host)
    or die "usage: $0 --port N --log FILE\n";
die "usage: $0 --port N --log FILE\n" unless $port && defined $log;

my $json = JSON::PP->new->canonical->ascii;

my $srv = IO::Socket::INET->new(
    LocalAddr => $host,
    LocalPort => $port,
    Listen    => 128,
    ReuseAddr => 1,
    Proto     => 'tcp',
) or die "mock_upstream: cannot listen on $host:$port: $!\n";

$SIG{CHLD} = sub { 1 while waitpid(-1, POSIX::WNOHANG()) > 0 };
$SIG{TERM} = $SIG{INT} = sub { exit 0 };

while (1) {
    my $c = $srv->accept;
    unless ($c) {
        next if $!{EINTR};
        die "mock_upstream: accept: $!\n";
    }
    my $pid = fork;
    if (!defined $pid) {
        close $c;
        next;
    }
    if ($pid == 0) {
        close $srv;
        $SIG{CHLD} = 'DEFAULT';
        eval { serve($c) };
        POSIX::_exit(0);
    }
    close $c;
}

sub read_line {
    my ($c, $bufref) = @_;
    while (1) {
        my $i = index($$bufref, "\n");
        if ($i >= 0) {
            my $line = substr($$bufref, 0, $i + 1, '');
            $line =~ s/\r?\n\z//;
            return $line;
        }
        return undef unless fill($c, $bufref);
    }
}

sub read_n {
    my ($c, $bufref, $n) = @_;
    while (length($$bufref) < $n) {
        last unless fill($c, $bufref);
    }
    return substr($$bufref, 0, $n, '');
}

sub fill {
    my ($c, $bufref) = @_;
    my $rin = '';
    vec($rin, fileno($c), 1) = 1;
    my $n = select(my $rout = $rin, undef, undef, 10);
    return 0 unless $n && $n > 0;
    my $got = sysread($c, my $chunk, 65536);
    return 0 unless $got;
    $$bufref .= $chunk;
    return 1;
}

sub serve {
    my ($c) = @_;
    binmode $c;
    my $buf = '';

    my $line = read_line($c, \$buf);
    return unless defined $line;
    my ($method, $uri, $version) = split / /, $line, 3;
    $version //= 'HTTP/0.9';

    my @headers;
    while (defined(my $h = read_line($c, \$buf))) {
        last if $h eq '';
        my ($name, $value) = $h =~ /^([^:]*):[ \t]*(.*?)[ \t]*\z/s
            or next;
        push @headers, [$name, $value];
    }

    my ($cl, $te);
    for my $h (@headers) {
        $cl = $h->[1] if lc $h->[0] eq 'content-length';
        $te = $h->[1] if lc $h->[0] eq 'transfer-encoding';
    }

    my $body = '';
    if (defined $te && $te =~ /chunked/i) {
        while (defined(my $size = read_line($c, \$buf))) {
            $size =~ s/;.*//;
            my $n = hex $size;
            if ($n == 0) {
                while (defined(my $t = read_line($c, \$buf))) {
                    last if $t eq '';
                }
                last;
            }
            $body .= read_n($c, \$buf, $n);
            read_line($c, \$buf);
        }
    } elsif (defined $cl && $cl =~ /^\d+$/) {
        $body = read_n($c, \$buf, $cl);
    }

    my $rec = $json->encode({
        method  => $method,
        uri     => $uri,
        version => $version,
        headers => \@headers,
        body    => $body,
    });

    if (sysopen(my $fh, $log, O_WRONLY | O_APPEND | O_CREAT, 0644)) {
        flock($fh, LOCK_EX);
        syswrite($fh, "$rec\n");
        flock($fh, LOCK_UN);
        close $fh;
    }

    my $status = 200;
    $status = $1 if $uri =~ m{^/status/(\d{3})(?:[/?]|\z)};
    my %reason = (200 => 'OK', 201 => 'Created', 204 => 'No Content',
                  301 => 'Moved Permanently', 302 => 'Found',
                  400 => 'Bad Request', 401 => 'Unauthorized',
                  403 => 'Forbidden', 404 => 'Not Found',
                  429 => 'Too Many Requests', 500 => 'Internal Server Error',
                  502 => 'Bad Gateway', 503 => 'Service Unavailable');
    my $reason = $reason{$status} // 'Status';
    my $out = $status == 204 || $status == 304 || $method eq 'HEAD' ? '' : $rec;
    my $resp = "HTTP/1.1 $status $reason\r\n"
             . "Content-Type: application/json\r\n"
             . "Content-Length: " . length($out) . "\r\n"
             . "Connection: close\r\n"
             . "X-Mock-Upstream: 1\r\n"
             . "\r\n"
             . $out;
    my $off = 0;
    while ($off < length $resp) {
        my $w = syswrite($c, $resp, length($resp) - $off, $off);
        last unless $w;
        $off += $w;
    }
    shutdown($c, 1);
    # drain briefly so the peer does not see a reset
    my $rin = '';
    vec($rin, fileno($c), 1) = 1;
    select(my $rout = $rin, undef, undef, 0.2) and sysread($c, my $junk, 65536);
    close $c;
}
