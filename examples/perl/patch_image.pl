#!/usr/bin/perl
# Audit an image, make it run as non-root, write it, and show the result.
#   perl -I DIR patch_image.pl IMAGE DEST
use strict;
use warnings;
use Nonroot;

my ($ref, $dest) = @ARGV or die "usage: $0 IMAGE DEST\n";
my $img = Nonroot::nr_image_open($ref, undef);
my $audit = Nonroot::nr_image_audit($img, undef);
for my $k (0 .. Nonroot::nr_audit_count($audit) - 1) {
	my $f = Nonroot::nr_audit_at($audit, $k);
	print "before: $f->{id} $f->{location}: $f->{message}\n";
}
# errors are Nonroot::Error objects (code, line, column, source, message)
my $report = eval { Nonroot::nr_image_patch($img, undef) }
	or die sprintf("cannot patch: %s (code %d)\n", $@, $@->code);
Nonroot::nr_image_write($img, $dest, undef);

my $out = Nonroot::nr_image_open($dest, undef);
my $cfg = Nonroot::nr_imgconfig_parse(Nonroot::nr_image_config($out, 0));
my $level = Nonroot::nr_audit_max_level(Nonroot::nr_image_audit($out, undef));
printf "patched: %s runs as %s, ASPNETCORE_URLS=%s, %d changes, audit: %s\n", $dest,
	Nonroot::nr_imgconfig_user($cfg), Nonroot::nr_imgconfig_env_get($cfg, 'ASPNETCORE_URLS'),
	Nonroot::nr_patch_report_count($report), Nonroot::nr_level_name($level);
