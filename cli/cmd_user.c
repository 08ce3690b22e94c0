/*
 * cmd_user.c: nonroot user (being built in issue #2).
 */
#include "cli.h"

int nr_cmd_user(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("user: not implemented yet (issue #2)");
}
