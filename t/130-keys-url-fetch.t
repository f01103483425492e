# tenant_guard_keys_url: the key set fetched from a mock IdP over HTTPS
# (its own CA, verified by nginx), two workers.  A cold start with many
# concurrent first requests makes one fetch, and they all pass with the
# fetched keys; the fetch carries nothing of the client's (no header,
# cookie, body or query, method GET, no Accept-Encoding), even from a
# location that passes request headers and body; a token whose key the
# set does not hold is refused; the worker that did not fetch verifies
# with the same set (both workers serve requests).
#
# Plain Test::More on TG::Redis::Nginx (an nginx of its own) and TG::IdP.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::IdP;
use TG::HTTP;
use Test::More;
use Time::HiRes qw(time sleep);

my $idp = TG::IdP->start(keys => ['rsa1', 'ec256'], mode => 'delay:0.5');

my $port2 = TG::free_port();

my $n = TG::Redis::Nginx->new(
    name => 'keys',
    workers => 2,
    http_config => <<"H",
tenant_guard_zone zone=tg:1m;
log_format pids '\$status pid=\$pid';
server {
    listen 127.0.0.1:$port2 reuseport;
    server_name localhost;
    access_log logs/pids.log pids;
@{[ $idp->location(path => '/_jwks2') ]}
    location / {
        tenant_guard on;
        tenant_guard_keys_url /_jwks2;
        proxy_pass http://\$TEST_NGINX_UPSTREAM;
    }
}
H
    config => <<'C',
tenant_guard_keys_url /_jwks refresh=5m;
location = /_jwks {
    # everything a location could pass on, on purpose
    internal;
    proxy_pass https://127.0.0.1:IDP_PORT/certs?from=nginx;
    proxy_pass_request_headers on;
    proxy_pass_request_body on;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate IDP_CA;
    proxy_ssl_name localhost;
    proxy_read_timeout 2s;
    subrequest_output_buffer_size 64k;
}
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
);
$n->{config} =~ s/IDP_PORT/$idp->port/e;
$n->{config} =~ s/IDP_CA/$idp->ca/e;
$n->start;

# --- a cold start: 12 concurrent first requests, on both workers, one fetch

my $tok = TG::jwt({}, key => 'rsa1');
my @raw = map {
    TG::HTTP::build('GET /items/' . $_,
                    "Host: localhost\nConnection: close\n"
                    . "Authorization: Bearer $tok")
} 1 .. 12;

my $t0 = time;
my @status = TG::IdP::parallel($port2, @raw);
is_deeply(\@status, [(200) x 12],
          'cold start: every concurrent first request waits and passes');
is($idp->count, 1, 'cold start: one fetch for all of them, across workers');

my %pids = map { /pid=(\d+)/ ? ($1 => 1) : () }
           split /\n/, TG::slurp($n->prefix . '/logs/pids.log');
for (1 .. 20) {
    last if keys %pids >= 2;
    TG::IdP::parallel($port2, @raw[0 .. 3]);
    %pids = map { /pid=(\d+)/ ? ($1 => 1) : () }
            split /\n/, TG::slurp($n->prefix . '/logs/pids.log');
}
is(scalar(keys %pids), 2, 'both workers served requests with the keys');
is($idp->count, 1, 'the other worker took the set from the zone: no fetch');

like($n->error_log,
     qr/tenant_guard: keys from "\/_jwks2": 2 usable, generation 1/,
     'the published set is logged with its generation');

# --- what the IdP saw from a request that carries everything

my $mark = $idp->count;
my $body = '{"password":"hunter2"}';
my $res = TG::HTTP::send_request($n->port, TG::HTTP::build(
    "POST /secret/path?token=abc&q=1\n$body",
    "Host: client.example\nConnection: close\n"
    . 'Authorization: Bearer ' . TG::jwt({}, key => 'ec256', alg => 'ES256')
    . "\nCookie: session=s3cr3t\nX-Client-Secret: nope\n"
    . "Accept-Encoding: gzip, br\nX-Forwarded-For: 203.0.113.9\n"
    . "Content-Type: application/json\nContent-Length: " . length($body)));
is($res->{status}, 200, 'the main port fetches its own set (a cold start)');
ok($idp->wait_count($mark + 1), 'that fetch reached the IdP');

my $req = $idp->requests->[-1];
is($req->{method}, 'GET', 'the fetch is a GET');
is($req->{uri}, '/certs?from=nginx', 'the fetch has no query of the client');
is($req->{body}, '', 'the fetch has no body');
# "Connection: close" is nginx's own before 1.29 (whose proxy speaks
# HTTP/1.1 and keeps connections by default); every other header would be
# the client's
my @names = sort grep { $_ ne 'connection' } keys %{$req->{headers}};
is_deeply(\@names, [qw(host)],
          'the fetch carries no client header (no cookie, authorization, '
          . 'accept-encoding, forwarded-for, content-*)')
    or diag explain $req->{headers};
is($req->{headers}{host}[0], '127.0.0.1:' . $idp->port,
   'its Host is the IdP\'s, not the client\'s');

# --- a key the set does not hold is refused at once (no refetch yet: one
# per min_refetch, and the cold start was that one)

$res = $n->get('/items/x', 'Authorization: Bearer '
               . TG::jwt({}, key => 'rsa2'));
is($res->{status}, 401, 'a key outside the fetched set: 401');
is($res->{json}{error}, 'invalid_token', '... invalid_token');
is($idp->count, $mark + 1, '... with no refetch: the fetch a moment ago '
   . 'opened the min_refetch window');

$res = $n->get('/items/x', 'Authorization: Bearer '
               . TG::jwt({}, key => 'rsa1'));
is($res->{status}, 200, 'a key of the set still passes');

my @bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;

$n->stop;
$idp->stop;

done_testing();
