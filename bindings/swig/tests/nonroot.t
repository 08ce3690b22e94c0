#!/usr/bin/perl
# CTest: the Perl binding's real call sequence: version and errors, URLs, passwd, a user spec,
# a port rewrite, audit + patch + write of an image (arguments: its reference, a scratch dir).
use strict;
use warnings;
use Test::More;

use_ok('Nonroot');
my ($ref, $tmp) = @ARGV;
ok($ref && $tmp, 'image reference and scratch directory given');

# version and error names
is(Nonroot::nr_version(), $Nonroot::NR_VERSION, 'version');
is(Nonroot::nr_version_number(), $Nonroot::NR_VERSION_NUMBER, 'version number');
is(sprintf('%d.%d.%d', int(Nonroot::nr_version_number() / 10000),
	int(Nonroot::nr_version_number() / 100) % 100, Nonroot::nr_version_number() % 100),
	Nonroot::nr_version(), 'version number matches the version');
is($Nonroot::NR_UNPRIVILEGED_PORT_START, 1024, 'unprivileged port start');
is(Nonroot::nr_strerror($Nonroot::NR_EINVALID), 'invalid input', 'strerror');

# URLs
my $b = Nonroot::nr_bindings_from_env(['ASPNETCORE_URLS=http://+:80;https://localhost:8443'],
	undef);
is(Nonroot::nr_bindings_count($b), 2, 'two bindings');
my $first = Nonroot::nr_bindings_at($b, 0);
is($first->{url}, 'http://+:80', 'first url');
is($first->{privileged}, 1, 'port 80 is privileged');
is($first->{parsed}->{kind}, $Nonroot::NR_URL_ANY, 'kind any');
is(Nonroot::nr_bindings_at($b, 1)->{parsed}->{port}, 8443, 'second port');
is(Nonroot::nr_urls_source_name(Nonroot::nr_bindings_source($b)), 'urls', 'source');
$b = Nonroot::nr_bindings_from_env(['ASPNETCORE_HTTP_PORTS=8080', 'ASPNETCORE_URLS=http://+:80'],
	undef);
like(Nonroot::nr_bindings_warning_at($b, 0), qr/^Overriding HTTP_PORTS '8080'/, 'warning');
eval { Nonroot::nr_bindings_from_env(['ASPNETCORE_URLS=http://'], undef) };
like($@, qr/^ASPNETCORE_URLS: Invalid url: 'http:\/\/'/, 'invalid url dies with Kestrel text');
eval { Nonroot::nr_bindings_from_env('not an array', undef) };
like($@, qr/expected a reference to an array/, 'envp must be an array reference');
my $map = Nonroot::nr_portmap->new();
Nonroot::nr_portmap_default($map);
is($map->{count}, 2, 'default map');
is($map->from(1) . ':' . $map->to(1), '443:8443', 'map entry');
is(Nonroot::nr_urls_rewrite('ASPNETCORE_URLS', 'http://+:80;https://+:443', $map, 1024, 0),
	'http://+:8080;https://+:8443', 'rewrite');
my $u = Nonroot::nr_url->new();
Nonroot::nr_url_parse($u, 'http://[::1]:5000');
is($u->{kind}, $Nonroot::NR_URL_IP, 'ip literal');
is($u->{port}, 5000, 'port');

# passwd: lossless, add, duplicate
my $text = "root:x:0:0:root:/root:/bin/sh\n# keep me\n";
my $pw = Nonroot::nr_passwd_parse($text, 'etc/passwd');
is(Nonroot::nr_passwd_serialize($pw), $text, 'lossless');
my $ent = Nonroot::nr_pwent->new();
$ent->{name} = 'app';
$ent->{uid} = 1654;
$ent->{gid} = 1654;
$ent->{dir} = '/home/app';
$ent->{shell} = '/sbin/nologin';
Nonroot::nr_passwd_add($pw, $ent);
is(Nonroot::nr_passwd_serialize($pw), $text . "app:x:1654:1654::/home/app:/sbin/nologin\n", 'added');
is(Nonroot::nr_passwd_find_uid($pw, 1654)->{name}, 'app', 'find_uid');
eval { Nonroot::nr_passwd_add($pw, $ent) };
like($@, qr/^etc\/passwd:3: user 'app' exists already/, 'duplicate dies naming the line');
my ($rc, $id) = Nonroot::nr_passwd_next_free_id($pw, undef, 1000, 60000);
is($id, 1000, 'next free id');

# a user spec, as runc resolves it
my $gr = Nonroot::nr_group_parse("root:x:0:\nstaff:x:50:app\napp:x:1654:\n", 'etc/group');
my $who = Nonroot::nr_exec_user->new();
Nonroot::nr_userspec_resolve($who, 'app', $pw, $gr, undef);
is($who->{uid}, 1654, 'uid');
is($who->{home}, '/home/app', 'home');
is($who->{n_additional_gids}, 1, 'one additional gid');
is($who->additional_gid(0), 50, 'staff');
eval { Nonroot::nr_userspec_resolve(Nonroot::nr_exec_user->new(), 'nobody', $pw, $gr, undef) };
like($@, qr/^unable to find user nobody: no matching entries in passwd file/, "runc's wording");

# a root filesystem: useradd, then resolve the user there
mkdir "$tmp/perl-rootfs" or die;
mkdir "$tmp/perl-rootfs/etc" or die;
my $rfs = Nonroot::nr_rootfs_open("$tmp/perl-rootfs");
Nonroot::nr_rootfs_write_file($rfs, 'etc/passwd', "root:x:0:0::/root:/bin/sh\n", 0644);
my $ao = Nonroot::nr_adduser_options->new();
$ao->{name} = 'app';
$ao->{uid} = 1654;
my $res = Nonroot::nr_adduser_result->new();
Nonroot::nr_rootfs_add_user($res, $rfs, $ao);
is($res->{gid}, 1654, 'user group gid');
like(Nonroot::nr_rootfs_read_file($rfs, '/etc/passwd', 0), qr/^app:x:1654:1654::\/home\/app:/m,
	'passwd line');
my $inroot = Nonroot::nr_exec_user->new();
Nonroot::nr_rootfs_resolve_user($inroot, $rfs, 'app', undef);
is($inroot->{home}, '/home/app', 'resolved in rootfs');
eval { Nonroot::nr_rootfs_add_user(undef, $rfs, $ao) };
like($@, qr/exists already/, 'second add dies');

# a runtime bundle: harden its config.json for user app
sub spew { my ($f, $t) = @_; open(my $fh, '>', $f) or die "$f: $!"; print $fh $t; close $fh; }
my $bundle = "$tmp/perl-bundle";
mkdir $_ or die "$_: $!" for ($bundle, "$bundle/rootfs", "$bundle/rootfs/etc");
spew("$bundle/rootfs/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n");
spew("$bundle/rootfs/etc/group", "root:x:0:\napp:x:1654:\n");
spew("$bundle/config.json", '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, '
	. '"process": {"user": {"uid": 0, "gid": 0}, "capabilities": {"bounding": ["CAP_KILL"]}}}' . "\n");
my $hopts = Nonroot::nr_bundle_harden_options->new();
is($hopts->{unprivileged_port_start}, -1, 'harden options initialised');
$hopts->{user} = 'app';
my $hr = Nonroot::nr_bundle_harden_dir($bundle, $hopts);
is(Nonroot::nr_bundle_report_written($hr), 1, 'config.json written');
like(Nonroot::nr_bundle_report_to_json($hr), qr/"name":\s*"app"/, 'report names the user');
like(Nonroot::nr_bundle_serialize(Nonroot::nr_bundle_open($bundle)), qr/"uid": 1654/, 'uid 1654 saved');
$hopts->{user} = 'nobody';
eval { Nonroot::nr_bundle_harden_dir($bundle, $hopts) };
like($@, qr/unable to find user nobody/, "runc's wording");

# an image: audit, patch, write, read back
my $img = Nonroot::nr_image_open($ref, undef);
my $audit = Nonroot::nr_image_audit($img, undef);
is(Nonroot::nr_audit_max_level($audit), $Nonroot::NR_LEVEL_ERROR, 'rootful image: error');
is(Nonroot::nr_audit_at($audit, 0)->{id}, 'NR001', 'runs as root');
my $opts = Nonroot::nr_patch_options->new();
is($opts->{uid}, $Nonroot::NR_ID_AUTO, 'options constructor ran nr_patch_options_init');
my $report = Nonroot::nr_image_patch($img, $opts);
is(Nonroot::nr_patch_report_changed($report), 1, 'changed');
is(Nonroot::nr_patch_report_uid($report), 1654, 'patched uid');
ok(Nonroot::nr_patch_report_count($report) > 3, 'changes listed');
my $out = "oci:$tmp/perl-out:patched";
Nonroot::nr_image_write($img, $out, undef);
my $again = Nonroot::nr_image_open($out, undef);
my $cfg = Nonroot::nr_imgconfig_parse(Nonroot::nr_image_config($again, 0));
is(Nonroot::nr_imgconfig_user($cfg), '1654:1654', 'User');
is(Nonroot::nr_imgconfig_env_get($cfg, 'ASPNETCORE_URLS'), 'http://+:8080', 'URLS moved');
like(Nonroot::nr_image_read_file($again, 0, 'etc/passwd'), qr/^app:x:1654:1654::\/home\/app:/m,
	'passwd has app');
is(Nonroot::nr_audit_max_level(Nonroot::nr_image_audit($again, undef)), $Nonroot::NR_LEVEL_NONE,
	'patched image is clean');
eval { Nonroot::nr_image_read_file($again, 0, 'etc/shadow') };
like($@, qr/etc\/shadow/, 'missing file dies naming it');
eval { Nonroot::nr_image_open("oci:$tmp/nope", undef) };
ok($@, 'missing image dies');

done_testing();
