# Failed-login bans (embedded mode: tenant_guard_zone + policy file):
# thresholds (threshold - 1 passes, the threshold-th failure is answered by
# the upstream, the next request is refused), identifiers per workspace and
# in no workspace, case-insensitive, the collecting window, escalation to the second level,
# the permanent address level (blockingForClientEnabled false, across
# identifiers, on guarded locations, from invalid tokens), Retry-After
# counting down, password resets (lift what the upstream confirms with
# X-Tenant-Guard-Reset, never refused, non-2xx lifts nothing), several
# workers sharing the counters, body:FIELD identifiers (chunked; huge or
# unreadable: 400), identity bans never refusing a token, the fail= codes and which policy's ban applies.
# Every refusal: 429, JSON error "banned" and its description, Retry-After
# within the ban, the info log line, nothing upstream.

use lib 't/lib';
use TG;
use TG::Ban;

# a failed login of $id that must reach the upstream (401 from there)
sub fail_as {
    my ($id, %o) = @_;
    return TG::Ban::passes("POST /auth/login\npassword=wrong",
                           "X-Login: $id", %o);
}

# a login of $id refused for a ban of $kind ('id' or 'ip')
sub refused_as {
    my ($kind, $range, $id, %o) = @_;
    return TG::Ban::banned($kind, $range, "POST /auth/login\npassword=wrong",
                           "X-Login: $id", %o);
}

# a failed login of $id in workspace $ws
sub fail_in {
    my ($ws, $id, %o) = @_;
    return TG::Ban::passes("POST /auth/login\npassword=wrong",
                           "X-Login: $id\nX-Workspace: $ws", %o);
}

# the same, the workspace sent as X-Workspace-Id: a tenant header that is
# stripped before the request goes on, but the login's source sees it
sub fail_ws {
    my ($ws, $id, %o) = @_;
    return TG::Ban::passes("POST /auth/login\npassword=wrong",
                           "X-Login: $id\nX-Workspace-Id: $ws", %o);
}

sub refused_ws {
    my ($ws, $id, $range, %o) = @_;
    return TG::Ban::banned('id', $range, "POST /auth/login\npassword=wrong",
                           "X-Login: $id\nX-Workspace-Id: $ws", %o);
}

sub refused_in {
    my ($ws, $id, $range, %o) = @_;
    return TG::Ban::banned('id', $range, "POST /auth/login\npassword=wrong",
                           "X-Login: $id\nX-Workspace: $ws", %o);
}

# a JSON login body of at least $size bytes naming $id
sub big_body {
    my ($id, $size) = @_;
    my $head = qq({"username": "$id", "password": "x", "pad": ");
    return $head . ('p' x ($size - length($head) - 2)) . '"}';
}

# every block has a zone and reads its policy file; a block's own
# --- http_config replaces them
block_defaults(http_config => <<'CONF');
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
CONF

run_tests();
done_testing();

__DATA__

=== TEST 1: threshold - 1 failures: every one reaches the upstream, no ban
--- policy eval
+{default => TG::Ban::policy_ban(first => [3, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[fail_as('alice'), fail_as('alice')]
--- upstream_count: 2
--- no_error_log
tenant_guard: login identifier banned
tenant_guard: client address banned
tenant_guard: banned



=== TEST 2: the threshold-th failure is answered by the upstream, the next is 429; another identifier passes
--- policy eval
+{default => TG::Ban::policy_ban(first => [3, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [58, 60], 'alice'),
    TG::Ban::banned('id', [58, 60], 'GET /auth/login', 'X-Login: alice'),
    fail_as('bob'),
    fail_as('bob'),
]
--- upstream_count: 5
--- error_log_like
\[info\] .*tenant_guard: login identifier banned, level 1, for 60 s
\[info\] .*tenant_guard: banned: the login identifier is banned(, client: |$)
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
2 tenant_guard: banned: the login identifier is banned
0 tenant_guard: client address banned



=== TEST 3: identifiers count in their workspace and in none: rotating the workspace never resets a count
--- policy eval
+{default => TG::Ban::policy_ban(first => [3, 60, 60]),
  workspaces => {acme => {ban => TG::Ban::policy_ban(first => [2, 60, 60])->{ban}}}}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_in('acme', 'alice'),
    fail_in('acme', 'alice'),
    refused_in('acme', 'alice', [58, 60]),
    # alice's third failure in any workspace: the default's threshold
    fail_in('beta', 'alice'),
    refused_in('gamma', 'alice', [58, 60]),
    refused_as('id', [58, 60], 'alice'),
    fail_in('beta', 'bob'),
]
--- upstream_count: 4
--- error_log_count
2 tenant_guard: login identifier banned, level 1, for 60 s
3 tenant_guard: banned: the login identifier is banned



=== TEST 3b: workspace=$http_x_workspace_id sees the client's header, which upstream does not
--- policy eval
+{default => TG::Ban::policy_ban(first => [100, 60, 60]),
  workspaces => {acme => {ban => TG::Ban::policy_ban(first => [2, 60, 60])->{ban}}}}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_workspace_id;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_ws('acme', 'alice'),
    fail_ws('acme', 'alice'),
    refused_ws('acme', 'alice', [58, 60]),
]
--- upstream_count: 2
--- upstream_headers_all
!X-Workspace-Id
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
1 tenant_guard: banned: the login identifier is banned



=== TEST 4: identifiers are compared case-insensitively, whatever location or source names them
--- policy eval
+{default => TG::Ban::policy_ban(first => [3, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/login_q {
    tenant_guard_login identifier=$arg_user;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('Alice@Example.COM'),
    TG::Ban::passes('POST /auth/login_q?user=ALICE@EXAMPLE.COM', undef),
    fail_as('alice@example.com'),
    refused_as('id', [58, 60], 'aLiCe@eXample.com'),
    refused_as('id', [58, 60], 'alice@example.com'),
    TG::Ban::banned('id', [58, 60], 'POST /auth/login_q?user=alice@example.COM', undef),
    fail_as('bob@example.com'),
]
--- upstream_count: 4
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
3 tenant_guard: banned: the login identifier is banned



=== TEST 5: the collecting window expiring resets the counts (identifier and address)
--- policy eval
+{default => TG::Ban::policy_ban(first => [3, 2, 60], permanent => [4, 2, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice', wait => 3),
    # both windows (2 s) are over: counting starts again at 1
    fail_as('alice'),
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [58, 60], 'alice'),
    # the address's 4th failure since its window restarted
    fail_as('bob'),
    refused_as('ip', [58, 60], 'carol'),
]
--- upstream_count: 6
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
1 tenant_guard: banned: the login identifier is banned
1 tenant_guard: client address banned, level 3, for 60 s
1 tenant_guard: banned: the client address is banned



=== TEST 6: escalation: after the first-level ban, further failures lead to the second level
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 2], second => [4, 60, 30])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [1, 2], 'alice', wait => 3),
    # the first ban is over; failures 3 and 4 of the window
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [28, 30], 'alice'),
]
--- upstream_count: 4
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 2 s
1 tenant_guard: login identifier banned, level 2, for 30 s
2 tenant_guard: banned: the login identifier is banned



=== TEST 7: the permanent level bans the client address across identifiers (blockingForClientEnabled false), also on guarded locations
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, first => [2, 60, 60],
                         second => [3, 60, 60], permanent => [4, 60, 60])}
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice'),
    fail_as('alice'),
    fail_as('bob'),
    refused_as('ip', [58, 60], 'carol'),
    refused_as('ip', [58, 60], 'alice'),
    TG::Ban::banned('ip', [58, 60], 'GET /api/items', TG::bearer({})),
]
--- upstream_count: 4
--- error_log_like
\[info\] .*tenant_guard: client address banned, level 3, for 60 s
\[info\] .*tenant_guard: banned: the client address is banned(, client: |$)
--- error_log_count
1 tenant_guard: client address banned, level 3, for 60 s
3 tenant_guard: banned: the client address is banned
0 tenant_guard: login identifier banned



=== TEST 8: blockingForClientEnabled false, permanent level off: identifiers are never banned
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, first => [2, 60, 60],
                         second => [3, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[map { fail_as('alice') } 1 .. 6]
--- upstream_count: 6
--- no_error_log
tenant_guard: login identifier banned
tenant_guard: client address banned
tenant_guard: banned



=== TEST 9: Retry-After counts down
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 10])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [9, 10], 'alice', wait => 1.5),
    refused_as('id', [1, 9], 'alice'),
]
--- retry_after_decreasing
3 4
--- upstream_count: 2
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 10 s
2 tenant_guard: banned: the login identifier is banned



=== TEST 10: a password reset is not refused while banned and lifts the identifier's ban the upstream confirms
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=$http_x_login;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/iam/reset;
}
location = /iam/reset {
    add_header X-Tenant-Guard-Reset $http_x_confirm always;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [58, 60], 'alice'),
    TG::Ban::passes("POST /auth/reset\nnew=secret",
                    "X-Login: alice\nX-Confirm: alice",
                    error_code => 200,
                    response_headers => "X-Mock-Upstream: 1\n!X-Tenant-Guard-Reset"),
    fail_as('alice'),
]
--- upstream_count: 4
--- error_log_like
\[info\] .*tenant_guard: password reset lifted the bans
--- error_log_count
1 tenant_guard: password reset lifted the bans
1 tenant_guard: banned: the login identifier is banned



=== TEST 11: a password reset is not refused for a banned address and lifts the address's ban
--- policy eval
+{default => TG::Ban::policy_ban(blocking => 0, permanent => [2, 60, 60])}
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=$http_x_login;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/iam/reset;
}
location = /iam/reset {
    add_header X-Tenant-Guard-Reset $http_x_confirm always;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('bob'),
    refused_as('ip', [58, 60], 'carol'),
    TG::Ban::banned('ip', [58, 60], 'GET /api/items', TG::bearer({})),
    TG::Ban::passes("POST /auth/reset\nnew=secret",
                    "X-Login: alice\nX-Confirm: alice", error_code => 200),
    fail_as('carol'),
    TG::Ban::passes('GET /api/items', TG::bearer({}), error_code => 200),
]
--- upstream_count: 5
--- error_log_count
1 tenant_guard: client address banned, level 3, for 60 s
2 tenant_guard: banned: the client address is banned
1 tenant_guard: password reset lifted the bans



=== TEST 12: a reset the upstream does not answer 2xx lifts nothing
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/400;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [58, 60], 'alice'),
    TG::Ban::passes("POST /auth/reset\nnew=secret", 'X-Login: alice',
                    error_code => 400),
    refused_as('id', [57, 60], 'alice'),
]
--- upstream_count: 3
--- no_error_log
tenant_guard: password reset lifted the bans
--- error_log_count
2 tenant_guard: banned: the login identifier is banned



=== TEST 13: two workers: failures on separate connections are counted together
--- workers: 2
--- policy eval
+{default => TG::Ban::policy_ban(first => [12, 60, 60])}
--- http_config
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
log_format tgpid 'pid=$pid status=$status $request_uri';
# reuseport on the test server's address: one socket per worker, so the
# kernel spreads the connections over both workers
server {
    listen 127.0.0.1:$TEST_NGINX_SERVER_PORT reuseport;
    server_name reuseport.invalid;
    return 404;
}
--- config
access_log logs/access.log tgpid;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[(map { fail_as('alice') } 1 .. 12), refused_as('id', [58, 60], 'alice')]
--- upstream_count: 12
--- pids_serving
2 status=401
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
1 tenant_guard: banned: the login identifier is banned



=== TEST 14: body:FIELD with a chunked body; the upstream gets the body unchanged
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my @chunks = ('{"user', 'name": "al', 'ice", "pass', 'word": "x"}');
my $raw = TG::Ban::chunked('POST /auth/login',
                           'Content-Type: application/json', @chunks);
[
    TG::Ban::passes(undef, undef, raw_request => $raw,
                    upstream_body => join('', @chunks)),
    TG::Ban::passes(undef, undef, raw_request => $raw,
                    upstream_body => join('', @chunks)),
    TG::Ban::banned('id', [58, 60], qq(POST /auth/login\n{"username": "alice"}),
                    'Content-Type: application/json'),
    TG::Ban::banned('id', [58, 60], undef, undef, raw_request => $raw),
    TG::Ban::passes(qq(POST /auth/login\n{"username": "bob", "password": "x"}),
                    'Content-Type: application/json',
                    upstream_body => '{"username": "bob", "password": "x"}'),
]
--- upstream_count: 3
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
2 tenant_guard: banned: the login identifier is banned



=== TEST 15: body:FIELD, bodies over tenant_guard_login_body_max (announced, or chunked): 400, not forwarded, never in a temp file, the address is counted
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60], permanent => [5, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/login_mem {
    client_body_buffer_size 256k;
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $big = big_body('alice', 100 * 1024);
my $ct = 'Content-Type: application/json';
my %bad = (error_code => 400, json_error => 'invalid_request',
           json_error_description => 'the login body is over tenant_guard_login_body_max',
           no_upstream => 1);
[
    {request => "POST /auth/login\n$big", more_headers => $ct, %bad},
    {request => "POST /auth/login_mem\n$big", more_headers => $ct, %bad},
    {raw_request => TG::Ban::chunked('POST /auth/login', $ct,
                                     map { substr($big, $_ * 4096, 4096) } 0 .. 24),
     %bad},
    {raw_request => TG::Ban::chunked('POST /auth/login', $ct,
                                     split //, big_body('alice', 17 * 1024)),
     %bad},
    # the address's 5th attempt: counted when it starts, it bans the next
    TG::Ban::passes(qq(POST /auth/login\n{"username": "alice"}), $ct),
    TG::Ban::banned('ip', [58, 60], qq(POST /auth/login\n{"username": "bob"}), $ct),
]
--- upstream_count: 1
--- error_log_count
0 a client request body is buffered to a temporary file
1 tenant_guard: client address banned, level 3, for 60 s
1 tenant_guard: banned: the client address is banned
4 tenant_guard: unreadable login: the login body is over tenant_guard_login_body_max
0 tenant_guard: login identifier banned



=== TEST 16: body:FIELD: a body that is not JSON, broken JSON, JSON without the top-level field, or no body: 400, not forwarded
--- policy eval
+{default => TG::Ban::policy_ban(first => [1, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $ct = 'Content-Type: application/json';
my @odd = ('username=alice&password=x',
           '{"username": "alice", "password": ',
           '{"user": "alice", "password": "x"}',
           '{"data": {"username": "alice"}}');
my %bad = (error_code => 400, json_error => 'invalid_request',
           no_upstream => 1);
[
    (map { {request => "POST /auth/login\n$_", more_headers => $ct, %bad} }
     @odd),
    {request => 'GET /auth/login', %bad},
    # the first failure that names alice bans her (threshold 1)
    TG::Ban::passes(qq(POST /auth/login\n{"username": "alice"}), $ct),
    TG::Ban::banned('id', [58, 60], qq(POST /auth/login\n{"username": "alice"}), $ct),
]
--- upstream_count: 1
--- error_log_count
1 tenant_guard: login identifier banned, level 1, for 60 s
1 tenant_guard: banned: the login identifier is banned
5 tenant_guard: unreadable login



=== TEST 17: invalid tokens on a guarded location count toward the address's permanent ban (default policy's settings)
--- policy eval
+{workspaces => {ws1 => {ban => TG::Ban::ban(permanent => [100, 60, 60])}},
 default => TG::Ban::policy_ban(blocking => 0, permanent => [3, 60, 60])}
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my $bad = {request => 'GET /api/items', error_code => 401,
           json_error => 'invalid_token', no_upstream => 1};
[
    {%$bad, more_headers => TG::bearer({workspace_id => 'ws1'}, key => 'evil_rsa')},
    {%$bad, more_headers => TG::bearer({workspace_id => 'ws1'}, key => 'evil_rsa')},
    {%$bad, more_headers => TG::bearer({workspace_id => 'ws1', exp => time - 3600})},
    TG::Ban::banned('ip', [58, 60], 'GET /api/items', TG::bearer({workspace_id => 'ws1'})),
    refused_as('ip', [58, 60], 'alice'),
]
--- no_upstream
--- error_log_count
3 tenant_guard: invalid token
1 tenant_guard: client address banned, level 3, for 60 s
2 tenant_guard: banned: the client address is banned



=== TEST 18: a banned identifier never refuses a token: a stranger's guesses with a victim's name do not lock the victim out
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
location /by-email/ {
    tenant_guard on;
    tenant_guard_claim subject email;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my $ok = sub { TG::Ban::passes($_[0], $_[1], error_code => 200) };
[
    fail_in('ws1', 'alice'),
    fail_in('ws1', 'alice'),
    refused_in('ws1', 'alice', [58, 60]),
    $ok->('GET /api/items', TG::bearer({sub => 'alice', workspace_id => 'ws1'})),
    $ok->('GET /by-email/items', TG::bearer({sub => 'user1', email => 'alice',
                                             workspace_id => 'ws1'})),
]
--- upstream_count: 4
--- error_log_count
2 tenant_guard: login identifier banned, level 1, for 60 s
1 tenant_guard: banned: the login identifier is banned



=== TEST 19: a workspace without "ban", or not listed, gets the default policy's ban
--- policy eval
+{workspaces => {acme => {ban => TG::Ban::ban(first => [2, 60, 60])},
                beta => {mfa => {required => JSON::PP::false()}}},
 default => TG::Ban::policy_ban(first => [3, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_in('acme', 'alice'),
    fail_in('acme', 'alice'),
    refused_in('acme', 'alice', [58, 60]),
    fail_in('beta', 'bob'),
    fail_in('beta', 'bob'),
    fail_in('beta', 'bob'),
    refused_in('beta', 'bob', [58, 60]),
    fail_in('gamma', 'carol'),
    fail_in('gamma', 'carol'),
    fail_in('gamma', 'carol'),
    refused_in('gamma', 'carol', [58, 60]),
]
--- upstream_count: 8
--- error_log_count
5 tenant_guard: login identifier banned, level 1, for 60 s
3 tenant_guard: banned: the login identifier is banned



=== TEST 20: fail= decides which upstream statuses count (default 401 403; "401 500"; "401,429")
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/default403 {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/403;
}
location = /auth/default200 {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
location = /auth/default500 {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/500;
}
location = /auth/spaced500 {
    tenant_guard_login identifier=$http_x_login fail=401 500;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/500;
}
location = /auth/comma403 {
    tenant_guard_login identifier=$http_x_login fail=401,429;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/403;
}
location = /auth/comma429 {
    tenant_guard_login identifier=$http_x_login fail=401,429;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/429;
}
--- requests eval
my $p = sub { TG::Ban::passes("POST $_[0]\npassword=x", "X-Login: $_[1]",
                              error_code => $_[2]) };
my $r = sub { TG::Ban::banned('id', [58, 60], "POST $_[0]\npassword=x",
                              "X-Login: $_[1]") };
[
    $p->('/auth/default403', 'carol', 403),
    $p->('/auth/default403', 'carol', 403),
    $r->('/auth/default403', 'carol'),
    (map { $p->('/auth/default200', 'dave', 200) } 1 .. 3),
    (map { $p->('/auth/default500', 'dora', 500) } 1 .. 3),
    $p->('/auth/spaced500', 'sam', 500),
    $p->('/auth/spaced500', 'sam', 500),
    $r->('/auth/spaced500', 'sam'),
    (map { $p->('/auth/comma403', 'cora', 403) } 1 .. 3),
    $p->('/auth/comma429', 'eve', 429),
    $p->('/auth/comma429', 'eve', 429),
    $r->('/auth/comma429', 'eve'),
]
--- upstream_count: 15
--- error_log_count
3 tenant_guard: login identifier banned, level 1, for 60 s
3 tenant_guard: banned: the login identifier is banned



=== TEST 21: a level bans only when its threshold is reached within its own collecting time
--- policy eval
+{default => TG::Ban::policy_ban(first => [3, 1, 60], second => [5, 60, 30])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('alice'),
    fail_as('alice', wait => 2.5),
    # failure 3 comes after the first level's 1 s: no first-level ban; the
    # window (60 s, the longest) goes on
    fail_as('alice'),
    fail_as('alice'),
    fail_as('alice'),
    refused_as('id', [28, 30], 'alice'),
]
--- upstream_count: 5
--- error_log_count
0 tenant_guard: login identifier banned, level 1
1 tenant_guard: login identifier banned, level 2, for 30 s
1 tenant_guard: banned: the login identifier is banned



=== TEST 22: first level off (threshold 0): the second level still bans
--- policy eval
+{default => TG::Ban::policy_ban(first => [0, 60, 60], second => [3, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[fail_as('alice'), fail_as('alice'), fail_as('alice'),
 refused_as('id', [58, 60], 'alice')]
--- upstream_count: 3
--- error_log_count
0 tenant_guard: login identifier banned, level 1
1 tenant_guard: login identifier banned, level 2, for 60 s
1 tenant_guard: banned: the login identifier is banned



=== TEST 23: body:FIELD login and reset with a workspace: the confirmed reset lifts the identifier in that workspace and in none
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=body:username workspace=$http_x_workspace;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/reset {
    tenant_guard_password_reset identifier=body:username workspace=$http_x_workspace;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/iam/reset;
}
location = /iam/reset {
    add_header X-Tenant-Guard-Reset $http_x_confirm always;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/200;
}
--- requests eval
my $login = qq(POST /auth/login\n{"username": "alice", "password": "x"});
my $reset = qq(POST /auth/reset\n{"username": "ALICE", "password": "new"});
my $ct = 'Content-Type: application/json';
[
    TG::Ban::passes($login, "$ct\nX-Workspace: acme"),
    TG::Ban::passes($login, "$ct\nX-Workspace: acme"),
    TG::Ban::banned('id', [58, 60], $login, "$ct\nX-Workspace: acme"),
    TG::Ban::banned('id', [58, 60], $login, "$ct\nX-Workspace: beta"),
    TG::Ban::passes($reset, "$ct\nX-Workspace: acme\nX-Confirm: ALICE",
                    error_code => 200,
                    upstream_body => '{"username": "ALICE", "password": "new"}'),
    TG::Ban::passes($login, "$ct\nX-Workspace: beta"),
]
--- upstream_count: 4
--- error_log_count
2 tenant_guard: login identifier banned, level 1, for 60 s
2 tenant_guard: banned: the login identifier is banned
1 tenant_guard: password reset lifted the bans



=== TEST 24: a refusal does not wait for the request body (address ban on a body:FIELD login, identifier ban from a header)
--- policy eval
+{default => TG::Ban::policy_ban(first => [1, 60, 60], permanent => [2, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location = /auth/login_body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
# a Content-Length of 100000 with 12 bytes of body sent: a refusal that
# waited for the body would never come (the client times out)
my $partial = sub {
    my ($path, $login) = @_;
    return "POST $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
         . ($login ? "X-Login: $login\r\n" : '')
         . "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
         . '{"username":';
};
my $ct = 'Content-Type: application/json';
[
    fail_as('alice'),
    TG::Ban::banned('id', [58, 60], undef, undef,
                    raw_request => $partial->('/auth/login', 'alice')),
    TG::Ban::passes(qq(POST /auth/login_body\n{"username": "bob"}), $ct),
    TG::Ban::banned('ip', [58, 60], undef, undef,
                    raw_request => $partial->('/auth/login_body')),
]
--- upstream_count: 2
--- error_log_count
1 tenant_guard: banned: the login identifier is banned
1 tenant_guard: client address banned, level 3, for 60 s
1 tenant_guard: banned: the client address is banned



=== TEST 25: a login location that also checks a token counts the login's identifier, not the token's subject
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard on;
    tenant_guard_login identifier=$http_x_login workspace=ws1;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
my $tok = TG::bearer({sub => 'carol', workspace_id => 'ws1'});
[
    TG::Ban::passes("POST /auth/login\npassword=wrong", "X-Login: alice\n$tok"),
    TG::Ban::passes("POST /auth/login\npassword=wrong", "X-Login: alice\n$tok"),
    TG::Ban::banned('id', [58, 60], "POST /auth/login\npassword=wrong",
                    "X-Login: alice\n$tok"),
    TG::Ban::passes('GET /api/items', $tok, error_code => 200),
]
--- upstream_count: 3
--- error_log_count
2 tenant_guard: login identifier banned, level 1, for 60 s
1 tenant_guard: banned: the login identifier is banned



=== TEST 26: bans are state, not cache: a flood of tokens through a full zone evicts no ban
A 32k zone holds a few dozen tokens: 150 distinct valid tokens fill it
many times over, and the identifier's ban is still in force.
--- http_config
tenant_guard_zone zone=tg:32k;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
location /api/ {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    fail_as('victim'),
    fail_as('victim'),
    refused_as('id', [58, 60], 'victim'),
    (map { TG::Ban::passes('GET /api/items',
                           TG::bearer({sub => "flood$_", jti => "flood-$_"}),
                           error_code => 200) } 1 .. 150),
    refused_as('id', [50, 60], 'victim'),
]
--- upstream_count: 152



=== TEST 27: a zone full of failure counters drops the oldest counters first, never the ban in force, and says so
--- http_config
tenant_guard_zone zone=tg:32k;
tenant_guard_policy_file $TEST_NGINX_POLICY;
--- policy eval
+{default => TG::Ban::policy_ban(first => [2, 60, 60])}
--- config
location = /auth/login {
    tenant_guard_login identifier=$http_x_login;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
[
    fail_as('victim'),
    fail_as('victim'),
    refused_as('id', [58, 60], 'victim'),
    (map { fail_as("other$_") } 1 .. 300),
    refused_as('id', [50, 60], 'victim'),
]
--- upstream_count: 302
--- error_log_like
\[warn\] .*tenant_guard: zone "tg" is full of bans and failure counters: the oldest counter was evicted; make the zone larger
--- no_error_log
the oldest ban was evicted
