package TG::Admin;

# Helpers for the admin API tests (t/120-*.t ... t/129-*.t), on top of
# t/lib/TG.pm and TG::Redis::Nginx:
#
#   TG::Admin::TOKEN, TG::Admin::TOKEN2    two admin tokens
#   TG::Admin::token_id($token)            the id the notice line names
#   TG::Admin::write_tokens($n)            $n->prefix/admin.tokens (both)
#   TG::Admin::req($n, METHOD, PATH, BODY, @headers)
#                                          one request; {json} decoded
#   TG::Admin::admin($n, METHOD, PATH, BODY)   the same with TOKEN
#   TG::Admin::promtool()                  a promtool binary: Debian's
#       prometheus package fetched with "apt-get download" and unpacked with
#       "dpkg-deb -x" into build/promtool once, reused after (dies if that
#       cannot be done: the assertion must not be skipped)

use strict;
use warnings;

use Digest::SHA ();
use File::Temp ();
use JSON::PP ();
use Time::HiRes ();

use constant TOKEN  => 'adm-0123456789abcdef0123456789abcdef';
use constant TOKEN2 => 'adm-second-token-fedcba9876543210';

sub token_id { return substr(Digest::SHA::sha256_hex($_[0]), 0, 8) }

sub write_tokens {
    my ($n) = @_;
    my $f = $n->prefix . '/admin.tokens';
    open my $fh, '>', $f or die "admin.tokens: $!\n";
    print $fh "# admin tokens\n\n  " . TOKEN . "  \r\n" . TOKEN2 . "\n";
    close $fh;
    return $f;
}

sub req {
    my ($n, $method, $path, $body, @h) = @_;
    my $raw = TG::HTTP::build("$method $path"
                              . (defined $body ? "\n$body" : ''),
                              join("\n", @h));
    my $t0 = Time::HiRes::time();
    my $res = TG::HTTP::send_request($n->port, $raw, 5);
    $res->{elapsed} = Time::HiRes::time() - $t0;
    $res->{json} = eval { JSON::PP->new->decode($res->{body}) };
    return $res;
}

sub admin {
    my ($n, $method, $path, $body, @h) = @_;
    return req($n, $method, $path, $body,
               'Authorization: Bearer ' . TOKEN, @h);
}

sub header {
    my ($res, $name) = @_;
    my ($v) = map { $_->[1] } grep { lc $_->[0] eq lc $name }
              @{$res->{headers}};
    return $v;
}

sub promtool {
    my $dir = "$TG::REPO/build/promtool";
    my $bin = "$dir/usr/bin/promtool";
    return $bin if -x $bin;

    my $tmp = File::Temp::tempdir(CLEANUP => 1);
    system("cd '$tmp' && apt-get download prometheus >/dev/null 2>&1") == 0
        or die "promtool: apt-get download prometheus failed\n";
    my ($deb) = glob("$tmp/prometheus_*.deb")
        or die "promtool: no prometheus .deb was downloaded\n";
    system('mkdir', '-p', $dir) == 0 or die "promtool: mkdir $dir\n";
    system('dpkg-deb', '-x', $deb, $dir) == 0
        or die "promtool: dpkg-deb -x $deb failed\n";
    -x $bin or die "promtool: $bin is not in the package\n";
    return $bin;
}

1;
