/*
 * cmd_urls.c: nonroot urls (being built in issue #3).
 */
#include "cli.h"

int nr_cmd_urls(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("urls: not implemented yet (issue #3)");
}
