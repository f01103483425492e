# tenant_guard_keys_url as the admin API reports it: /metrics counts the
# fetches by result (success, failure, rejected) and the usable keys of the
# fetched set; /status names the source.  Before the two were wired, the
# metrics showed the file's keys and no fetch at all.
#
# Plain Test::More on TG::Redis::Nginx, TG::IdP and TG::Admin.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::IdP;
use TG::HTTP;
use TG::Admin;
use Test::More;
use Time::HiRes qw(sleep);

my $idp = TG::IdP->start(keys => ['rsa1', 'ec256'], mode => 'ok');

my $n = TG::Redis::Nginx->new(
    name => 'keysmetrics',
    workers => 2,
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp->location . <<"C",
tenant_guard_keys_url /_jwks refresh=1s min_refetch=1s;
location / {
    tenant_guard on;
    proxy_pass http://\$TEST_NGINX_UPSTREAM;
}
location /admin/ {
    tenant_guard off;
    tenant_guard_admin token=\$TEST_NGINX_PREFIX/admin.tokens;
}
C
);
TG::Admin::write_tokens($n);
$n->start;

sub metric {
    my ($name) = @_;
    my $res = TG::Admin::admin($n, 'GET', '/admin/metrics');
    my ($v) = $res->{body} =~ /^\Q$name\E (\S+)$/m;
    return $v;
}

is($n->get('/items', 'Authorization: Bearer ' . TG::jwt({}, key => 'rsa1'))
       ->{status}, 200, 'a token of the IdP\'s set passes');
is(metric('tenant_guard_jwks_fetches_total{result="success"}'), 1,
   'one successful fetch counted');
is(metric('tenant_guard_jwks_keys'), 2, 'the set\'s two usable keys');

my $st = TG::Admin::admin($n, 'GET', '/admin/status');
is($st->{json}{keys}{source}, 'url', '/status: the keys come from the URL')
    or diag $st->{body};

$idp->mode('garbage');
sleep 1.2;
is($n->get('/items', 'Authorization: Bearer ' . TG::jwt({}, key => 'rsa1'))
       ->{status}, 200, 'past refresh, the IdP answers garbage: served with '
       . 'the last good set');
ok($idp->wait_count(2, 3), 'a refresh was tried');
sleep 0.3;
is(metric('tenant_guard_jwks_fetches_total{result="rejected"}'), 1,
   'the garbage is counted as rejected');
is(metric('tenant_guard_jwks_keys'), 2, 'the last good set still counts');

is_deeply([$n->bad_log_lines], [], 'no alert or crash');

done_testing;
