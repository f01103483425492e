# Review of the admin API (issue 12): what an attacker-minded read found.
#
# - A write Redis refuses (an error reply: OOM under maxmemory, READONLY
#   after a failover) is not answered 200: the PING that confirms it comes
#   back all the same, so the write's own reply is what counts.
#
# Plain Test::More on TG::Redis and TG::Redis::Nginx.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::Admin;
use Test::More;
use MIME::Base64 ();
use TG::Ban;

sub bearer { 'Authorization: Bearer ' . $_[0] }

# ------------------------------------ the refusal line masks raw token bytes

my $e = TG::Redis::Nginx->new(name => 'embedded',
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_metrics_workspaces 1;\n",
    config => <<'C');
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
tenant_guard_log_level notice;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /admin/ {
    client_body_buffer_size 1k;
    tenant_guard_admin token=$TEST_NGINX_PREFIX/admin.tokens;
}
C
TG::Admin::write_tokens($e);
{
    # as an editor that writes a byte order mark saves it
    my $f = $e->prefix . '/admin.tokens';
    open my $in, '<', $f or die "$f: $!\n";
    my $text = do { local $/; <$in> };
    close $in;
    open my $out, '>', $f or die "$f: $!\n";
    print $out "\xef\xbb\xbf$text";
    close $out;
}
$e->start;

# ------------------------------------------- a byte order mark is no token

is($e->get('/admin/status', "Authorization: Bearer \xef\xbb\xbf# admin tokens")
   ->{status}, 401, 'the first line, a comment behind a BOM, is no token');
is($e->get('/admin/status', bearer(TG::Admin::TOKEN))->{status}, 200,
   'the tokens of a file with a BOM are taken');

# ----------------------------------- a workspace named __other__ is folded

$e->get('/x', bearer(TG::jwt({workspace_id => $_}))) for qw(__other__ b c);
my @series = grep { /^tenant_guard_workspace_decisions_total\{/ }
             split /\n/, TG::Admin::admin($e, 'GET', '/admin/metrics')->{body};
my %seen;
$seen{(split / /)[0]}++ for @series;
is_deeply([grep { $seen{$_} > 1 } sort keys %seen], [],
          'no two series of one name');
is_deeply([sort @series],
          ['tenant_guard_workspace_decisions_total'
           . '{workspace="__other__",result="allow"} 2',
           'tenant_guard_workspace_decisions_total'
           . '{workspace="b",result="allow"} 1'],
          '"__other__" counted with the rest, "b" in the one slot');

# ------------------------------------------------ a chunked body is read

sub chunked {
    my ($body, @cut) = @_;
    my $raw = '';
    while (length $body) {
        my $piece = substr($body, 0, shift(@cut) // length $body, '');
        $raw .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
    }
    return TG::HTTP::send_request($e->port,
        "POST /admin/tokens/revoke HTTP/1.1\r\nHost: localhost\r\n"
        . bearer(TG::Admin::TOKEN) . "\r\nTransfer-Encoding: chunked\r\n"
        . "Connection: close\r\n\r\n$raw" . "0\r\n\r\n", 5);
}

my $res = chunked('{"workspace":"chunk1"}', 5);
is($res->{status}, 200, 'a chunked body (two chunks) is read');
is($e->get('/x', bearer(TG::jwt({workspace_id => 'chunk1',
                                 iat => time - 5})))->{status}, 401,
   '... and the workspace it names is signed out');
$res = chunked('{"workspace":"chunk2"' . (' ' x 3000) . '}', 1000, 1000);
is($res->{status}, 200, 'a chunked body past client_body_buffer_size (a '
   . 'temp file) is read');
is($e->get('/x', bearer(TG::jwt({workspace_id => 'chunk2',
                                 iat => time - 5})))->{status}, 401,
   '... and the workspace it names is signed out');
is(chunked('{"workspace":"c3"' . (' ' x 70000) . '}', 30000)->{status},
   413, 'a chunked body past 64k: 413');

my $mark = $e->mark;
my $payload = MIME::Base64::encode_base64url('{"sub":"x"}');
for my $header ("{\"alg\":\"RS256\"\x1b[2J}",
                "{\"alg\":\"RS256\"\xc2\x9b2J}") {
    is($e->get('/x', bearer(MIME::Base64::encode_base64url($header)
                            . ".$payload.AAAA"))->{status}, 401,
       'a token whose header is not JSON is refused');
}
my @lines = grep { /tenant_guard: invalid token: the header/ }
            split /\n/, $e->log_since($mark);
is(scalar @lines, 2, 'one refusal line each');
ok(!grep(/[\x00-\x1f\x7f-\xff]/, @lines),
   'no control byte, nor one past ASCII, of the token in the log');
$e->stop;
is_deeply([$e->bad_log_lines], [], 'no alert, crit or emerg in the log');

# ------------------- failed logins do not push a revocation out of the zone

my $z = TG::Redis::Nginx->new(name => 'evict',
    policy => {default => TG::Ban::policy_ban(first => [2, 600, 600])},
    http_config => "tenant_guard_zone zone=tg:32k;\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<'C');
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location = /login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /admin/ {
    tenant_guard_admin token=$TEST_NGINX_PREFIX/admin.tokens;
}
C
TG::Admin::write_tokens($z);
$z->start;

my $old = TG::jwt({workspace_id => 'evict', sub => 'u', iat => time - 5});
is(TG::Admin::admin($z, 'POST', '/admin/tokens/revoke',
                    '{"workspace":"evict"}')->{status}, 200,
   'sign the workspace out');
is($z->get('/x', bearer($old))->{status}, 401, 'its token is refused');
for my $i (1 .. 400) {
    $z->get('/login', "X-Login: flood$i") for 1 .. 2;
}
like($z->error_log, qr/the oldest ban was evicted/,
     'the failed logins filled the 32k zone with bans');
is($z->get('/x', bearer($old))->{status}, 401,
   'the token is still refused: the revocation outlived the flood');
$z->stop;
is_deeply([$z->bad_log_lines], [], 'no alert, crit or emerg in the log');

SKIP: {
skip "no redis-server ($TG::Redis::SERVER)", 8
    unless TG::Redis::available();

my $r = TG::Redis->start;

my $n = TG::Redis::Nginx->new(name => 'review',
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_redis " . $r->addr . ";\n",
    config => <<'C');
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /admin/ {
    tenant_guard_admin token=$TEST_NGINX_PREFIX/admin.tokens;
}
C
TG::Admin::write_tokens($n);
$n->start;
ok($r->wait_links(clients => 1, subscribers => 1), 'the host is linked');

# ------------------------------------------- a write Redis refuses is no 200

my $tok = TG::jwt({workspace_id => 'acme', sub => 'u9',
                   jti => 'jti-refused-write'});
is($n->get('/x', bearer($tok))->{status}, 200, 'the token passes');

$r->cmd('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
$r->cmd('CONFIG', 'SET', 'maxmemory', '1');

$res = TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                        '{"jti":"jti-refused-write"}');
TG::Redis::refused($res, 503, 'temporarily_unavailable',
                   'a jti revocation Redis refused (OOM)');
$res = TG::Admin::admin($n, 'PUT', '/admin/workspaces/acme/mfa',
                        '{"required":true}');
TG::Redis::refused($res, 503, 'temporarily_unavailable',
                   'a policy write Redis refused (OOM)');

$r->cmd('CONFIG', 'SET', 'maxmemory', '0');

# --------------------------- a revoked token's real "exp" is its lifetime

my $exp = time + 86400 + 0.5;
my $real = TG::jwt({workspace_id => 'acme', sub => 'u8', exp => $exp,
                    jti => 'jti-real-exp'});
like(MIME::Base64::decode_base64url((split /\./, $real)[1]),
     qr/"exp":\d+\.5\b/, 'a token with a real exp');
is($n->get('/x', bearer($real))->{status}, 200,
   'the verifier takes a real exp');
is(TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                    JSON::PP->new->encode({token => $real}))->{status}, 200,
   'revoke the token by its text');
cmp_ok($r->cmd('TTL', 'tg:revoked:jti-real-exp'), '>', 86400,
       'its revocation outlives its exp, not one hour');
is($n->get('/x', bearer($real))->{status}, 401, 'the token is refused');
ok(!$r->cmd('EXISTS', 'tg:revoked:jti-refused-write'),
   'Redis holds no revocation');
is(TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                    '{"jti":"jti-refused-write"}')->{status}, 200,
   'the same write once Redis takes it: 200');
ok($r->cmd('EXISTS', 'tg:revoked:jti-refused-write'),
   'Redis holds the revocation');

$n->stop;
is_deeply([$n->bad_log_lines], [], 'no alert, crit or emerg in the log');
$r->stop;
}

done_testing();
