# Review of issue 10 (failed-login bans), attacks on the login body that
# make the module and the upstream read two different identifiers: the
# module counts a decoy while the upstream checks the victim's password.
# Each asserts the status, the JSON error and that nothing went upstream.

use lib 't/lib';
use TG;
use TG::Ban;

sub unreadable {
    my ($headers, $body, $why, %o) = @_;
    return {request => "POST /auth/body\n$body",
            more_headers => $headers,
            error_code => 400, json_error => 'invalid_request',
            json_error_description => $why,
            response_headers => '!X-Mock-Upstream',
            no_upstream => 1, %o};
}

our $JSON = 'Content-Type: application/json';
our $FORM = 'Content-Type: application/x-www-form-urlencoded';

block_defaults(http_config => <<'CONF');
tenant_guard_zone zone=tg:1m;
tenant_guard_policy_file $TEST_NGINX_POLICY;
CONF

run_tests();
done_testing();

__DATA__

=== TEST 1: a body with a Content-Encoding is not read as plain text (an upstream that inflates it reads another identifier)
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 60, 60], permanent => [20, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $enc = 'the login body has a Content-Encoding';
[
    unreadable("$FORM\nContent-Encoding: gzip", 'username=decoy', $enc),
    unreadable("$JSON\nContent-Encoding: deflate", '{"username": "decoy"}',
               $enc),
    unreadable("$FORM\nContent-Encoding: br", 'username=decoy', $enc),
    TG::Ban::passes("POST /auth/body\nusername=decoy",
                    "$FORM\nContent-Encoding: identity"),
    TG::Ban::passes("POST /auth/body\nusername=decoy", $FORM),
]
--- upstream_count: 2
--- error_log_count
3 tenant_guard: unreadable login



=== TEST 2: a second key that names the field in another case (Go, .NET bind case-insensitively, the last one wins) is a duplicate
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 60, 60], permanent => [20, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $cant = 'the login body cannot be read';
[
    unreadable($JSON, '{"username": "decoy", "UserName": "victim"}', $cant),
    unreadable($JSON, '{"USERNAME": "victim", "username": "decoy"}', $cant),
    # U+017F LATIN SMALL LETTER LONG S folds to "s" in Go's encoding/json
    unreadable($JSON, qq({"username": "decoy", "u\xc5\xbfername": "victim"}),
               $cant),
    unreadable($FORM, 'username=decoy&USERNAME=victim', $cant),
    unreadable($FORM, 'username=decoy&User%4Eame=victim', $cant),
    # other fields are not the identifier's business
    TG::Ban::passes("POST /auth/body\n{\"username\": \"a\", \"Password\": \"x\", \"password\": \"y\"}",
                    $JSON),
    TG::Ban::passes("POST /auth/body\n{\"username\": \"a\", \"usernames\": \"b\"}",
                    $JSON),
    TG::Ban::passes("POST /auth/body\nusername=a&usernames=b&Password=x", $FORM),
]
--- upstream_count: 3
--- error_log_count
5 tenant_guard: unreadable login



=== TEST 3: a form-typed body that is a JSON object is not read as a form (an upstream decoding JSON whatever the type reads the object)
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 60, 60], permanent => [20, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $cant = 'the login body cannot be read';
[
    unreadable($FORM, '{"username": "victim", "x": "&username=decoy&"}', $cant),
    # Go's json.Decoder reads the first value and leaves the rest
    unreadable($FORM, ' {"username": "victim"}&username=decoy', $cant),
    TG::Ban::passes("POST /auth/body\nnote={&username=decoy", $FORM),
]
--- upstream_count: 1
--- error_log_count
2 tenant_guard: unreadable login



=== TEST 4: a login body with two Content-Types is not read (nginx reads the first, gunicorn the last)
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 60, 60], permanent => [20, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $two = 'the login body has two Content-Types';
[
    unreadable("$JSON\n$FORM",
               '{"username": "decoy", "x": "&username=victim&"}', $two),
    unreadable("$FORM\ncontent-type: application/json", 'username=decoy',
               $two),
    TG::Ban::passes("POST /auth/body\n{\"username\": \"decoy\"}", $JSON),
]
--- upstream_count: 1
--- error_log_count
2 tenant_guard: unreadable login



=== TEST 5: the identifier field in the query string of a body login is refused (servlets and ASP.NET read the query's first)
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 60, 60], permanent => [20, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login identifier=body:username;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $q = 'the login names its identifier field in the query string';
[
    {%{unreadable($FORM, 'username=decoy&password=x', $q)},
     request => "POST /auth/body?username=victim\nusername=decoy&password=x"},
    {%{unreadable($JSON, '{"username": "decoy"}', $q)},
     request => "POST /auth/body?x=1&UserName=victim\n{\"username\": \"decoy\"}"},
    TG::Ban::passes("POST /auth/body?next=%2Fhome&lang=en\nusername=decoy",
                    $FORM),
]
--- upstream_count: 1
--- error_log_count
2 tenant_guard: unreadable login



=== TEST 6: a form key that PHP reads as the field (user.name is user_name) is the field twice
--- policy eval
+{default => TG::Ban::policy_ban(first => [5, 60, 60], permanent => [20, 60, 60])}
--- config
location = /auth/body {
    tenant_guard_login identifier=body:user_name;
    proxy_pass http://$TEST_NGINX_UPSTREAM/status/401;
}
--- requests eval
my $cant = 'the login body cannot be read';
[
    unreadable($FORM, 'user_name=decoy&user.name=victim', $cant),
    unreadable($FORM, 'user_name=decoy&user+name=victim', $cant),
    TG::Ban::passes("POST /auth/body\nuser_name=decoy&user.id=7", $FORM),
]
--- upstream_count: 1
--- error_log_count
2 tenant_guard: unreadable login
