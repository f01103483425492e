# GET /metrics of the admin API (tenant_guard_admin): counters in shared
# memory, summed over the workers, counted exactly for a known number of
# requests sent over separate connections to two workers; the text passes
# "promtool check metrics" (Debian's prometheus package, fetched once into
# build/promtool); per-workspace series are off by default and capped by
# tenant_guard_metrics_workspaces (the rest "__other__").
#
# Plain Test::More on TG::Redis::Nginx (several nginx at once).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::Admin;
use Test::More;
use File::Temp ();

my $HTTP = <<'H';
tenant_guard_zone zone=tg:1m;
log_format tg_pid 'pid=$pid "$request" $status';
# a second server with "reuseport" on the test port: the kernel spreads new
# connections over both workers
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT reuseport;
    server_name spread.invalid;
    return 404;
}
H

my $CONF = <<'C';
access_log logs/access.log tg_pid;
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /admin/ {
    tenant_guard_admin token=$TEST_NGINX_PREFIX/admin.tokens;
}
C

sub metrics_of {
    my ($text) = @_;
    my %m;
    for (split /\n/, $text) {
        next if /^#/ || !/\S/;
        my ($k, $v) = /^(\S+(?:\{[^}]*\})?) (\S+)$/ or next;
        $m{$k} = $v;
    }
    return \%m;
}

# ---------------------------------------------------------------- exact counts

my $n = TG::Redis::Nginx->new(name => 'count', workers => 2,
                              http_config => $HTTP, config => $CONF);
TG::Admin::write_tokens($n);
$n->start;

my $good = TG::jwt({workspace_id => 'acme'});
my %want = (allow => 12, no_token => 5, signature => 3, expired => 2);

for (1 .. $want{allow}) {
    is($n->get("/ok/$_", "Authorization: Bearer $good")->{status}, 200,
       "allowed request $_");
}
for (1 .. $want{no_token}) {
    is($n->get("/none/$_")->{status}, 401, "request $_ without a token");
}
for (1 .. $want{signature}) {
    my $bad = TG::jwt({workspace_id => 'acme', jti => "bad-$_"},
                      key => 'evil_rsa', kid => 'rsa1');
    is($n->get("/bad/$_", "Authorization: Bearer $bad")->{status}, 401,
       "request $_ with a bad signature");
}
for (1 .. $want{expired}) {
    my $old = TG::jwt({workspace_id => 'acme', iat => time - 7200,
                       exp => time - 3600, jti => "old-$_"});
    is($n->get("/old/$_", "Authorization: Bearer $old")->{status}, 401,
       "request $_ with an expired token");
}

my $res = TG::Admin::admin($n, 'GET', '/admin/metrics');
is($res->{status}, 200, '/metrics answers 200');
like(TG::Admin::header($res, 'Content-Type'), qr{^text/plain; version=0\.0\.4},
     '/metrics is Prometheus text 0.0.4');
my $m = metrics_of($res->{body});

is($m->{'tenant_guard_decisions_total{result="allow"}'}, $want{allow},
   'allowed requests, counted exactly over both workers');
is($m->{'tenant_guard_decisions_total{result="invalid_request"}'},
   $want{no_token}, 'requests without a token');
is($m->{'tenant_guard_decisions_total{result="invalid_token"}'},
   $want{signature} + $want{expired}, 'requests with an invalid token');
is($m->{'tenant_guard_invalid_tokens_total{cause="signature"}'},
   $want{signature}, 'invalid tokens by cause: signature');
is($m->{'tenant_guard_invalid_tokens_total{cause="expired"}'},
   $want{expired}, 'invalid tokens by cause: expired');
is($m->{'tenant_guard_invalid_tokens_total{cause="malformed"}'}, 0,
   'no other cause counted');
is($m->{'tenant_guard_decision_duration_seconds_count'},
   $want{allow} + $want{no_token} + $want{signature} + $want{expired},
   'every decision is in the histogram');
is($m->{'tenant_guard_decision_duration_seconds_bucket{le="+Inf"}'},
   $m->{'tenant_guard_decision_duration_seconds_count'},
   'the +Inf bucket holds every decision');
is($m->{'tenant_guard_cache_lookups_total{cache="token",result="hit"}'},
   $want{allow} - 1, 'the good token came from the zone after its first use');
is($m->{'tenant_guard_zone_bytes{state="size"}'}, 1048576,
   'the zone size is reported');
cmp_ok($m->{'tenant_guard_zone_bytes{state="used"}'}, '>', 0,
       'the zone has bytes in use');
is($m->{'tenant_guard_redis_up'}, 0, 'no Redis: redis_up is 0');
is($m->{'tenant_guard_jwks_keys'}, 6, 'the keys of the jwks.json file');
is($m->{'tenant_guard_jwks_fetches_total{result="success"}'}, 0,
   'no JWKS fetch was made');
like($res->{body}, qr/^tenant_guard_info\{version="[0-9.]+",nginx_version="[0-9.]+"\} 1$/m,
     'tenant_guard_info names the versions');
ok(!grep(/workspace=/, split /\n/, $res->{body}),
   'no per-workspace series by default');

# the scrape itself is no decision
$res = TG::Admin::admin($n, 'GET', '/admin/metrics');
is(metrics_of($res->{body})->{'tenant_guard_decisions_total{result="allow"}'},
   $want{allow}, 'a scrape is not counted as a decision');

my $body = $res->{body};

$n->stop;

my %pids = map { /\bpid=(\d+)/ ? ($1 => 1) : () }
           grep { m{"GET /(ok|none|bad|old)/} }
           split /\n/, TG::slurp($n->prefix . '/logs/access.log');
cmp_ok(scalar(keys %pids), '>=', 2, 'the requests were served by both workers');
is_deeply([$n->bad_log_lines], [], 'no alert, crit or emerg in the log');

# ---------------------------------------------------------------- promtool

my $promtool = TG::Admin::promtool();
my $tmp = File::Temp->new;
print $tmp $body;
close $tmp;
my $out = `'$promtool' check metrics < '$tmp' 2>&1`;
is($?, 0, 'promtool check metrics accepts the text') or diag($out);
is($out, '', 'promtool has no lint remark') or diag($out);

# conf/prometheus-scrape.yml is a configuration Prometheus accepts
my $cred = File::Temp->new;
print $cred TG::Admin::TOKEN, "\n";
close $cred;
my $yml = TG::slurp("$TG::REPO/conf/prometheus-scrape.yml");
ok($yml =~ s{/etc/prometheus/tenant_guard_admin\.token}{$cred},
   'the scrape snippet names a credentials file');
my $conf = File::Temp->new(SUFFIX => '.yml');
print $conf $yml;
close $conf;
$out = `'$promtool' check config '$conf' 2>&1`;
is($?, 0, 'promtool check config accepts conf/prometheus-scrape.yml')
    or diag($out);

# ---------------------------------------------------------------- workspaces

$n = TG::Redis::Nginx->new(name => 'ws',
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "log_format tg_pid 'pid=\$pid \$status';\n"
                   . "tenant_guard_metrics_workspaces 2;\n",
    config => $CONF);
TG::Admin::write_tokens($n);
$n->start;

for my $ws (qw(alpha beta alpha gamma delta), "quo\"te") {
    $n->get('/x', 'Authorization: Bearer ' . TG::jwt({workspace_id => $ws}));
}
$n->get('/x', 'Authorization: Bearer ' . TG::jwt({workspace_id => 'beta'},
                                                  key => 'evil_rsa',
                                                  kid => 'rsa1'));

$res = TG::Admin::admin($n, 'GET', '/admin/metrics');
$m = metrics_of($res->{body});
is($m->{'tenant_guard_workspace_decisions_total{workspace="alpha",result="allow"}'},
   2, 'the first workspace has its own series');
is($m->{'tenant_guard_workspace_decisions_total{workspace="beta",result="allow"}'},
   1, 'the second workspace has its own series');
is($m->{'tenant_guard_workspace_decisions_total{workspace="__other__",result="allow"}'},
   3, 'past the cap, workspaces are folded into __other__');
is(scalar(grep { /^tenant_guard_workspace_decisions_total/ }
          split /\n/, $res->{body}), 3,
   'no more series than the cap and __other__');
ok(!grep(/result="invalid_token"/ && /workspace=/, split /\n/, $res->{body}),
   'an unverified token names no workspace');

$tmp = File::Temp->new;
print $tmp $res->{body};
close $tmp;
$out = `'$promtool' check metrics < '$tmp' 2>&1`;
is($?, 0, 'promtool accepts the per-workspace series') or diag($out);

$n->stop;
is_deeply([$n->bad_log_lines], [], 'no alert, crit or emerg in the log');

done_testing();
