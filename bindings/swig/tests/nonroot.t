#!/usr/bin/perl
# CTest: the Perl binding's real call sequence.
use strict;
use warnings;
use Test::More;

use_ok('nonroot');

# version and error names
is(nonroot::nr_version(), $nonroot::NR_VERSION, 'version');
is(nonroot::nr_strerror($nonroot::NR_EINVALID), 'invalid input', 'strerror');
is($nonroot::NR_ENOTFOUND, -3, 'enum value');

done_testing();
