#!/usr/bin/perl
# CTest: the Perl binding's real call sequence: version and errors, URLs, passwd, a user spec,
# a port rewrite, audit + patch + write of an image (arguments: its reference, a scratch dir).
use strict;
use warnings;
use Test::More;

use_ok('nonroot');
my ($ref, $tmp) = @ARGV;
ok($ref && $tmp, 'image reference and scratch directory given');

# version and error names
is(nonroot::nr_version(), $nonroot::NR_VERSION, 'version');
is(nonroot::nr_strerror($nonroot::NR_EINVALID), 'invalid input', 'strerror');

# URLs
my $b = nonroot::nr_bindings_from_env(['ASPNETCORE_URLS=http://+:80;https://localhost:8443'],
	undef);
is(nonroot::nr_bindings_count($b), 2, 'two bindings');
my $first = nonroot::nr_bindings_get($b, 0);
is($first->{url}, 'http://+:80', 'first url');
is($first->{privileged}, 1, 'port 80 is privileged');
is($first->{parsed}->{kind}, $nonroot::NR_URL_ANY, 'kind any');
is(nonroot::nr_bindings_get($b, 1)->{parsed}->{port}, 8443, 'second port');
is(nonroot::nr_urls_source_name(nonroot::nr_bindings_source($b)), 'urls', 'source');
$b = nonroot::nr_bindings_from_env(['ASPNETCORE_HTTP_PORTS=8080', 'ASPNETCORE_URLS=http://+:80'],
	undef);
like(nonroot::nr_bindings_warning($b, 0), qr/^Overriding HTTP_PORTS '8080'/, 'warning');
eval { nonroot::nr_bindings_from_env(['ASPNETCORE_URLS=http://'], undef) };
like($@, qr/^ASPNETCORE_URLS: Invalid url: 'http:\/\/'/, 'invalid url dies with Kestrel text');
eval { nonroot::nr_bindings_from_env('not an array', undef) };
like($@, qr/expected a reference to an array/, 'envp must be an array reference');
my $map = nonroot::nr_portmap->new();
nonroot::nr_portmap_default($map);
is($map->{count}, 2, 'default map');
is($map->from(1) . ':' . $map->to(1), '443:8443', 'map entry');
is(nonroot::nr_urls_rewrite('ASPNETCORE_URLS', 'http://+:80;https://+:443', $map, 1024, 0),
	'http://+:8080;https://+:8443', 'rewrite');
my $u = nonroot::nr_url->new();
nonroot::nr_url_parse($u, 'http://[::1]:5000');
is($u->{kind}, $nonroot::NR_URL_IP, 'ip literal');
is($u->{port}, 5000, 'port');

# passwd: lossless, add, duplicate
my $text = "root:x:0:0:root:/root:/bin/sh\n# keep me\n";
my $pw = nonroot::nr_passwd_parse($text, 'etc/passwd');
is(nonroot::nr_passwd_write($pw), $text, 'lossless');
my $ent = nonroot::nr_pwent->new();
$ent->{name} = 'app';
$ent->{uid} = 1654;
$ent->{gid} = 1654;
$ent->{dir} = '/home/app';
$ent->{shell} = '/sbin/nologin';
nonroot::nr_passwd_add($pw, $ent);
is(nonroot::nr_passwd_write($pw), $text . "app:x:1654:1654::/home/app:/sbin/nologin\n", 'added');
is(nonroot::nr_passwd_find_uid($pw, 1654)->{name}, 'app', 'find_uid');
eval { nonroot::nr_passwd_add($pw, $ent) };
like($@, qr/^etc\/passwd:3: user 'app' exists already/, 'duplicate dies naming the line');
my ($rc, $id) = nonroot::nr_passwd_next_free_id($pw, undef, 1000, 60000);
is($id, 1000, 'next free id');

# a user spec, as runc resolves it
my $gr = nonroot::nr_group_parse("root:x:0:\nstaff:x:50:app\napp:x:1654:\n", 'etc/group');
my $who = nonroot::nr_exec_user->new();
nonroot::nr_userspec_resolve($who, 'app', $pw, $gr, undef);
is($who->{uid}, 1654, 'uid');
is($who->{home}, '/home/app', 'home');
is($who->{n_additional_gids}, 1, 'one additional gid');
is($who->additional_gid(0), 50, 'staff');
eval { nonroot::nr_userspec_resolve(nonroot::nr_exec_user->new(), 'nobody', $pw, $gr, undef) };
like($@, qr/^unable to find user nobody: no matching entries in passwd file/, "runc's wording");

# a root filesystem: useradd, then resolve the user there
mkdir "$tmp/perl-rootfs" or die;
mkdir "$tmp/perl-rootfs/etc" or die;
my $rfs = nonroot::nr_rootfs_open("$tmp/perl-rootfs");
nonroot::nr_rootfs_write_file($rfs, 'etc/passwd', "root:x:0:0::/root:/bin/sh\n", 0644);
my $ao = nonroot::nr_adduser_options->new();
$ao->{name} = 'app';
$ao->{uid} = 1654;
my $res = nonroot::nr_adduser_result->new();
nonroot::nr_rootfs_add_user($rfs, $ao, $res);
is($res->{gid}, 1654, 'user group gid');
like(nonroot::nr_rootfs_read_file($rfs, '/etc/passwd', 0), qr/^app:x:1654:1654::\/home\/app:/m,
	'passwd line');
my $inroot = nonroot::nr_exec_user->new();
nonroot::nr_rootfs_resolve_user($rfs, 'app', undef, $inroot);
is($inroot->{home}, '/home/app', 'resolved in rootfs');
eval { nonroot::nr_rootfs_add_user($rfs, $ao, undef) };
like($@, qr/exists already/, 'second add dies');

# a runtime bundle: harden its config.json for user app
sub spew { my ($f, $t) = @_; open(my $fh, '>', $f) or die "$f: $!"; print $fh $t; close $fh; }
my $bundle = "$tmp/perl-bundle";
mkdir $_ or die "$_: $!" for ($bundle, "$bundle/rootfs", "$bundle/rootfs/etc");
spew("$bundle/rootfs/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n");
spew("$bundle/rootfs/etc/group", "root:x:0:\napp:x:1654:\n");
spew("$bundle/config.json", '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, '
	. '"process": {"user": {"uid": 0, "gid": 0}, "capabilities": {"bounding": ["CAP_KILL"]}}}' . "\n");
my $hopts = nonroot::nr_bundle_harden_options->new();
is($hopts->{unprivileged_port_start}, -1, 'harden options initialised');
$hopts->{user} = 'app';
my $hr = nonroot::nr_bundle_harden_dir($bundle, $hopts);
is(nonroot::nr_bundle_report_written($hr), 1, 'config.json written');
like(nonroot::nr_bundle_report_json($hr), qr/"name":\s*"app"/, 'report names the user');
like(nonroot::nr_bundle_dump(nonroot::nr_bundle_open($bundle)), qr/"uid": 1654/, 'uid 1654 saved');
$hopts->{user} = 'nobody';
eval { nonroot::nr_bundle_harden_dir($bundle, $hopts) };
like($@, qr/unable to find user nobody/, "runc's wording");

# an image: audit, patch, write, read back
my $img = nonroot::nr_image_open($ref, undef);
my $audit = nonroot::nr_image_audit($img, undef);
is(nonroot::nr_audit_max_level($audit), $nonroot::NR_LEVEL_ERROR, 'rootful image: error');
is(nonroot::nr_audit_finding($audit, 0)->{id}, 'NR001', 'runs as root');
my $opts = nonroot::nr_patch_options->new();
is($opts->{uid}, -1, 'options constructor ran nr_patch_options_init');
my $report = nonroot::nr_image_patch($img, $opts);
is(nonroot::nr_patch_report_changed($report), 1, 'changed');
is(nonroot::nr_patch_report_uid($report), 1654, 'patched uid');
ok(nonroot::nr_patch_report_count($report) > 3, 'changes listed');
my $out = "oci:$tmp/perl-out:patched";
nonroot::nr_image_write($img, $out, undef);
my $again = nonroot::nr_image_open($out, undef);
my $cfg = nonroot::nr_imgconfig_parse(nonroot::nr_image_config($again, 0));
is(nonroot::nr_imgconfig_user($cfg), '1654:1654', 'User');
is(nonroot::nr_imgconfig_env_get($cfg, 'ASPNETCORE_URLS'), 'http://+:8080', 'URLS moved');
like(nonroot::nr_image_read_file($again, 0, 'etc/passwd'), qr/^app:x:1654:1654::\/home\/app:/m,
	'passwd has app');
is(nonroot::nr_audit_max_level(nonroot::nr_image_audit($again, undef)), $nonroot::NR_LEVEL_NONE,
	'patched image is clean');
eval { nonroot::nr_image_read_file($again, 0, 'etc/shadow') };
like($@, qr/etc\/shadow/, 'missing file dies naming it');
eval { nonroot::nr_image_open("oci:$tmp/nope", undef) };
ok($@, 'missing image dies');

done_testing();
