package TG::Policy;

# The workspace-policy fixture (t/080-policy.t, t/081-policy-config.t,
# t/082-zone.t, and through TG::Ban and t/100-redis.t), on t/lib/TG.pm:
#
#   use TG;
#   use TG::Policy;               the blocks of this file get:
#
#   --- policy                    the policy file's text (or, with "eval", a
#                                 hash ref encoded as JSON); written to a file
#                                 of the block, named by $TEST_NGINX_POLICY in
#                                 every config section and in config_error /
#                                 config_output (nginx -t messages name it)
#
# and helpers for eval sections:
#
#   TG::Policy::log_refusal(PHRASE [, TOKEN])   regex of the info line of a
#       refusal "tenant_guard: PHRASE[: detail], token_id: JTI"
#   TG::Policy::challenge(CODE)                 regex of the RFC 6750 challenge
#       'Bearer realm="tenant_guard", error="CODE", error_description="..."'
#
# (--- config_error_line, --- error_log_count and --- pids_serving are
# TG.pm's.)

use strict;
use warnings;

use JSON::PP ();

my $JSON = JSON::PP->new->canonical;

sub import {
    TG::add_fixture(policy => vars => \&vars, prepare => \&write_policy);
}

sub policy_path {
    my ($block) = @_;
    return sprintf '%s/policy-%03d.json', $TG::ROOT, $block->seq_num;
}

sub vars {
    my ($block) = @_;
    return (TEST_NGINX_POLICY => policy_path($block));
}

# write the block's --- policy to its file
sub write_policy {
    my ($block) = @_;
    return unless exists $block->{policy};
    my $path = policy_path($block);
    my @v = @{$block->{policy}};
    my $text = (@v == 1 && ref $v[0] eq 'HASH')
               ? $JSON->encode($v[0])
               : join '', map { defined $_ ? $_ : '' } @v;
    open my $fh, '>', $path or die "TG::Policy: $path: $!\n";
    print $fh $text;
    close $fh or die "TG::Policy: $path: $!\n";
    chmod 0644, $path;
}

# ---------------------------------------------------------------- regexes

# the same line as TG::log_refusal matches
sub log_refusal { return TG::log_refusal(@_) }

sub challenge {
    my ($code) = @_;
    return '^Bearer realm="tenant_guard", error="' . quotemeta($code)
           . '", error_description="[^"\\\\]+"$';
}

1;
