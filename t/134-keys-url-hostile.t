# tenant_guard_keys_url when things go wrong around the fetch:
# - the JWKS location inherits "tenant_guard on" from its server (with the
#   README's proxy_pass_request_* lines): the fetch is not itself checked,
#   and still succeeds;
# - a client that goes away while its request waits for the first fetch
#   crashes nothing, and gives the lease back: the next request fetches
#   at once;
# - a worker killed mid-fetch (the IdP hangs) blocks fetches only until
#   the lease (10 s) runs out, then another worker fetches;
# - a reload that points the JWKS location at another IdP: the zone keeps
#   the old set, so the first request after the reload refreshes it.
#
# Plain Test::More on TG::Redis::Nginx and TG::IdP.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::IdP;
use TG::HTTP;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time sleep);

my $tok = TG::jwt({}, key => 'rsa1');

# --- tenant_guard on, inherited by the JWKS location

my $idp = TG::IdP->start(keys => ['rsa1']);
my $n = TG::Redis::Nginx->new(
    name => 'inherit',
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => "tenant_guard on;\n"
              . "tenant_guard_keys_url /_jwks;\n"
              . $idp->location(extra => "proxy_pass_request_headers off;\n"
                                        . "    proxy_pass_request_body off;")
              . <<'C',
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

my $res = $n->get('/items', "Authorization: Bearer $tok");
is($res->{status}, 200, 'a JWKS location under "tenant_guard on": fetched');
is($idp->count, 1, '... in one fetch');
$res = $n->get('/_jwks', "Authorization: Bearer $tok");
is($res->{status}, 404, 'the internal location is not reachable from outside');
is($idp->count, 1, '... and fetches nothing');
my @bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- a client gone while its request waits for the first fetch

$idp = TG::IdP->start(keys => ['rsa1'], mode => 'delay:1.5');
$n = TG::Redis::Nginx->new(
    name => 'gone',
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp->location(timeout => '5s') . <<'C',
tenant_guard_keys_url /_jwks;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $n->port,
                              Proto => 'tcp') or die "connect: $!";
print $s "GET /items HTTP/1.1\r\nHost: localhost\r\n"
         . "Authorization: Bearer $tok\r\n\r\n";
ok($idp->wait_count(1, 3), 'the first request started a fetch');
close $s;
ok($n->wait_log(qr/was cut short: its request ended/, 3),
   'the client went away: the fetch ended with its request');

$idp->mode('ok');
my $t0 = time;
$res = $n->get('/items', "Authorization: Bearer $tok");
is($res->{status}, 200, 'the next request fetches and passes');
cmp_ok(time - $t0, '<', 3, '... at once: the lease was given back');
is($idp->count, 2, '... in a fetch of its own');
@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- a worker killed mid-fetch: the lease runs out, another worker fetches

$idp = TG::IdP->start(keys => ['rsa1'], mode => 'hang');
$n = TG::Redis::Nginx->new(
    name => 'killed',
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    # the location's timeout outlives the lease, on purpose
    config => $idp->location(timeout => '60s') . <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/rsa2.pem;
tenant_guard_keys_url /_jwks refresh=1s min_refetch=1s;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

my $boot = TG::jwt({}, key => 'rsa2');
$res = $n->get('/items', "Authorization: Bearer $boot");
is($res->{status}, 200, 'bootstrap keys serve while the fetch hangs');
ok($idp->wait_count(1, 3), 'the fetch reached the IdP');
my $killed_at = time;

my ($worker) = grep { /^\d+$/ }
               map { s/\s+//gr } `ps --ppid ${\ $n->pid} -o pid=`;
ok($worker, "the worker holding the lease ($worker)");
kill 'KILL', $worker;
$idp->mode('ok');

my $ok = 1;
while (time - $killed_at < 8) {
    $res = $n->get('/items', "Authorization: Bearer $boot");
    $ok &&= ($res->{status} // 0) == 200;
    sleep 0.5;
}
ok($ok, 'meanwhile the new worker serves with the bootstrap keys');
is($idp->count, 1, '... and fetches nothing while the dead one\'s lease '
   . 'holds');

my $mark = $n->mark;
while (time - $killed_at < 14) {
    $n->get('/items', "Authorization: Bearer $boot");
    last if $idp->count >= 2;
    sleep 0.25;
}
is($idp->count, 2, 'once the lease ran out, another fetch');
cmp_ok(time - $killed_at, '<', 10 + 2, '... within the lease + 2 s');
ok($n->wait_log(qr/keys from "\/_jwks": 1 usable, generation 1/, 3, $mark),
   '... which publishes the set');
is($n->get('/items', "Authorization: Bearer $tok")->{status}, 200,
   'the IdP\'s key passes');

@bad = grep { !/worker process \d+ exited on signal 9/ } $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg but the killed worker\'s')
    or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- a reload that points the location elsewhere

my $a = TG::IdP->start(keys => ['rsa1']);
my $b = TG::IdP->start(keys => ['ec256']);
$n = TG::Redis::Nginx->new(
    name => 'reload',
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $a->location . <<'C',
tenant_guard_keys_url /_jwks refresh=1h;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;
my $ec = TG::jwt({}, key => 'ec256', alg => 'ES256');
is($n->get('/items', "Authorization: Bearer $tok")->{status}, 200,
   'IdP A\'s key passes');
is($a->count, 1, '... after one fetch from A');

my $conf = $n->prefix . '/conf/nginx.conf';
my $text = TG::slurp($conf);
my ($ap, $bp) = ($a->port, $b->port);
my ($ad, $bd) = ($a->dir, $b->dir);
$text =~ s/127\.0\.0\.1:$ap/127.0.0.1:$bp/g;
$text =~ s/\Q$ad\E/$bd/g;
open my $fh, '>', $conf or die;
print $fh $text;
close $fh;
$mark = $n->mark;
kill 'HUP', $n->pid;
ok($n->wait_log(qr/start worker process/, 5, $mark), 'reloaded');
sleep 0.5;

is($n->get('/items', "Authorization: Bearer $tok")->{status}, 200,
   'the first request after the reload is served with the zone\'s set');
ok($b->wait_count(1, 3), '... while the set is refreshed from IdP B, '
   . 'refresh=1h notwithstanding');
ok($n->wait_log(qr/keys from "\/_jwks": 1 usable, generation 2/, 3, $mark),
   '... and published');
is($n->get('/items', "Authorization: Bearer $ec")->{status}, 200,
   'IdP B\'s key passes');
is($n->get('/items', "Authorization: Bearer $tok")->{status}, 401,
   'IdP A\'s key no longer does');
is($a->count, 1, 'IdP A was not asked again');

@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$a->stop;
$b->stop;

done_testing();
