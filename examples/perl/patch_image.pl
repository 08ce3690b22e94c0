#!/usr/bin/perl
# Audit an image, make it run as non-root, write it, and show the result.
#   perl -I DIR patch_image.pl IMAGE DEST
use strict;
use warnings;
use nonroot;

my ($ref, $dest) = @ARGV or die "usage: $0 IMAGE DEST\n";
my $img = nonroot::nr_image_open($ref, undef);
my $audit = nonroot::nr_image_audit($img, undef);
for my $k (0 .. nonroot::nr_audit_count($audit) - 1) {
	my $f = nonroot::nr_audit_finding($audit, $k);
	print "before: $f->{id} $f->{location}: $f->{message}\n";
}
my $report = eval { nonroot::nr_image_patch($img, undef) } or die "cannot patch: $@";
nonroot::nr_image_write($img, $dest, undef);

my $out = nonroot::nr_image_open($dest, undef);
my $cfg = nonroot::nr_imgconfig_parse(nonroot::nr_image_config($out, 0));
my $level = nonroot::nr_audit_max_level(nonroot::nr_image_audit($out, undef));
printf "patched: %s runs as %s, ASPNETCORE_URLS=%s, %d changes, audit: %s\n", $dest,
	nonroot::nr_imgconfig_user($cfg), nonroot::nr_imgconfig_env_get($cfg, 'ASPNETCORE_URLS'),
	nonroot::nr_patch_report_count($report), nonroot::nr_level_name($level);
