# Failed-login bans against an attacker who controls the client (issue 10),
# embedded mode, one block per attack: where bans apply (identity bans on
# the login only, the address everywhere), bodies the module cannot read
# (400 invalid_request, not forwarded, counted for the address), identifier
# variants (NFKC case folding, trimming), a client-chosen workspace that
# tries to weaken the address level, resets the upstream did not confirm,
# error_page taking over a failed login, and IPv6 addresses rotated inside
# one prefix.  Every refusal asserts the status, the JSON error and whether
# the upstream saw the request.

use lib 't/lib';
use TG;
use TG::Ban;

sub fail_as {
    my ($id, %o) = @_;
    return TG::Ban::passes("POST /auth/login\npassword=wrong",
                           "X-Login: $id", %o);
}

sub refused_as {
    my ($kind, $id, %o) = @_;
    return TG::Ban::banned($kind, [50, 60], "POST /auth/login\npassword=wrong",
                           "X-Login: $id", %o);
}

# a body login: passes to the upstream's 401, or 400 invalid_request
sub body_fails {
    my ($type, $body, %o) = @_;
    return TG::Ban::passes("POST /auth/body\n$body", "Content-Type: $type",
                           %o);
}

sub unreadable {
    my ($type, $body, $why, %o) = @_;
    return {request => "POST /auth/body\n$body",
            more_headers => "Content-Type: $type",
            error_code => 400, json_error => 'invalid_request',
            json_error_description => $why,
            response_headers => '!X-Mock-Upstream',
            no_upstream => 1, %o};
}

our $JSON = 'application/json';
our $FORM = 'application/x-www-form-urlencoded';

block_defaults(http_config => <<'CONF');
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
CONF

run_tests();
done_testing();

__DATA__

=== TEST 1: a victim's identifier banned by a stranger: the login is refused, the victim's tokens are not
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    fail_as("victim\@example.com\nX-Workspace: ws1"),
    fail_as("victim\@example.com\nX-Workspace: ws1"),
    refused_as('id', "victim\@example.com\nX-Workspace: ws1"),
    refused_as('id', 'victim@example.com'),
    TG::Ban::passes('GET /api/items',
                    TG::bearer({sub => 'victim@example.com',
                                workspace_id => 'ws1'}),
                    error_code => 200),
]
--- upstream_count: 3
--- error_log_count
2 tenant_guard: banned: the login identifier is banned
0 tenant_guard: banned: the client address is banned



=== TEST 2: an address ban refuses every guarded location and every login, never a reset
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [2, 60, 60])}
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/other {
    tenant_guard_login identifier=$http_x_login fail=403;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/204;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    fail_as('a'),
    fail_as('b'),
    refused_as('ip', 'c'),
    TG::Ban::banned('ip', [50, 60], 'POST /auth/other', 'X-Login: d'),
    TG::Ban::banned('ip', [50, 60], 'GET /api/items', TG::bearer({})),
    TG::Ban::passes('POST /auth/reset', 'X-Login: a', error_code => 204),
]
--- upstream_count: 3
--- error_log_count
3 tenant_guard: banned: the client address is banned
0 tenant_guard: password reset lifted the bans



=== TEST 3: resets lift only what the upstream confirms: no header, a 4xx with the header, two headers lift nothing; the header never reaches the client
--- policy eval
+{default => TG::Ban::policy_ban(first => [1, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=$http_x_login;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/iam$http_x_iam;
}
location = /iam/ok {
    add_header X-Tenant-Guard-Reset $http_x_confirm always;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/202;
}
location = /iam/denied {
    add_header X-Tenant-Guard-Reset $http_x_confirm always;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/400;
}
location = /iam/twice {
    add_header X-Tenant-Guard-Reset bob always;
    add_header X-Tenant-Guard-Reset $http_x_confirm always;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
--- requests eval
my $reset = sub {
    my ($iam, $confirm, $code) = @_;
    return TG::Ban::passes('POST /auth/reset',
                           "X-Login: alice\nX-Iam: /$iam"
                           . ($confirm ? "\nX-Confirm: $confirm" : ''),
                           error_code => $code,
                           response_headers => "X-Mock-Upstream: 1\n"
                                               . "!X-Tenant-Guard-Reset");
};
[
    fail_as('alice'),
    refused_as('id', 'alice'),
    # a reset-request endpoint answering 202 to anyone lifts nothing
    $reset->('ok', undef, 202),
    refused_as('id', 'alice'),
    $reset->('denied', 'alice', 400),
    refused_as('id', 'alice'),
    $reset->('twice', 'alice', 200),
    refused_as('id', 'alice'),
    # confirmed, in another spelling of the same identifier
    $reset->('ok', ' ALICE ', 202),
    fail_as('alice'),
]
--- upstream_count: 6
--- error_log_count
4 tenant_guard: banned: the login identifier is banned
1 tenant_guard: password reset lifted the bans
1 tenant_guard: password reset: the upstream named 2 identifiers, none is lifted



=== TEST 4: identifier variants count as one: case, surrounding spaces, fullwidth letters, a zero-width space, NFKC
--- policy eval
+{default => TG::Ban::policy_ban(first => [4, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('Alice@Example.com'),
    body_fails($JSON, '{"username": " alice@example.com\u00a0"}'),
    body_fails($FORM, 'username=%EF%BC%A1lice%40example.com&password=x'),
    body_fails($JSON, '{"username": "ali\u200bce@example.com"}'),
    refused_as('id', 'alice@example.com'),
    TG::Ban::banned('id', [50, 60], "POST /auth/body\n"
                    . '{"username": "ALICE@EXAMPLE.COM "}',
                    "Content-Type: $JSON"),
    fail_as('bob@example.com'),
]
--- upstream_count: 5
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
2 tenant_guard: banned: the login identifier is banned



=== TEST 5: bodies the module cannot read: 400 invalid_request, not forwarded, each counted for the address
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 60, 60], permanent => [11, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $cant = 'the login body cannot be read';
[
    unreadable($JSON, '{"username": "a", "username": "b"}', $cant),
    unreadable($JSON, '{"username": "\ud800"}', $cant),
    unreadable($JSON, '{"username": "ali\u0007ce"}', $cant),
    unreadable($JSON, '{"username": ["alice"]}', $cant),
    unreadable($JSON, qq({"username": "al\xffice"}), $cant),
    unreadable($JSON, 'username=alice', $cant),
    unreadable($FORM, 'username=a&user%6Eame=b', $cant),
    unreadable($FORM, 'username=al%0Aice', $cant),
    unreadable($FORM, 'username=al%FFice',
               'the login identifier is not valid UTF-8'),
    unreadable($FORM, 'username=%C2%85alice',
               'the login identifier has a control character'),
    unreadable($FORM, 'password=x', 'the login has no identifier'),
    # the eleventh counted the address: banned, whatever the body
    TG::Ban::banned('ip', [50, 60], "POST /auth/body\n{\"username\": \"x\"}",
                    "Content-Type: $JSON"),
]
--- no_upstream
--- error_log_count
11 tenant_guard: unreadable login
1 tenant_guard: client address banned, level 3, for 60 s



=== TEST 6: tenant_guard_login_body_max: a body over it is 400 (announced or chunked), one at it is read; the upstream gets the body unchanged
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login_body_max 64;
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $at = '{"username": "alice", "pad": "' . ('p' x 32) . '"}';
my $over = '{"username": "alice", "pad": "' . ('p' x 33) . '"}';
die "sizes" unless length($at) == 64 && length($over) == 65;
[
    body_fails($JSON, $at, upstream_body => $at),
    unreadable($JSON, $over,
               'the login body is over tenant_guard_login_body_max'),
    {raw_request => TG::Ban::chunked('POST /auth/body',
                                     "Content-Type: $JSON", split //, $over),
     error_code => 400, json_error => 'invalid_request', no_upstream => 1},
    {raw_request => TG::Ban::chunked('POST /auth/body',
                                     "Content-Type: $JSON", split /(?<=,)/, $at),
     error_code => 401, upstream_count => 1, upstream_body => $at},
    TG::Ban::banned('id', [50, 60], "POST /auth/body\n$at",
                    "Content-Type: $JSON"),
]
--- upstream_count: 2
--- error_log_count
0 a client request body is buffered to a temporary file



=== TEST 7: a workspace whose ban has no permanent level does not turn the address level off (the stricter settings count)
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [3, 60, 60]),
  workspaces => {weak => {ban => TG::Ban::ban(first => [100, 60, 60])},
                 loose => {ban => TG::Ban::ban(permanent => [1000, 1, 1])}}}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as("u1\nX-Workspace: weak"),
    fail_as("u2\nX-Workspace: loose"),
    fail_as("u3\nX-Workspace: weak"),
    refused_as('ip', "u4\nX-Workspace: loose"),
    refused_as('ip', "u5\nX-Workspace: weak"),
]
--- upstream_count: 3
--- error_log_count
1 tenant_guard: client address banned, level 3, for 60 s



=== TEST 8: error_page taking over a failed login's response still counts the failure
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_intercept_errors on;
    error_page 401 = @failed;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location @failed {
    return 200 '{"ok": false}';
}
--- requests eval
[
    fail_as('alice', error_code => 200, response_headers => '!Retry-After'),
    fail_as('alice', error_code => 200, response_headers => '!Retry-After'),
    refused_as('id', 'alice'),
]
--- upstream_count: 2
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
1 tenant_guard: banned: the login identifier is banned



=== TEST 9: a successful login gives its count back: failures and successes interleaved never reach the threshold
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60], permanent => [3, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/$http_x_status;
}
--- requests eval
[
    fail_as("alice\nX-Status: 401"),
    fail_as("alice\nX-Status: 200", error_code => 200),
    fail_as("alice\nX-Status: 200", error_code => 200),
    fail_as("alice\nX-Status: 200", error_code => 200),
    fail_as("alice\nX-Status: 401"),
    refused_as('id', 'alice'),
]
--- upstream_count: 5



=== TEST 10: IPv6 addresses are counted per /64: rotating inside it is banned, another /64 is not
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [2, 60, 60])}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as("a\nX-Real-IP: 2001:db8:0:1::1"),
    fail_as("b\nX-Real-IP: 2001:db8:0:1:ffff:ffff:ffff:fffe"),
    refused_as('ip', "c\nX-Real-IP: 2001:db8:0:1:1234::99"),
    fail_as("d\nX-Real-IP: 2001:db8:0:2::1"),
    fail_as("e\nX-Real-IP: 192.0.2.1"),
]
--- upstream_count: 4
--- error_log_count
1 tenant_guard: client address banned, level 3, for 60 s



=== TEST 11: tenant_guard_ban_ipv6_prefix 128: each IPv6 address is its own client; 48: a whole /48 is one
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
tenant_guard_ban_ipv6_prefix 48;
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [2, 60, 60])}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as("a\nX-Real-IP: 2001:db8:0:1::1"),
    fail_as("b\nX-Real-IP: 2001:db8:0:2::1"),
    refused_as('ip', "c\nX-Real-IP: 2001:db8:0:ffff::1"),
    fail_as("d\nX-Real-IP: 2001:db8:1::1"),
]
--- upstream_count: 3
