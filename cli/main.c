/*
 * main.c: the nonroot command's entry point and subcommand dispatch.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "audit",  nr_cmd_audit,  "report why an image would run as root or need privileges" },
	{ "patch",  nr_cmd_patch,  "make an image run as a non-root user (user, ports, config)" },
	{ "urls",   nr_cmd_urls,   "show where ASP.NET Core (Kestrel) would listen; rewrite ports" },
	{ "user",   nr_cmd_user,   "resolve an OCI User spec the way runc does" },
	{ "passwd", nr_cmd_passwd, "add a user to a root filesystem's passwd/group files" },
	{ "bundle", nr_cmd_bundle, "harden an OCI runtime bundle's config.json" },
	{ "k8s",    nr_cmd_k8s,    "print a Kubernetes securityContext for an image" },
	{ "unpack", nr_cmd_unpack, "write an image's final root filesystem to a directory (confined)" },
	{ "cache",  nr_cmd_cache,  "bound the layer-scan cache; remove what killed runs left (prune)" },
	{ "verify", nr_cmd_verify, "run an image as its user in a hardened runtime and prove it works as non-root" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: nonroot COMMAND [OPTIONS] [ARGS]\n"
		"Make container images run as a non-root user, and audit them for it.\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'nonroot COMMAND --help' for a command's options.\n"
		"Exit status: 0 success or clean, 1 findings or a failed check, 2 usage or input error.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return NR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return NR_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("nonroot %s (libnonroot %s)\n", NR_VERSION, nr_version());
		return NR_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			optind = 0;   /* full getopt reset for the subcommand */
			/* verify handles these signals itself (it removes its container) */
			if (strcmp(argv[1], "verify") != 0)
				cli_interrupt_setup();
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "nonroot: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return NR_EXIT_USAGE;
}
