# tenant_guard_keys_url with $tenant_guard_* read before the access phase
# (a limit_req key): a variable never starts a fetch or waits for one, so
# a cold start and a rotated kid are left to the access step, which waits
# for the fetch; the request passes, and the variable is set once the
# token is verified.  Before, the variable's check returned "not finished"
# (an alert and a 500) on a cold start, and a new kid was refused and that
# refusal remembered, so the access step never refetched.
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
use Time::HiRes qw(sleep);

my $idp = TG::IdP->start(keys => ['rsa1'], mode => 'ok');

my $n = TG::Redis::Nginx->new(
    name => 'keysvars',
    workers => 1,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
        . "limit_req_zone \$tenant_guard_workspace zone=perws:1m "
        . "rate=100r/s;\n",
    config => $idp->location . <<"C",
tenant_guard_keys_url /_jwks refresh=60s min_refetch=1s;
location / {
    tenant_guard on;
    limit_req zone=perws burst=100;
    add_header X-WS \$tenant_guard_workspace always;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
C
);
$n->start;

sub get {
    my ($key, %o) = @_;
    my $tok = TG::jwt({}, key => $key, %{$o{jwt} || {}});
    return $n->get('/items', "Authorization: Bearer $tok");
}

my $res = get('rsa1');
is($res->{status}, 200, 'cold start, variable in preaccess: the request '
   . 'waits for the first fetch and passes');
my ($ws) = map { $_->[1] } grep { lc $_->[0] eq 'x-ws' } @{$res->{headers}};
is($ws, 'ws1', '... and the variable is set');
is($idp->count, 1, '... after one fetch');

$idp->keys('rsa1', 'ec256');
sleep 1.2;                      # past min_refetch

$res = get('ec256', jwt => {alg => 'ES256'});
is($res->{status}, 200, 'a rotated kid, variable in preaccess: refetched '
   . 'by the access step, and passes');
is($idp->count, 2, '... after one refetch');

$res = get('ec256', jwt => {alg => 'ES256'});
is($res->{status}, 200, 'and again');

my @bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert or crash in the error log');

done_testing;
