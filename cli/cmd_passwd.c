/*
 * cmd_passwd.c: nonroot passwd (being built in issue #2).
 */
#include "cli.h"

int nr_cmd_passwd(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("passwd: not implemented yet (issue #2)");
}
