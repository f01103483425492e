package TG;

# Data-driven nginx tests in the spirit of Test::Nginx, on Test::Base.
#
#   use lib 't/lib';
#   use TG;
#   run_tests();
#   __DATA__
#   === TEST 1: name
#   --- config
#   location / { proxy_pass http://$TEST_NGINX_UPSTREAM; }
#   --- request
#   GET /x
#   --- error_code: 200
#
# Per block: a fresh prefix, a free port, the distro nginx started in the
# foreground (master + workers), one or more raw HTTP/1.1 requests, nginx
# stopped (QUIT), then the checks.  Logs are read after nginx has exited, so
# every line it wrote is there.  See t/README.md for the sections.
#
# This is the one block runner.  A file states its common sections once with
# block_defaults(); TG::Policy, TG::Ban and TG::Redis add fixtures to it
# (add_fixture: hooks around each block), and TG::Redis::Nginx starts its
# servers through the same process and nginx.conf code.

use strict;
use warnings;
no warnings 'exec';

use Cwd ();
use Errno ();
use File::Basename ();
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Test::Base ();
use Test::Base::Filter ();
use Test::More ();
use Time::HiRes ();

use TG::HTTP;
use TG::Keys;

our $REPO = Cwd::abs_path(
    File::Spec->catdir(File::Basename::dirname(__FILE__), '..', '..'));
our $NGINX = $ENV{TG_NGINX} // '/usr/sbin/nginx';
our $MODULE = Cwd::abs_path($ENV{TG_MODULE}
                            // "$REPO/build/ngx_http_tenant_guard_module.so")
              // ($ENV{TG_MODULE}
                 // "$REPO/build/ngx_http_tenant_guard_module.so");
our $PRELOAD = $ENV{TG_MODULE_PRELOAD};
our $TIMEOUT = $ENV{TG_TIMEOUT} // 10;

our ($ROOT, $UPSTREAM_PORT, $UPSTREAM_PID, $UPSTREAM_LOG);
our %VARS;          # $TEST_NGINX_* values of the running block
my $ROOT_PID = $$;

# ---------------------------------------------------------------- exports

sub import {
    my $caller = caller;
    {
        no strict 'refs';
        *{"${caller}::run_tests"} = \&run_tests;
        *{"${caller}::block_defaults"} = \&block_defaults;
        *{"${caller}::done_testing"} = \&Test::More::done_testing;
    }
    @_ = ('Test::Base');
    goto &Test::Base::import;
}

# helpers for the .t files (TG::jwt etc.)
no warnings 'once';
*jwt           = \&TG::Keys::jwt;
*jwt_sized     = \&TG::Keys::jwt_sized;
*raw_token     = \&TG::Keys::raw_token;
*signed_token  = \&TG::Keys::signed_token;
*sign          = \&TG::Keys::sign;
*b64url        = \&TG::Keys::b64url;
*b64url_decode = \&TG::Keys::b64url_decode;
*pem           = \&TG::Keys::pem;
*claims        = \&TG::Keys::claims;
*token_hash_id = \&TG::Keys::token_hash_id;
*jti_of        = \&TG::Keys::jti_of;
*sig_of        = \&TG::Keys::sig_of;
*payload_of    = \&TG::Keys::payload_of;

sub keys_dir   { init_root(); return TG::Keys::keys_dir() }

# "Authorization: Bearer <jwt(...)>"
sub bearer     { return 'Authorization: Bearer ' . TG::Keys::jwt(@_) }

# "Authorization: Bearer <token>" for a hand-made token (remembered as the
# last token)
sub bearer_raw {
    my ($tok) = @_;
    $TG::Keys::LAST = $tok;
    return "Authorization: Bearer $tok";
}

# build a token from already encoded header and payload parts, signed over
# exactly those parts ("$h64.$p64")
sub sign_parts {
    my ($h64, $p64, $alg, $key) = @_;
    my $tok = "$h64.$p64." . TG::Keys::b64url(TG::Keys::sign($alg, $key,
                                                         "$h64.$p64"));
    $TG::Keys::LAST = $tok;
    return $tok;
}

# replace the signature part of a token by b64url($bytes)
sub with_sig {
    my ($tok, $bytes) = @_;
    my ($h, $p) = split /\./, $tok;
    $tok = "$h.$p." . TG::Keys::b64url($bytes);
    $TG::Keys::LAST = $tok;
    return $tok;
}

sub sig_bytes {
    my ($tok) = @_;
    return TG::Keys::b64url_decode(TG::Keys::sig_of($tok // $TG::Keys::LAST));
}

# Tokens that are correctly signed over a signing input that is NOT proper
# base64url, so a lenient decoder would accept them:
#   pad      payload part with "=" padding
#   plus     payload part in standard base64 holding a "+"
#   slash    payload part in standard base64 holding a "/"
#   sig_pad  a valid token whose signature part carries "=" padding
sub odd_b64_token {
    my ($kind) = @_;
    my $json = JSON::PP->new->canonical;
    my $h64 = TG::Keys::b64url($json->encode({alg => 'RS256', kid => 'rsa1'}));
    if ($kind eq 'sig_pad') {
        my $tok = TG::Keys::jwt({});
        my $s = MIME::Base64::encode_base64(sig_bytes($tok), '');
        $s =~ tr{+/}{-_};
        die "TG: no padding\n" unless $s =~ /=\z/;
        my ($h, $p) = split /\./, $tok;
        $tok = "$h.$p.$s";
        $TG::Keys::LAST = $tok;
        return $tok;
    }
    for my $n (0 .. 200) {
        my $c = TG::Keys::claims({note => ('~' x ($n % 20)) . ('?' x int($n / 20))});
        my $js = $json->encode($c);
        my $std = MIME::Base64::encode_base64($js, '');
        my $p64;
        if ($kind eq 'pad') {
            next unless $std =~ /=\z/;
            ($p64 = $std) =~ tr{+/}{-_};
        } elsif ($kind eq 'plus') {
            next unless $std =~ /\+/ && $std !~ m{/};
            ($p64 = $std) =~ s/=+\z//;
        } elsif ($kind eq 'slash') {
            next unless $std =~ m{/} && $std !~ /\+/;
            ($p64 = $std) =~ s/=+\z//;
        } else {
            die "TG: odd_b64_token: unknown kind $kind\n";
        }
        return sign_parts($h64, $p64, 'RS256', 'rsa1');
    }
    die "TG: odd_b64_token($kind): no suitable payload found\n";
}

# Regexes for the refusal log lines.  The message ends with
# ", token_id: ID"; nginx then appends ", client: ..." in request context.
my $END = '(?:, client: |$)';

# an invalid token whose signature could not be verified: ID is the hash
sub log_invalid_hash {
    my $tok = shift // $TG::Keys::LAST;
    return '\[info\] .*tenant_guard: invalid token: .+, token_id: '
           . quotemeta(TG::Keys::token_hash_id($tok)) . $END;
}

# an invalid token that may have been verified (bad claims): jti or hash
sub log_invalid {
    my $tok = shift // $TG::Keys::LAST;
    my @ids = (TG::Keys::token_hash_id($tok));
    my $jti = eval { TG::Keys::jti_of($tok) };
    push @ids, $jti if defined $jti && !ref $jti;
    return '\[info\] .*tenant_guard: invalid token: .+, token_id: (?:'
           . join('|', map { quotemeta } @ids) . ')' . $END;
}

# a refusal of a verified token: "tenant_guard: PHRASE, token_id: JTI"
sub log_refusal {
    my ($phrase, $tok) = @_;
    $tok //= $TG::Keys::LAST;
    my $id = TG::Keys::jti_of($tok) // TG::Keys::token_hash_id($tok);
    return '\[info\] .*tenant_guard: ' . quotemeta($phrase)
           . '(?:: [^\n]*?)?, token_id: ' . quotemeta($id) . $END;
}

# the parts of the last token that must never be logged
sub secret_parts {
    my $tok = shift // $TG::Keys::LAST;
    my @p = split /\./, $tok, -1;
    my @out = grep { defined && length >= 8 } @p[1 .. $#p];
    push @out, $tok if length $tok >= 8;
    return \@out;
}
sub last_token { return $TG::Keys::LAST }
sub upstream_addr { start_upstream(); return "127.0.0.1:$UPSTREAM_PORT" }
sub key        { keys_dir(); return TG::Keys::key(@_) }

# Test::Base's eval filter returns $@ as the section's value when the code
# dies; make it die instead, so a broken section fails its block loudly.
{
    no warnings 'redefine';
    *Test::Base::Filter::eval = sub {
        my ($self, $code) = @_;
        my @r = eval "package main; no strict; no warnings; $code";
        die "eval section failed: $@" if $@;
        return @r;
    };
}

# ---------------------------------------------------------------- processes

# Every process the harness starts (nginx, the mock upstream, redis-server,
# a fake Redis) is a child in a process group of its own, recorded here with
# the way to stop it, so that one END stops whatever a test left running.
my %CHILDREN;       # pid => [signal => seconds, ...]
my @CHILD_ORDER;

sub init_root {
    return $ROOT if defined $ROOT;
    my $base = File::Basename::basename($0, '.t');
    $base =~ s/[^\w.-]/_/g;
    $ROOT = File::Temp::tempdir("tg-$base-XXXXXX", TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $ROOT;
    $TG::Keys::BASE = "$ROOT/keys";
    return $ROOT;
}

# A port for a server to listen on later, below the kernel's ephemeral
# range (32768 and up): a port taken from that range could become the local
# port of an outgoing connection before the server binds it.
sub free_port {
    for (1 .. 200) {
        my $p = 20000 + int(rand(12000));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $p, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1)
            or next;
        close $s;
        return $p;
    }
    die "TG: cannot find a free port: $!\n";
}

sub port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# record a child and how to stop it: stop => [signal => seconds, ...]
sub adopt {
    my ($pid, @stop) = @_;
    $CHILDREN{$pid} = \@stop;
    push @CHILD_ORDER, $pid;
    return $pid;
}

# spawn(cmd => [...], out => FILE, ready => sub {}, wait => SECONDS,
#       env => {...}, stop => [signal => seconds, ...]):
# fork and exec in a process group of its own, stdin from /dev/null, stdout
# and stderr appended to FILE; then poll ready->() until it holds.
# Returns ($pid) or (undef, why); a child that is not ready is stopped.
sub spawn {
    my (%o) = @_;
    my $pid = fork // die "TG: fork: $!\n";
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $o{out};
        open STDERR, '>&', \*STDOUT;
        @ENV{keys %{$o{env} || {}}} = values %{$o{env} || {}};
        exec @{$o{cmd}};
        POSIX::_exit(127);
    }
    adopt($pid, @{$o{stop} || [TERM => 5]});
    my $deadline = Time::HiRes::time() + ($o{wait} // $TIMEOUT);
    while (Time::HiRes::time() < $deadline) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $CHILDREN{$pid};
            return (undef, 'exited with status ' . ($? >> 8));
        }
        return ($pid) if $o{ready}->();
        Time::HiRes::sleep(0.01);
    }
    stop_child($pid);
    return (undef, 'not ready within ' . ($o{wait} // $TIMEOUT) . 's');
}

sub wait_exit {
    my ($pid, $secs) = @_;
    my $deadline = Time::HiRes::time() + $secs;
    while (Time::HiRes::time() < $deadline) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        return 1 if $r == $pid || $r == -1;
        Time::HiRes::sleep(0.01);
    }
    return 0;
}

# send each signal of the child's stop list in turn, waiting up to its
# seconds for the exit; then KILL its process group
sub stop_child {
    my ($pid) = @_;
    my @stop = @{delete $CHILDREN{$pid} || []};
    while (my ($sig, $secs) = splice @stop, 0, 2) {
        kill $sig, $pid;
        return if wait_exit($pid, $secs);
    }
    kill 'KILL', -$pid;
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

sub start_upstream {
    return if $UPSTREAM_PID;
    init_root();
    $UPSTREAM_LOG = "$ROOT/upstream.log";
    open my $fh, '>', $UPSTREAM_LOG or die "TG: $UPSTREAM_LOG: $!\n";
    close $fh;
    for my $try (1 .. 5) {
        $UPSTREAM_PORT = free_port();
        ($UPSTREAM_PID) = spawn(
            cmd   => [$^X, "$REPO/t/lib/mock_upstream.pl",
                      '--port', $UPSTREAM_PORT, '--log', $UPSTREAM_LOG],
            out   => "$ROOT/upstream.stderr",
            ready => sub { port_open($UPSTREAM_PORT) },
            wait  => 10);
        return if $UPSTREAM_PID;
    }
    die "TG: the mock upstream did not start, see $ROOT/upstream.stderr\n";
}

END {
    if ($$ == $ROOT_PID) {
        my $rc = $?;
        # the latest first: nginx before the upstream and Redis it uses
        stop_child($_) for grep { $CHILDREN{$_} } reverse @CHILD_ORDER;
        if (defined $ROOT && -d $ROOT) {
            if ($ENV{TG_KEEP}) {
                Test::More::diag("TG_KEEP: test files kept in $ROOT");
            } else {
                File::Path::rmtree($ROOT);
            }
        }
        $? = $rc;
    }
}

# ---------------------------------------------------------------- block data

sub has {
    my ($block, $name) = @_;
    return exists $block->{$name};
}

sub val {
    my ($block, $name) = @_;
    return undef unless exists $block->{$name};
    my @v = @{$block->{$name}};
    return join '', map { defined $_ ? (ref $_ eq 'ARRAY' ? join("\n", @$_) . "\n" : $_) : '' } @v;
}

# a section's lines: eval'd sections may give an array ref or a list
sub lines_of {
    my ($v) = @_;
    return () unless defined $v;
    my @out;
    for my $x (ref $v eq 'ARRAY' ? @$v : ($v)) {
        next unless defined $x;
        if (ref $x eq 'ARRAY') {
            push @out, lines_of($x);
            next;
        }
        push @out, grep { /\S/ } split /\n/, $x;
    }
    s/\r\z// for @out;
    return @out;
}

sub block_lines {
    my ($block, $name) = @_;
    return () unless exists $block->{$name};
    return lines_of([@{$block->{$name}}]);
}

sub single {
    my ($block, $name) = @_;
    my $v = val($block, $name);
    return undef unless defined $v;
    $v =~ s/^\s+|\s+$//g;
    return $v;
}

sub subst {
    my ($text, $vars) = @_;
    return '' unless defined $text;
    $text =~ s/\$(TEST_NGINX_[A-Z0-9_]+)/exists $vars->{$1} ? $vars->{$1} : "\$$1"/ge;
    return $text;
}

# ---------------------------------------------------------------- nginx

sub make_prefix {
    my ($prefix) = @_;
    File::Path::rmtree($prefix) if -d $prefix;
    for my $d ('', qw(/conf /logs /temp /html)) {
        mkdir "$prefix$d" or die "TG: mkdir $prefix$d: $!\n";
        chmod 0755, "$prefix$d";
    }
}

# write $prefix/conf/nginx.conf and return its text.  %o: name, port,
# vars (the $TEST_NGINX_* values), main_config, http_config, config (the
# server's), workers, log_level, no_module
sub write_conf {
    my ($prefix, %o) = @_;
    my $vars = $o{vars};
    my $port = $vars->{TEST_NGINX_SERVER_PORT};
    my $workers = $o{workers} // 1;
    my $level = $o{log_level} // 'info';
    my $load = $o{no_module} ? '' : "load_module $MODULE;\n";
    my ($main, $http, $server) = map { subst($o{$_}, $vars) }
                                 qw(main_config http_config config);

    my $conf = <<"EOF_CONF";
# written by t/lib/TG.pm for: $o{name}
${load}daemon off;
master_process on;
worker_processes $workers;
error_log logs/error.log $level;
pid logs/nginx.pid;

$main

events {
    worker_connections 1024;
}

http {
    access_log logs/access.log;
    default_type text/plain;
    client_body_temp_path $prefix/temp/client_body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;

$http

    server {
        listen 127.0.0.1:$port;
        server_name localhost;

$server
    }
}
EOF_CONF
    open my $fh, '>', "$prefix/conf/nginx.conf" or die "TG: conf: $!\n";
    print $fh $conf;
    close $fh;
    return $conf;
}

sub nginx_env {
    my %env;
    if ($PRELOAD) {
        $env{LD_PRELOAD} = $PRELOAD;
        $env{ASAN_OPTIONS} = $ENV{ASAN_OPTIONS}
                             // 'detect_leaks=0:abort_on_error=0';
    }
    return %env;
}

# start nginx in $prefix on a free port, with the nginx.conf that
# $write->($port) writes.  Another process may take the port between our
# probe and nginx's bind(): then try again on another one.
# Returns ($pid, $port) or (undef, $port, why).
sub start_nginx {
    my ($prefix, $write) = @_;
    my ($port, $why);
    for my $try (1 .. 4) {
        $port = free_port();
        $write->($port);
        # nginx writes the pid file after it opened its listening sockets:
        # a port answering before that could be someone else's
        my $pid;
        ($pid, $why) = spawn(
            cmd   => [$NGINX, '-p', "$prefix/", '-c', 'conf/nginx.conf'],
            out   => "$prefix/logs/stderr.log",
            env   => {nginx_env()},
            ready => sub { -s "$prefix/logs/nginx.pid" && port_open($port) },
            stop  => [QUIT => 5, TERM => 3]);
        return ($pid, $port) if $pid;
        $why = "nginx $why";
        last if slurp("$prefix/logs/stderr.log") !~ /Address already in use/;
        unlink map { "$prefix/logs/$_" } qw(stderr.log error.log nginx.pid);
    }
    return (undef, $port, $why);
}

# QUIT (graceful), then TERM, then KILL
sub stop_nginx {
    my ($pid) = @_;
    stop_child($pid) if $pid;
}

# nginx -t: (exit status, output)
sub nginx_t {
    my ($prefix) = @_;
    my %env = nginx_env();
    my $pid = open(my $fh, '-|') // die "TG: fork: $!\n";
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        @ENV{keys %env} = values %env;
        exec $NGINX, '-t', '-p', "$prefix/", '-c', 'conf/nginx.conf';
        POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    binmode $fh;
    local $/;
    my $s = <$fh>;
    return $s // '';
}

sub upstream_size {
    return -s $UPSTREAM_LOG || 0;
}

sub upstream_records_since {
    my ($off) = @_;
    open my $fh, '<', $UPSTREAM_LOG or return [];
    seek $fh, $off, 0;
    my @r;
    my $js = JSON::PP->new;
    while (my $l = <$fh>) {
        chomp $l;
        next unless length $l;
        my $rec = eval { $js->decode($l) };
        push @r, $rec if $rec;
    }
    return \@r;
}

# ---------------------------------------------------------------- checks

my $FAILED;

sub cut {
    my ($name) = @_;
    return length $name > 160 ? substr($name, 0, 150) . '...' : $name;
}

# a failed assertion marks the block: its request, response and logs are
# shown at its end
sub record {
    my ($r) = @_;
    $FAILED = 1 unless $r;
    return $r;
}

sub check {
    my ($ok, $name, @diag) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return 1 if record(Test::More::ok($ok, cut($name)));
    Test::More::diag($_) for grep { defined && length } @diag;
    return 0;
}

sub check_is {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return record(Test::More::is($_[0], $_[1], cut($_[2])));
}

sub check_like {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return record(Test::More::like($_[0], $_[1], cut($_[2])));
}

sub norm_hname {
    my ($n) = @_;
    $n = lc $n;
    $n =~ tr/_/-/;
    return $n;
}

# checks of one response against a spec (hash of section => text)
sub check_response {
    my ($name, $res, $spec) = @_;

    if ($res->{error}) {
        check(0, "$name - got a response", $res->{error});
    }

    my $code = $spec->{error_code};
    $code = 200 unless defined $code && $code =~ /\S/;
    $code =~ s/\s+//g;
    check_is($res->{status}, $code, "$name - status code");

    for my $l (lines_of($spec->{response_headers})) {
        if ($l =~ /^\s*!\s*(\S+)\s*$/) {
            my @v = TG::HTTP::header_values($res, $1);
            check(!@v, "$name - response header $1 absent",
                  @v ? "got $1: " . join(' | ', @v) : ());
        } elsif ($l =~ /^\s*([^:\s]+)\s*:\s?(.*?)\s*$/) {
            my ($h, $v) = ($1, $2);
            my @v = TG::HTTP::header_values($res, $h);
            check_is(@v ? join(' | ', @v) : undef, $v,
                     "$name - response header $h");
        } else {
            die "TG: bad response_headers line: $l\n";
        }
    }

    for my $l (lines_of($spec->{response_headers_like})) {
        my ($h, $re) = $l =~ /^\s*([^:\s]+)\s*:\s?(.*?)\s*$/
            or die "TG: bad response_headers_like line: $l\n";
        my @v = TG::HTTP::header_values($res, $h);
        check_like(@v ? join(' | ', @v) : '<absent>', qr/$re/,
                   "$name - response header $h like");
    }

    if (defined $spec->{response_body}) {
        check_is($res->{body}, $spec->{response_body}, "$name - response body");
    }
    if (defined $spec->{response_body_like}) {
        my $re = $spec->{response_body_like};
        $re =~ s/\n\z//;
        check_like($res->{body}, qr/$re/s, "$name - response body like");
    }

    if (defined $spec->{json_error}) {
        (my $want = $spec->{json_error}) =~ s/^\s+|\s+$//g;
        my ($ct) = TG::HTTP::header_values($res, 'Content-Type');
        check_like($ct // '<absent>', qr{^application/json\b}i,
                   "$name - JSON error: Content-Type application/json");
        my $obj = eval { JSON::PP->new->decode($res->{body}) };
        check(ref $obj eq 'HASH', "$name - JSON error: body is a JSON object",
              "body: " . substr($res->{body} // '', 0, 500));
        $obj = {} unless ref $obj eq 'HASH';
        check_is($obj->{error}, $want, "$name - JSON error: error");
        my $d = $obj->{error_description};
        check(defined $d && !ref $d && length $d,
              "$name - JSON error: error_description is a non-empty string");
        if (defined $spec->{json_error_description_like}) {
            (my $re = $spec->{json_error_description_like}) =~ s/^\s+|\s+$//g;
            check_like($d // '', qr/$re/, "$name - JSON error: error_description like");
        }
        if (defined $spec->{json_error_description}) {
            (my $wd = $spec->{json_error_description}) =~ s/^\s+|\s+$//g;
            check_is($d, $wd, "$name - JSON error: error_description");
        }
    }
}

# upstream checks on the records a request (or a block) produced
sub check_upstream {
    my ($name, $recs, $spec) = @_;
    my $last = @$recs ? $recs->[-1] : undef;

    if ($spec->{no_upstream}) {
        check(!@$recs, "$name - nothing reached upstream",
              @$recs ? "upstream got: " . join(' | ',
                  map { "$_->{method} $_->{uri}" } @$recs) : ());
    }
    if (defined $spec->{upstream_count}) {
        (my $n = $spec->{upstream_count}) =~ s/\s+//g;
        check_is(scalar @$recs, $n, "$name - requests that reached upstream");
    }
    if (defined $spec->{upstream_uri}) {
        (my $u = subst($spec->{upstream_uri}, \%VARS)) =~ s/^\s+|\s+$//g;
        check_is($last ? $last->{uri} : undef, $u, "$name - upstream uri");
    }
    if (defined $spec->{upstream_body}) {
        check_is($last ? $last->{body} : undef, $spec->{upstream_body},
                 "$name - upstream body");
    }
    for my $l (map { subst($_, \%VARS) }
               lines_of($spec->{upstream_headers_all})) {
        my $h = $l =~ /^\s*!\s*(\S+)\s*$/ ? $1 : undef;
        my ($hn, $hv) = $l =~ /^\s*([^:\s!]+)\s*:\s?(.*?)\s*$/;
        die "TG: bad upstream_headers_all line: $l\n" unless $h || $hn;
        my @bad;
        for my $rec (@$recs) {
            my @got = grep { norm_hname($_->[0]) eq norm_hname($h // $hn) }
                      @{$rec->{headers}};
            if (defined $h) {
                push @bad, map { "$rec->{uri}: got $_->[0]: $_->[1]" } @got;
            } elsif (!(@got == 1 && $got[0][1] eq $hv)) {
                push @bad, "$rec->{uri}: got "
                    . (join(', ', map { "$_->[0]: $_->[1]" } @got) || 'none');
            }
        }
        check(@$recs && !@bad,
              "$name - every upstream request: $l",
              @$recs ? @bad : 'no request reached upstream');
    }
    for my $l (map { subst($_, \%VARS) } lines_of($spec->{upstream_headers})) {
        if ($l =~ /^\s*!\s*(\S+)\s*$/) {
            my $h = $1;
            my @got = $last ? grep { norm_hname($_->[0]) eq norm_hname($h) }
                              @{$last->{headers}} : ();
            check($last && !@got, "$name - upstream header $h absent",
                  !$last ? 'no request reached upstream'
                         : join("\n", map { "got $_->[0]: $_->[1]" } @got));
        } elsif ($l =~ /^\s*([^:\s]+)\s*:\s?(.*?)\s*$/) {
            my ($h, $v) = ($1, $2);
            my @got = $last ? grep { norm_hname($_->[0]) eq norm_hname($h) }
                              @{$last->{headers}} : ();
            my $ok = @got == 1 && $got[0][1] eq $v;
            check($ok, "$name - upstream header $h: $v",
                  !$last ? 'no request reached upstream'
                  : @got ? join("\n", map { "got $_->[0]: $_->[1]" } @got)
                  : "no $h header upstream");
        } else {
            die "TG: bad upstream_headers line: $l\n";
        }
    }
}

# error.log / access.log sections; $TEST_NGINX_* names in them are replaced
sub check_log_sections {
    my ($name, $what, $text, $spec, $prefix_name) = @_;
    my $lines = sub { map { subst($_, \%VARS) } lines_of($spec->{$_[0]}) };
    for my $l ($lines->($prefix_name)) {
        check(index($text, $l) >= 0, "$name - $what has: $l");
    }
    for my $l ($lines->("${prefix_name}_like")) {
        check_like($text, qr/$l/m, "$name - $what like: $l");
    }
    for my $l ($lines->("no_${prefix_name}")) {
        check(index($text, $l) < 0, "$name - $what lacks: $l",
              "found in: " . join("\n", grep { index($_, $l) >= 0 }
                                       split /\n/, $text));
    }
    for my $l ($lines->("${prefix_name}_once")) {
        my $n = () = $text =~ /\Q$l\E/g;
        check_is($n, 1, "$name - $what has exactly once: $l");
    }
}

sub tail {
    my ($text, $n) = @_;
    my @l = split /\n/, $text // '';
    @l = @l[-$n .. -1] if @l > $n;
    return join "\n", @l;
}

sub show {
    my ($s, $max) = @_;
    $s //= '';
    $max //= 2000;
    return length $s > $max ? substr($s, 0, $max) . "...[truncated]" : $s;
}

# ---------------------------------------------------------------- run

my @SPEC_KEYS = qw(error_code response_headers response_headers_like
                   response_body response_body_like json_error
                   json_error_description json_error_description_like
                   no_upstream upstream_count
                   upstream_uri upstream_body upstream_headers
                   upstream_headers_all);

sub block_spec {
    my ($block) = @_;
    my %spec;
    for my $k (@SPEC_KEYS, qw(error_log error_log_like no_error_log
                              error_log_once access_log access_log_like
                              no_access_log access_log_once)) {
        next unless exists $block->{$k};
        $spec{$k} = [@{$block->{$k}}];
        $spec{$k} = val($block, $k)
            if $k =~ /^(error_code|response_body|response_body_like|json_error|json_error_description(_like)?|upstream_count|upstream_uri|upstream_body)$/;
    }
    $spec{no_upstream} = 1 if exists $block->{no_upstream};
    return \%spec;
}

# Per-file defaults: block_defaults(SECTION => TEXT, ...).  A block without
# the section gets TEXT; a block with it keeps its own (an empty section
# means "none").  Plain text, applied after the block's own eval sections.
my %DEFAULTS;

sub block_defaults {
    my (%sections) = @_;
    for my $s (keys %sections) {
        my $text = $sections{$s};
        # like a section read from a block: its lines end in "\n"
        $text .= "\n" if length $text && $text !~ /\n\z/;
        $DEFAULTS{$s} = $text;
    }
}

sub apply_defaults {
    my ($block) = @_;
    for my $s (keys %DEFAULTS) {
        $block->{$s} = [$DEFAULTS{$s}] unless exists $block->{$s};
    }
}

# Fixtures: what TG::Policy, TG::Ban and TG::Redis add to each block.
# add_fixture(NAME, hook => sub, ...), hooks called in the order of
# registration (the same NAME registers once):
#   init($block)                   before the block's eval sections run
#   vars($block)                   more $TEST_NGINX_* names: (NAME => value)
#   prepare($block)                sections evaluated; before nginx.conf
#   before_request($block, $i)     before request $i (0-based) is sent
#   check($block, \@responses)     after the block's own checks
my @FIXTURES;

sub add_fixture {
    my ($name, %hooks) = @_;
    @FIXTURES = grep { $_->{name} ne $name } @FIXTURES;
    push @FIXTURES, {%hooks, name => $name};
}

sub fixture_hooks {
    my ($hook, @args) = @_;
    my @r;
    push @r, $_->{$hook}->(@args) for grep { $_->{$hook} } @FIXTURES;
    return @r;
}

sub run_tests {
    # on ^C or kill, still stop nginx and the mock and remove the prefix
    for my $sig (qw(INT TERM HUP)) {
        $SIG{$sig} = sub { exit 128 } if !$SIG{$sig} || $SIG{$sig} eq 'DEFAULT';
    }
    init_root();
    start_upstream();
    TG::keys_dir();
    Test::More->builder->plan('no_plan')
        unless Test::More->builder->has_plan;
    Test::Base::default_object()->filters_delay(1);
    for my $block (Test::Base::default_object()->blocks) {
        fixture_hooks(init => $block);
        unless ($block->is_filtered) {
            unless (eval { $block->run_filters; 1 }) {
                check(0, $block->name . ' - sections evaluate', $@);
                next;
            }
        }
        apply_defaults($block);
        fixture_hooks(prepare => $block);
        my $responses = run_block($block);
        check_block_extras($block, $responses);
        fixture_hooks(check => $block, $responses);
    }
}

sub block_prefix {
    my ($block) = @_;
    return sprintf '%s/%03d', $ROOT, $block->seq_num;
}

# the block's nginx.conf: --- server_config (usually a file's default) and
# --- config make the server {}
sub write_block_conf {
    my ($block, $prefix) = @_;
    my $server = (val($block, 'server_config') // '')
                 . (val($block, 'config') // '');
    return write_conf($prefix,
        name        => $block->name,
        vars        => \%VARS,
        workers     => single($block, 'workers'),
        log_level   => single($block, 'log_level'),
        no_module   => has($block, 'no_module'),
        main_config => val($block, 'main_config'),
        http_config => val($block, 'http_config'),
        config      => $server);
}

# the lines of a section, $TEST_NGINX_* replaced
sub block_lines_subst {
    my ($block, $name) = @_;
    return map { subst($_, \%VARS) } block_lines($block, $name);
}

# nginx -t checks of a --- config_error / --- config_ok block
sub check_config_test {
    my ($block, $prefix, $conf) = @_;
    my $name = $block->name;
    my ($rc, $out) = nginx_t($prefix);
    my $log = slurp("$prefix/logs/error.log");
    my $all = "$out\n$log";
    if (has($block, 'config_error')) {
        check($rc != 0, "$name - nginx -t fails", "nginx -t output:\n$out");
        for my $l (block_lines_subst($block, 'config_error')) {
            check(index($all, $l) >= 0, "$name - nginx -t says: $l");
        }
    } else {
        check($rc == 0, "$name - nginx -t succeeds", "nginx -t output:\n$out");
    }
    for my $l (block_lines_subst($block, 'config_output')) {
        check(index($all, $l) >= 0, "$name - nginx -t says: $l");
    }
    for my $l (block_lines_subst($block, 'no_config_output')) {
        check(index($all, $l) < 0, "$name - nginx -t does not say: $l");
    }
    check($all !~ /AddressSanitizer/, "$name - no AddressSanitizer report");
    if ($FAILED) {
        Test::More::diag("---- nginx -t output:\n$out");
        Test::More::diag("---- nginx.conf:\n$conf") if $ENV{TG_VERBOSE};
    }
}

# the requests of a block: --- requests, or the block's own request
sub block_requests {
    my ($block) = @_;
    if (has($block, 'requests')) {
        my @items = @{$block->{requests}};
        @items = @{$items[0]} if @items == 1 && ref $items[0] eq 'ARRAY';
        return @items;
    }
    return {
        request      => val($block, 'request') // "GET /\n",
        more_headers => val($block, 'more_headers'),
        raw_request  => val($block, 'raw_request'),
        %{block_spec($block)},
        _block       => 1,
    };
}

# send the requests; each result holds the response, what upstream saw and
# how long the answer took
sub send_requests {
    my ($block, $port) = @_;
    my @results;
    my @reqs = block_requests($block);
    for my $i (0 .. $#reqs) {
        my $r = $reqs[$i];
        fixture_hooks(before_request => $block, $i);
        $r->{before}->() if $r->{before};
        my $off = upstream_size();
        my $raw = defined $r->{raw_request}
                ? $r->{raw_request}
                : TG::HTTP::build($r->{request} // "GET /\n",
                                  ref $r->{more_headers} eq 'ARRAY'
                                  ? join("\n", @{$r->{more_headers}})
                                  : $r->{more_headers});
        my $t0 = Time::HiRes::time();
        my $x = TG::HTTP::send_request($port, $raw, $TIMEOUT);
        $x->{elapsed} = Time::HiRes::time() - $t0;
        $x->{request_raw} = $raw;
        $x->{records} = upstream_records_since($off);
        $x->{spec} = $r;
        push @results, $x;
        if (defined $r->{wait}) {
            Time::HiRes::sleep($r->{wait});
        }
    }
    if (my $w = single($block, 'wait')) {
        Time::HiRes::sleep($w);
    }
    return @results;
}

# run one block; returns its responses (in the order sent)
sub run_block {
    my ($block) = @_;
    my $name = $block->name;
    $FAILED = 0;

    my $prefix = block_prefix($block);
    make_prefix($prefix);
    %VARS = (
        TEST_NGINX_UPSTREAM    => "127.0.0.1:$UPSTREAM_PORT",
        TEST_NGINX_KEYS        => TG::keys_dir(),
        TEST_NGINX_PREFIX      => $prefix,
        fixture_hooks(vars => $block),
    );

    my $conf;
    my $write = sub {
        $VARS{TEST_NGINX_SERVER_PORT} = shift;
        $conf = write_block_conf($block, $prefix);
    };

    if (has($block, 'config_error') || has($block, 'config_ok')) {
        $write->(free_port());
        check_config_test($block, $prefix, $conf);
        return [];
    }

    my $block_off = upstream_size();
    my ($pid, $port, $why) = start_nginx($prefix, $write);
    my @results = $pid ? send_requests($block, $port) : ();
    stop_nginx($pid);

    my $errlog = slurp("$prefix/logs/error.log");
    my $stderr = slurp("$prefix/logs/stderr.log");
    my $accesslog = slurp("$prefix/logs/access.log");
    my $recs = upstream_records_since($block_off);

    if (!check($pid, "$name - nginx started", $why,
               "stderr:\n" . tail($stderr, 20),
               "error.log:\n" . tail($errlog, 20)))
    {
        return [];
    }

    my $i = 0;
    for my $x (@results) {
        my $spec = $x->{spec};
        my $rname = @results > 1 ? "$name (request " . ++$i . ")" : $name;
        check_response($rname, $x, $spec);
        check_upstream($rname, $x->{records}, $spec) unless $spec->{_block};
    }

    my $bspec = block_spec($block);
    check_upstream($name, $recs, $bspec);
    check_log_sections($name, 'error.log', $errlog, $bspec, 'error_log');
    check_log_sections($name, 'access.log', $accesslog, $bspec, 'access_log');

    my @bad = grep { /\[(alert|emerg|crit)\]/ || /AddressSanitizer/ }
              split /\n/, $errlog;
    push @bad, grep { /AddressSanitizer|\[(alert|emerg|crit)\]/ }
               split /\n/, $stderr;
    check(!@bad, "$name - no alert/emerg/crit or AddressSanitizer in logs",
          join("\n", @bad[0 .. ($#bad < 20 ? $#bad : 20)]));

    if ($FAILED) {
        for my $x (@results) {
            Test::More::diag("---- request:\n" . show($x->{request_raw}, 1500));
            Test::More::diag("---- response:\n" . show($x->{raw}, 2000));
            for my $rec ($x->{records} ? @{$x->{records}} : ()) {
                Test::More::diag("---- upstream saw: $rec->{method} $rec->{uri}\n"
                    . join("\n", map { "  $_->[0]: $_->[1]" } @{$rec->{headers}}));
            }
        }
        Test::More::diag("---- error.log (tail):\n" . tail($errlog, 30));
        Test::More::diag("---- stderr:\n" . tail($stderr, 20)) if $stderr =~ /\S/;
        Test::More::diag("---- access.log:\n" . tail($accesslog, 10))
            if grep { exists $block->{$_} } qw(access_log access_log_like);
        Test::More::diag("---- nginx.conf:\n$conf") if $ENV{TG_VERBOSE};
        Test::More::diag("---- prefix: $prefix (set TG_KEEP=1 to keep it)");
    }
    return \@results;
}

# ---------------------------------------------------------------- more checks

# the checks that come after a block's own (their sections are rare):
#   --- config_error_line: TEXT  the nginx -t [emerg] names nginx.conf and
#                                the first configuration line holding TEXT
#   --- error_log_count          "N TEXT", ">N TEXT", "<N TEXT"
#   --- pids_serving             "N TEXT": access.log lines holding TEXT name
#                                at least N distinct "pid=NNN"
#   max_time => SECONDS          (a --- requests hash) answered within
sub check_block_extras {
    my ($block, $responses) = @_;
    my $name = $block->name;
    my $prefix = block_prefix($block);

    if (has($block, 'config_error_line')) {
        my $marker = single($block, 'config_error_line');
        my $conf = "$prefix/conf/nginx.conf";
        my @lines = split /\n/, slurp($conf);
        my ($n) = grep { $lines[$_ - 1] !~ /^\s*#/
                        && index($lines[$_ - 1], $marker) >= 0 } 1 .. @lines;
        if (!defined $n) {
            check(0, "$name - configuration has a line with: $marker");
        } else {
            my (undef, $out) = nginx_t($prefix);
            my $ok = $out =~ /\[emerg\] [^\n]* in \Q$conf\E:\Q$n\E(?:\n|\z)/;
            check($ok, "$name - the [emerg] names $conf:$n ($marker)",
                  "nginx -t output:\n$out");
        }
    }

    my $log = slurp("$prefix/logs/error.log");
    for my $l (block_lines($block, 'error_log_count')) {
        my ($op, $n, $text) = $l =~ /^\s*([<>]?)(\d+)\s+(.+?)\s*$/
            or die "TG: bad error_log_count line: $l\n";
        my $got = () = $log =~ /\Q$text\E/g;
        if ($op eq '') {
            check_is($got, $n, "$name - error.log has $n times: $text");
        } elsif ($op eq '>') {
            check($got > $n, "$name - error.log has more than $n: $text",
                  "got $got");
        } else {
            check($got < $n, "$name - error.log has fewer than $n: $text",
                  "got $got");
        }
    }

    my $access = slurp("$prefix/logs/access.log");
    for my $l (block_lines($block, 'pids_serving')) {
        my ($n, $text) = $l =~ /^\s*(\d+)\s+(.+?)\s*$/
            or die "TG: bad pids_serving line: $l\n";
        my %pids = map { /\bpid=(\d+)/ ? ($1 => 1) : () }
                   grep { index($_, $text) >= 0 } split /\n/, $access;
        check(keys %pids >= $n,
              "$name - requests with \"$text\" served by at least $n worker(s)",
              'access.log pids: ' . join(' ', sort keys %pids));
    }

    my $i = 0;
    for my $res (@$responses) {
        $i++;
        my $max = $res->{spec}{max_time} // next;
        check($res->{elapsed} <= $max,
              "$name (request $i) - answered within ${max}s",
              sprintf('took %.3fs', $res->{elapsed}));
    }
}

1;
