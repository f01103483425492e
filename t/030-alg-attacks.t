# Tokens an attacker would forge: alg none, algorithm confusion, wrong or
# unknown keys, crit, embedded or remote keys, DER signatures, sloppy
# base64url, odd JSON, oversized tokens.  Each must be refused with
# 401 invalid_token and nothing may reach the upstream.

use lib 't/lib';
use TG;

# every block's server {} starts with the keys; a block's own --- server_config
# replaces them (an empty one: no keys there)
block_defaults(
    server_config => 'tenant_guard_keys $TEST_NGINX_KEYS/jwks.json;');

run_tests();
done_testing();

__DATA__

=== TEST 1: alg "none", empty signature
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::raw_token({alg => 'none'}, TG::claims({workspace_id => 'ws2'}), ''))
--- error_code: 401
--- json_error: invalid_token
--- response_headers_like
WWW-Authenticate: ^Bearer realm="tenant_guard", error="invalid_token", error_description=".+"$
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()
--- no_error_log eval
TG::secret_parts()



=== TEST 2: alg "NONE"
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::raw_token({alg => 'NONE', kid => 'rsa1'}, TG::claims({}), ''))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 3: alg "None" with a (meaningless) signature part
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::raw_token({alg => 'None'}, TG::claims({}), 'x' x 32))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 4: alg "none" even when the allowlist is large
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json;
--- config
tenant_guard_algorithms RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::raw_token({alg => 'none', kid => 'hs1'}, TG::claims({}), ''))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 5: alg missing from the header
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token({kid => 'rsa1'}, TG::claims({}), 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 6: alg not a string
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token('{"alg":256,"kid":"rsa1"}', TG::claims({}), 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 7: RS384 outside the (default) allowlist, key has no alg member
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, alg => 'RS384', key => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 8: ES384 outside the default allowlist, though the key exists
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, alg => 'ES384')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 9: HS256 valid under the oct key but not allowlisted
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, alg => 'HS256')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 10: RS256 not allowlisted when the allowlist is only ES256
--- config
tenant_guard_algorithms ES256;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 11: HS/RS confusion: HS256 signed with rsa1's PEM as the secret, kid rsa1
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json;
--- config
tenant_guard_algorithms RS256 HS256;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, alg => 'HS256', key => \TG::pem('rsa1'), kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 12: HS/RS confusion without a kid
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_hs.json;
--- config
tenant_guard_algorithms RS256 HS256;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, alg => 'HS256', key => \TG::pem('rsa1'), kid => undef)
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 13: HS/RS confusion when the JWKS keys carry no "alg" member
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
tenant_guard_algorithms RS256 HS256;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /pem',
     more_headers => TG::bearer({workspace_id => 'ws2'}, alg => 'HS256', key => \TG::pem('rsa1'), kid => 'rsa1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /der',
     more_headers => TG::bearer({workspace_id => 'ws2'}, alg => 'HS256', key => \TG::key('rsa1')->export_key_der('public_x509'), kid => 'rsa1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /n',
     more_headers => TG::bearer({workspace_id => 'ws2'}, alg => 'HS256', key => \TG::b64url_decode(TG::key('rsa1')->export_key_jwk('public', 1)->{n}), kid => 'rsa1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /ok', more_headers => TG::bearer({}, alg => 'HS256'),
     upstream_uri => '/ok'},
]
--- upstream_count: 1



=== TEST 14: RS256 token naming an EC key (key type does not fit alg)
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, alg => 'RS256', key => 'rsa1', kid => 'ec256')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 15: ES256 token naming an RSA key
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, alg => 'ES256', key => 'ec256', kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 16: a key's "alg" member must equal the token's alg (PS256 vs RS256 key)
--- config
tenant_guard_algorithms RS256 PS256;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, alg => 'PS256', key => 'rsa1', kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 17: ES256 signature by a P-384 key named as ES256 (alg member ES384)
--- config
tenant_guard_algorithms ES256 ES384;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, alg => 'ES256', key => 'ec384', kid => 'ec384')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 18: wrong key with the right kid (signed by rsa2, kid rsa1)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, key => 'rsa2', kid => 'rsa1')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()
--- no_error_log eval
TG::secret_parts()



=== TEST 19: unknown kid
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, key => 'rsa1', kid => 'nope')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 20: a token without kid is tried against the fitting keys: attacker key refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /evil', more_headers => TG::bearer({}, key => 'evil_rsa', kid => undef),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /evil-ec', more_headers => TG::bearer({}, alg => 'ES256', key => 'evil_ec', kid => undef),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /good', more_headers => TG::bearer({}, key => 'rsa2', kid => undef),
     upstream_uri => '/good'},
]
--- upstream_count: 1



=== TEST 21: crit header naming an extension
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, headers => {crit => ['exp'], exp => time + 600})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid()



=== TEST 22: crit header, empty list
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, headers => {crit => []})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 23: crit ["b64"] with b64=false (RFC 7797 unencoded payload)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, headers => {crit => ['b64'], b64 => JSON::PP::false()})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 24: embedded jwk header: a token signed by the embedded key
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, key => 'evil_rsa', kid => undef,
           headers => {jwk => TG::key('evil_rsa')->export_key_jwk('public', 1)})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 25: embedded jwk header with a kid that exists
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, key => 'evil_rsa', kid => 'rsa1',
           headers => {jwk => {%{TG::key('evil_rsa')->export_key_jwk('public', 1)}, kid => 'rsa1'}})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 26: embedded EC jwk header (ES256 signed by an attacker key)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, alg => 'ES256', key => 'evil_ec', kid => 'ec256',
           headers => {jwk => {%{TG::key('evil_ec')->export_key_jwk('public', 1)}, kid => 'ec256'}})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 27: jku header is never fetched (attacker-signed token)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, key => 'evil_rsa', kid => 'evil',
           headers => {jku => 'http://' . TG::upstream_addr() . '/jwks.json'})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 28: x5u header is never fetched (attacker-signed token)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({workspace_id => 'ws2'}, key => 'evil_rsa', kid => 'rsa1',
           headers => {x5u => 'http://' . TG::upstream_addr() . '/cert.pem'})
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 29: jku/x5u/jwk on a genuine token are ignored: accepted, nothing fetched
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer({}, key => 'rsa1',
           headers => {jku => 'http://' . TG::upstream_addr() . '/jwks.json',
                       x5u => 'http://' . TG::upstream_addr() . '/cert.pem',
                       jwk => TG::key('evil_rsa')->export_key_jwk('public', 1)})
--- error_code: 200
--- upstream_count: 1
--- upstream_uri: /items
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 30: ES256 with a DER signature is refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token({alg => 'ES256', kid => 'ec256'}, TG::claims({}), 'ES256-DER', 'ec256'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 31: ES256 raw signature with one extra byte is refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
my $t = TG::jwt({}, alg => 'ES256');
TG::bearer_raw(TG::with_sig($t, "\0" . TG::sig_bytes($t)))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 32: ES256 signature one byte short is refused
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
my $t = TG::jwt({}, alg => 'ES256');
TG::bearer_raw(TG::with_sig($t, substr(TG::sig_bytes($t), 1)))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 33: empty signature on an RS256 token
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::with_sig(TG::jwt({}), ''))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 34: flipped bit in the payload after signing
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
my ($h, $p, $s) = split /\./, TG::jwt({workspace_id => 'ws1'});
my $c = TG::b64url_decode($p);
$c =~ s/"ws1"/"ws2"/;
TG::bearer_raw(join '.', $h, TG::b64url($c), $s)
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 35: base64url with "=" padding in the payload (correctly signed)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::odd_b64_token('pad'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 36: standard base64 "+" in the payload (correctly signed)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::odd_b64_token('plus'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 37: standard base64 "/" in the payload (correctly signed)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::odd_b64_token('slash'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 38: "=" padding on the signature part of a valid token
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::odd_b64_token('sig_pad'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 39: invalid base64url characters
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
my ($h, $p, $s) = split /\./, TG::jwt({});
TG::bearer_raw("$h.$p*.$s")
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 40: two parts only
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
my ($h, $p) = split /\./, TG::jwt({});
TG::bearer_raw("$h.$p")
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 41: four parts (valid token plus a trailing part)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::jwt({}) . '.eyJ4IjoxfQ')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 42: five parts (JWE compact shape)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::b64url('{"alg":"RSA-OAEP","enc":"A256GCM"}') . '.AAAA.BBBB.CCCC.DDDD')
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 43: dots only
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers
Authorization: Bearer ..
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 44: header JSON is an array
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token('["RS256","rsa1"]', TG::claims({}), 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 45: header is not JSON
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token('{"alg":"RS256","kid":"rsa1"', TG::claims({}), 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 46: payload JSON is an array
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token({alg => 'RS256', kid => 'rsa1'}, '[{"workspace_id":"ws1","exp":9999999999}]', 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 47: payload JSON is a string
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token({alg => 'RS256', kid => 'rsa1'}, '"ws1"', 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 48: payload with trailing garbage after the JSON object
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token({alg => 'RS256', kid => 'rsa1'}, JSON::PP->new->canonical->encode(TG::claims({})) . 'xx', 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 49: duplicate key in the payload (workspace_id twice)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
my $js = JSON::PP->new->canonical->encode(TG::claims({workspace_id => 'ws1'}));
$js =~ s/\}\z/,"workspace_id":"ws2"}/;
TG::bearer_raw(TG::signed_token({alg => 'RS256', kid => 'rsa1'}, $js, 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()



=== TEST 50: duplicate key in the header ("alg" twice)
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::signed_token('{"alg":"none","kid":"rsa1","alg":"RS256"}', TG::claims({}), 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 51: duplicate key hidden by a unicode escape in the payload
--- config
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
my $js = JSON::PP->new->canonical->encode(TG::claims({workspace_id => 'ws1'}));
$js =~ s/\}\z/,"workspace\\u005fid":"ws2"}/;
TG::bearer_raw(TG::signed_token({alg => 'RS256', kid => 'rsa1'}, $js, 'RS256', 'rsa1'))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 52: token over the default 8k is refused (header buffers raised)
--- config
large_client_header_buffers 4 32k;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::jwt_sized(8193))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream
--- error_log_like eval
TG::log_invalid_hash()
--- no_error_log eval
TG::secret_parts()



=== TEST 53: a much larger token (20k) is refused
--- config
large_client_header_buffers 4 32k;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::jwt_sized(20000))
--- error_code: 401
--- json_error: invalid_token
--- no_upstream



=== TEST 54: a token of exactly 8k is accepted
--- config
large_client_header_buffers 4 32k;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- request
GET /items
--- more_headers eval
TG::bearer_raw(TG::jwt_sized(8192))
--- error_code: 200
--- upstream_headers
X-Workspace-Id: ws1



=== TEST 55: tenant_guard_max_token_size 1k: 1025 refused, 1024 accepted
--- config
tenant_guard_max_token_size 1k;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /big', more_headers => TG::bearer_raw(TG::jwt_sized(1025)),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /fits', more_headers => TG::bearer_raw(TG::jwt_sized(1024)),
     upstream_uri => '/fits'},
]
--- upstream_count: 1



=== TEST 56: HS384 / HS512 under an oct key shorter than the hash (RFC 7518 3.2)
--- server_config
tenant_guard_keys $TEST_NGINX_KEYS/jwks_noalg.json;
--- config
tenant_guard_algorithms HS256 HS384 HS512;
location / {
    tenant_guard on;
    proxy_pass http://$TEST_NGINX_UPSTREAM;
}
--- requests eval
[
    {request => 'GET /hs384', more_headers => TG::bearer({}, alg => 'HS384', key => 'hs1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /hs512', more_headers => TG::bearer({}, alg => 'HS512', key => 'hs1'),
     error_code => 401, json_error => 'invalid_token', no_upstream => 1},
    {request => 'GET /hs256', more_headers => TG::bearer({}, alg => 'HS256', key => 'hs1'),
     upstream_uri => '/hs256'},
]
--- upstream_count: 1
