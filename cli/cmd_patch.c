/*
 * cmd_patch.c: nonroot patch (being built in issue #4).
 */
#include "cli.h"

int nr_cmd_patch(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("patch: not implemented yet (issue #4)");
}
