/*
 * cmd_bundle.c: nonroot bundle (being built in issue #5).
 */
#include "cli.h"

int nr_cmd_bundle(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("bundle: not implemented yet (issue #5)");
}
