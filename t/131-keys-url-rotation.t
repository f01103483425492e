# tenant_guard_keys_url: rotation without a reload, on two workers.
# The tenant_guard_keys file is the bootstrap (the first request does not
# wait); a new kid triggers one refetch that its request waits for, so a
# rotation fails no request; a flood of unknown kids makes at most one
# fetch per min_refetch and is refused at once past that; after refresh,
# a request is served at once while a background fetch refreshes; a key
# removed at the IdP is refused within refresh + 1 s, also for a token
# the zone had cached; Cache-Control max-age sets the next refresh within
# [min(1m, refresh), refresh].
#
# Plain Test::More on TG::Redis::Nginx and TG::IdP.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::IdP;
use TG::HTTP;
use Test::More;
use Time::HiRes qw(time sleep);

my $REFRESH = 2;
my $idp = TG::IdP->start(keys => ['rsa1'], mode => 'delay:1');

my $n = TG::Redis::Nginx->new(
    name => 'rotation',
    workers => 2,
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp->location . <<"C",
tenant_guard_keys \$TEST_NGINX_KEYS/rsa2.pem;
tenant_guard_keys_url /_jwks refresh=${REFRESH}s min_refetch=2s;
location / {
    tenant_guard on;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

sub get {
    my ($key, %o) = @_;
    my $tok = $o{token} // TG::jwt({}, key => $key, %{$o{jwt} || {}});
    return $n->get('/items', "Authorization: Bearer $tok");
}

# --- bootstrap: the file's keys serve while the first fetch runs

my $res = get('rsa2');
is($res->{status}, 200, 'bootstrap: a key of the file passes before any fetch');
cmp_ok($res->{elapsed}, '<', 0.8, '... at once: the fetch runs in the '
       . 'background (the IdP takes 1 s)');
ok($n->wait_log(qr/keys from "\/_jwks": 1 usable, generation 1/, 5),
   'the first fetch is published');
is($idp->count, 1, 'one fetch');

$res = get('rsa2');
is($res->{status}, 401, 'once fetched, the IdP\'s set replaces the file');
$res = get('rsa1');
is($res->{status}, 200, 'a key of the IdP\'s set passes');

# --- rotation: a new kid at the IdP, one refetch, no failed request

$idp->mode('ok');
$idp->keys('rsa1', 'ec256');
sleep 2.1;                      # past min_refetch since the first fetch
my $mark = $idp->count;

$res = get('ec256', jwt => {alg => 'ES256'});
is($res->{status}, 200, 'rotation: a token of the new key passes at once');
is($idp->count, $mark + 1, '... after one refetch, which it waited for');

my @raw = map {
    TG::HTTP::build('GET /items', "Host: localhost\nConnection: close\n"
                    . 'Authorization: Bearer '
                    . TG::jwt({}, key => 'ec256', alg => 'ES256'))
} 1 .. 8;
is_deeply([TG::IdP::parallel($n->port, @raw)], [(200) x 8],
          'the new key passes on every worker');
is($idp->count, $mark + 1, '... with no further fetch');

# --- a flood of unknown kids: one fetch per min_refetch at most

sleep 2.1;
$mark = $idp->count;
@raw = map {
    TG::HTTP::build('GET /items', "Host: localhost\nConnection: close\n"
                    . 'Authorization: Bearer '
                    . TG::jwt({}, key => 'rsa2', kid => "ghost-$_"))
} 1 .. 20;
is_deeply([TG::IdP::parallel($n->port, @raw)], [(401) x 20],
          'a flood of 20 unknown kids: all refused');
is($idp->count, $mark + 1, '... with one fetch between them');

my $t0 = time;
is_deeply([TG::IdP::parallel($n->port, @raw[0 .. 9])], [(401) x 10],
          'more unknown kids within min_refetch: refused');
cmp_ok(time - $t0, '<', 1, '... at once');
is($idp->count, $mark + 1, '... with no fetch');

# --- background refresh: served at once, refreshed behind

$idp->mode('delay:1');
sleep $REFRESH + 0.2;
$mark = $idp->count;
$res = get('rsa1');
is($res->{status}, 200, 'past refresh: the request is served');
cmp_ok($res->{elapsed}, '<', 0.8, '... at once, with the current keys');
ok($idp->wait_count($mark + 1, 3), '... while a background fetch refreshes');
sleep 1.2;
is($idp->count, $mark + 1, 'one refresh fetch');

# --- key removal: a cached token of a removed key is refused in time

$idp->mode('ok');
my $cached = TG::jwt({}, key => 'rsa1');
is(get(undef, token => $cached)->{status}, 200, 'a token of rsa1 passes');
is(get(undef, token => $cached)->{status}, 200, '... and is cached');

$idp->keys('ec256');
$t0 = time;
my $refused_at;
while (time - $t0 < $REFRESH + 2) {
    $res = get(undef, token => $cached);
    if ($res->{status} == 401) {
        $refused_at = time - $t0;
        last;
    }
    sleep 0.1;
}
ok(defined $refused_at, 'rsa1 removed at the IdP: its cached token is '
   . 'refused');
cmp_ok($refused_at // 99, '<=', $REFRESH + 1 + 0.3,
       '... within refresh + 1 s');
is($res->{json}{error}, 'invalid_token', '... invalid_token');
is(get('ec256', jwt => {alg => 'ES256'})->{status}, 200,
   'the remaining key passes');

my @bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;

# --- Cache-Control: max-age within [min(1m, refresh), refresh]

my $idp2 = TG::IdP->start(keys => ['rsa1']);
my $m = TG::Redis::Nginx->new(
    name => 'max-age',
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp2->location . <<'C',
tenant_guard_keys_url /_jwks refresh=10m min_refetch=1s;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$m->start;

my @cases = (['max-age=120', 120], ['max-age=5', 60],
             ['public, max-age=99999', 600], ['no-store', 60], ['', 600]);
my $i = 0;
for my $c (@cases) {
    my ($cc, $want) = @$c;
    $idp2->cache_control($cc);
    # another key set each time: a new generation, logged
    $idp2->keys($i % 2 ? 'rsa1' : 'ec256', 'rsa2');
    my $mk = $m->mark;
    if ($i == 0) {
        $res = $m->get('/items', 'Authorization: Bearer '
                       . TG::jwt({}, key => 'rsa2'));
        is($res->{status}, 200, 'the first fetch');
    } else {
        # past min_refetch, an unknown kid brings the new set
        sleep 1.1;
        $res = $m->get('/items', 'Authorization: Bearer '
                       . TG::jwt({}, key => 'rsa2', kid => "new-$i"));
        is($res->{status}, 401, "an unknown kid refetches ($cc)");
    }
    like($m->log_since($mk), qr/next refresh in $want s/,
         "Cache-Control \"$cc\": next refresh in $want s");
    $i++;
}

@bad = $m->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$m->stop;
$idp->stop;
$idp2->stop;

done_testing();
