# The admin API (tenant_guard_admin) in embedded mode: admin tokens from a
# file, compared in constant time (401 JSON for a missing or wrong one);
# every endpoint with good and bad input (status, JSON, and the state left
# unchanged after a refusal); revocation by jti, token, subject and
# workspace (before and after the cut-off, cached tokens included); policy
# parts written to the zone on top of the file; bans listed and lifted;
# one notice line per write naming the admin token's id, never a secret.
#
# Plain Test::More on TG::Redis::Nginx.

use strict;
use warnings;

use lib 't/lib';
use TG;
use TG::Redis;
use TG::Admin;
use Test::More;

my $policy = {
    default => {
        ban => {blockingForClientEnabled => JSON::PP::true(),
                firstBanThreshold => 2, firstBanCollectingTime => 300,
                firstBanDuration => 600, secondBanThreshold => 60,
                secondBanCollectingTime => 300, secondBanDuration => 600,
                permanentBanThreshold => 5, permanentBanCollectingTime => 300,
                permanentBanDuration => 600},
    },
    workspaces => {acme => {general => {tokenLifetimeInSeconds => 0}}},
};

my $n = TG::Redis::Nginx->new(name => 'embedded', policy => $policy,
    http_config => "tenant_guard_zone zone=tg:1m;\n"
                   . "tenant_guard_policy_file \$TEST_NGINX_POLICY;\n",
    config => <<'C');
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /admin/ {
    tenant_guard_admin token=$TEST_NGINX_PREFIX/admin.tokens;
}
location = /login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_ws;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /open-admin/ {
    allow 127.0.0.1;
    deny all;
    tenant_guard_admin off;
}
C
TG::Admin::write_tokens($n);
$n->start;

sub bearer { 'Authorization: Bearer ' . $_[0] }
sub json_error {
    my ($res, $status, $code, $name) = @_;
    is($res->{status}, $status, "$name: status $status");
    like(TG::Admin::header($res, 'Content-Type') // '', qr{^application/json},
         "$name: JSON");
    is(ref $res->{json} eq 'HASH' ? $res->{json}{error} : undef, $code,
       "$name: error $code");
}
sub status_of { $n->get($_[0], bearer($_[1]))->{status} }

# ---------------------------------------------------------------- auth

json_error(TG::Admin::req($n, 'GET', '/admin/status'), 401, 'unauthorized',
           'no admin token');
like(TG::Admin::header(TG::Admin::req($n, 'GET', '/admin/status'),
                       'WWW-Authenticate') // '',
     qr/^Bearer realm=/, 'a 401 has a Bearer challenge');
json_error(TG::Admin::req($n, 'GET', '/admin/status',
                          undef, bearer('adm-wrong-token-0123456789abcdef')),
           401, 'unauthorized', 'a wrong admin token');
json_error(TG::Admin::req($n, 'GET', '/admin/status', undef,
                          bearer(substr(TG::Admin::TOKEN, 0, -1))),
           401, 'unauthorized', 'a prefix of the admin token');
json_error(TG::Admin::req($n, 'GET', '/admin/status', undef,
                          'Authorization: Basic ' . TG::Admin::TOKEN),
           401, 'unauthorized', 'the token under another scheme');
json_error(TG::Admin::req($n, 'POST', '/admin/tokens/revoke',
                          '{"workspace":"acme"}'),
           401, 'unauthorized', 'a write without a token');
is(TG::Admin::req($n, 'GET', '/admin/status', undef,
                  bearer(TG::Admin::TOKEN2))->{status}, 200,
   'the second token of the file is accepted');
is(TG::Admin::req($n, 'GET', '/admin/status', undef,
                  'Authorization: bearer ' . TG::Admin::TOKEN)->{status}, 200,
   'the scheme is case-insensitive');
is(TG::Admin::req($n, 'GET', '/open-admin/status')->{status}, 200,
   '"tenant_guard_admin off" behind allow/deny asks no token');

# ---------------------------------------------------------------- routing

json_error(TG::Admin::admin($n, 'GET', '/admin/nothing'), 404, 'not_found',
           'an unknown endpoint');
json_error(TG::Admin::admin($n, 'POST', '/admin/status', '{}'), 405,
           'method_not_allowed', 'POST /status');
json_error(TG::Admin::admin($n, 'GET', '/admin/tokens/revoke'), 405,
           'method_not_allowed', 'GET /tokens/revoke');
json_error(TG::Admin::admin($n, 'DELETE', '/admin/workspaces/acme/general'),
           405, 'method_not_allowed', 'DELETE of a part other than mfa');

# ---------------------------------------------------------------- status

my $res = TG::Admin::admin($n, 'GET', '/admin/status');
is($res->{status}, 200, '/status answers 200');
is($res->{json}{mode}, 'embedded', '/status: mode embedded');
is($res->{json}{zone}{size}, 1048576, '/status: the zone size');
ok(defined $res->{json}{zone}{entries}, '/status: the zone entries');
is($res->{json}{keys}{count}, 6, '/status: the keys');
ok(defined $res->{json}{counters}{allowed}, '/status: counters');

# ---------------------------------------------------------------- bad bodies

my $mark = $n->mark;
for my $bad (['not JSON', '{"workspace": "acme"'],
             ['an array', '["acme"]'],
             ['an unknown field', '{"workspace":"acme","when":1}'],
             ['a wrong type', '{"workspace":1}'],
             ['an empty string', '{"workspace":""}'],
             ['a control character', "{\"workspace\":\"ac\\u0001me\"}"],
             ['two shapes at once', '{"jti":"x","workspace":"acme"}'],
             ['a subject alone', '{"subject":"user1"}'],
             ['a duplicate key', '{"workspace":"a","workspace":"acme"}'],
             ['no body', ''])
{
    json_error(TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                                $bad->[1]),
               400, 'invalid_request', "revoke with $bad->[0]");
}
json_error(TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                            '{"jti":"' . ('x' x 70000) . '"}'),
           413, 'invalid_request', 'a body over 64k');
my $tok = TG::jwt({workspace_id => 'acme', sub => 'u1'});
is(status_of('/a', $tok), 200, 'after the refused writes, nothing is revoked');
unlike($n->log_since($mark), qr/tenant_guard admin:/,
       'a refused write logs no admin line');

# ---------------------------------------------------------------- subject

my $u1 = TG::jwt({workspace_id => 'acme', sub => 'u1', iat => time - 5});
my $u2 = TG::jwt({workspace_id => 'acme', sub => 'u2', iat => time - 5});
my $u1b = TG::jwt({workspace_id => 'beta', sub => 'u1', iat => time - 5});
is(status_of('/a', $u1), 200, 'u1 passes (and is cached)');

$mark = $n->mark;
$res = TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                        '{"workspace":"acme","subject":"u1"}');
is($res->{status}, 200, 'revoke a subject: 200');
my $at = $res->{json}{at};
ok($at && abs($at - time) <= 2, 'the cut-off is now');
like($n->log_since($mark),
     qr/\[notice\] .*tenant_guard admin: POST \/admin\/tokens\/revoke by \Q${\TG::Admin::token_id(TG::Admin::TOKEN)}\E/,
     'the write is logged at notice with the admin token id');
unlike($n->error_log, qr/\Q${\TG::Admin::TOKEN}\E/, 'the admin token is never logged');

$res = $n->get('/a', bearer($u1));
TG::Redis::refused($res, 401, 'invalid_token',
                   'a cached token of the signed-out subject is refused');
like($res->{json}{error_description}, qr/subject was signed out/,
     'the description says why');
is(status_of('/a', $u2), 200, 'another subject of the workspace passes');
is(status_of('/a', $u1b), 200, 'the same subject in another workspace passes');
my $later = TG::jwt({workspace_id => 'acme', sub => 'u1', iat => $at + 1});
is(status_of('/a', $later), 200, 'a token issued after the cut-off passes');
my $same = TG::jwt({workspace_id => 'acme', sub => 'u1', iat => $at});
is($n->get('/a', bearer($same))->{status}, 401,
   'a token issued in the cut-off second is refused');

# ---------------------------------------------------------------- workspace

$res = TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                        '{"workspace":"acme"}');
is($res->{status}, 200, 'revoke a workspace: 200');
$at = $res->{json}{at};
TG::Redis::refused($n->get('/a', bearer($u2)), 401, 'invalid_token',
                   'every earlier token of the workspace is refused');
is(status_of('/a', $u1b), 200, 'another workspace passes');
is(status_of('/a', TG::jwt({workspace_id => 'acme', sub => 'u3',
                             iat => $at + 1})), 200,
   'a token of the workspace issued after the cut-off passes');
like($n->error_log,
     qr/\[info\] .*: \*\d+ workspace=acme tenant_guard: invalid token: the token has been revoked: its workspace was signed out, token_id: /,
     'the refusal line names the reason and the workspace');

# the refused tokens so far counted toward the address's ban: start afresh
sub lift { TG::Admin::admin($n, 'DELETE', '/admin/bans/ip/127.0.0.1') }
lift();

# ---------------------------------------------------------------- jti, token

my $j = TG::jwt({workspace_id => 'gamma', jti => 'jti-admin-1'});
is(status_of('/a', $j), 200, 'a token passes (and is cached)');
is(TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                    '{"jti":"jti-admin-1"}')->{status}, 200, 'revoke a jti');
TG::Redis::refused($n->get('/a', bearer($j)), 401, 'invalid_token',
                   'the revoked jti is refused', 'the token has been revoked');
my $t = TG::jwt({workspace_id => 'gamma', jti => 'jti-admin-2'});
is(status_of('/a', $t), 200, 'another token passes');
is(TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                    JSON::PP->new->encode({token => $t}))->{status}, 200,
   'revoke a token by its text');
is($n->get('/a', bearer($t))->{status}, 401, 'the revoked token is refused');
json_error(TG::Admin::admin($n, 'POST', '/admin/tokens/revoke',
                            JSON::PP->new->encode({token =>
                                TG::jwt({workspace_id => 'gamma',
                                         jti => undef})})),
           400, 'invalid_request', 'a token without jti');
is(status_of('/a', TG::jwt({workspace_id => 'gamma'})), 200,
   'other tokens of the workspace pass');

lift();

# ---------------------------------------------------------------- policy

$res = TG::Admin::admin($n, 'GET', '/admin/workspaces/delta/mfa');
is($res->{status}, 200, 'GET mfa');
is_deeply($res->{json}, {required => JSON::PP::false()},
          'mfa is not required by the file');
my $d = TG::jwt({workspace_id => 'delta'});
is(status_of('/a', $d), 200, 'a token without MFA passes');

$mark = $n->mark;
is(TG::Admin::admin($n, 'PUT', '/admin/workspaces/delta/mfa',
                    '{"required": true}')->{status}, 200, 'PUT mfa');
like($n->log_since($mark), qr/tenant_guard admin: PUT \/admin\/workspaces\/delta\/mfa by /,
     'the PUT is logged');
TG::Redis::refused($n->get('/a', bearer($d)), 401,
                   'insufficient_user_authentication',
                   'MFA is now required in the workspace');
is(status_of('/a', TG::jwt({workspace_id => 'delta', amr => ['otp']})), 200,
   'a token with MFA passes');
is_deeply(TG::Admin::admin($n, 'GET', '/admin/workspaces/delta/mfa')->{json},
          {required => JSON::PP::true()}, 'GET shows the new part');

for my $bad (['not JSON', '{"required": '],
             ['an unknown field', '{"required": false, "when": 1}'],
             ['a wrong type', '{"required": "no"}'],
             ['an array', '[false]'])
{
    json_error(TG::Admin::admin($n, 'PUT', '/admin/workspaces/delta/mfa',
                                $bad->[1]),
               400, 'invalid_request', "PUT mfa with $bad->[0]");
}
is($n->get('/a', bearer($d))->{status}, 401,
   'after the refused PUTs, MFA is still required');

is(TG::Admin::admin($n, 'DELETE', '/admin/workspaces/delta/mfa')->{status},
   200, 'DELETE mfa');
is(status_of('/a', $d), 200, 'without the requirement the token passes');

$res = TG::Admin::admin($n, 'PUT', '/admin/workspaces/delta/ip-policy',
    '{"enabled": true, "enableSupportSubnets": false, '
    . '"ipPolicy": ["203.0.113.0/24", "2001:db8::/48"]}');
is($res->{status}, 200, 'PUT ip-policy');
TG::Redis::refused($n->get('/a', bearer($d)), 403, 'ip_not_allowed',
                   'the address is not on the new allowlist');
is_deeply(TG::Admin::admin($n, 'GET', '/admin/workspaces/delta/ip-policy')
              ->{json},
          {enabled => JSON::PP::true(), enableSupportSubnets => JSON::PP::false(),
           ipPolicy => ['203.0.113.0/24', '2001:db8::/48']},
          'GET ip-policy shows it in the IAM shape');
json_error(TG::Admin::admin($n, 'PUT', '/admin/workspaces/delta/ip-policy',
                            '{"enabled": true, "ipPolicy": ["300.1.2.3"]}'),
           400, 'invalid_request', 'an invalid range');
is($n->get('/a', bearer($d))->{status}, 403,
   'the allowlist is unchanged after the refused PUT');
is(TG::Admin::admin($n, 'PUT', '/admin/workspaces/delta/ip-policy',
                    '{"enabled": true, "ipPolicy": ["127.0.0.1"]}')->{status},
   200, 'PUT ip-policy with this address');
is(status_of('/a', $d), 200, 'the address is allowed now');

is(TG::Admin::admin($n, 'PUT', '/admin/workspaces/delta/general',
                    '{"tokenLifetimeInSeconds": 60}')->{status}, 200,
   'PUT general');
is($n->get('/a', bearer(TG::jwt({workspace_id => 'delta',
                                 iat => time - 120})))->{status}, 401,
   'a token older than the new lifetime is refused');
is_deeply(TG::Admin::admin($n, 'GET', '/admin/workspaces/delta/general')
              ->{json},
          {tokenLifetimeInSeconds => 60}, 'GET general');
is_deeply(TG::Admin::admin($n, 'GET', '/admin/workspaces/delta/ban-settings')
              ->{json}{permanentBanThreshold},
          5, 'GET ban-settings shows the default policy\'s');
is(TG::Admin::admin($n, 'GET', '/admin/workspaces/delta/password-policy')
       ->{json}{maxIdleTime}, 0, 'GET password-policy');
json_error(TG::Admin::admin($n, 'GET', '/admin/workspaces/de%22lta/mfa'),
           400, 'invalid_request', 'a workspace id with a quote');

# ---------------------------------------------------------------- bans

lift();
for my $i (1 .. 5) {
    $n->get('/a', bearer(TG::jwt({workspace_id => 'acme', jti => "inv-$i"},
                                 key => 'evil_rsa', kid => 'rsa1')));
}
TG::Redis::refused($n->get('/a', bearer(TG::jwt({workspace_id => 'gamma'}))),
                   429, 'banned', 'five invalid tokens ban the address');
like($n->error_log,
     qr/tenant_guard: client address banned, level 3, for \d+ s, address: 127\.0\.0\.1/,
     'the ban line names the address');

$res = TG::Admin::admin($n, 'GET', '/admin/workspaces/acme/bans');
is($res->{status}, 200, 'GET bans');
my ($ban) = grep { ($_->{address} // '') eq '127.0.0.1' } @{$res->{json}{bans}};
ok($ban, 'the address ban is listed');
is($ban && $ban->{level}, 'permanent', 'its level');
cmp_ok($ban ? $ban->{seconds_left} : 0, '>', 500, 'its seconds left');

json_error(TG::Admin::admin($n, 'DELETE', '/admin/bans/ip/not-an-ip'),
           400, 'invalid_request', 'lift an address that is no address');
is($n->get('/a', bearer(TG::jwt({workspace_id => 'gamma'})))->{status}, 429,
   'the ban holds after the refused lift');
$res = TG::Admin::admin($n, 'DELETE', '/admin/bans/ip/127.0.0.1');
is($res->{status}, 200, 'lift the address ban');
is($res->{json}{was_banned}, JSON::PP::true(), 'it was banned');
is(status_of('/a', TG::jwt({workspace_id => 'gamma'})), 200,
   'the address passes again');
is_deeply(TG::Admin::admin($n, 'GET', '/admin/workspaces/acme/bans')->{json},
          {bans => []}, 'no ban is listed');

$res = TG::Admin::admin($n, 'DELETE',
                        '/admin/workspaces/acme/bans/' . ('ab' x 32));
is($res->{status}, 200, 'lift an identifier by its hash');
is($res->{json}{was_banned}, JSON::PP::false(), 'it was not banned');
is(TG::Admin::admin($n, 'DELETE',
                    '/admin/workspaces/acme/bans/someone@example.com')
       ->{status}, 200, 'lift an identifier by its text');

# ---------------------------------------------------------------- identifiers

sub login {
    my ($id) = @_;
    return $n->get('/login', "X-Login: $id", 'X-WS: acme')->{status};
}

lift();
is(login('Alice@Example.com'), 401, 'a failed login') for 1 .. 2;
is(login('alice@example.com'), 429, 'the identifier is banned');
my ($hash) = $n->error_log
    =~ /login identifier banned, level 1, for \d+ s, identifier hash: ([0-9a-f]{64})/;
ok($hash, 'the ban line names the identifier\'s hash');

$res = TG::Admin::admin($n, 'GET', '/admin/workspaces/acme/bans');
my ($idban) = grep { $_->{identifier_hash} && !$_->{any_workspace} }
               @{$res->{json}{bans}};
my ($anyban) = grep { $_->{any_workspace} } @{$res->{json}{bans}};
is($anyban && $anyban->{identifier}, 'alice@example.com',
   'the workspace-free count banned it too (issue 10), listed as such');
is($idban && $idban->{identifier_hash}, $hash, 'the listing shows the hash');
is($idban && $idban->{identifier}, 'alice@example.com',
   'and the identifier as it was counted');
is($idban && $idban->{level}, '1', 'and its level');
my @other = @{TG::Admin::admin($n, 'GET',
                              '/admin/workspaces/other/bans')->{json}{bans}};
ok(!grep({ ($_->{identifier_hash} // '') eq $hash } @other),
   'another workspace\'s listing leaves the workspace\'s ban out');
ok(grep({ $_->{any_workspace} } @other),
   '... and shows the workspace-free one, which refuses its logins too');

$res = TG::Admin::admin($n, 'DELETE', "/admin/workspaces/acme/bans/$hash");
is($res->{json}{was_banned}, JSON::PP::true(), 'lift it by the logged hash');
is_deeply([grep { $_->{identifier_hash} } @{TG::Admin::admin($n, 'GET',
              '/admin/workspaces/acme/bans')->{json}{bans}}], [],
          '... which lifts its workspace-free twin too');
is(login('alice@example.com'), 401, 'the identifier may try again');

lift();
is(login('Bob'), 401, 'bob fails') for 1 .. 2;
is(login('bob'), 429, 'bob is banned');
$res = TG::Admin::admin($n, 'DELETE',
                        "/admin/workspaces/acme/bans/%EF%BC%A2OB");
is($res->{json}{was_banned}, JSON::PP::true(),
   'lift it by the identifier\'s text, normalized as a login\'s (a '
   . 'fullwidth B)');
is(login('bob'), 401, 'bob may try again');

# ------------------------------------------- ban settings written by the API

# embedded mode: the workspace's ban settings from the API are the ones a
# login of that workspace counts under (identity level), not the file's
lift();
is(TG::Admin::admin($n, 'PUT', '/admin/workspaces/strict/ban-settings',
       '{"blockingForClientEnabled":true,"firstBanThreshold":1,'
       . '"firstBanCollectingTime":300,"firstBanDuration":600,'
       . '"secondBanThreshold":60,"secondBanCollectingTime":300,'
       . '"secondBanDuration":600,"permanentBanThreshold":5,'
       . '"permanentBanCollectingTime":300,"permanentBanDuration":600}')
       ->{status}, 200, 'PUT ban-settings: one failure bans in "strict"');
is($n->get('/login', 'X-Login: carol', 'X-WS: strict')->{status}, 401,
   'carol fails once in "strict"');
is($n->get('/login', 'X-Login: carol', 'X-WS: strict')->{status}, 429,
   '... and is banned there at once (the file would allow two)');

$n->stop;
is_deeply([$n->bad_log_lines], [], 'no alert, crit or emerg in the log');

done_testing();
