package TG::IdP;

# A mock identity provider for the tenant_guard_keys_url tests: an HTTPS
# server on loopback (IO::Socket::SSL) with a certificate of its own CA,
# made here with openssl, that nginx verifies (proxy_ssl_verify on,
# proxy_ssl_trusted_certificate $idp->ca).  Load TG first ("use TG;").
#
#   my $idp = TG::IdP->start;
#   $idp->port, $idp->ca (the CA certificate's path)
#   $idp->keys(qw(rsa1 ec256))  the JWKS it serves: those keys of
#                               TG's jwks.json, by kid
#   $idp->mode('ok')            how it answers each request, read anew
#                               per request:
#       ok            200, the JWKS (with Cache-Control if ->cache_control)
#       status:N      N, a small JSON body
#       hang          reads the request, never answers
#       delay:S       the JWKS after S seconds
#       garbage       200, not JSON
#       gzip          200, the JWKS gzip-compressed, Content-Encoding: gzip
#       gzip_bare     200, the JWKS gzip-compressed, no Content-Encoding
#       big:N         200, the JWKS padded to N bytes (still valid JSON)
#       oct           200, a JWKS with an "oct" key
#       ec384         200, a JWKS of the ES384 key only
#       empty         200, {"keys":[]}
#   $idp->cache_control('max-age=2')   ('' for none)
#   $idp->count                 requests it has read
#   $idp->requests              each: {method, uri, headers => {lc name =>
#                               [values]}, body}
#   $idp->wait_count(N, SECONDS)
#   $idp->stop

use strict;
use warnings;

use File::Path ();
use IO::Compress::Gzip ();
use IO::Socket::INET ();
use IO::Socket::SSL ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();
use Fcntl qw(:flock);

my $JSON = JSON::PP->new->canonical;
my $SEQ = 0;

sub start {
    my ($class, %o) = @_;
    my $dir = sprintf '%s/idp-%02d', TG::init_root(), ++$SEQ;
    File::Path::make_path($dir);
    my $self = bless {dir => $dir}, $class;
    $self->make_certs;
    $self->keys(@{$o{keys} || ['rsa1']});
    $self->mode($o{mode} // 'ok');
    $self->cache_control($o{cache_control} // '');
    open my $fh, '>', "$dir/requests.log" or die "idp: $!\n";
    close $fh;

    my $srv;
    for (1 .. 20) {
        my $port = TG::free_port();
        $srv = IO::Socket::SSL->new(
            LocalAddr     => '127.0.0.1',
            LocalPort     => $port,
            Listen        => 64,
            ReuseAddr     => 1,
            SSL_server    => 1,
            SSL_cert_file => "$dir/server.crt",
            SSL_key_file  => "$dir/server.key",
            SSL_startHandshake => 0,
        );
        if ($srv) {
            $self->{port} = $port;
            last;
        }
    }
    die "idp: cannot listen: $IO::Socket::SSL::SSL_ERROR $!\n" unless $srv;

    my $pid = fork // die "idp: fork: $!\n";
    if ($pid == 0) {
        setpgrp(0, 0);
        $SIG{CHLD} = 'IGNORE';
        while (1) {
            my $c = $srv->accept or next;
            my $child = fork;
            if (defined $child && $child == 0) {
                close $srv;
                $self->serve($c);
                POSIX::_exit(0);
            }
            close $c;
        }
    }
    close $srv;
    TG::adopt($pid, TERM => 2);
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }
sub ca   { "$_[0]{dir}/ca.crt" }
sub dir  { $_[0]{dir} }

sub make_certs {
    my ($self) = @_;
    my $d = $self->{dir};
    open my $fh, '>', "$d/ext.cnf" or die;
    print $fh "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
            . "basicConstraints=CA:FALSE\n";
    close $fh;
    my @cmds = (
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tg-test-ca"
        . " -keyout $d/ca.key -out $d/ca.crt",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost"
        . " -keyout $d/server.key -out $d/server.csr",
        "openssl x509 -req -in $d/server.csr -CA $d/ca.crt -CAkey $d/ca.key"
        . " -CAcreateserial -days 2 -extfile $d/ext.cnf -out $d/server.crt",
    );
    for my $cmd (@cmds) {
        system("$cmd >>$d/openssl.log 2>&1") == 0
            or die "idp: $cmd failed: " . TG::slurp("$d/openssl.log") . "\n";
    }
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $path = "$self->{dir}/$name";
    open my $fh, '>', "$path.tmp" or die "idp: $!\n";
    binmode $fh;
    print $fh $content;
    close $fh;
    rename "$path.tmp", $path or die "idp: $!\n";
}

sub read_file {
    my ($self, $name) = @_;
    return TG::slurp("$self->{dir}/$name");
}

sub all_keys {
    my $jwks = $JSON->decode(TG::slurp(TG::keys_dir() . '/jwks.json'));
    return {map { ($_->{kid} => $_) } @{$jwks->{keys}}};
}

sub keys {
    my ($self, @kids) = @_;
    my $all = all_keys();
    my @keys = map { $all->{$_} // die "idp: no key $_\n" } @kids;
    $self->write_file('jwks.json', $JSON->encode({keys => \@keys}));
}

sub mode          { $_[0]->write_file('mode', $_[1]) }
sub cache_control { $_[0]->write_file('cache_control', $_[1]) }

sub requests {
    my ($self) = @_;
    return [map { $JSON->decode($_) }
            grep { length } split /\n/, TG::slurp("$self->{dir}/requests.log")];
}

sub count { scalar @{$_[0]->requests} }

sub wait_count {
    my ($self, $n, $secs) = @_;
    my $deadline = Time::HiRes::time() + ($secs // 5);
    while (Time::HiRes::time() < $deadline) {
        return 1 if $self->count >= $n;
        Time::HiRes::sleep(0.02);
    }
    return 0;
}

# the hardened location nginx fetches the JWKS through (README's example)
sub location {
    my ($self, %o) = @_;
    my $path = $o{path} // '/_jwks';
    my $timeout = $o{timeout} // '2s';
    my $buffer = $o{buffer} // '64k';
    my $extra = $o{extra} // '';
    return <<"EOF_LOC";
location = $path {
    internal;
    proxy_pass https://127.0.0.1:$self->{port}/realms/acme/protocol/openid-connect/certs;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $self->{dir}/ca.crt;
    proxy_ssl_name localhost;
    proxy_ssl_server_name on;
    proxy_set_header Accept-Encoding "";
    proxy_connect_timeout $timeout;
    proxy_send_timeout $timeout;
    proxy_read_timeout $timeout;
    subrequest_output_buffer_size $buffer;
    $extra
}
EOF_LOC
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill "TERM", -$pid;         # its connections too (a hanging answer)
    TG::stop_child($pid);
}

# Sends every raw request on a connection of its own before reading any
# answer, so that nginx has them all at once; returns the statuses.
sub parallel {
    my ($port, @raw) = @_;
    my @socks;
    for my $raw (@raw) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 5)
            or die "idp: connect: $!\n";
        push @socks, $s;
    }
    for my $i (0 .. $#raw) {
        syswrite($socks[$i], $raw[$i]);
    }
    my @status;
    for my $s (@socks) {
        my $res = '';
        my $deadline = Time::HiRes::time() + 10;
        while (Time::HiRes::time() < $deadline) {
            my $rin = '';
            vec($rin, fileno($s), 1) = 1;
            select(my $rout = $rin, undef, undef, 0.2) or next;
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $res .= $buf;
        }
        push @status, $res =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
        close $s;
    }
    return @status;
}

# one connection, in a child of its own: read, log, answer per the mode
sub serve {
    my ($self, $c) = @_;
    $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 60;
    IO::Socket::SSL->start_SSL($c, SSL_server => 1,
                               SSL_cert_file => "$self->{dir}/server.crt",
                               SSL_key_file  => "$self->{dir}/server.key")
        or return;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($c, my $buf, 4096);
        return unless $n;
        $head .= $buf;
    }
    my ($h, $body) = split /\r\n\r\n/, $head, 2;
    my ($line, @lines) = split /\r\n/, $h;
    my ($method, $uri) = split / /, $line;
    my %headers;
    for (@lines) {
        my ($k, $v) = split /:\s*/, $_, 2;
        push @{$headers{lc $k}}, $v;
    }
    my $len = $headers{'content-length'} ? $headers{'content-length'}[0] : 0;
    while (length($body) < $len) {
        my $n = sysread($c, my $buf, 4096);
        last unless $n;
        $body .= $buf;
    }

    my $rec = $JSON->encode({method => $method, uri => $uri,
                             headers => \%headers, body => $body});
    open my $log, '>>', "$self->{dir}/requests.log" or die;
    flock $log, LOCK_EX;
    print $log "$rec\n";
    close $log;

    my $mode = $self->read_file('mode');
    my $jwks = $self->read_file('jwks.json');
    my $cc = $self->read_file('cache_control');
    my ($status, @extra) = (200);

    if ($mode eq 'hang') {
        sleep 60;
        return;
    } elsif ($mode =~ /^delay:([\d.]+)$/) {
        Time::HiRes::sleep($1);
    } elsif ($mode =~ /^status:(\d+)$/) {
        $status = $1;
        $jwks = '{"error":"unavailable"}';
    } elsif ($mode eq 'garbage') {
        $jwks = "<html>this is not a key set</html>\n";
    } elsif ($mode eq 'gzip' || $mode eq 'gzip_bare') {
        my $z;
        IO::Compress::Gzip::gzip(\$jwks => \$z) or die;
        $jwks = $z;
        push @extra, 'Content-Encoding: gzip' if $mode eq 'gzip';
    } elsif ($mode =~ /^big:(\d+)$/) {
        my $doc = $JSON->decode($jwks);
        $doc->{pad} = '';
        my $base = length $JSON->encode($doc);
        $doc->{pad} = 'x' x ($1 - $base) if $1 > $base;
        $jwks = $JSON->encode($doc);
    } elsif ($mode eq 'oct') {
        my $doc = $JSON->decode($jwks);
        push @{$doc->{keys}}, {kty => 'oct', kid => 'shared', alg => 'HS256',
                               k => TG::b64url('s' x 32)};
        $jwks = $JSON->encode($doc);
    } elsif ($mode eq 'ec384') {
        $jwks = $JSON->encode({keys => [all_keys()->{ec384}]});
    } elsif ($mode eq 'empty') {
        $jwks = '{"keys":[]}';
    }

    push @extra, "Cache-Control: $cc" if length $cc;
    my $reason = $status == 200 ? 'OK' : 'Status';
    my $res = "HTTP/1.1 $status $reason\r\nContent-Type: application/json\r\n"
            . 'Content-Length: ' . length($jwks) . "\r\n"
            . join('', map { "$_\r\n" } @extra)
            . "Connection: close\r\n\r\n$jwks";
    my $off = 0;
    while ($off < length $res) {
        my $w = syswrite($c, $res, length($res) - $off, $off);
        last unless $w;
        $off += $w;
    }
    $c->close(SSL_fast_shutdown => 1);
}

1;
