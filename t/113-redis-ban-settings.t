# Redis mode (issue 10, point 9): the "ban" field of tg:ws:{ws} is the
# workspace's ban settings (not only the policy file's); a workspace whose
# hash has no "ban" gets the default policy's; and an identity ban still
# refuses the login only, never a token of that subject.
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
    workspaces => {acme => {ban => {blockingForClientEnabled =>
                                        JSON::PP::true,
                                    firstBanThreshold => 100,
                                    firstBanCollectingTime => 60,
                                    firstBanDuration => 60}}},
};

# the control plane says: acme bans after 2
$r->cmd('HSET', 'tg:ws:acme', 'ban', encode_json({
    blockingForClientEnabled => JSON::PP::true,
    firstBanThreshold => 2, firstBanCollectingTime => 60,
    firstBanDuration => 40}));
$r->cmd('HSET', 'tg:ws:beta', 'mfa', encode_json({required => JSON::PP::false}));

my $n = TG::Redis::Nginx->new(
    name => 'settings',
    policy => $policy,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_redis " . $r->addr . ";\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
)->start;
ok($r->wait_links(clients => 1, subscribers => 1), 'linked to Redis');

sub login {
    my ($ws, $id) = @_;
    return $n->get('/auth/login', "X-Login: $id", "X-Workspace: $ws");
}

is(login('acme', 'alice')->{status}, 401, 'acme: failure 1 reaches the upstream');
is(login('acme', 'alice')->{status}, 401, 'acme: failure 2 reaches the upstream');

my $res;
ok(defined TG::Redis::poll(sub {
       $res = login('acme', 'alice');
       ($res->{status} // 0) == 429;
   }, 1.0),
   "acme's Redis ban settings (threshold 2) ban alice, not the file's 100");
TG::Redis::refused($res, 429, 'banned', 'the refusal is 429 banned');
my ($retry) = TG::HTTP::header_values($res, 'Retry-After');
ok(defined $retry && $retry > 30 && $retry <= 40,
   "Retry-After within Redis's 40 s duration")
    or diag('Retry-After: ' . ($retry // 'none'));

# beta's hash has no "ban": the default's 100 apply
for my $i (1 .. 4) {
    is(login('beta', 'bob')->{status}, 401, "beta: failure $i passes");
}

# the victim's token is not refused
is($n->get('/api/items', TG::bearer({sub => 'alice', workspace_id => 'acme'}))
      ->{status}, 200, "alice's token still reaches the API");

is(join("\n", $n->bad_log_lines), '', 'no alert in the error log');

$n->stop;
$r->stop;

done_testing();
