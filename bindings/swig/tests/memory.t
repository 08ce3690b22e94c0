#!/usr/bin/perl
# CTest swig.perl.memory, run under valgrind (--errors-for-leak-kinds=definite
# --error-exitcode): objects borrowed from an owner stay valid after the owner is gone (they are
# copies), setting string fields in a loop leaks nothing, and errors are Nonroot::Error objects.
use strict;
use warnings;
use Test::More;
use Nonroot;

my $N = $ENV{NR_LOOPS} || 2000;

# use after free: entries outlive their owner
my $pw = Nonroot::nr_passwd_parse("root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n",
	'etc/passwd');
my $root = Nonroot::nr_passwd_at($pw, 0);
my $app = Nonroot::nr_passwd_find_uid($pw, 1654);
my $gr = Nonroot::nr_group_parse("root:x:0:\nstaff:x:50:app,bob\n", 'etc/group');
my $staff = Nonroot::nr_group_find_name($gr, 'staff');
my $sh = Nonroot::nr_shadow_parse("root:*:19000:0:99999:7:::\n", 'etc/shadow');
my $sp = Nonroot::nr_shadow_at($sh, 0);
my $b = Nonroot::nr_bindings_from_env(['ASPNETCORE_URLS=http://+:80'], undef);
my $binding = Nonroot::nr_bindings_at($b, 0);
undef $_ for ($pw, $gr, $sh, $b);        # the owners are freed here
is($root->{name}, 'root', 'passwd entry after its owner is freed');
is($root->{shell}, '/bin/sh', 'its strings too');
is($app->{dir}, '/home/app', 'find_uid result after its owner is freed');
is($staff->member(1), 'bob', 'group member list after its owner is freed');
is($sp->{lastchg}, '19000', 'shadow entry after its owner is freed');
is($binding->{url}, 'http://+:80', 'binding after its owner is freed');
is($binding->{parsed}->{port}, 80, 'its parsed URL');

# string fields set in a loop: each set frees the previous copy, the destructor the last one
for my $i (1 .. $N) {
	my $e = Nonroot::nr_pwent->new();
	$e->{name} = "user$i";
	$e->{name} = "again$i";
	$e->{shell} = '/bin/sh';
	$e->{shell} = undef;
	my $o = Nonroot::nr_patch_options->new();
	$o->{user} = "u$i";
	$o->{home} = '/home/x';
}
my $keep = Nonroot::nr_pwent->new();
$keep->{gecos} = "x" x 100 for 1 .. $N;
is($keep->{gecos}, "x" x 100, 'the last value set is kept');

# copies made in a loop are freed with their proxies
my $many = Nonroot::nr_passwd_parse(join('', map { sprintf("u%d:x:%d:%d::/home/u%d:/bin/sh\n", ($_) x 4) } 1 .. 50),
	'etc/passwd');
for my $i (1 .. $N) {
	my $e = Nonroot::nr_passwd_at($many, $i % 50);
	die 'entry' unless $e->{uid} == $i % 50 + 1;
}
ok(1, "$N entry copies");

# errors: Nonroot::Error objects with the fields of nr_error
eval { Nonroot::nr_passwd_add($many, $keep) };
isa_ok($@, 'Nonroot::Error', 'the exception');
for my $i (1 .. $N / 10) {
	eval { Nonroot::nr_passwd_parse("root:x:0:0::/:/bin/sh\nbad\0line\n", 'etc/passwd') };
}
my $err = $@;
isa_ok($err, 'Nonroot::Error');
is($err->code, $Nonroot::NR_EINVALID, 'code');
is($err->line, 2, 'line');
is($err->source, 'etc/passwd', 'source');
like($err->message, qr/NUL/, 'message');
like("$err", qr/^etc\/passwd:2:\d+: .*NUL/, 'stringifies as SOURCE:LINE:COLUMN: MESSAGE');
like($Nonroot::VERSION, qr/^\d+\.\d+\.\d+$/, '$VERSION');
is($Nonroot::VERSION, Nonroot::nr_version(), '$VERSION is the library version');

done_testing();
