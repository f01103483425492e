# The demo that "make run" starts: its own checks, run once (DEMO_ONESHOT),
# on a free port, against the module and the nginx the suite tests
# (TG_MODULE, TG_NGINX).

use strict;
use warnings;

use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);

my $top = abs_path(dirname(abs_path(__FILE__)) . '/..');
my $nginx = $ENV{TG_NGINX} // '/usr/sbin/nginx';
my ($version) = `$nginx -v 2>&1` =~ m{(nginx/\S+)};

local $ENV{DEMO_ONESHOT} = 1;
local $ENV{DEMO_PORT} = 0;
local $ENV{TG_NGINX} = $nginx;

my $out = `cd $top && timeout 120 bash conf/demo/run-demo 2>&1`;
my $rc = $? >> 8;

is($rc, 0, 'the demo exits 0') or diag($out);
like($out, qr/^  nginx .*\(\Q$version\E, module /m,
     "the demo runs the suite's nginx ($version)");
like($out, qr/demo: all 14 requests gave the expected result/,
     'every demo request gave the expected status');
like($out, qr/"error":"banned"/, 'a banned login is refused with its JSON error');
like($out, qr/tenant_guard: password reset lifted the bans/,
     'only the confirmed reset lifted the ban');
unlike($out, qr/X-Tenant-Guard-Reset/i,
       'the confirmation header never reaches the client');
like($out, qr/X-Workspace-Id: ws1/, 'the backend saw the token\'s workspace');
like($out, qr/"error":"workspace_mismatch"/,
     'a ws1 token on a ws2 path is refused with its JSON error');
like($out, qr/tenant_guard: invalid token: the token has expired, token_id: /,
     'the refusal is logged with a token id');
unlike($out, qr/\[(alert|emerg|crit)\]/, 'no alert in the demo\'s logs');
unlike($out, qr/AddressSanitizer/, 'no AddressSanitizer report');

done_testing();
