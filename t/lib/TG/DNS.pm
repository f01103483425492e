package TG::DNS;

# A tiny DNS server for the resolver tests (t/107-redis-resolver.t): a forked
# UDP responder on a free 127.0.0.1 port that answers A queries with the
# address written in its answer file, read at each query, so a test can
# change it while nginx runs.
#
#   my $d = TG::DNS->start('127.0.0.2');   # or 'nxdomain': every name unknown
#   $d->port, $d->addr ("127.0.0.1:PORT")
#   $d->answer('127.0.0.3')                # from the next query on
#   $d->queries                            # the names asked so far (A and
#                                          # AAAA); their number in scalar
#                                          # context
#   $d->stop
#
# Any name gets the answer, with TTL 0; AAAA gets an empty NOERROR answer.

use strict;
use warnings;

use IO::Socket::INET;
use POSIX ();
use Socket ();

my $N = 0;

sub start {
    my ($class, $answer) = @_;
    TG::init_root();
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'udp')
        or die "TG::DNS: bind: $!\n";
    my $base = sprintf '%s/dns-%d-%d', $TG::ROOT, $$, ++$N;
    my $self = bless {port => $s->sockport, answer => "$base.answer",
                      log => "$base.log"}, $class;
    $self->answer($answer);
    open my $fh, '>', $self->{log} or die "TG::DNS: $self->{log}: $!\n";
    close $fh;
    my $pid = fork // die "TG::DNS: fork: $!\n";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        setpgrp(0, 0);
        _serve($s, $self);
        POSIX::_exit(0);
    }
    close $s;
    TG::adopt($pid);
    $self->{pid} = $pid;
    return $self;
}

sub port { $_[0]{port} }
sub addr { '127.0.0.1:' . $_[0]{port} }

sub answer {
    my ($self, $answer) = @_;
    open my $fh, '>', "$self->{answer}.tmp" or die "TG::DNS: answer: $!\n";
    print $fh $answer;
    close $fh;
    rename "$self->{answer}.tmp", $self->{answer};
}

sub queries {
    my ($self) = @_;
    my @names = TG::slurp($self->{log}) =~ /^query (\S+) \S+$/mg;
    return @names;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    TG::stop_child($pid);
}

sub _serve {
    my ($s, $self) = @_;
    open my $lf, '>>', $self->{log} or POSIX::_exit(1);
    $lf->autoflush(1);
    while (1) {
        my $peer = $s->recv(my $q, 512) // next;
        next if length $q < 17;
        my ($id, $flags, $qd) = unpack 'n n n', $q;
        next if $flags & 0x8000 || $qd != 1;
        # the question: labels, type, class
        my ($off, @labels) = (12);
        while ($off < length $q) {
            my $len = ord substr($q, $off, 1);
            $off++;
            last if $len == 0;
            push @labels, substr($q, $off, $len);
            $off += $len;
        }
        next if $off + 4 > length $q;
        my ($type) = unpack 'n', substr($q, $off, 2);
        my $question = substr($q, 12, $off + 4 - 12);
        my $name = lc join '.', @labels;
        printf $lf "query %s %s\n", $name, $type == 1 ? 'A' : $type;
        open my $af, '<', $self->{answer} or next;
        my $answer = <$af>;
        close $af;
        my ($rcode, @rr) = (0);
        if ($answer eq 'nxdomain') {
            $rcode = 3;
        } elsif ($type == 1) {
            push @rr, pack('n n n N n', 0xc00c, 1, 1, 0, 4)
                      . Socket::inet_aton($answer);
        }
        my $head = pack 'n n n n n n', $id, 0x8180 | $rcode, 1, scalar @rr,
                        0, 0;
        $s->send($head . $question . join('', @rr), 0, $peer);
    }
}

1;
