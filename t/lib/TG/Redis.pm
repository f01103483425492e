package TG::Redis;

# Helpers for the Redis-mode tests (t/100-redis.t, t/101-redis-failure.t,
# t/102-redis-cluster.t), on top of t/lib/TG.pm.  Load TG first ("use TG;").
#
# A real Redis:
#
#   my $r = TG::Redis->start(password => 'pw');   # redis-server on a free
#       127.0.0.1 port, --save '' --appendonly no, its own temp dir
#       (host => '127.0.0.2': bound to that loopback address instead;
#       port => N: that port)
#   $r->port, $r->addr ("127.0.0.1:PORT"), $r->pid, $r->running
#   $r->cmd(@args)          one command on the helper's own connection (RESP,
#                           AUTH'd); dies on an error reply, see ->try
#   $r->try(@args)          (1, value) or (0, error text)
#   $r->flushall, $r->publish($key)  (PUBLISH tg:events KEY, or ->publish($key,
#                           $channel)), $r->set_policy($ws, %fields),
#   $r->revoke($jti), $r->put_token($token, \%record), $r->key_of_token($t)
#   $r->wait_links(clients => N, subscribers => M [, channel =>, db =>])
#                           poll CLIENT LIST / PUBSUB NUMSUB until nginx's
#                           links are there
#   $r->monitor / $r->monitor_lines / $r->monitor_stop
#                           what Redis executed meanwhile (MONITOR), less
#                           the links' own: liveness PINGs (a bare "PING")
#                           and the SCAN of the bans at subscribe
#   $r->stop (TERM), $r->kill (KILL), $r->restart (same port), $r->pause
#                           (SIGSTOP: connections stay open, nothing answers),
#                           $r->resume (SIGCONT)
#
# A fake Redis inside the harness (a forked TCP responder):
#
#   my $f = TG::Redis::Fake->start('blackhole');  # accepts, reads, never answers
#   my $f = TG::Redis::Fake->start('garbage');    # answers every read with junk
#   my $f = TG::Redis::Fake->start('close');      # reads the first command
#                                                 # (logged), closes
#   my $f = TG::Redis::Fake->start('script', {CMD => $bytes, '*' => $bytes,
#             late => $bytes, late_after => SECONDS});
#                           # parses the commands (RESP arrays) and answers
#                           # each with the bytes given for its name (any
#                           # number of replies, or none), '*' for the rest;
#                           # by default PING +PONG, AUTH and SELECT +OK,
#                           # SUBSCRIBE a proper ack, the rest :0; "late" is
#                           # sent once per connection, late_after (0.2s)
#                           # after its first answer, unasked
#   $f->commands            # the names of the commands it read, in order
#   $f->port, $f->addr, $f->accepted (connections accepted so far),
#   $f->accept_times, $f->first_times('PING'), $f->reads, $f->stop
#
# An nginx of its own (several may run at once, unlike a block's):
#
#   my $n = TG::Redis::Nginx->new(name => 'a', http_config => ..., config =>
#             ..., main_config => ..., workers => N, log_level => 'info',
#             policy => \%policy_file_or_text);
#   $n->start  (dies when nginx does not start), $n->stop, $n->port
#   $n->get($path, @header_lines)   -> response hash of TG::HTTP, plus
#                           {elapsed} (seconds) and {json} (decoded body)
#   $n->error_log, $n->mark, $n->log_since($mark)
#   $n->wait_log($regex, $seconds [, $mark])
#   $n->bad_log_lines       [alert]/[crit]/[emerg]/AddressSanitizer lines
#   $n->upstream_since($off), TG::upstream_size()
#
# Checks for plain Test::More files:
#
#   TG::Redis::refused($res, $status, $code, $name [, $description])
#       status, Content-Type application/json, {"error": $code,
#       "error_description": non-empty (or exactly $description)}
#   TG::Redis::passed($res, $name, %upstream_headers)
#       200 from the mock upstream, which saw exactly those headers
#   TG::Redis::poll(sub { done }, $seconds [, $every])
#       seconds until done, or undef
#
# And a fixture for Test::Base blocks (run by TG's run_tests):
#
#   TG::Redis::fixture($redis, %servers)   the blocks of this file get
#       * FLUSHALL of $redis (and of each of %servers) before every block;
#       * $TEST_NGINX_REDIS (127.0.0.1:PORT of $redis) and
#         $TEST_NGINX_REDIS_<NAME> (of $servers{NAME}) in the config sections
#         and the error_log sections;
#       * a "--- redis eval" section runs (after the FLUSHALL) before nginx
#         starts: put keys there;
#       * before the first request, waits until nginx's Redis links are up
#         (unless "--- no_redis_wait"; "--- redis_links: N" the command links
#         to wait for, default the number of workers).
#   (--- policy comes from TG::Policy; "before" and "max_time" in a request
#   hash are TG's.)

use strict;
use warnings;
no warnings qw(exec once);

use Digest::SHA ();
use File::Path ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Socket ();
use Test::More ();
use Time::HiRes ();

our $SERVER = $ENV{TG_REDIS_SERVER} // '/usr/bin/redis-server';
our $JSON = JSON::PP->new->canonical;

my $N = 0;

sub available { return -x $SERVER }

sub sha256_hex { return Digest::SHA::sha256_hex($_[0]) }

# ---------------------------------------------------------------- server

sub start {
    my ($class, %o) = @_;
    TG::init_root();
    my $dir = sprintf '%s/redis-%d', $TG::ROOT, ++$N;
    File::Path::mkpath($dir);
    my $self = bless {
        dir      => $dir,
        password => $o{password},
        extra    => $o{args} || [],
        port     => $o{port},
        host     => $o{host} // '127.0.0.1',
    }, $class;
    $self->_spawn(!defined $o{port});
    return $self;
}

sub port     { $_[0]{port} }
sub addr     { "$_[0]{host}:$_[0]{port}" }
sub pid      { $_[0]{pid} }
sub dir      { $_[0]{dir} }
sub password { $_[0]{password} }
sub running  { defined $_[0]{pid} }

sub _spawn {
    my ($self, $any_port) = @_;
    my $why = '';
    for my $try (1 .. ($any_port ? 5 : 1)) {
        $self->{port} = TG::free_port() if $any_port;
        my @args = ('--port', $self->{port}, '--bind', $self->{host},
                    '--save', '', '--appendonly', 'no',
                    '--dir', $self->{dir}, '--daemonize', 'no',
                    '--logfile', "$self->{dir}/redis.log",
                    '--protected-mode', 'no');
        push @args, '--requirepass', $self->{password}
            if defined $self->{password};
        push @args, @{$self->{extra}};
        # ready when it answers PING; a paused one is woken up to stop
        ($self->{pid}, $why) = TG::spawn(
            cmd   => [$SERVER, @args],
            out   => "$self->{dir}/redis.out",
            ready => sub { $self->_pong },
            wait  => 10,
            stop  => [CONT => 0, TERM => 5]);
        return $self if $self->{pid};
        $why = "redis-server $why: " . TG::slurp("$self->{dir}/redis.log");
    }
    die "TG::Redis: cannot start redis-server: $why\n";
}

sub _pong {
    my ($self) = @_;
    my ($k, $v) = eval { $self->_connect(0.5); $self->try('PING') };
    return 1 if $k && $v eq 'PONG';
    $self->_drop;
    return 0;
}

# SIGTERM, then wait
sub stop {
    my ($self) = @_;
    $self->_drop;
    my $pid = delete $self->{pid} or return;
    TG::stop_child($pid);
}

# SIGKILL: the connections are reset at once
sub kill {
    my ($self) = @_;
    $self->_drop;
    my $pid = delete $self->{pid} or return;
    CORE::kill 'KILL', $pid;
    TG::stop_child($pid);
}

# start again, on the same port and with the same options (empty)
sub restart {
    my ($self) = @_;
    $self->kill if $self->{pid};
    $self->_spawn(0);
    return $self;
}

sub pause  { my ($s) = @_; CORE::kill 'STOP', $s->{pid} if $s->{pid}; $s->_drop }
sub resume { my ($s) = @_; CORE::kill 'CONT', $s->{pid} if $s->{pid} }

# ---------------------------------------------------------------- RESP

sub _drop {
    my ($self) = @_;
    close $self->{sock} if $self->{sock};
    delete $self->{sock};
    delete $self->{rbuf};
}

sub _connect {
    my ($self, $timeout) = @_;
    return if $self->{sock};
    my $s = IO::Socket::INET->new(PeerAddr => $self->{host},
                                  PeerPort => $self->{port}, Proto => 'tcp',
                                  Timeout => $timeout // 2)
        or die "TG::Redis: connect to $self->{port}: $!\n";
    binmode $s;
    $self->{sock} = $s;
    $self->{rbuf} = '';
    if (defined $self->{password}) {
        my ($ok, $v) = $self->_call('AUTH', $self->{password});
        die "TG::Redis: AUTH: $v\n" unless $ok;
    }
}

sub encode_cmd {
    my (@a) = @_;
    return '*' . @a . "\r\n"
           . join('', map { '$' . length($_) . "\r\n$_\r\n" } @a);
}

sub _fill {
    my ($self, $deadline) = @_;
    my $sel = IO::Select->new($self->{sock});
    while (1) {
        my $left = $deadline - Time::HiRes::time();
        die "TG::Redis: no answer from port $self->{port}\n" if $left <= 0;
        next unless $sel->can_read($left);
        my $n = sysread($self->{sock}, my $chunk, 65536);
        die "TG::Redis: connection to port $self->{port} closed\n" unless $n;
        $self->{rbuf} .= $chunk;
        return;
    }
}

sub _line {
    my ($self, $deadline) = @_;
    while ((my $i = index($self->{rbuf}, "\r\n")) < 0) {
        $self->_fill($deadline);
    }
    my $i = index($self->{rbuf}, "\r\n");
    my $l = substr($self->{rbuf}, 0, $i + 2, '');
    $l =~ s/\r\n\z//;
    return $l;
}

# one reply: (ok, value); value: string, integer, undef (nil), array ref
sub _reply {
    my ($self, $deadline) = @_;
    my $l = $self->_line($deadline);
    my $t = substr($l, 0, 1, '');
    return (1, $l) if $t eq '+' || $t eq ':';
    return (0, $l) if $t eq '-';
    if ($t eq '$') {
        return (1, undef) if $l < 0;
        $self->_fill($deadline) while length($self->{rbuf}) < $l + 2;
        my $v = substr($self->{rbuf}, 0, $l + 2, '');
        return (1, substr($v, 0, $l));
    }
    if ($t eq '*') {
        return (1, undef) if $l < 0;
        my @a;
        for (1 .. $l) {
            my ($ok, $v) = $self->_reply($deadline);
            push @a, $v;
        }
        return (1, \@a);
    }
    die "TG::Redis: bad reply type '$t'\n";
}

sub _call {
    my ($self, @a) = @_;
    my $raw = encode_cmd(@a);
    my $off = 0;
    while ($off < length $raw) {
        my $w = syswrite($self->{sock}, $raw, length($raw) - $off, $off);
        die "TG::Redis: write: $!\n" unless $w;
        $off += $w;
    }
    return $self->_reply(Time::HiRes::time() + 5);
}

sub try {
    my ($self, @a) = @_;
    my @r = eval { $self->_connect; $self->_call(@a) };
    if ($@) {
        $self->_drop;
        return (0, "$@");
    }
    return @r;
}

sub cmd {
    my ($self, @a) = @_;
    my ($ok, $v) = $self->try(@a);
    die "TG::Redis: @a[0 .. ($#a < 2 ? $#a : 2)]: $v\n" unless $ok;
    return $v;
}

# ---------------------------------------------------------------- data

sub flushall { $_[0]->cmd('FLUSHALL') }

sub publish {
    my ($self, $key, $channel) = @_;
    return $self->cmd('PUBLISH', $channel // 'tg:events', $key);
}

# set_policy($ws, ipPolicy => {...}, mfa => {...}, ..., [db => N,
# prefix => 'tg:']): the hash replaced; a value that is not a reference is
# stored as it is (for invalid JSON)
sub set_policy {
    my ($self, $ws, %f) = @_;
    my $db = delete $f{db};
    my $prefix = delete $f{prefix} // 'tg:';
    $self->cmd('SELECT', $db) if defined $db;
    $self->cmd('DEL', "${prefix}ws:$ws");
    $self->cmd('HSET', "${prefix}ws:$ws",
               map { ($_ => ref $f{$_} ? $JSON->encode($f{$_}) : $f{$_}) }
               sort keys %f) if %f;
    $self->cmd('SELECT', 0) if defined $db;
}

sub revoke {
    my ($self, $jti, $prefix) = @_;
    $self->cmd('SET', ($prefix // 'tg:') . "revoked:$jti", '1', 'EX', 3600);
}

sub key_of_token { return 'tg:token:' . sha256_hex($_[1]) }

# an opaque token's record; exp defaults to now + 3600
sub put_token {
    my ($self, $token, $rec, $ttl) = @_;
    my $v = ref $rec ? $JSON->encode({iat => time, exp => time + 3600, %$rec})
                     : $rec;
    $self->cmd('SET', $self->key_of_token($token), $v, 'EX', $ttl // 3600);
}

# a random opaque token (no dots)
sub opaque_token {
    my $t = 'op_';
    $t .= sprintf '%02x', int rand 256 for 1 .. 24;
    return $t;
}

# CLIENT LIST without the helper's own connection
sub clients {
    my ($self) = @_;
    my $me = $self->cmd('CLIENT', 'ID');
    my $list = $self->cmd('CLIENT', 'LIST');
    my @c;
    for my $l (split /\n/, $list) {
        my %f = map { /^([^=]+)=(.*)$/ ? ($1 => $2) : () } split / /, $l;
        next if !defined $f{id} || $f{id} == $me;
        push @c, \%f;
    }
    return @c;
}

# wait until Redis sees N command links (that sent their PING, or SELECT)
# and M subscribers on the channel; returns true when they are there
sub wait_links {
    my ($self, %o) = @_;
    my $want = $o{clients} // 1;
    my $subs = $o{subscribers} // 1;
    my $channel = $o{channel} // 'tg:events';
    my $deadline = Time::HiRes::time() + ($o{timeout} // 5);
    while (Time::HiRes::time() < $deadline) {
        my @c = grep { ($_->{cmd} // '') !~ /^(subscribe|monitor|NULL)$/i
                       && ($_->{flags} // '') !~ /[PO]/ } $self->clients;
        my $n = $self->cmd('PUBSUB', 'NUMSUB', $channel);
        if (@c >= $want && $n->[1] >= $subs) {
            # the PING's reply may still be on its way to nginx
            Time::HiRes::sleep(0.05);
            return 1;
        }
        Time::HiRes::sleep(0.02);
    }
    return 0;
}

# MONITOR on a connection of its own: what Redis executes from now on
sub monitor {
    my ($self) = @_;
    my $m = bless { port => $self->{port}, password => $self->{password},
                    host => $self->{host} },
                  ref $self;
    $m->_connect;
    my ($ok, $v) = $m->_call('MONITOR');
    die "TG::Redis: MONITOR: $v\n" unless $ok;
    $self->{mon} = $m;
    return $m;
}

# the commands MONITOR saw so far (lines), without those of this helper's
# own connections
sub monitor_lines {
    my ($self, $wait) = @_;
    my $m = $self->{mon} or return ();
    Time::HiRes::sleep($wait) if $wait;
    my $sel = IO::Select->new($m->{sock});
    while ($sel->can_read(0.05)) {
        my $n = sysread($m->{sock}, my $chunk, 65536);
        last unless $n;
        $m->{rbuf} .= $chunk;
    }
    my @l;
    push @l, $1 while $m->{rbuf} =~ s/\A\+([^\r\n]*)\r\n//;
    push @{$self->{mon_lines}}, @l;
    my $mine = $self->{sock} ? $self->{sock}->sockport : -1;
    # the links' own: a bare PING (liveness) and the SCAN of the bans when
    # the events link comes up, never a request's command
    return grep { !/127\.0\.0\.1:$mine\]/ && !/\] "PING"$/
                  && !/\] "SCAN" "\d+" "MATCH" "[^"]*ban:\*"/ }
           @{$self->{mon_lines} || []};
}

sub monitor_stop {
    my ($self) = @_;
    my $m = delete $self->{mon} or return;
    delete $self->{mon_lines};
    $m->_drop;
}

# ---------------------------------------------------------------- checks

# refused($res, $status, $code, $name [, $description]): status, JSON body
# with that error and a non-empty error_description, Content-Type JSON
sub refused {
    my ($res, $status, $code, $name, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($ct) = TG::HTTP::header_values($res, 'Content-Type');
    my $j = eval { JSON::PP->new->decode($res->{body} // '') };
    $j = {} unless ref $j eq 'HASH';
    my $ok = ($res->{status} // 0) == $status
             && ($ct // '') =~ m{^application/json\b}i
             && ($j->{error} // '') eq $code
             && defined $j->{error_description} && !ref $j->{error_description}
             && length $j->{error_description}
             && (!defined $desc || $j->{error_description} eq $desc);
    Test::More::ok($ok, "$name: $status $code" . (defined $desc ? " \"$desc\"" : ''))
        or Test::More::diag(sprintf "got %s (%.3fs) %s%s",
                                    $res->{status} // 'no status',
                                    $res->{elapsed} // 0,
                                    $res->{error} ? "[$res->{error}] " : '',
                                    substr($res->{body} // '', 0, 300));
    return $ok;
}

# passed($res, $name, %upstream_headers): 200 from the mock upstream, which
# saw those tenant headers
sub passed {
    my ($res, $name, %h) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $j = eval { JSON::PP->new->decode($res->{body} // '') };
    my %got;
    if (ref $j eq 'HASH' && ref $j->{headers} eq 'ARRAY') {
        for my $p (@{$j->{headers}}) {
            push @{$got{lc $p->[0]}}, $p->[1];
        }
    }
    my @bad;
    for my $k (sort keys %h) {
        my $v = $got{lc $k} || [];
        push @bad, "$k: got " . (@$v ? join(', ', @$v) : 'none')
            unless @$v == 1 && $v->[0] eq $h{$k};
    }
    my $ok = ($res->{status} // 0) == 200 && ref $j eq 'HASH'
             && $j->{uri} && !@bad;
    Test::More::ok($ok, "$name: 200 from upstream"
                        . (%h ? ' with ' . join(', ', map { "$_: $h{$_}" } sort keys %h) : ''))
        or Test::More::diag(sprintf "got %s (%.3fs) %s%s %s",
                                    $res->{status} // 'no status',
                                    $res->{elapsed} // 0,
                                    $res->{error} ? "[$res->{error}] " : '',
                                    substr($res->{body} // '', 0, 300),
                                    join('; ', @bad));
    return $ok;
}

# poll(sub { ... true when done }, $seconds, $interval): seconds it took, or
# undef when it never became true
sub poll {
    my ($f, $secs, $every) = @_;
    my $t0 = Time::HiRes::time();
    while (1) {
        return Time::HiRes::time() - $t0 if $f->();
        return undef if Time::HiRes::time() - $t0 > $secs;
        Time::HiRes::sleep($every // 0.02);
    }
}

# ---------------------------------------------------------------- fixture

sub fixture {
    my ($redis, %servers) = @_;
    my @all = ($redis, values %servers);
    my %vars = (TEST_NGINX_REDIS => $redis->addr,
                map { ('TEST_NGINX_REDIS_' . uc($_) => $servers{$_}->addr) }
                keys %servers);
    TG::add_fixture(redis =>
        init => sub {
            for my $r (grep { $_->running } @all) {
                $r->flushall;
                # no link of an nginx of an earlier block is counted
                $r->try('CLIENT', 'KILL', 'TYPE', $_, 'SKIPME', 'yes')
                    for qw(normal pubsub);
            }
        },
        vars => sub { %vars },
        before_request => sub {
            my ($block, $i) = @_;
            return if $i > 0 || exists $block->{no_redis_wait};
            my $workers = TG::single($block, 'workers') // 1;
            my $links = TG::single($block, 'redis_links') // $workers;
            TG::check($redis->wait_links(clients => $links),
                      $block->name . ' - nginx linked to Redis '
                      . "($links command links and a subscriber)");
        });
}

# ---------------------------------------------------------------- fake

package TG::Redis::Fake;

use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

# start('blackhole' | 'garbage' | 'close' [, $junk]), start('script', \%answers)
sub start {
    my ($class, $mode, $junk) = @_;
    TG::init_root();
    $junk //= "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
        unless $mode eq 'script';
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 64,
                                  ReuseAddr => 1)
        or die "TG::Redis::Fake: listen: $!\n";
    my $port = $l->sockport;
    my $log = sprintf '%s/fake-redis-%d.log', $TG::ROOT, $port;
    open my $fh, '>', $log or die "TG::Redis::Fake: $log: $!\n";
    close $fh;
    my $pid = fork // die "TG::Redis::Fake: fork: $!\n";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
        setpgrp(0, 0);
        _serve($l, $mode, $junk, $log);
        POSIX::_exit(0);
    }
    close $l;
    TG::adopt($pid);
    return bless {pid => $pid, port => $port, mode => $mode, log => $log},
                 $class;
}

# the complete commands at the head of $$buf (removed from it): array refs
sub _commands {
    my ($buf) = @_;
    my @cmds;
    while ($$buf =~ /\A\*(\d+)\r\n/) {
        my ($n, $off, @a) = ($1, length($&));
        for (1 .. $n) {
            substr($$buf, $off) =~ /\A\$(\d+)\r\n/ or return @cmds;
            my $len = $1;
            $off += length($&);
            return @cmds if length($$buf) < $off + $len + 2;
            push @a, substr($$buf, $off, $len);
            $off += $len + 2;
        }
        substr($$buf, 0, $off, '');
        push @cmds, \@a;
    }
    return @cmds;
}

sub _answer {
    my ($script, $cmd) = @_;
    my $name = uc($cmd->[0] // '');
    return $script->{$name} if exists $script->{$name};
    return "+PONG\r\n" if $name eq 'PING';
    return "+OK\r\n" if $name eq 'AUTH' || $name eq 'SELECT';
    return "*3\r\n\$9\r\nsubscribe\r\n\$" . length($cmd->[1]) . "\r\n"
           . "$cmd->[1]\r\n:1\r\n" if $name eq 'SUBSCRIBE';
    return $script->{'*'} // ":0\r\n";
}

sub _serve {
    my ($l, $mode, $junk, $log) = @_;
    my $sel = IO::Select->new($l);
    my (%buf, %late, %asked);
    open my $lf, '>>', $log or POSIX::_exit(1);
    $lf->autoflush(1);
    while (1) {
        # 'script': what is due unasked
        for my $k (keys %late) {
            next if $late{$k}[1] > Time::HiRes::time();
            my ($s) = @{delete $late{$k}};
            syswrite($s, $junk->{late});
            print $lf "late\n";
        }
        for my $s ($sel->can_read($mode eq 'script' ? 0.02 : 1)) {
            if ($s == $l) {
                my $c = $l->accept or next;
                printf $lf "accept %.6f\n", Time::HiRes::time();
                binmode $c;
                $sel->add($c);
                next;
            }
            my $n = sysread($s, my $buf, 65536);
            if (!$n) {
                $sel->remove($s);
                delete $buf{$s};
                delete $late{$s};
                delete $asked{$s};
                close $s;
                print $lf "close\n";
                next;
            }
            print $lf "read $n\n";
            if ($mode eq 'script') {
                $buf{$s} .= $buf;
                my $out = '';
                for my $cmd (_commands(\$buf{$s})) {
                    printf $lf "cmd %s\n", uc($cmd->[0] // '?');
                    $out .= _answer($junk, $cmd);
                }
                syswrite($s, $out) if length $out;
                if (defined $junk->{late} && !$asked{$s}++) {
                    $late{$s} = [$s, Time::HiRes::time()
                                     + ($junk->{late_after} // 0.2)];
                }
                next;
            }
            if ($mode eq 'close') {
                # which link it was: the first command it sent
                my ($cmd) = $buf =~ /\A\*\d+\r\n\$\d+\r\n(\w+)/;
                printf $lf "first %.6f %s\n", Time::HiRes::time(),
                       uc($cmd // '?');
                $sel->remove($s);
                close $s;
                next;
            }
            if ($mode eq 'garbage') {
                syswrite($s, $junk);
            }
            # blackhole: read and forget, never answer
        }
    }
}

sub port { $_[0]{port} }
sub addr { '127.0.0.1:' . $_[0]{port} }

# what the responder logged: the matches of $re (counted in scalar context)
sub _logged {
    my ($self, $re) = @_;
    my @m = TG::slurp($self->{log}) =~ /$re/g;
    return wantarray ? @m : scalar @m;
}

# connections accepted so far, and their times
sub accepted     { scalar $_[0]->_logged(qr/^accept /m) }
sub accept_times { $_[0]->_logged(qr/^accept (\S+)$/m) }

# 'close' mode: the times at which a link whose first command was $cmd
# (PING, SUBSCRIBE, AUTH, SELECT) dialed
sub first_times  { $_[0]->_logged(qr/^first (\S+) \Q$_[1]\E$/m) }

sub reads        { scalar $_[0]->_logged(qr/^read /m) }
sub commands     { $_[0]->_logged(qr/^cmd (\S+)$/m) }

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    TG::stop_child($pid);
}

# ---------------------------------------------------------------- nginx

package TG::Redis::Nginx;

use File::Path ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

my $SEQ = 0;

sub new {
    my ($class, %o) = @_;
    TG::init_root();
    TG::start_upstream();
    TG::keys_dir();
    my $prefix = sprintf '%s/nginx-%s-%02d', $TG::ROOT, $o{name} // 'n',
                         ++$SEQ;
    TG::make_prefix($prefix);
    my $self = bless {%o, prefix => $prefix}, $class;
    if (defined $o{policy}) {
        my $text = ref $o{policy} ? $JSON->encode($o{policy}) : $o{policy};
        open my $fh, '>', "$prefix/policy.json" or die "policy: $!\n";
        print $fh $text;
        close $fh;
    }
    return $self;
}

sub prefix { $_[0]{prefix} }
sub port   { $_[0]{port} }
sub pid    { $_[0]{pid} }

sub start {
    my ($self) = @_;
    my $p = $self->{prefix};
    my %vars = (
        TEST_NGINX_UPSTREAM => TG::upstream_addr(),
        TEST_NGINX_KEYS     => TG::keys_dir(),
        TEST_NGINX_PREFIX   => $p,
        TEST_NGINX_POLICY   => "$p/policy.json",
    );
    unlink "$p/logs/nginx.pid";
    my ($pid, $port, $why) = TG::start_nginx($p, sub {
        $vars{TEST_NGINX_SERVER_PORT} = shift;
        $self->{conf} = TG::write_conf($p,
            name => 'TG::Redis::Nginx ' . ($self->{name} // 'n'),
            vars => \%vars,
            map { ($_ => $self->{$_}) }
            qw(workers log_level main_config http_config config));
    });
    die "TG::Redis::Nginx: $why: " . TG::slurp("$p/logs/stderr.log") . "\n"
        unless $pid;
    @$self{qw(pid port)} = ($pid, $port);
    return $self;
}

sub stop {
    my ($self) = @_;
    TG::stop_nginx(delete $self->{pid});
}

# get($path, @headers [, {timeout => S}])
sub get {
    my ($self, $path, @h) = @_;
    my $o = ref $h[-1] eq 'HASH' ? pop @h : {};
    my $raw = TG::HTTP::build("GET $path", join("\n", @h));
    my $t0 = Time::HiRes::time();
    my $res = TG::HTTP::send_request($self->{port}, $raw, $o->{timeout} // 5);
    $res->{elapsed} = Time::HiRes::time() - $t0;
    $res->{json} = eval { JSON::PP->new->decode($res->{body}) } // {};
    $res->{json} = {} unless ref $res->{json} eq 'HASH';
    return $res;
}

sub error_log { TG::slurp("$_[0]{prefix}/logs/error.log") }
sub mark      { length $_[0]->error_log }
sub log_since { substr($_[0]->error_log, $_[1] // 0) }

sub wait_log {
    my ($self, $re, $secs, $mark) = @_;
    my $deadline = Time::HiRes::time() + ($secs // 5);
    while (1) {
        return 1 if $self->log_since($mark) =~ $re;
        return 0 if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.02);
    }
}

sub count_log {
    my ($self, $needle, $mark) = @_;
    my $n = () = $self->log_since($mark) =~ /\Q$needle\E/g;
    return $n;
}

sub bad_log_lines {
    my ($self) = @_;
    my $all = $self->error_log . "\n"
              . TG::slurp("$self->{prefix}/logs/stderr.log");
    return grep { /\[(alert|crit|emerg)\]|AddressSanitizer/ } split /\n/, $all;
}

sub tail {
    my ($self, $n) = @_;
    return TG::tail($self->error_log, $n // 30);
}

1;
