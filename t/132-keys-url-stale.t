# tenant_guard_keys_url: stale-if-error.  After a good fetch, the IdP
# fails (500), hangs past the location's timeout, answers garbage, gzip
# (with and without Content-Encoding), a 206, a body over max_size, a body over
# subrequest_output_buffer_size, a set with an "oct" key, a set with no
# key tenant_guard_algorithms allows, an empty set: each time the request
# is served at once with the last good set, which stays (the bad answers
# hold a set that would replace it, were they taken); the failure streak
# logs one warning, and each failure its reason at info; a good fetch
# ends the streak.  A cold start whose fetch fails answers 503, and
# retries no sooner than min(min_refetch, 5 s).
#
# Plain Test::More on TG::Redis::Nginx and TG::IdP.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::IdP;
use Test::More;
use Time::HiRes qw(time sleep);

my $idp = TG::IdP->start(keys => ['rsa1']);

my $n = TG::Redis::Nginx->new(
    name => 'stale',
    workers => 2,
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp->location(timeout => '1s', buffer => '16k') . <<'C',
tenant_guard_keys_url /_jwks refresh=1s min_refetch=1s max_size=4k;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

my $good = TG::jwt({}, key => 'rsa1');

sub good {
    return $n->get('/items', "Authorization: Bearer $good");
}

# requests until the log says $re (a refresh is claimed by a request once
# it is due: under a loaded machine or ASan, the retry delay of the last
# failure may end a little later than the test's sleep)
sub poke {
    my ($re, $mark) = @_;
    for (1 .. 10) {
        good();
        return 1 if $n->wait_log($re, 0.5, $mark);
    }
    return 0;
}

my $res = good();
is($res->{status}, 200, 'the first fetch brings rsa1');
is($idp->count, 1, 'one fetch');

# from now on, a set that would replace rsa1 if a bad answer were taken
$idp->keys('ec256');

my @modes = (
    ['status:500', qr/failed(?: again)?: the response status is not 2xx/],
    ['hang',       qr/failed again: the fetch failed/],
    ['garbage',    qr/rejected again: the response is not a JSON object/],
    ['gzip',       qr/rejected again: the response has a Content-Encoding/],
    ['gzip_bare',  qr/rejected again: the response is gzip-compressed/],
    ['big:8000',   qr/rejected again: the key set is larger than max_size/],
    ['big:40000',  qr/failed again: the fetch failed/],
    ['oct',        qr/rejected again: the key set holds an "oct" key/],
    ['ec384',      qr/rejected again: no key of the set fits/],
    ['empty',      qr/rejected again: /],
    ['status:404', qr/failed again: the response status is not 2xx/],
    ['status:206', qr/rejected again: the response status is not 200/],
);

for my $m (@modes) {
    my ($mode, $why) = @$m;
    $idp->mode($mode);
    sleep 1.1;                  # past refresh, and past the retry delay
    my $count = $idp->count;
    my $mark = $n->mark;
    $res = good();
    is($res->{status}, 200, "$mode: the request passes with the last good set");
    cmp_ok($res->{elapsed}, '<', 0.8, "$mode: ... at once");

    # the refresh is claimed by the first request once the last failure's
    # retry delay is over: on a loaded machine that may be a later one
    my $tried = $idp->wait_count($count + 1, 1.5);
    for (1 .. 6) {
        last if $tried;
        my $again = good();
        $tried = $again->{status} == 200 && $idp->wait_count($count + 1, 0.5);
    }
    ok($tried, "$mode: a refresh was tried");
    ok($n->wait_log($why, 4, $mark), "$mode: ... and refused: $why")
        or diag $n->log_since($mark);
    $res = good();
    is($res->{status}, 200, "$mode: the last good set stays");
}

my $log = $n->error_log;
my $warns = () = $log =~ /\[warn\].*tenant_guard: fetching keys from/g;
is($warns, 1, 'one warning for the whole failure streak');
like($log, qr/\[warn\].*fetching keys from "\/_jwks" failed: the response status is not 2xx \(status 500\); the last good key set stays/,
     '... naming the URI, the reason and the status');

# a good fetch ends the streak: the next failure warns again

$idp->mode('ok');
$idp->keys('rsa1', 'ec256');
sleep 1.1;
my $mark = $n->mark;
ok(poke(qr/keys from "\/_jwks": 2 usable, generation 2/, $mark),
   'a good fetch publishes the new set (generation 2)');
# every failure is logged once (a warn or an info line): the zone's
# counters, from both workers, must match them by result
my $before = substr($n->error_log, 0, $mark);
my $failed = () = $before =~ /fetching keys from "\/_jwks" failed/g;
my $rejected = () = $before =~ /fetching keys from "\/_jwks" was rejected/g;
cmp_ok($failed, '>=', 4, "$failed failures logged");
cmp_ok($rejected, '>=', 8, "$rejected rejections logged");
like($n->log_since($mark),
     qr/generation 2, .*\(fetches: 2 success, $failed failure, $rejected rejected\)/,
     'the zone counted every fetch of both workers by result');
is($n->get('/items', 'Authorization: Bearer '
           . TG::jwt({}, key => 'ec256', alg => 'ES256'))->{status}, 200,
   '... whose new key passes');

$idp->mode('status:503');
sleep 1.1;
$mark = $n->mark;
ok(poke(qr/\[warn\].*fetching keys from "\/_jwks" failed/, $mark),
   'a new failure streak warns again');

my @bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;

# --- a cold start that fails: 503, and no retry storm

my $idp2 = TG::IdP->start(keys => ['rsa1'], mode => 'status:500');
my $c = TG::Redis::Nginx->new(
    name => 'cold',
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp2->location . <<'C',
tenant_guard_keys_url /_jwks min_refetch=1s;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$c->start;

$res = $c->get('/items', "Authorization: Bearer $good");
is($res->{status}, 503, 'a cold start whose fetch fails: 503');
is($res->{json}{error}, 'temporarily_unavailable', '... temporarily_unavailable');
like($c->error_log, qr/\[info\].*no key set from "\/_jwks" yet/,
     '... logged');
is($idp2->count, 1, '... after one fetch');

$res = $c->get('/items', "Authorization: Bearer $good");
is($res->{status}, 503, 'at once again: 503');
is($idp2->count, 1, '... with no new fetch (retry after min_refetch)');

$idp2->mode('ok');
sleep 1.1;
$res = $c->get('/items', "Authorization: Bearer $good");
is($res->{status}, 200, 'the IdP back: the retry fetches and the token passes');
is($idp2->count, 2, '... after one more fetch');

@bad = $c->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$c->stop;
$idp->stop;
$idp2->stop;

done_testing();
