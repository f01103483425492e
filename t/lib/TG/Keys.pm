package TG::Keys;

# Test keys and token minting for the tenant_guard tests.
#
# Keys are generated once per test file (lazily, on first use) with CryptX in
# a temporary directory.  Tokens are minted with Crypt::JWT::encode_jwt, or
# built by hand (raw_token + sign) for the odd shapes a verifier must refuse.
# Nothing here uses the module's own code.

use strict;
use warnings;

use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Crypt::Mac::HMAC ();
use Crypt::PRNG ();
use Digest::SHA ();
use File::Temp ();
use JSON::PP ();
use MIME::Base64 ();

our $DIR;           # keys dir, absolute
our %KEY;           # name => Crypt::PK object (private) or secret bytes (hs*)
our $LAST;          # the last token minted by jwt()/raw_token()

my $JSON = JSON::PP->new->canonical;

my %ALG_HASH = (256 => 'SHA256', 384 => 'SHA384', 512 => 'SHA512');

sub b64url {
    my ($bytes) = @_;
    my $s = MIME::Base64::encode_base64($bytes, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}

sub b64url_decode {
    my ($s) = @_;
    $s =~ tr{-_}{+/};
    $s .= '=' x ((4 - length($s) % 4) % 4);
    return MIME::Base64::decode_base64($s);
}

sub keys_dir {
    init() unless defined $DIR;
    return $DIR;
}

sub key {
    my ($name) = @_;
    init() unless defined $DIR;
    die "TG: no key named '$name'\n" unless exists $KEY{$name};
    return $KEY{$name};
}

sub pem {
    my ($name) = @_;
    return key($name)->export_key_pem(pem_kind($name));
}

sub pem_kind {
    my ($name) = @_;
    my $k = key($name);
    return ref($k) eq 'Crypt::PK::RSA' ? 'public_x509'
         : ref($k) eq 'Crypt::PK::ECC' ? 'public_short'
         : 'public';
}

sub write_file {
    my ($path, $content) = @_;
    open my $fh, '>', $path or die "TG: cannot write $path: $!\n";
    binmode $fh;
    print $fh $content;
    close $fh or die "TG: cannot write $path: $!\n";
}

my @ASYM = (
    [rsa1  => 'RS256'],
    [rsa2  => 'RS256'],
    [ec256 => 'ES256'],
    [ec384 => 'ES384'],
    [ec521 => 'ES512'],
    [ed1   => 'EdDSA'],
);

sub init {
    return if defined $DIR;

    our $BASE;
    TG::init_root() if !defined $BASE && defined &TG::init_root;
    my $base = $BASE // File::Temp::tempdir('tg-keys-XXXXXX', TMPDIR => 1,
                                            CLEANUP => 0);
    mkdir $base unless -d $base;
    chmod 0755, $base;
    $DIR = $base;

    for my $n (qw(rsa1 rsa2 evil_rsa)) {
        my $k = Crypt::PK::RSA->new;
        $k->generate_key(256, 65537);
        $KEY{$n} = $k;
    }
    my %curve = (ec256 => 'secp256r1', ec384 => 'secp384r1',
                 ec521 => 'secp521r1', evil_ec => 'secp256r1');
    for my $n (sort keys %curve) {
        my $k = Crypt::PK::ECC->new;
        $k->generate_key($curve{$n});
        $KEY{$n} = $k;
    }
    for my $n (qw(ed1 evil_ed)) {
        my $k = Crypt::PK::Ed25519->new;
        $k->generate_key;
        $KEY{$n} = $k;
    }
    $KEY{hs1} = Crypt::PRNG::random_bytes(32);
    $KEY{hs64} = Crypt::PRNG::random_bytes(64);     # long enough for HS512
    $KEY{evil_hs} = Crypt::PRNG::random_bytes(32);

    my @jwks;
    my @noalg;
    for my $e (@ASYM) {
        my ($n, $alg) = @$e;
        my $jwk = public_jwk($n);
        push @jwks, {%$jwk, kid => $n, alg => $alg};
        push @noalg, {%$jwk, kid => $n};
    }
    my $hs = {kty => 'oct', k => b64url($KEY{hs1}), kid => 'hs1',
              alg => 'HS256'};
    my $hs_noalg = {kty => 'oct', k => b64url($KEY{hs1}), kid => 'hs1'};
    my $hs64_noalg = {kty => 'oct', k => b64url($KEY{hs64}), kid => 'hs64'};

    my $pretty = JSON::PP->new->canonical->pretty;
    write_file("$DIR/jwks.json", $pretty->encode({keys => \@jwks}));
    write_file("$DIR/jwks_hs.json", $pretty->encode({keys => [@jwks, $hs]}));
    write_file("$DIR/jwks_noalg.json",
               $pretty->encode({keys => [@noalg, $hs_noalg, $hs64_noalg]}));

    my $rsa1 = {%{$KEY{rsa1}->export_key_jwk('public', 1)}};
    my $rsa2 = {%{$KEY{rsa2}->export_key_jwk('public', 1)}};
    write_file("$DIR/jwks_enc.json", $pretty->encode({keys => [
        {%$rsa1, kid => 'rsa1', alg => 'RS256', use => 'enc'},
        {%$rsa2, kid => 'rsa2', alg => 'RS256', use => 'sig'},
    ]}));
    write_file("$DIR/jwks_nokid.json", $pretty->encode({keys => [
        {%$rsa1, alg => 'RS256'},
    ]}));

    write_file("$DIR/rsa1.pem", pem('rsa1'));
    write_file("$DIR/rsa2.pem", pem('rsa2'));
    write_file("$DIR/rsa_multi.pem", pem('rsa1') . pem('rsa2'));
    write_file("$DIR/ec256.pem", pem('ec256'));
    write_file("$DIR/ec384.pem", pem('ec384'));
    write_file("$DIR/ec521.pem", pem('ec521'));
    write_file("$DIR/ed1.pem", pem('ed1'));

    write_file("$DIR/bad.json", "{\"keys\": [ {\"kty\": \"RSA\", \n");
    write_file("$DIR/empty_keys.json", "{\"keys\":[]}\n");

    chmod 0644, glob("$DIR/*");
}

# The public JWK of a key.  EC coordinates are left-padded to the full size
# of the curve (RFC 7518 6.2.1.2): CryptX drops leading zero bytes.
sub public_jwk {
    my ($name) = @_;
    my $jwk = {%{key($name)->export_key_jwk('public', 1)}};
    if ($jwk->{kty} eq 'EC') {
        my %size = ('P-256' => 32, 'P-384' => 48, 'P-521' => 66);
        my $sz = $size{$jwk->{crv}} or die "TG: curve $jwk->{crv}\n";
        for my $c (qw(x y)) {
            my $b = b64url_decode($jwk->{$c});
            $b = ("\0" x ($sz - length $b)) . $b;
            $jwk->{$c} = b64url($b);
        }
    }
    return $jwk;
}

sub default_key_for {
    my ($alg) = @_;
    return 'rsa1'  if $alg =~ /^(RS|PS)/;
    return 'ec256' if $alg =~ /^ES256/;
    return 'ec384' if $alg eq 'ES384';
    return 'ec521' if $alg eq 'ES512';
    return 'ed1'   if $alg eq 'EdDSA';
    return 'hs1'   if $alg =~ /^HS/;
    die "TG: no default key for alg '$alg'\n";
}

sub rand_hex {
    return unpack 'H*', Crypt::PRNG::random_bytes($_[0] // 8);
}

sub default_claims {
    my $now = time;
    return {
        sub             => 'user1',
        workspace_id    => 'ws1',
        organization_id => 'org1',
        integration_id  => 'int1',
        scope           => 'read write',
        iat             => $now,
        exp             => $now + 3600,
        jti             => 'jti-' . rand_hex(8),
    };
}

sub claims {
    my ($override) = @_;
    my $c = default_claims();
    for my $k (keys %{$override || {}}) {
        if (defined $override->{$k}) {
            $c->{$k} = $override->{$k};
        } else {
            delete $c->{$k};
        }
    }
    return $c;
}

# jwt(\%claims_override, alg => , key => , kid => , headers => {})
sub jwt {
    my ($override, %opts) = @_;
    my $alg = $opts{alg} // 'RS256';
    my $keyname = $opts{key} // default_key_for($alg);
    my $key = ref $keyname eq 'SCALAR' ? $$keyname : key($keyname);

    my %hdr;
    if (exists $opts{kid}) {
        $hdr{kid} = $opts{kid} if defined $opts{kid};
    } elsif (!ref $keyname) {
        $hdr{kid} = $keyname;
    }
    %hdr = (%hdr, %{$opts{headers} || {}});

    my $payload = claims($override);
    my $tok = encode_jwt(
        payload => $payload,
        alg => $alg,
        key => $key,
        (%hdr ? (extra_headers => \%hdr) : ()),
    );
    $LAST = $tok;
    return $tok;
}

# A token of exactly $len characters (RS256 unless alg given): a "pad" claim
# and the "typ" header are tuned until the length fits.
sub jwt_sized {
    my ($len, $override, %opts) = @_;
    my @typs = (undef, 'JWT', 'at+jwt', 'JWTX', 'application/jwt');
    for my $typ (@typs) {
        my %o = %opts;
        $o{headers} = {%{$opts{headers} || {}}, (defined $typ ? (typ => $typ) : ())};
        my $jti = 'jti-' . rand_hex(8);
        my $base = jwt({%{$override || {}}, jti => $jti, pad => ''}, %o);
        my $need = $len - length $base;
        next if $need < 0;
        for my $pad ($need * 3 / 4 - 3 .. $need * 3 / 4 + 3) {
            next if $pad < 0;
            my $tok = jwt({%{$override || {}}, jti => $jti,
                           pad => 'p' x int $pad}, %o);
            return $tok if length $tok == $len;
        }
    }
    die "TG: cannot build a token of length $len\n";
}

# sign($alg, $keyname_or_\secret, $signing_input) -> signature bytes
sub sign {
    my ($alg, $keyname, $input) = @_;
    my $key = ref $keyname eq 'SCALAR' ? $$keyname
            : key($keyname // default_key_for($alg =~ s/-DER$//r));
    my ($kind, $bits) = $alg =~ /^(RS|PS|ES|HS)(256|384|512)/;
    if ($alg eq 'EdDSA') {
        return $key->sign_message($input);
    }
    die "TG: cannot sign with alg '$alg'\n" unless $kind;
    my $hash = $ALG_HASH{$bits};
    if ($kind eq 'RS') {
        return $key->sign_message($input, $hash, 'v1.5');
    }
    if ($kind eq 'PS') {
        return $key->sign_message($input, $hash, 'pss', $bits / 8);
    }
    if ($kind eq 'ES') {
        return $alg =~ /-DER$/ ? $key->sign_message($input, $hash)
                               : $key->sign_message_rfc7518($input, $hash);
    }
    if ($kind eq 'HS') {
        return Crypt::Mac::HMAC::hmac($hash, $key, $input);
    }
}

sub part {
    my ($x) = @_;
    return ref $x ? $JSON->encode($x) : $x;
}

# raw_token($header, $payload, $sig_bytes): hashrefs are JSON-encoded
# (canonical), strings are used as they are; all three are base64url-encoded.
sub raw_token {
    my ($h, $p, $sig) = @_;
    my $tok = b64url(part($h)) . '.' . b64url(part($p)) . '.'
            . b64url($sig // '');
    $LAST = $tok;
    return $tok;
}

# signed_token($header, $payload, $alg, $key): like raw_token but signs
# the signing input (built from the header and payload as given) with
# sign($alg, $key).
sub signed_token {
    my ($h, $p, $alg, $key) = @_;
    my $input = b64url(part($h)) . '.' . b64url(part($p));
    my $tok = $input . '.' . b64url(sign($alg, $key, $input));
    $LAST = $tok;
    return $tok;
}

# token_id of a token the module could not verify: the first 16 hex
# characters of its SHA-256
sub token_hash_id {
    my ($tok) = @_;
    return substr(Digest::SHA::sha256_hex($tok // $LAST), 0, 16);
}

sub payload_of {
    my ($tok) = @_;
    my (undef, $p) = split /\./, ($tok // $LAST);
    return JSON::PP->new->decode(b64url_decode($p));
}

sub jti_of {
    my ($tok) = @_;
    return payload_of($tok)->{jti};
}

sub sig_of {
    my ($tok) = @_;
    my @p = split /\./, ($tok // $LAST);
    return $p[2];
}

sub cleanup {
    return unless defined $DIR;
    return if $ENV{TG_KEEP} || defined $TG::Keys::BASE;
    File::Path::rmtree($DIR) if -d $DIR;
}

require File::Path;

1;
