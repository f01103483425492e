# A Redis host given by name, re-resolved through nginx's resolver: with an
# http-level "resolver", a re-dial asks it (never a blocking lookup in a
# worker) and dials the address it gives; when it gives none, the addresses
# resolved at configuration, said once at error; without "resolver", only
# those.  "localhost" is the name: the configuration resolves it (127.0.0.1)
# and our DNS responder (t/lib/TG/DNS.pm) answers it as the test says, so a
# Redis restarted on 127.0.0.2 is reached only through the resolver.
#
# Plain Test::More on TG::Redis and TG::DNS.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::DNS;
use TG::Redis;
use Test::More;
use Time::HiRes qw(time sleep);

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

sub nginx_for {
    my ($port, $resolver) = @_;
    my $n = TG::Redis::Nginx->new(
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . ($resolver ? "resolver $resolver ipv6=off;\n"
                                      . "resolver_timeout 1s;\n" : '')
                       . "tenant_guard_redis localhost:$port timeout=300ms;\n",
        config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location /closed/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
    );
    return $n->start;
}

sub bearer { TG::bearer(@_) }

sub passes {
    my ($n, $secs) = @_;
    return TG::Redis::poll(sub {
        ($n->get('/closed/a', bearer({}))->{status} // 0) == 200
    }, $secs, 0.05);
}

sub no_alerts {
    my ($n, $name) = @_;
    my @bad = $n->bad_log_lines;
    ok(!@bad, "$name: no [alert]/[crit]/[emerg]")
        or diag(join "\n", @bad[0 .. ($#bad < 10 ? $#bad : 10)]);
}

sub show_log_on_failure {
    my ($n) = @_;
    diag("---- error.log (tail):\n" . $n->tail(40))
        unless Test::More->builder->is_passing;
}

subtest 'resolver: a re-dial asks it and dials what it answers (Redis moved to 127.0.0.2)' => sub {
    my $a = TG::Redis->start;
    my $d = TG::DNS->start('127.0.0.1');
    my $n = nginx_for($a->port, $d->addr);
    ok($a->wait_links(clients => 1, subscribers => 1), 'linked (the configuration\'s address)');
    is(scalar $d->queries, 0, 'no query for the first dial');

    # the name moves; nginx's cache (TTL 0) holds an answer for its second
    $d->answer('127.0.0.2');
    sleep 1.1;
    $a->kill;
    my $b = TG::Redis->start(host => '127.0.0.2', port => $a->port);
    ok($b->wait_links(clients => 1, subscribers => 1, timeout => 5),
       'both links re-dialed to 127.0.0.2, which only the resolver names');
    ok(defined passes($n, 3), 'requests pass');
    my @q = $d->queries;
    ok(@q >= 1, 'the resolver was asked (' . scalar(@q) . ' queries)');
    ok(!grep({ $_ ne 'localhost' } @q), 'for localhost');
    unlike($n->error_log, qr/could not be resolved/, 'no resolution failure logged');
    no_alerts($n, 'resolver');
    show_log_on_failure($n);
    $n->stop;
    $b->stop;
    $d->stop;
};

subtest 'resolver that knows no such name: the configuration\'s addresses, logged once per link, then again when it answers' => sub {
    my $r = TG::Redis->start;
    my $d = TG::DNS->start('nxdomain');
    my $n = nginx_for($r->port, $d->addr);
    ok($r->wait_links(clients => 1, subscribers => 1), 'linked');
    $r->restart;
    ok($r->wait_links(clients => 1, subscribers => 1, timeout => 5),
       're-dialed to the configuration\'s address');
    ok(defined passes($n, 3), 'requests pass');
    ok(scalar($d->queries) >= 1, 'the resolver was asked');
    like($n->error_log,
         qr/\[error\] .*tenant_guard: redis link: "localhost" could not be resolved \(Host not found\), dialing its addresses from the configuration/,
         'log: redis link: "localhost" could not be resolved');
    $r->restart;
    ok($r->wait_links(clients => 1, subscribers => 1, timeout => 5), 're-dialed again');
    is($n->count_log('tenant_guard: redis link: "localhost" could not be resolved'), 1,
       'logged once for the command link');
    is($n->count_log('tenant_guard: redis events link: "localhost" could not be resolved'), 1,
       'logged once for the events link');

    $d->answer('127.0.0.1');
    my $mark = $n->mark;
    $r->restart;
    ok($r->wait_links(clients => 1, subscribers => 1, timeout => 5), 're-dialed once more');
    ok($n->wait_log(qr/\[notice\] .*tenant_guard: redis link: "localhost" is resolved again/, 2, $mark),
       'log: redis link: "localhost" is resolved again');
    no_alerts($n, 'nxdomain');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
    $d->stop;
};

subtest 'without "resolver": only the configuration\'s addresses, no query' => sub {
    my $r = TG::Redis->start;
    my $d = TG::DNS->start('127.0.0.2');
    my $n = nginx_for($r->port);
    ok($r->wait_links(clients => 1, subscribers => 1), 'linked');
    $r->restart;
    ok($r->wait_links(clients => 1, subscribers => 1, timeout => 5), 're-dialed');
    ok(defined passes($n, 3), 'requests pass');
    is(scalar $d->queries, 0, 'nothing asked of a DNS server');
    no_alerts($n, 'no resolver');
    show_log_on_failure($n);
    $n->stop;
    $r->stop;
    $d->stop;
};

done_testing();
