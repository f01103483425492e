# A revocation check Redis does not answer, under "tenant_guard_redis_failure
# open": the request passes, but the token is not kept in the zone as "not
# revoked", or a token revoked before that moment would pass on this host
# until its exp (the events link stays up, so nothing would re-ask).
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use Test::More;
use Time::HiRes qw(sleep);

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

my $r = TG::Redis->start;
my $n = TG::Redis::Nginx->new(
    name => 'open',
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_redis " . $r->addr . " timeout=300ms;\n",
    config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location /open/ {
    tenant_guard on;
    tenant_guard_redis_failure open;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
)->start;
ok($r->wait_links(clients => 1), 'nginx is linked to Redis');

sub refused_later {
    my ($tok, $what) = @_;

    for my $i (1 .. 3) {
        my $res = $n->get('/open/a', "Authorization: Bearer $tok");
        TG::Redis::refused($res, 401, 'invalid_token',
                           "$what, request $i: the revoked token is refused",
                           'the token has been revoked');
        sleep 0.6;
    }
}

# an error reply: EXISTS is not allowed, both links stay up

my $tok = TG::jwt({workspace_id => 'w', jti => 'jti-revoked-error'});
$r->revoke('jti-revoked-error');
$r->cmd('ACL', 'SETUSER', 'default', '-exists');

my $res = $n->get('/open/a', "Authorization: Bearer $tok");
is($res->{status}, 200,
   'an error reply to the revocation check: fail open lets it pass');

$r->cmd('ACL', 'SETUSER', 'default', '+exists');
refused_later($tok, 'after an error reply');

# no reply in time: Redis is paused, the command times out

$tok = TG::jwt({workspace_id => 'w', jti => 'jti-revoked-timeout'});
$r->revoke('jti-revoked-timeout');

$r->pause;
$res = $n->get('/open/a', "Authorization: Bearer $tok");
is($res->{status}, 200,
   'a revocation check that times out: fail open lets it pass');
$r->resume;
ok($r->wait_links(clients => 1), 'nginx is linked again');
sleep 0.3;

refused_later($tok, 'after a timeout');

is_deeply([$n->bad_log_lines], [], 'no alert, crit or emerg in the log');

$n->stop;
$r->stop;
done_testing();
