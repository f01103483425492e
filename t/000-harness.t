# The harness itself, without the module: mock upstream, raw requests,
# eval'd headers, nginx -t, the test keys and the token helpers.

use lib 't/lib';
use TG;
use Crypt::JWT qw(decode_jwt);
use JSON::PP ();

my $dir = TG::keys_dir();
for my $f (qw(jwks.json jwks_hs.json jwks_noalg.json jwks_enc.json
              jwks_nokid.json rsa1.pem rsa2.pem rsa_multi.pem ec256.pem
              ec384.pem ec521.pem ed1.pem bad.json empty_keys.json)) {
    ok(-s "$dir/$f", "keys: $f exists");
}

sub slurp_file { local (@ARGV, $/) = @_; <> }

my $jwks = JSON::PP->new->decode(slurp_file("$dir/jwks.json"));
is_deeply([map { $_->{kid} } @{$jwks->{keys}}],
          [qw(rsa1 rsa2 ec256 ec384 ec521 ed1)], 'jwks.json: kids');
is_deeply([map { $_->{alg} } @{$jwks->{keys}}],
          [qw(RS256 RS256 ES256 ES384 ES512 EdDSA)], 'jwks.json: algs');
ok(!grep({ exists $_->{d} || exists $_->{p} } @{$jwks->{keys}}),
   'jwks.json: public keys only');
my $jwks_hs = JSON::PP->new->decode(slurp_file("$dir/jwks_hs.json"));
is($jwks_hs->{keys}[-1]{kty}, 'oct', 'jwks_hs.json: oct key last');
is($jwks_hs->{keys}[-1]{kid}, 'hs1', 'jwks_hs.json: kid hs1');
like(slurp_file("$dir/rsa1.pem"), qr/^-----BEGIN PUBLIC KEY-----\n/,
     'rsa1.pem is a PUBLIC KEY PEM');
is(() = slurp_file("$dir/rsa_multi.pem") =~ /BEGIN PUBLIC KEY/g, 2,
   'rsa_multi.pem holds two keys');
ok(!eval { JSON::PP->new->decode(slurp_file("$dir/bad.json")); 1 },
   'bad.json is not JSON');

for my $alg (qw(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA
                HS256 HS384 HS512)) {
    my $tok = TG::jwt({}, alg => $alg);
    my $kj = $alg =~ /^HS/ ? slurp_file("$dir/jwks_noalg.json")
           : $alg =~ /^(RS|PS)(384|512)|^PS256/ ? slurp_file("$dir/jwks_noalg.json")
           : slurp_file("$dir/jwks.json");
    my $claims = eval { decode_jwt(token => $tok, kid_keys => $kj,
                                   accepted_alg => $alg) };
    ok($claims && $claims->{workspace_id} eq 'ws1',
       "jwt $alg decodes with the JWKS") or diag($@);
}

{
    my $tok = TG::jwt({workspace_id => 'ws9', scope => undef}, kid => undef);
    my ($h) = split /\./, $tok;
    my $hdr = JSON::PP->new->decode(TG::b64url_decode($h));
    ok(!exists $hdr->{kid}, 'jwt: kid => undef omits kid');
    my $p = TG::payload_of($tok);
    is($p->{workspace_id}, 'ws9', 'jwt: override claim');
    ok(!exists $p->{scope}, 'jwt: undef claim removed');
    like($p->{jti}, qr/^jti-[0-9a-f]{16}$/, 'jwt: default jti');
    ok($p->{exp} > time + 3000, 'jwt: default exp');
    is(TG::last_token(), $tok, 'last_token');
    is(TG::jti_of($tok), $p->{jti}, 'jti_of');
    is(length TG::token_hash_id($tok), 16, 'token_hash_id: 16 hex chars');
}

{
    my $tok = TG::signed_token({alg => 'RS256', kid => 'rsa1'},
                               TG::claims({}), 'RS256', 'rsa1');
    ok(eval { decode_jwt(token => $tok, kid_keys => slurp_file("$dir/jwks.json")) },
       'signed_token RS256 verifies') or diag($@);
    my $es = TG::signed_token({alg => 'ES256', kid => 'ec256'},
                              TG::claims({}), 'ES256', 'ec256');
    is(length TG::b64url_decode(TG::sig_of($es)), 64, 'ES256 raw R||S is 64 bytes');
    ok(eval { decode_jwt(token => $es, kid_keys => slurp_file("$dir/jwks.json")) },
       'signed_token ES256 verifies') or diag($@);
    my $der = TG::signed_token({alg => 'ES256', kid => 'ec256'},
                               TG::claims({}), 'ES256-DER', 'ec256');
    like(TG::b64url_decode(TG::sig_of($der)), qr/^\x30/, 'ES256-DER is DER');
    my $raw = TG::raw_token('{"alg":"none"}', '[1]', '');
    is($raw, TG::b64url('{"alg":"none"}') . '.' . TG::b64url('[1]') . '.',
       'raw_token with strings');
    for my $len (1024, 1025, 8192, 8193) {
        is(length TG::jwt_sized($len), $len, "jwt_sized $len");
    }
}

run_tests();
done_testing();

__DATA__

=== TEST 1: proxy_pass: the upstream records the request headers
--- no_module
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /a/b?c=d
--- more_headers
X-Foo: bar
X-Empty-Not: 1
--- error_code: 200
--- response_headers
Content-Type: application/json
X-Mock-Upstream: 1
!X-Nope
--- response_body_like: "uri":"/a/b\?c=d"
--- upstream_uri: /a/b?c=d
--- upstream_count: 1
--- upstream_headers
X-Foo: bar
Host: $TEST_NGINX_UPSTREAM
!X-Nope

=== TEST 2: the raw path is sent verbatim (%2F, //, /../)
--- no_module
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /ws/ws1%2F..%2Fws2//x/../y
--- upstream_uri: /ws/ws1%2F..%2Fws2//x/../y

=== TEST 3: $request_uri keeps the raw path, $uri is normalised
--- no_module
--- config
location / {
    return 200 "$request_uri $uri\n";
}
--- request
GET /ws//ws2/./a/../b%2Fc
--- response_body
/ws//ws2/./a/../b%2Fc /ws/ws2/b/c

=== TEST 4: eval'd headers (a minted token) reach upstream
--- no_module
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /t
--- more_headers eval
"Authorization: Bearer " . TG::jwt({workspace_id => 'ws2'})
--- upstream_headers eval
"Authorization: Bearer " . TG::last_token()

=== TEST 5: duplicate request header lines are sent as they are
--- no_module
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /dup
--- more_headers
X-Dup: 1
X-Dup: 2
--- response_body_like: \["X-Dup","1"\],\["X-Dup","2"\]

=== TEST 6: /status/NNN answers NNN
--- no_module
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /status/418
--- error_code: 418
--- upstream_uri: /status/418

=== TEST 7: request body with Content-Length
--- no_module
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
POST /echo
hello
--- upstream_body: hello

=== TEST 8: chunked request body
--- no_module
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- raw_request eval
"POST /c HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
--- upstream_body: hello world

=== TEST 9: nothing reaches upstream on a return
--- no_module
--- config
location / {
    return 403 '{"error":"x","error_description":"y"}';
    default_type application/json;
}
--- request
GET /no
--- error_code: 403
--- json_error: x
--- no_upstream

=== TEST 10: error_log and no_error_log
--- no_module
--- config
location / {
    root html;
}
--- request
GET /nope.txt
--- error_code: 404
--- error_log
/html/nope.txt" failed (2: No such file or directory)
--- error_log_like
\[error\] .*open\(\) ".*nope\.txt"
--- no_error_log
something that is not there

=== TEST 11: access_log with a log_format
--- no_module
--- http_config
log_format t '$status "$request_uri" $http_x_mark';
--- config
access_log logs/access.log t;
location / {
    return 204;
}
--- request
GET /logged?q=1
--- more_headers
X-Mark: m1
--- error_code: 204
--- access_log
204 "/logged?q=1" m1

=== TEST 12: several requests on one nginx, two workers
--- no_module
--- workers: 2
--- config
location / {
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
location /r {
    return 200 "r\n";
}
--- requests eval
[
    {request => "GET /one", upstream_uri => "/one",
     more_headers => "X-N: 1", upstream_headers => "X-N: 1"},
    {request => "GET /r", response_body => "r\n", no_upstream => 1},
    {request => "GET /status/404", error_code => 404},
]
--- upstream_count: 2

=== TEST 13: nginx -t fails on an unknown directive (no module loaded)
--- no_module
--- config
location / {
    tenant_guard on;
}
--- config_error
unknown directive "tenant_guard"
nginx.conf:

=== TEST 14: nginx -t succeeds; main_config and http_config are placed
--- no_module
--- main_config
worker_rlimit_nofile 2048;
--- http_config
map $uri $x { default 1; }
--- config
location / { return 200; }
--- config_ok
--- config_output
test is successful

=== TEST 15: $TEST_NGINX_* substitutions
--- no_module
--- config
location / {
    return 200 "$TEST_NGINX_SERVER_PORT|$TEST_NGINX_KEYS|$TEST_NGINX_PREFIX\n";
}
--- request
GET /
--- response_body_like: ^\d+\|/\S+/keys\|/\S+/\d{3}$
