# Review of issue 10, Redis mode: a workspace whose tg:ws "ban" field is
# invalid is never counted under weaker settings than the control plane
# meant: its logins are refused with 503, as its tokens are, and reach no
# upstream.  Other workspaces' logins are not affected.
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use JSON::PP;
use Test::More;

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

my $r = TG::Redis->start;

# the file says: a first-level ban after 100 failures
my $policy = {
    default => {ban => {blockingForClientEnabled => JSON::PP::true,
                        firstBanThreshold => 100,
                        firstBanCollectingTime => 60,
                        firstBanDuration => 60}},
};

# the control plane meant acme to ban after 2, and wrote broken JSON
$r->cmd('HSET', 'tg:ws:acme', 'ban', '{"blockingForClientEnabled": true, '
                                     . '"firstBanThreshold": 2,');
$r->cmd('HSET', 'tg:ws:beta', 'mfa', encode_json({required => JSON::PP::false}));

my $n = TG::Redis::Nginx->new(
    name => 'invalid-ban',
    policy => $policy,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_redis " . $r->addr . ";\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<'C',
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
C
)->start;
ok($r->wait_links(clients => 1, subscribers => 1), 'linked to Redis');

sub login {
    my ($ws, $id) = @_;
    return $n->get('/auth/login', "X-Login: $id", "X-Workspace: $ws");
}

for my $i (1 .. 3) {
    my $res = login('acme', 'alice');
    TG::Redis::refused($res, 503, 'temporarily_unavailable',
                       "acme, invalid ban: login $i",
                       "the workspace's policy is invalid");
    ok(!TG::HTTP::header_values($res, 'X-Mock-Upstream'),
       "acme, invalid ban: login $i not forwarded");
}

# beta's hash is valid: its logins reach the upstream
my $res = login('beta', 'bob');
is($res->{status}, 401, 'beta: the login reaches the upstream');
ok(scalar TG::HTTP::header_values($res, 'X-Mock-Upstream'),
   'beta: the upstream answered');

is(join("\n", $n->bad_log_lines), '', 'no alert in the error log');

$n->stop;
$r->stop;

done_testing();
