# Attempts count when they start (issue 10, point 5), embedded mode, on
# nginx with two workers and a slow upstream of this file's own (each
# answer takes 1 s, so every guess of a burst is in flight at once):
#
#   - 40 parallel guesses of one identifier: exactly the threshold (5)
#     reach the upstream, the others get 429 banned;
#   - 40 parallel guesses of 40 identifiers from one address: the address
#     level (10, 5 of them counted above) lets 5 more through;
#   - a client that aborts a login while the upstream thinks keeps its
#     count (settled by the pool cleanup), even though the upstream would
#     have answered 200;
#   - in Redis mode (the cluster's count is taken when attempts end), no
#     more guesses of one key are in flight on a host than the threshold:
#     40 parallel guesses, 5 reach the upstream, and their failures ban.
#
# Plain Test::More on TG::Redis::Nginx (which needs no Redis).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::HTTP;
use TG::Redis;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Fcntl qw(:flock);
use Time::HiRes ();
use Test::More;

TG::init_root();

# ---------------------------------------------------------------- upstream

my $hits = "$TG::ROOT/slow-hits.log";
my $slow_port = TG::free_port();

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                LocalPort => $slow_port, Proto => 'tcp',
                                Listen => 128, ReuseAddr => 1)
    or die "slow upstream: $!\n";

my $slow_pid = fork // die "fork: $!\n";

if ($slow_pid == 0) {
    $SIG{CHLD} = 'IGNORE';
    while (my $c = $srv->accept) {
        my $pid = fork;
        if (defined $pid && $pid == 0) {
            my $req = '';
            while ($req !~ /\r\n\r\n/) {
                my $n = sysread($c, my $buf, 4096);
                last unless $n;
                $req .= $buf;
            }
            my ($uri) = $req =~ m{^\S+ (\S+)};
            open my $fh, '>>', $hits or POSIX::_exit(1);
            flock $fh, LOCK_EX;
            print $fh ($uri // '?'), "\n";
            close $fh;
            Time::HiRes::sleep(1);
            my $status = ($uri // '') =~ /ok/ ? '200 OK' : '401 Unauthorized';
            print $c "HTTP/1.1 $status\r\nContent-Length: 2\r\n"
                   . "Connection: close\r\n\r\n{}";
            close $c;
            POSIX::_exit(0);
        }
        close $c;
    }
    POSIX::_exit(0);
}
close $srv;

END { kill 'TERM', $slow_pid if $slow_pid }

sub hits {
    open my $fh, '<', $hits or return 0;
    my @l = <$fh>;
    return scalar @l;
}

# ---------------------------------------------------------------- nginx

my $ngx = TG::Redis::Nginx->new(
    name => 'burst',
    workers => 2,
    policy => {default => {ban => {
        blockingForClientEnabled => JSON::PP::true,
        firstBanThreshold => 5, firstBanCollectingTime => 60,
        firstBanDuration => 60,
        permanentBanThreshold => 10, permanentBanCollectingTime => 60,
        permanentBanDuration => 60}}},
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<"C",
location = /auth/login {
    tenant_guard_login identifier=\$http_x_login;
    proxy_read_timeout 10s;
    proxy_pass http://127.0.0.1:$slow_port/login;
}
location = /auth/login_ok {
    tenant_guard_login identifier=\$http_x_login;
    proxy_read_timeout 10s;
    proxy_pass http://127.0.0.1:$slow_port/ok;
}
C
)->start;

# n requests sent at once, then every answer read: [status, error] each
sub burst {
    my (@logins) = @_;
    my $ngx = $main::target;
    my @socks;
    for my $id (@logins) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $ngx->port, Proto => 'tcp')
            or die "connect: $!\n";
        print $s "POST /auth/login HTTP/1.1\r\nHost: localhost\r\n"
                 . "X-Login: $id\r\nConnection: close\r\n"
                 . "Content-Length: 8\r\n\r\npassword";
        push @socks, $s;
    }
    my @res;
    for my $s (@socks) {
        local $/;
        my $raw = <$s> // '';
        close $s;
        my $r = {};
        TG::HTTP::parse($raw, $r);
        my $j = eval { decode_json($r->{body} // '') } || {};
        push @res, [$r->{status} // 0, $j->{error} // ''];
    }
    return @res;
}

sub count { my ($st, @res) = @_; return scalar grep { $_->[0] == $st } @res }

our $target = $ngx;

# one identifier, 40 at once
my @res = burst(('alice') x 40);
is(count(401, @res), 5, '40 parallel guesses of alice: 5 answered by the '
                        . 'upstream (the threshold)');
is(count(429, @res), 35, 'the 35 others: 429');
is(scalar(grep { $_->[1] eq 'banned' } @res), 35, '... with error "banned"');
is(hits(), 5, 'the upstream saw 5 guesses');

# one address, 40 identifiers at once: 10 - 5 more may pass
@res = burst(map { "user$_" } 1 .. 40);
is(count(401, @res), 5, '40 parallel guesses of 40 identifiers: 5 more '
                        . 'reach the upstream (address level 10)');
is(count(429, @res), 35, 'the 35 others: 429');
is(hits(), 10, 'the upstream saw 10 guesses in all');

$ngx->stop;

# a client that goes away keeps its count, whatever the upstream says
my $ab = TG::Redis::Nginx->new(
    name => 'abort',
    policy => {default => {ban => {
        blockingForClientEnabled => JSON::PP::true,
        firstBanThreshold => 1, firstBanCollectingTime => 60,
        firstBanDuration => 60}}},
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<"C",
location = /auth/login {
    tenant_guard_login identifier=\$http_x_login;
    proxy_read_timeout 10s;
    proxy_pass http://127.0.0.1:$slow_port/ok;
}
C
)->start;

# a success first: it gives its count back, so bob is not banned
is($ab->get('/auth/login', 'X-Login: bob')->{status}, 200,
   'a slow successful login answers 200');
is($ab->get('/auth/login', 'X-Login: bob')->{status}, 200,
   'and gave its count back: the next one passes too');

my $before = hits();
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ab->port,
                              Proto => 'tcp') or die "connect: $!\n";
print $s "GET /auth/login HTTP/1.1\r\nHost: localhost\r\nX-Login: carol\r\n"
         . "Connection: close\r\n\r\n";
ok(defined TG::Redis::poll(sub { hits() > $before }, 3),
   'the aborted login reached the upstream');
close $s;

my $res;
ok(defined TG::Redis::poll(sub {
       $res = $ab->get('/auth/login', 'X-Login: carol');
       ($res->{status} // 0) == 429;
   }, 3, 0.2),
   'the login the client aborted kept its count: carol is banned');
TG::Redis::refused($res, 429, 'banned', 'the refusal is 429 banned');

$ab->stop;

# ---- Redis mode: the host bounds what is in flight
my $r = TG::Redis->start;
my $rn = TG::Redis::Nginx->new(
    name => 'redis',
    workers => 2,
    policy => {default => {ban => {
        blockingForClientEnabled => JSON::PP::true,
        firstBanThreshold => 5, firstBanCollectingTime => 60,
        firstBanDuration => 60}}},
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_redis " . $r->addr . ";\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<"C",
location = /auth/login {
    tenant_guard_login identifier=\$http_x_login;
    proxy_read_timeout 10s;
    proxy_pass http://127.0.0.1:$slow_port/login;
}
C
)->start;
ok($r->wait_links(clients => 2, subscribers => 1), 'redis: linked');

$target = $rn;
$before = hits();
@res = burst(('dave') x 40);
is(count(401, @res), 5, 'redis: 40 parallel guesses of dave, 5 answered '
                        . 'by the upstream');
is(count(429, @res), 35, 'redis: the 35 others: 429');
is(hits() - $before, 5, 'redis: the upstream saw 5');

ok(defined TG::Redis::poll(sub {
       $res = $rn->get('/auth/login', 'X-Login: dave');
       ($res->{status} // 0) == 429
           && ($res->{json}{error_description} // '')
              eq 'the login identifier is banned';
   }, 3, 0.1),
   "redis: the 5 failures, counted in Redis, ban dave");
is(hits() - $before, 5, 'redis: and nothing more reached the upstream');

for my $n ($ngx, $ab, $rn) {
    is(join("\n", $n->bad_log_lines), '', 'no alert in the error log');
}

$rn->stop;
$r->stop;

done_testing();
