/*
 * cmd_k8s.c: nonroot k8s (being built in issue #5).
 */
#include "cli.h"

int nr_cmd_k8s(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_failf("k8s: not implemented yet (issue #5)");
}
