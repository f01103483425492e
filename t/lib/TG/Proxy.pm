package TG::Proxy;

# A TCP proxy inside the harness, between nginx and a Redis, that can cut
# the path without a close: what a host that vanishes, a cable pulled or a
# firewall that drops packets look like to nginx.  Load TG first.
#
#   my $p = TG::Proxy->start($redis->addr);   # forked, on a free 127.0.0.1 port
#   $p->addr, $p->port
#   $p->freeze            # every connection, open or new, stays open and
#                         # carries nothing more, either way (nothing is
#                         # closed, nothing answers)
#   $p->freeze('sub')     # only the connections that sent SUBSCRIBE: an
#                         # events link dies silently, command links live
#   $p->thaw              # frozen connections are dropped (as a host that
#                         # comes back has forgotten them); new ones flow
#   $p->drop              # every connection is closed at once (RST)
#   $p->stop
#
# Commands reach the forked proxy through a pipe, and are applied in order.

use strict;
use warnings;

use IO::Handle;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket ();
use Time::HiRes ();

sub start {
    my ($class, $target) = @_;
    TG::init_root();
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 64,
                                  ReuseAddr => 1)
        or die "TG::Proxy: listen: $!\n";
    pipe(my $rd, my $wr) or die "TG::Proxy: pipe: $!\n";
    my $pid = fork // die "TG::Proxy: fork: $!\n";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        setpgrp(0, 0);
        close $wr;
        _serve($l, $rd, $target);
        POSIX::_exit(0);
    }
    close $rd;
    $wr->autoflush(1);
    my $port = $l->sockport;
    close $l;
    TG::adopt($pid);
    return bless {pid => $pid, port => $port, ctl => $wr}, $class;
}

sub port { $_[0]{port} }
sub addr { '127.0.0.1:' . $_[0]{port} }

sub _say {
    my ($self, $what) = @_;
    print { $self->{ctl} } "$what\n";
    Time::HiRes::sleep(0.05);           # applied before the caller goes on
}

sub freeze { $_[0]->_say('freeze ' . ($_[1] // 'all')) }
sub thaw   { $_[0]->_say('thaw') }
sub drop   { $_[0]->_say('drop') }

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    close $self->{ctl};
    TG::stop_child($pid);
}

# ---------------------------------------------------------------- child

sub _serve {
    my ($l, $ctl, $target) = @_;
    my $sel = IO::Select->new($l, $ctl);
    my %peer;           # fileno => the other end
    my %sub;            # fileno (client side) => sent SUBSCRIBE
    my %frozen;         # fileno => socket, kept open, never read
    my $freeze = '';    # '', 'all' or 'sub'
    my $cbuf = '';

    my $close = sub {
        my ($s, $rst) = @_;
        $sel->remove($s);
        setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_LINGER(),
                   pack('ii', 1, 0)) if $rst;
        delete $sub{fileno $s};
        close $s;
    };
    my $pair_close = sub {
        my ($s, $rst) = @_;
        my $o = delete $peer{fileno $s};
        delete $peer{fileno $o} if $o;
        $close->($s, $rst);
        $close->($o, $rst) if $o;
    };
    my $hold = sub {
        my ($s) = @_;
        $sel->remove($s);
        $frozen{fileno $s} = $s;
    };

    while (1) {
        for my $s ($sel->can_read(1)) {
            if ($s == $ctl) {
                my $n = sysread($ctl, my $chunk, 4096);
                return unless $n;
                $cbuf .= $chunk;
                while ($cbuf =~ s/\A([^\n]*)\n//) {
                    my $cmd = $1;
                    if ($cmd =~ /^freeze (\w+)/) {
                        $freeze = $1;
                        for my $c (grep { $_ != $l && $_ != $ctl }
                                   $sel->handles) {
                            next unless defined fileno $c;
                            my $o = $peer{fileno $c};
                            my $is_sub = $sub{fileno $c}
                                || ($o && $sub{fileno $o});
                            $hold->($c) if $freeze eq 'all' || $is_sub;
                        }
                    } elsif ($cmd eq 'thaw') {
                        $freeze = '';
                        for my $s (values %frozen) {
                            delete $peer{fileno $s};
                            $close->($s, 0);
                        }
                        %frozen = ();
                    } elsif ($cmd eq 'drop') {
                        for my $c (grep { $_ != $l && $_ != $ctl }
                                   $sel->handles) {
                            next unless defined fileno $c;
                            $pair_close->($c, 1) if $peer{fileno $c};
                        }
                        $pair_close->($_, 1)
                            for grep { $peer{fileno $_} } values %frozen;
                        %frozen = ();
                    }
                }
                next;
            }
            if ($s == $l) {
                my $c = $l->accept or next;
                if ($freeze eq 'all') {
                    $frozen{fileno $c} = $c;      # accepted, never answered
                    next;
                }
                my $u = IO::Socket::INET->new(PeerAddr => $target,
                                              Proto => 'tcp', Timeout => 1);
                unless ($u) {
                    close $c;
                    next;
                }
                $peer{fileno $c} = $u;
                $peer{fileno $u} = $c;
                $sub{fileno $c} = 0;
                $sel->add($c, $u);
                next;
            }
            my $o = $peer{fileno $s};
            next unless $o;
            my $n = sysread($s, my $buf, 65536);
            unless ($n) {
                $pair_close->($s, 0);
                next;
            }
            if (exists $sub{fileno $s} && $buf =~ /SUBSCRIBE/i) {
                $sub{fileno $s} = 1;
                if ($freeze eq 'sub') {
                    $hold->($s);
                    $hold->($o);
                    next;
                }
            }
            my $off = 0;
            while ($off < $n) {
                my $w = syswrite($o, $buf, $n - $off, $off);
                last unless defined $w;
                $off += $w;
            }
        }
    }
}

1;
