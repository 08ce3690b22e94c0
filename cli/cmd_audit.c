/*
 * cmd_audit.c: nonroot audit (being built in issue #4).
 */
#include "cli.h"

int nr_cmd_audit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("audit: not implemented yet (issue #4)");
}
