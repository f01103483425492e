# Two nginx instances (two hosts of a cluster, two workers each) sharing one
# Redis: a warm zone answers without a Redis round trip (MONITOR sees no
# command, and a change in Redis without PUBLISH is not seen, even after more
# than a second, while the events link is up); a change + PUBLISH on
# tg:events (tg:ws:{ws}, tg:revoked:{jti}, tg:token:{sha256}, "*") takes
# effect on both hosts within one second.
#
# Plain Test::More on TG::Redis (t/lib/TG/Redis.pm).

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use Test::More;
use Time::HiRes qw(time sleep);

plan skip_all => "no redis-server ($TG::Redis::SERVER)"
    unless TG::Redis::available();

my $r = TG::Redis->start;

sub host {
    my ($name) = @_;
    return TG::Redis::Nginx->new(
        name => $name,
        workers => 2,
        http_config => "tenant_guard_zone zone=tg:1m;\n"
                       . "tenant_guard_redis " . $r->addr . ";\n",
        config => <<'C',
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location / {
    tenant_guard on;
    tenant_guard_opaque_tokens on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
C
    )->start;
}

sub auth { "Authorization: Bearer $_[0]" }

my %H = (A => host('a'), B => host('b'));
ok($r->wait_links(clients => 4, subscribers => 2),
   'both hosts linked: 4 command links, 2 subscribers on tg:events');

# T: a JWT of workspace acme; U: a JWT of beta, to be revoked; O: an opaque
# token of workspace opq, to be deleted
my $T = TG::jwt({workspace_id => 'acme', jti => 'jti-cluster-T'});
my $U = TG::jwt({workspace_id => 'beta', jti => 'jti-cluster-U'});
my $O = TG::Redis::opaque_token();
$r->put_token($O, {sub => 'member-O', organization_id => 'org-O',
                   workspace_id => 'opq', integration_id => 'int-O',
                   scope => 'read', jti => 'jti-cluster-O'});

# ---- warm both hosts (several requests: both workers)
for my $h (sort keys %H) {
    for my $i (1 .. 3) {
        TG::Redis::passed($H{$h}->get("/w$i", auth($T)), "host $h: warm T no. $i",
                          'X-Workspace-Id' => 'acme');
        TG::Redis::passed($H{$h}->get("/w$i", auth($U)), "host $h: warm U no. $i",
                          'X-Workspace-Id' => 'beta');
        TG::Redis::passed($H{$h}->get("/w$i", auth($O)), "host $h: warm O no. $i",
                          'X-Workspace-Id' => 'opq', 'X-Subject-Id' => 'member-O');
    }
}

# ---- warm: no Redis round trip
$r->monitor;
my @res;
for my $h (sort keys %H) {
    for my $i (1 .. 5) {
        push @res, map { [$h, $_, $H{$h}->get("/hot$i", auth($_))] } $T, $U, $O;
    }
}
ok(!grep({ ($_->[2]{status} // 0) != 200 } @res), '30 warm requests on both hosts: all 200');
my @cmds = $r->monitor_lines(0.1);
is(scalar @cmds, 0, 'MONITOR: the warm requests made no Redis command')
    or diag(join "\n", @cmds[0 .. ($#cmds < 10 ? $#cmds : 10)]);

# ---- changes in Redis WITHOUT publishing: the zones keep their verdicts
$r->set_policy('acme', mfa => {required => \1});
$r->revoke('jti-cluster-U');
$r->cmd('DEL', $r->key_of_token($O));
$r->monitor_lines;                     # (our own commands are not counted)
my $t0 = time;
my @changed;
while (time - $t0 < 1.5) {             # longer than the 1s re-read window
    for my $h (sort keys %H) {
        for my $tok ($T, $U, $O) {
            my $x = $H{$h}->get('/quiet', auth($tok));
            push @changed, "$h: $x->{status}" if ($x->{status} // 0) != 200;
        }
    }
    sleep 0.1;
}
ok(!@changed, 'no PUBLISH: for 1.5s both hosts still serve the cached verdicts (200)')
    or diag(join ', ', @changed[0 .. ($#changed < 10 ? $#changed : 10)]);
@cmds = grep { !/"(DEL|SET|HSET|SELECT)"/ } $r->monitor_lines(0.05);
is(scalar @cmds, 0, 'MONITOR: and asked Redis nothing meanwhile')
    or diag(join "\n", @cmds[0 .. ($#cmds < 10 ? $#cmds : 10)]);

# wait until both hosts show the change; seconds per host
sub until_both {
    my ($tok, $want) = @_;
    my %t;
    my $start = time;
    while (time - $start < 3 && keys %t < 2) {
        for my $h (sort keys %H) {
            next if exists $t{$h};
            my $x = $H{$h}->get('/poll', auth($tok));
            $t{$h} = time - $start if $want->($x);
        }
        sleep 0.02;
    }
    return \%t;
}

sub within_1s {
    my ($t, $what) = @_;
    for my $h (sort keys %H) {
        ok(defined $t->{$h} && $t->{$h} <= 1.0,
           sprintf "host %s: %s within 1s (%s)", $h, $what,
                   defined $t->{$h} ? sprintf('%.3fs', $t->{$h}) : 'never');
    }
}

# ---- PUBLISH tg:ws:acme: the policy (mfa required) on both hosts
my $mark = {map { ($_ => $H{$_}->mark) } keys %H};
is($r->publish('tg:ws:acme'), 2, 'PUBLISH tg:ws:acme reached 2 subscribers');
my $t = until_both($T, sub { ($_[0]{status} // 0) == 401 });
within_1s($t, 'the new policy of acme applies');
for my $h (sort keys %H) {
    TG::Redis::refused($H{$h}->get('/after', auth($T)), 401,
                       'insufficient_user_authentication', "host $h: T after tg:ws:acme");
    TG::Redis::passed($H{$h}->get('/after', auth($U)), "host $h: U untouched (its own event not sent yet)");
    like($H{$h}->log_since($mark->{$h}),
         qr/\[info\] .*tenant_guard: mfa required, token_id: jti-cluster-T, client: /,
         "host $h: log: mfa required, token_id: jti-cluster-T");
}
@cmds = $r->monitor_lines(0.05);
ok(grep({ /"HGETALL" "tg:ws:acme"/ } @cmds), 'MONITOR: after the event, HGETALL tg:ws:acme')
    or diag(join "\n", @cmds[0 .. ($#cmds < 10 ? $#cmds : 10)]);

# ---- PUBLISH tg:revoked:{jti}: the cached token U is dropped on both hosts
$mark = {map { ($_ => $H{$_}->mark) } keys %H};
is($r->publish('tg:revoked:jti-cluster-U'), 2, 'PUBLISH tg:revoked:jti-cluster-U');
$t = until_both($U, sub { ($_[0]{status} // 0) == 401 });
within_1s($t, 'the revocation of U applies');
for my $h (sort keys %H) {
    TG::Redis::refused($H{$h}->get('/after', auth($U)), 401, 'invalid_token',
                       "host $h: U after tg:revoked:", 'the token has been revoked');
    like($H{$h}->log_since($mark->{$h}),
         qr/\[info\] .*tenant_guard: invalid token: the token has been revoked, token_id: jti-cluster-U, client: /,
         "host $h: log: the token has been revoked, token_id: jti-cluster-U");
}

# ---- PUBLISH tg:token:{sha256}: the deleted opaque token is gone on both
$mark = {map { ($_ => $H{$_}->mark) } keys %H};
is($r->publish($r->key_of_token($O)), 2, 'PUBLISH tg:token:<sha256 of O>');
$t = until_both($O, sub { ($_[0]{status} // 0) == 401 });
within_1s($t, 'the deleted opaque token is refused');
for my $h (sort keys %H) {
    TG::Redis::refused($H{$h}->get('/after', auth($O)), 401, 'invalid_token',
                       "host $h: O after tg:token:", 'unknown token');
    like($H{$h}->log_since($mark->{$h}),
         qr/\[info\] .*tenant_guard: invalid token: unknown token, token_id: /,
         "host $h: log: invalid token: unknown token");
    unlike($H{$h}->error_log, qr/\Q$O\E/, "host $h: the opaque token itself is never logged");
}

# ---- "*": the policy removed, and a new opaque token under the old one's
# key is not needed: "*" drops everything
$r->cmd('DEL', 'tg:ws:acme');
is($r->publish('*'), 2, 'PUBLISH *');
$t = until_both($T, sub { ($_[0]{status} // 0) == 200 });
within_1s($t, 'after "*", acme has no policy again: T passes');
for my $h (sort keys %H) {
    TG::Redis::passed($H{$h}->get('/star', auth($T)), "host $h: T after *", 'X-Workspace-Id' => 'acme');
}

$r->monitor_stop;
for my $h (sort keys %H) {
    my @bad = $H{$h}->bad_log_lines;
    ok(!@bad, "host $h: no [alert]/[crit]/[emerg]") or diag(join "\n", @bad);
    unlike($H{$h}->error_log, qr/redis (events )?link is down/, "host $h: no link went down");
    $H{$h}->stop;
}

unless (Test::More->builder->is_passing) {
    diag("---- host $_ error.log (tail):\n" . $H{$_}->tail(30)) for sort keys %H;
}

done_testing();
