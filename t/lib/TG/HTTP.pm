package TG::HTTP;

# A raw-socket HTTP/1.1 client: the request line and headers are sent exactly
# as written (no path normalisation), the response is read until the server
# closes the connection.

use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes ();

# build(request_section, more_headers_text) -> raw request bytes
sub build {
    my ($request, $more) = @_;
    my ($line, $body) = split /\n/, $request, 2;
    $line =~ s/\r\z//;
    $line =~ s/^\s+|\s+$//g;
    $line .= ' HTTP/1.1' unless $line =~ m{ HTTP/\d\.\d\z};
    if (defined $body) {
        $body =~ s/\n\z//;
        undef $body if $body eq '';
    }

    my @h;
    for my $l (split /\n/, $more // '') {
        $l =~ s/\r\z//;
        next if $l eq '';
        push @h, $l;
    }
    my %have = map { /^([^:]+):/ ? (lc $1 => 1) : () } @h;
    my $v10 = $line =~ m{ HTTP/1\.0\z};
    unshift @h, 'Host: localhost' unless $have{host} || $v10;
    push @h, 'Connection: close' unless $have{connection};
    push @h, 'Content-Length: ' . length($body)
        if defined $body && !$have{'content-length'}
           && !$have{'transfer-encoding'};

    return join('', map { "$_\r\n" } $line, @h) . "\r\n" . ($body // '');
}

# send(port, raw, timeout) -> { status, headers => [[n,v]...], body, raw,
#                                error }
sub send_request {
    my ($port, $raw, $timeout) = @_;
    $timeout //= 10;
    my $res = {status => undef, headers => [], body => '', raw => ''};

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $timeout);
    unless ($s) {
        $res->{error} = "connect to 127.0.0.1:$port failed: $!";
        return $res;
    }
    binmode $s;
    my $off = 0;
    while ($off < length $raw) {
        my $w = syswrite($s, $raw, length($raw) - $off, $off);
        unless ($w) {
            $res->{error} = "write failed: $!";
            last;
        }
        $off += $w;
    }

    my $deadline = Time::HiRes::time() + $timeout;
    my $buf = '';
    while (1) {
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0) {
            $res->{error} = "timeout after ${timeout}s reading the response";
            last;
        }
        my $rin = '';
        vec($rin, fileno($s), 1) = 1;
        my $n = select(my $rout = $rin, undef, undef, $left);
        next if $n < 0 && $!{EINTR};
        next unless $n;
        my $got = sysread($s, my $chunk, 65536);
        last unless $got;    # EOF (or reset)
        $buf .= $chunk;
        last if complete($buf);
    }
    close $s;
    $res->{raw} = $buf;
    parse($buf, $res);
    return $res;
}

# true when the buffer holds a whole response with a known length
sub complete {
    my ($buf) = @_;
    my $i = index($buf, "\r\n\r\n");
    return 0 if $i < 0;
    my $head = substr($buf, 0, $i);
    my $blen = length($buf) - $i - 4;
    if ($head =~ /^Content-Length:\s*(\d+)/mi) {
        return $blen >= $1;
    }
    return 0;
}

sub parse {
    my ($buf, $res) = @_;
    my $i = index($buf, "\r\n\r\n");
    if ($i < 0) {
        $res->{error} //= 'no complete response header'
            . (length $buf ? '' : ' (connection closed without a response)');
        return;
    }
    my $head = substr($buf, 0, $i);
    my $body = substr($buf, $i + 4);
    my ($status_line, @lines) = split /\r\n/, $head;
    if ($status_line =~ m{^HTTP/\d\.\d (\d{3})}) {
        $res->{status} = $1;
    } else {
        $res->{error} //= "bad status line: $status_line";
    }
    for my $l (@lines) {
        if ($l =~ /^([^:]+):[ \t]*(.*?)[ \t]*\z/) {
            push @{$res->{headers}}, [$1, $2];
        }
    }
    my ($te) = header_values($res, 'Transfer-Encoding');
    if (defined $te && $te =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/\A\r\n//;
        }
        $body = $out;
    }
    $res->{body} = $body;
}

sub header_values {
    my ($res, $name) = @_;
    return map { $_->[1] } grep { lc $_->[0] eq lc $name } @{$res->{headers}};
}

1;
