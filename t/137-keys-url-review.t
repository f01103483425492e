# tenant_guard_keys_url, review of issue 13: the cases an attacker or a
# broken IdP reached.
# - a variable read before the access phase (a limit_req key) judges the
#   token there, and the access step took that verdict as it was: no
#   request ever claimed a refresh, so a key removed at the IdP kept
#   verifying for good (and the bootstrap file was never replaced);
# - a token judged by a variable in the server's rewrite phase, under the
#   server's key file, was taken as judged by a location whose keys come
#   from an IdP (the same fingerprint: the URL was no part of it), so a
#   key the IdP's set had replaced still passed there;
# - a key set that finds no room in the zone: the fetch's end set no
#   retry time, so the next claim fetched again at once, and a request
#   waiting for a first set refetched back to back until its wait ran out
#   (hundreds of fetches from one request);
# - the fetch kept the client's request line: a JWKS location written the
#   auth_request way (X-Original-URI $request_uri) sent the client's path
#   and query (an arg= token with it) to the IdP;
# - over HTTP/2, a client that closes its connection once answered (curl,
#   any short-lived client) marks the connection failed, and the
#   background refresh its request carried was thrown away though the IdP
#   had answered 200 with a good set: with such clients the keys were
#   never refreshed (and a client could keep a removed key trusted);
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

# --- a variable in preaccess: the refresh still runs, a removed key goes

my $idp = TG::IdP->start(keys => ['rsa1', 'ec256']);

my $n = TG::Redis::Nginx->new(
    name => 'varsrefresh',
    workers => 1,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
        . "limit_req_zone \$tenant_guard_workspace zone=perws:1m "
        . "rate=100r/s;\n",
    config => $idp->location . <<"C",
tenant_guard_keys_url /_jwks refresh=1s min_refetch=1s;
location / {
    tenant_guard on;
    limit_req zone=perws burst=100;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

my $tok = TG::jwt({}, key => 'rsa1');
my $res = $n->get('/items', "Authorization: Bearer $tok");
is($res->{status}, 200, 'variable in preaccess: the first fetch, passes');
is($n->get('/items', "Authorization: Bearer $tok")->{status}, 200,
   '... and again (cached in the zone)');
is($idp->count, 1, '... one fetch');

$idp->keys('ec256');
my $t0 = time;
my $refused_at;
while (time - $t0 < 4) {
    $res = $n->get('/items', "Authorization: Bearer $tok");
    if ($res->{status} == 401) {
        $refused_at = time - $t0;
        last;
    }
    sleep 0.1;
}
ok(defined $refused_at, 'rsa1 removed at the IdP: refused, though every '
   . 'request judges its token in preaccess');
cmp_ok($refused_at // 99, '<=', 1 + 1 + 0.3, '... within refresh + 1 s');
cmp_ok($idp->count, '>=', 2, '... after a refresh fetch');
is($n->get('/items', 'Authorization: Bearer '
           . TG::jwt({}, key => 'ec256', alg => 'ES256'))->{status}, 200,
   'the remaining key passes');

my @bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- the same with the bootstrap file: the IdP's set replaces it

$idp = TG::IdP->start(keys => ['rsa1']);
$n = TG::Redis::Nginx->new(
    name => 'varsboot',
    workers => 1,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
        . "limit_req_zone \$tenant_guard_workspace zone=perws:1m "
        . "rate=100r/s;\n",
    config => $idp->location . <<"C",
tenant_guard_keys \$TEST_NGINX_KEYS/rsa2.pem;
tenant_guard_keys_url /_jwks refresh=1s min_refetch=1s;
location / {
    tenant_guard on;
    limit_req zone=perws burst=100;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

my $boot = TG::jwt({}, key => 'rsa2');
is($n->get('/items', "Authorization: Bearer $boot")->{status}, 200,
   'bootstrap key, variable in preaccess: passes before any fetch');
ok($idp->wait_count(1, 3), '... and the access step starts the first fetch');
ok($n->wait_log(qr/keys from "\/_jwks": 1 usable, generation 1/, 5),
   '... which is published');
is($n->get('/items', "Authorization: Bearer $boot")->{status}, 401,
   'then the IdP\'s set replaces the file');

@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- a verdict under the server's file is not one under a location's URL

$idp = TG::IdP->start(keys => ['rsa1']);
$n = TG::Redis::Nginx->new(
    name => 'varsserver',
    workers => 1,
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp->location . <<"C",
tenant_guard on;
tenant_guard_keys \$TEST_NGINX_KEYS/rsa2.pem;
set \$ws \$tenant_guard_workspace;
location /b/ {
    tenant_guard_keys_url /_jwks refresh=1m min_refetch=1s;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
location / {
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

$tok = TG::jwt({}, key => 'rsa1');
$boot = TG::jwt({}, key => 'rsa2');
$n->get('/b/items', "Authorization: Bearer $tok");
ok($n->wait_log(qr/keys from "\/_jwks": 1 usable, generation 1/, 5),
   'a location with a key set URL: the first fetch is published');
is($n->get('/b/items', "Authorization: Bearer $tok")->{status}, 200,
   '... and the IdP\'s key passes there');
is($n->get('/items', "Authorization: Bearer $boot")->{status}, 200,
   'the server\'s file key passes where there is no URL');
is($n->get('/b/items', "Authorization: Bearer $boot")->{status}, 401,
   '... but not in the location whose IdP set replaced the file, though '
   . 'a variable judged it under the server\'s configuration first');

@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- a key set with no room in the zone: one fetch per retry, no loop

$idp = TG::IdP->start(keys => ['rsa1'], mode => 'big:30000');
$n = TG::Redis::Nginx->new(
    name => 'noroom',
    workers => 1,
    http_config => "tenant_guard_zone zone=tg:32k;\n",
    config => $idp->location . <<"C",
tenant_guard_keys_url /_jwks min_refetch=2s;
location / {
    tenant_guard on;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

$res = $n->get('/items', "Authorization: Bearer $tok", {timeout => 15});
is($res->{status}, 503, 'a key set too large for the zone: no key set, 503');
cmp_ok($res->{elapsed}, '<', 3, '... once its fetch ended');
is($idp->count, 1, '... after one fetch, not one after another');
$res = $n->get('/items', "Authorization: Bearer $tok", {timeout => 15});
is($res->{status}, 503, 'the next request at once: 503');
is($idp->count, 1, '... with no fetch before the retry time');
like($n->error_log, qr/\[warn\].*no room in the zone/,
     'the failure is logged');
sleep 2.2;
$n->get('/items', "Authorization: Bearer $tok", {timeout => 15});
is($idp->count, 2, 'past the retry time, one more fetch');

@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- the fetch carries no request line or URI of the client's

$idp = TG::IdP->start(keys => ['rsa1']);
$n = TG::Redis::Nginx->new(
    name => 'requri',
    workers => 1,
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp->location(extra =>
                  "proxy_set_header X-Original-URI \$request_uri;\n"
                  . "    proxy_set_header X-Request \$request;")
              . <<"C",
tenant_guard_keys_url /_jwks;
location / {
    tenant_guard on;
    tenant_guard_token arg=access_token bearer;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

$res = $n->get("/secret/path?access_token=$tok&q=private");
is($res->{status}, 200, 'a token in the query: the first fetch, passes');
my $seen = $idp->requests->[-1] // {};
my $h = $seen->{headers} // {};
unlike(join(' ', map { @$_ } values %$h), qr/secret|private|access_token/,
       'the IdP saw neither the client\'s path nor its query')
    or diag explain $h;
is($h->{'x-original-uri'}[0], '/_jwks',
   '... $request_uri in the JWKS location is the fetch\'s own');

@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- HTTP/2: the refresh of a client gone once answered is still taken

$idp = TG::IdP->start(keys => ['rsa1']);
my $p2 = TG::free_port();
$n = TG::Redis::Nginx->new(
    name => 'h2gone',
    workers => 1,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "server {\n    listen 127.0.0.1:$p2 http2;\n"
                   . $idp->location(timeout => '5s') . <<'C',
    tenant_guard_keys_url /_jwks refresh=1s min_refetch=1s;
    location / {
        tenant_guard on;
        proxy_pass http://$TEST_NGINX_UPSTREAM;
    }
}
C
    config => '',
);
$n->start;

my $h2 = "curl -s --http2-prior-knowledge -o /dev/null "
         . "-w '%{http_code} %{http_version}\\n' "
         . "-H 'Authorization: Bearer $tok' http://127.0.0.1:$p2/items";
is(`$h2`, "200 2\n", 'HTTP/2: the first fetch, passes');

$idp->keys('ec256');
$idp->mode('delay:1');
sleep 1.2;
my $mark = $n->mark;
is(`$h2`, "200 2\n", 'past refresh: served at once, and the client '
   . 'closes its connection');
ok($n->wait_log(qr/keys from "\/_jwks": 1 usable, generation 2/, 4, $mark),
   '... the background refresh is published all the same')
    or diag $n->log_since($mark);
$idp->mode('ok');
is(`$h2`, "401 2\n", '... so the removed key is refused');

@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

done_testing();
