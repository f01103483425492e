package TG::Policy;

# Helpers for the workspace-policy tests (t/080-policy.t, t/081-policy-config.t,
# t/082-zone.t), on top of t/lib/TG.pm.  Load TG first ("use TG;"), then this.
#
#   TG::Policy::run_tests();      instead of run_tests(): the same runner, plus
#
#   --- policy                    the policy file's text (or, with "eval", a
#                                 hash ref encoded as JSON); written to a file
#                                 of the block, named by $TEST_NGINX_POLICY in
#                                 every config section and in config_error /
#                                 config_output (nginx -t messages name it)
#   --- config_error_line: TEXT   the nginx -t error must be an [emerg] that
#                                 names nginx.conf and the line of the first
#                                 configuration line holding TEXT
#   --- error_log_count           lines "N TEXT", ">N TEXT" or "<N TEXT": how
#                                 many times TEXT is in error.log
#   --- pids_serving              lines "N TEXT": the access.log lines holding
#                                 TEXT name at least N distinct "pid=NNN" (with
#                                 an access_log whose format writes pid=$pid)
#
# and helpers for eval sections:
#
#   TG::Policy::log_refusal(PHRASE [, TOKEN])   regex of the info line of a
#       refusal "tenant_guard: PHRASE[: detail], token_id: JTI"
#   TG::Policy::challenge(CODE)                 regex of the RFC 6750 challenge
#       'Bearer realm="tenant_guard", error="CODE", error_description="..."'

use strict;
use warnings;

use JSON::PP ();
use Test::Base ();
use Test::More ();

my $JSON = JSON::PP->new->canonical;

sub prefix_of {
    my ($block) = @_;
    return sprintf '%s/%03d', $TG::ROOT, $block->seq_num;
}

sub policy_path {
    my ($block) = @_;
    return sprintf '%s/policy-%03d.json', $TG::ROOT, $block->seq_num;
}

# write the block's policy file and name it in the sections that need it
sub prepare {
    my ($block) = @_;

    my $path = policy_path($block);

    if (exists $block->{policy}) {
        my @v = @{$block->{policy}};
        my $text = (@v == 1 && ref $v[0] eq 'HASH')
                   ? $JSON->encode($v[0])
                   : join '', map { defined $_ ? $_ : '' } @v;
        open my $fh, '>', $path or die "TG::Policy: $path: $!\n";
        print $fh $text;
        close $fh or die "TG::Policy: $path: $!\n";
        chmod 0644, $path;
    }

    for my $s (qw(main_config http_config config config_error config_output
                  no_config_output))
    {
        next unless exists $block->{$s};
        for my $v (@{$block->{$s}}) {
            next unless defined $v && !ref $v;
            $v =~ s/\$TEST_NGINX_POLICY\b/$path/g;
        }
    }
}

sub count_of {
    my ($text, $needle) = @_;
    my $n = () = $text =~ /\Q$needle\E/g;
    return $n;
}

# the checks the TG harness does not have
sub after {
    my ($block) = @_;
    my $name = $block->name;
    my $prefix = prefix_of($block);

    if (exists $block->{config_error_line}) {
        my $marker = TG::single($block, 'config_error_line');
        my $conf = "$prefix/conf/nginx.conf";
        my @lines = split /\n/, TG::slurp($conf);
        my ($n) = grep { $lines[$_ - 1] !~ /^\s*#/
                        && index($lines[$_ - 1], $marker) >= 0 } 1 .. @lines;
        if (!defined $n) {
            TG::check(0, "$name - configuration has a line with: $marker");
        } else {
            my (undef, $out) = TG::nginx_t($prefix);
            my $ok = $out =~ /\[emerg\] [^\n]* in \Q$conf\E:\Q$n\E(?:\n|\z)/;
            TG::check($ok,
                      "$name - the [emerg] names $conf:$n ($marker)",
                      "nginx -t output:\n$out");
        }
    }

    if (exists $block->{pids_serving}) {
        my $log = TG::slurp("$prefix/logs/access.log");
        for my $l (TG::block_lines($block, 'pids_serving')) {
            my ($n, $text) = $l =~ /^\s*(\d+)\s+(.+?)\s*$/
                or die "TG::Policy: bad pids_serving line: $l\n";
            my %pids = map { /\bpid=(\d+)/ ? ($1 => 1) : () }
                       grep { index($_, $text) >= 0 } split /\n/, $log;
            TG::check(keys %pids >= $n,
                      "$name - requests with \"$text\" served by at least $n worker(s)",
                      'access.log pids: ' . join(' ', sort keys %pids));
        }
    }

    if (exists $block->{error_log_count}) {
        my $log = TG::slurp("$prefix/logs/error.log");
        for my $l (TG::block_lines($block, 'error_log_count')) {
            my ($op, $n, $text) = $l =~ /^\s*([<>]?)(\d+)\s+(.+?)\s*$/
                or die "TG::Policy: bad error_log_count line: $l\n";
            my $got = count_of($log, $text);
            if ($op eq '') {
                TG::check_is($got, $n, "$name - error.log has $n times: $text");
            } elsif ($op eq '>') {
                TG::check($got > $n, "$name - error.log has more than $n: $text",
                          "got $got");
            } else {
                TG::check($got < $n, "$name - error.log has fewer than $n: $text",
                          "got $got");
            }
        }
    }
}

# TG::run_tests, with prepare() before and after() after each block
sub run_tests {
    TG::init_root();
    TG::start_upstream();
    TG::keys_dir();
    Test::More->builder->plan('no_plan')
        unless Test::More->builder->has_plan;
    Test::Base::default_object()->filters_delay(1);
    for my $block (Test::Base::default_object()->blocks) {
        unless ($block->is_filtered) {
            unless (eval { $block->run_filters; 1 }) {
                TG::check(0, $block->name . ' - sections evaluate', $@);
                next;
            }
        }
        prepare($block);
        TG::run_block($block);
        after($block);
    }
}

# ---------------------------------------------------------------- regexes

sub log_refusal {
    my ($phrase, $tok) = @_;
    $tok //= TG::last_token();
    my $id = TG::jti_of($tok) // TG::token_hash_id($tok);
    return '\[info\] .*tenant_guard: ' . quotemeta($phrase)
           . '(?:: [^\n]*)?, token_id: ' . quotemeta($id)
           . '(?:, client: |$)';
}

sub challenge {
    my ($code) = @_;
    return '^Bearer realm="tenant_guard", error="' . quotemeta($code)
           . '", error_description="[^"\\\\]+"$';
}

1;
