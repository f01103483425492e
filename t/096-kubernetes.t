# deploy/kubernetes/: the ConfigMap's nginx.conf passes "nginx -t" with the
# module, and two gateways run from it against one Redis as two pods would:
# a token used on one is not signed out as idle on the other.
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm), like t/103.  The
# manifests are read with YAML::XS.  Each "pod" is a prefix holding the
# volumes of deploy/kubernetes/gateway.yaml: the ConfigMaps' files written
# at their mountPaths, the emptyDirs as empty directories, and
# /run/tenant-guard/redis.conf written by the init container's own script.
# nginx runs with the container's own command line under "-p PREFIX/".
#
# The only changes to nginx.conf (and to the init script) are the ones a
# pod on 127.0.0.1 needs:
#   - "load_module /usr/lib/nginx/...": the module under test (TG_MODULE);
#   - "listen 8080" / "listen 8081": 127.0.0.1 and free ports;
#   - every path under one of the containers' mountPaths: under the prefix;
#   - the upstream "server ....svc.cluster.local:PORT": the mock upstream;
#   - the init container's REDIS_HOST / REDIS_PORT / REDIS_PASSWORD: the
#     test's redis-server (for the "as shipped" -t, the shipped port and
#     127.0.0.1 for the cluster's Service name, which nginx -t resolves).
# The running pods get the test's JWKS (to sign tokens) and a policy with
# maxIdleTime 3 in place of the ConfigMaps' examples; the example files
# themselves pass "nginx -t" first.  Host C alone adds a test-only
# "set_real_ip_from 127.0.0.1;" to show that realip is wired.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use File::Copy ();
use File::Path ();
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes ();

no warnings 'exec';     # after TG, whose import turns warnings on

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();
plan skip_all => 'no YAML::XS (Debian: libyaml-libyaml-perl)'
    unless eval { require YAML::XS; 1 };

my $DIR = "$TG::REPO/deploy/kubernetes";
my $IDLE = 3;

# ---------------------------------------------------------------- manifests

my %OBJ;        # "Kind/name" => object
for my $file (sort glob "$DIR/*.yaml") {
    for my $doc (YAML::XS::LoadFile($file)) {
        next unless ref $doc eq 'HASH' && $doc->{kind}
                    && $doc->{metadata} && $doc->{metadata}{name};
        $OBJ{"$doc->{kind}/$doc->{metadata}{name}"} = $doc;
    }
}

my $dep = $OBJ{'Deployment/tenant-guard-gateway'}
    or BAIL_OUT('no Deployment tenant-guard-gateway in deploy/kubernetes/');
my $pod = $dep->{spec}{template}{spec};
my ($nginx) = grep { $_->{name} eq 'nginx' } @{$pod->{containers}};
my ($init) = grep { $_->{name} eq 'redis-conf' }
             @{$pod->{initContainers} || []};
ok($nginx && $init, 'the gateway pod has the nginx and redis-conf containers')
    or BAIL_OUT('cannot go on without them');
my %VOL = map { $_->{name} => $_ } @{$pod->{volumes}};

# every mountPath of both containers, longest first
my @MOUNTS = sort { length $b <=> length $a }
             map { $_->{mountPath} }
             map { @{$_->{volumeMounts} || []} } $nginx, $init;
my $MOUNT_RE = join '|', map { quotemeta } @MOUNTS;

my %port = map { $_->{name} => $_->{containerPort} } @{$nginx->{ports}};
is_deeply([sort values %port], [8080, 8081],
          'the gateway has ports http 8080 and status 8081');

my $svc = $OBJ{'Service/tenant-guard'};
is($svc->{spec}{externalTrafficPolicy}, 'Local',
   'the public Service keeps the client address (externalTrafficPolicy Local)');
is_deeply([map { $_->{targetPort} } @{$svc->{spec}{ports}}], ['http'],
          'the public Service exposes the http port only, not the status port');
is($nginx->{readinessProbe}{httpGet}{path}, '/healthz',
   'readiness is /healthz ...');
is($nginx->{readinessProbe}{httpGet}{port}, 'status',
   '... on the status port');

my %init_env = map { $_->{name} => $_ } @{$init->{env}};
my $redis_svc = $OBJ{'Service/tenant-guard-redis'};
ok($OBJ{'StatefulSet/tenant-guard-redis'} && $redis_svc,
   'Redis is a StatefulSet with a Service');
like($init_env{REDIS_HOST}{value} // '',
     qr/^tenant-guard-redis\.tenant-guard\.svc\./,
     'the gateway points at the Redis Service');
is($init_env{REDIS_PASSWORD}{valueFrom}{secretKeyRef}{name},
   'tenant-guard-redis', 'the Redis password comes from a Secret');

sub have { grep { -x "$_/$_[0]" } split /:/, $ENV{PATH} // '' }

SKIP: {
    skip 'no yamllint', 1 unless have('yamllint');
    my $out = qx{yamllint --strict '$DIR' 2>&1};
    is($?, 0, 'yamllint --strict deploy/kubernetes/') or diag($out);
}
SKIP: {
    skip 'no kubectl', 1 unless have('kubectl');
    my $out = qx{kubectl kustomize '$DIR' 2>&1};
    is($?, 0, 'kubectl kustomize deploy/kubernetes/ renders (offline)')
        or diag(substr($out, 0, 2000));
}

# ---------------------------------------------------------------- a pod

# the ConfigMap behind a volume
sub configmap_of {
    my ($vol) = @_;
    my $cm = $VOL{$vol}{configMap} or return undef;
    return $OBJ{"ConfigMap/$cm->{name}"}
        // die "no ConfigMap $cm->{name} in deploy/kubernetes/\n";
}

sub rebase {
    my ($text, $prefix) = @_;
    my $n = $text =~ s{(?<![\w./-])($MOUNT_RE)(?=[/;\s"']|\z)}{$prefix$1}g;
    return ($text, $n);
}

# the nginx.conf of the ConfigMap that the container's "-c" names
my ($CONF_PATH) = do {
    my @c = @{$nginx->{command}};
    my ($i) = grep { $c[$_] eq '-c' } 0 .. $#c;
    $c[$i + 1];
};
my $CONF_TEXT = do {
    my ($m) = grep { index($CONF_PATH, "$_->{mountPath}/") == 0 }
              @{$nginx->{volumeMounts}};
    my $cm = configmap_of($m->{name});
    $cm->{data}{substr($CONF_PATH, length($m->{mountPath}) + 1)};
};
ok(defined $CONF_TEXT && $CONF_TEXT =~ /\bhttp\s*\{/,
   "nginx.conf ($CONF_PATH) is in a ConfigMap")
    or BAIL_OUT('no nginx.conf');
my ($ISSUER) = $CONF_TEXT =~ /^\s*tenant_guard_issuer\s+(\S+);/m;
my ($AUDIENCE) = $CONF_TEXT =~ /^\s*tenant_guard_audience\s+(\S+);/m;

# render(name, redis_env => {...}, password => ..., keys => FILE,
#        policy => TEXT, extra_realip => 1): a prefix with the pod's
# volumes and nginx.conf; returns {prefix, ports, conf}
sub render {
    my ($name, %o) = @_;
    my $prefix = "$TG::ROOT/pod-$name";
    File::Path::rmtree($prefix);
    File::Path::mkpath("$prefix/logs");

    # volumes: ConfigMaps' files at their mountPaths, emptyDirs empty
    for my $m (map { @{$_->{volumeMounts} || []} } $nginx, $init) {
        my $dir = "$prefix$m->{mountPath}";
        File::Path::mkpath($dir);
        chmod 0777, $dir if $VOL{$m->{name}}{emptyDir};   # like an emptyDir
        my $cm = configmap_of($m->{name}) or next;
        for my $k (keys %{$cm->{data}}) {
            open my $fh, '>', "$dir/$k" or die "$dir/$k: $!\n";
            print $fh $cm->{data}{$k};
            close $fh;
        }
    }
    File::Copy::copy($o{keys}, "$prefix/etc/tenant-guard/keys/jwks.json")
        or die "keys: $!\n" if $o{keys};
    if (defined $o{policy}) {
        open my $fh, '>', "$prefix/etc/tenant-guard/policy/tenant_policy.json"
            or die "policy: $!\n";
        print $fh $o{policy};
        close $fh;
    }

    # the init container's script, with the pod's environment
    my ($script) = rebase($init->{command}[-1], $prefix);
    my %env = ((map { $_->{name} => $_->{value} }
                grep { defined $_->{value} } @{$init->{env}}),
               REDIS_PASSWORD => $o{password},
               %{$o{redis_env} || {}});
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        open STDERR, '>', "$prefix/init.log";
        exec '/bin/sh', '-ec', $script;
        POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return {prefix => $prefix, init_status => $? >> 8} if $?;

    my $conf = $CONF_TEXT;
    my $upstream = TG::upstream_addr();
    my $n = $conf =~ s{^(\s*server\s+)\S+\.svc\.cluster\.local:\d+}
                   {$1$upstream}mg;
    die "upstream server: $n lines\n" unless $n == 1;
    my %ports = map { $_ => TG::free_port() } 8080, 8081;
    $n = $conf =~ s{^(\s*listen\s+)(\d+)\b}
                   {$1 . '127.0.0.1:' . ($ports{$2} // die "listen $2\n")}mge;
    die "listen: $n lines\n" unless $n == 2;
    ($conf) = rebase($conf, $prefix);

    # after the rebase: the module may live under a mount path (/tmp) too
    $n = $conf =~ s{^(\s*load_module\s+)\S+;}{$1$TG::MODULE;}mg;
    die "load_module: $n lines\n" unless $n == 1;
    if ($o{extra_realip}) {
        $conf =~ s{^(\s*real_ip_header\s.*)$}
                  {$1\n    set_real_ip_from 127.0.0.1;   # test only}m
            or die "no real_ip_header\n";
    }
    open my $fh, '>', "$prefix$CONF_PATH" or die "conf: $!\n";
    print $fh $conf;
    close $fh;

    my @cmd = @{$nginx->{command}};
    shift @cmd;     # "nginx": the distro's (TG_NGINX)
    @cmd = map { (rebase($_, $prefix))[0] } @cmd;
    return {name => $name, prefix => $prefix, ports => \%ports,
            conf => $conf, args => ['-p', "$prefix/", @cmd],
            init_status => 0};
}

sub nginx_t {
    my ($pod) = @_;
    my %env = TG::nginx_env();
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        @ENV{keys %env} = values %env;
        exec $TG::NGINX, '-t', @{$pod->{args}};
        POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

sub start {
    my ($pod) = @_;
    my $p = $pod->{prefix};
    my ($pid, $why) = TG::spawn(
        cmd   => [$TG::NGINX, @{$pod->{args}}],
        out   => "$p/stderr.log",
        env   => {TG::nginx_env()},
        ready => sub { -s "$p/tmp/nginx.pid"
                       && TG::port_open($pod->{ports}{8080})
                       && TG::port_open($pod->{ports}{8081}) },
        stop  => [QUIT => 5, TERM => 3]);
    die "nginx of $pod->{name}: $why: " . TG::slurp("$p/stderr.log") . "\n"
        unless $pid;
    $pod->{pid} = $pid;
    return $pod;
}

sub get {
    my ($pod, $port, $path, @h) = @_;
    my $res = TG::HTTP::send_request($pod->{ports}{$port},
                                     TG::HTTP::build("GET $path",
                                                     join("\n", @h)), 5);
    return $res;
}

sub bearer {
    my (%claims) = @_;
    return TG::bearer({iss => $ISSUER, aud => $AUDIENCE, %claims});
}

# ---------------------------------------------------------------- nginx -t

TG::init_root();

# nginx -t resolves the Redis host: the cluster's Service name resolves in
# the cluster only, so this rendition names 127.0.0.1 (with the shipped port)
my $shipped = render('shipped', password => 'not-used-by-nginx-t',
                     redis_env => {REDIS_HOST => '127.0.0.1'});
is($shipped->{init_status}, 0, 'the init container writes redis.conf');
my $rc = TG::slurp("$shipped->{prefix}/run/tenant-guard/redis.conf");
like($rc, qr/^tenant_guard_redis 127\.0\.0\.1:6379 password=not-used-by-nginx-t .*;\n\z/,
     'redis.conf holds the tenant_guard_redis line with the password');
is((stat "$shipped->{prefix}/run/tenant-guard/redis.conf")[2] & 0777, 0600,
   'redis.conf is readable by its owner only');
my ($st, $out) = nginx_t($shipped);
is($st, 0, 'nginx -t: the ConfigMaps as shipped (example keys and policy) '
           . 'with the module')
    or diag($out);
like($out, qr/test is successful/, 'nginx -t says the test is successful');
unlike($out, qr/\[(emerg|alert|crit)\]/, 'nginx -t: no emerg or alert');

is(render('badpw', password => 'has space')->{init_status}, 1,
   'the init container refuses a password that nginx.conf would need '
   . 'quoted');

# ---------------------------------------------------------------- two pods

my $r = TG::Redis->start(password => 'k8s-secret-0123');
my %pods;
my $policy = JSON::PP->new->canonical->encode({
    default => {passwordPolicy => {maxIdleTime => $IDLE}},
    workspaces => {},
});
for my $name (qw(a b)) {
    $pods{$name} = render($name,
        password  => 'k8s-secret-0123',
        redis_env => {REDIS_HOST => '127.0.0.1', REDIS_PORT => $r->port},
        keys      => TG::keys_dir() . '/jwks.json',
        policy    => $policy);
}
($st, $out) = nginx_t($pods{a});
is($st, 0, "nginx -t: the test's rendition (its keys, maxIdleTime $IDLE)")
    or diag($out);

start($_) for @pods{qw(a b)};
my ($A, $B) = @pods{qw(a b)};
ok($r->wait_links(clients => 4, subscribers => 2),
   'both pods (2 workers each) linked to Redis with the password');

# readiness, on the status port only
my $res = get($A, 8081, '/healthz');
is($res->{status}, 200, 'the status port answers /healthz with 200');
is($res->{body}, "ok\n", '... and "ok"');
isnt(get($A, 8080, '/healthz')->{status}, 200,
     'the public port does not serve /healthz without a token');
TG::Redis::refused(get($A, 8080, '/workspaces/ws1/items'), 401,
                   'invalid_request', 'the public port wants a token');

# tenant headers: the client's copies stripped, the token's set; the
# client's X-Forwarded-For ignored (127.0.0.1 is not a trusted range)
TG::Redis::passed(
    get($A, 8080, '/workspaces/ws1/items', bearer(),
        'X-Workspace-Id: evil', 'X_Subject_Id: mallory',
        'X-Forwarded-For: 203.0.113.9'),
    'a token for ws1 on pod A',
    'X-Workspace-Id' => 'ws1', 'X-Subject-Id' => 'user1',
    'X-Real-IP' => '127.0.0.1', 'X-Forwarded-For' => '127.0.0.1');
TG::Redis::refused(get($A, 8080, '/workspaces/ws2/items', bearer()), 403,
                   'workspace_mismatch', "another workspace's path");

# idle sign-out across pods.  The tokens were issued 2 s ago; used on A
# now, then on B 2 s later: B alone would count from iat (4 s > maxIdleTime
# 3) and refuse, so B's 200 comes from A's use, shared through Redis.  The
# control: the same for a second token whose tg:seen key is deleted first.
my ($h, $h2) = map { bearer(iat => time() - 2) } 1, 2;
my ($key, $key2) = map { 'tg:seen:' . TG::Redis::sha256_hex(/Bearer (\S+)/) }
                   $h, $h2;
my $t0 = Time::HiRes::time();
TG::Redis::passed(get($A, 8080, '/workspaces/ws1/x', $h),
                  'pod A accepts a token 2 s after its iat');
TG::Redis::passed(get($A, 8080, '/workspaces/ws1/x', $h2),
                  'pod A accepts another one');
ok(defined TG::Redis::poll(
       sub { ($r->try('EXISTS', $key))[1] && ($r->try('EXISTS', $key2))[1] },
       1.5),
   "A's uses are written to Redis (tg:seen)");
$r->cmd('DEL', $key2);
Time::HiRes::sleep($t0 + 2 - Time::HiRes::time())
    if $t0 + 2 > Time::HiRes::time();
TG::Redis::passed(get($B, 8080, '/workspaces/ws1/x', $h),
                  'pod B accepts the token 2 s later, 4 s after its iat: '
                  . "A's use counted");
TG::Redis::refused(get($B, 8080, '/workspaces/ws1/x', $h2), 401,
                   'session_idle',
                   'control: pod B refuses the other token, whose use on A '
                   . 'was deleted from Redis');

TG::Redis::refused(get($B, 8080, '/workspaces/ws1/x',
                       bearer(iat => time() - 10)),
                   401, 'session_idle',
                   'pod B refuses a token unused for 10 s');

Time::HiRes::sleep($IDLE + 1.2);
TG::Redis::refused(get($B, 8080, '/workspaces/ws1/x', $h), 401,
                   'session_idle',
                   'pod B refuses the token once it is idle for more than '
                   . "$IDLE s");

# realip is wired: with 127.0.0.1 trusted (test only), the client address
# comes from X-Forwarded-For
my $C = start(render('c',
    password     => 'k8s-secret-0123',
    redis_env    => {REDIS_HOST => '127.0.0.1', REDIS_PORT => $r->port},
    keys         => TG::keys_dir() . '/jwks.json',
    policy       => $policy,
    extra_realip => 1));
ok($r->wait_links(clients => 6, subscribers => 3), 'pod C linked');
TG::Redis::passed(
    get($C, 8080, '/workspaces/ws1/items', bearer(),
        'X-Forwarded-For: 203.0.113.9'),
    'with 127.0.0.1 trusted, the address is the forwarded one',
    'X-Real-IP' => '203.0.113.9');

for my $pod ($A, $B, $C) {
    TG::stop_nginx(delete $pod->{pid});
    my @bad = grep { /\[(alert|crit|emerg)\]|AddressSanitizer/ }
              split /\n/, TG::slurp("$pod->{prefix}/stderr.log");
    ok(!@bad, "pod $pod->{name}: no alert in its log") or diag(join "\n", @bad);
}
$r->stop;

done_testing();
