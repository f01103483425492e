# tenant_guard_keys_url where the check runs elsewhere than a plain
# HTTP/1.1 request's access phase:
# - an auth_request target with "tenant_guard on" (checked in the
#   subrequest's preaccess phase): the cold start waits there, the fetch
#   is a subrequest of a subrequest, the main request then passes;
# - HTTP/2 (curl, prior knowledge): concurrent first streams wait for one
#   fetch, and a background refresh runs from a stream.
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

my $tok = TG::jwt({}, key => 'rsa1');

# --- auth_request

my $idp = TG::IdP->start(keys => ['rsa1'], mode => 'delay:0.5');
my $n = TG::Redis::Nginx->new(
    name => 'auth',
    http_config => "tenant_guard_zone zone=tg:1m;\n",
    config => $idp->location . <<'C',
tenant_guard_keys_url /_jwks;
location / {
    auth_request /_auth;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /_auth {
    internal;
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
}
C
);
$n->start;

my $res = $n->get('/items', "Authorization: Bearer $tok");
is($res->{status}, 200, 'auth_request: the cold start waits in the '
   . 'subrequest, then the request passes');
is($idp->count, 1, '... after one fetch');
$res = $n->get('/items', 'Authorization: Bearer ' . TG::jwt({}, key => 'rsa2'));
is($res->{status}, 401, 'auth_request: a key outside the set is refused');
is($idp->count, 1, '... at once, with no refetch (min_refetch)');
my @bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

# --- HTTP/2

$idp = TG::IdP->start(keys => ['rsa1'], mode => 'delay:0.5');
my $p2 = TG::free_port();
$n = TG::Redis::Nginx->new(
    name => 'h2',
    workers => 2,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "server {\n    listen 127.0.0.1:$p2 http2;\n"
                   . $idp->location . <<'C',
    tenant_guard_keys_url /_jwks refresh=1s;
    location / {
        tenant_guard on;
        proxy_pass http://$TEST_NGINX_UPSTREAM;
    }
}
C
    config => '',
);
$n->start;

sub h2 {
    my ($path) = @_;
    return "curl -s --http2-prior-knowledge -o /dev/null "
           . "-w '%{http_code} %{http_version}\\n' "
           . "-H 'Authorization: Bearer $tok' http://127.0.0.1:$p2$path";
}

my $out = `(@{[ h2('/a') ]} & @{[ h2('/b') ]} & @{[ h2('/c') ]} & wait)`;
is($out, "200 2\n200 2\n200 2\n",
   'HTTP/2: concurrent first requests wait for the first fetch and pass');
is($idp->count, 1, '... one fetch');

$idp->mode('delay:1.5');
sleep 1.2;
my $t0 = time;
$out = `@{[ h2('/d') ]}`;
is($out, "200 2\n", 'HTTP/2: past refresh, served');
cmp_ok(time - $t0, '<', 1.2, '... without waiting for the refresh');
ok($idp->wait_count(2, 3), '... which a background fetch does');

@bad = $n->bad_log_lines;
is_deeply(\@bad, [], 'no alert, crit or emerg') or diag join "\n", @bad;
$n->stop;
$idp->stop;

done_testing();
