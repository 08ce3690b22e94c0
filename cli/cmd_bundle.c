/*
 * cmd_bundle.c: nonroot bundle harden: harden an OCI runtime bundle's config.json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot bundle harden BUNDLE_DIR [OPTIONS]\n"
		"Harden an OCI runtime bundle (e.g. from 'umoci unpack') for runc: set the process's\n"
		"user, drop every capability from all five sets, set noNewPrivileges, and report what\n"
		"changed and what the bundle still grants. config.json is replaced atomically; every\n"
		"field not named here is kept as it is.\n"
		"\n"
		"Options:\n"
		"  -u, --user SPEC             run as SPEC (uid[:gid] or name[:group]), resolved like\n"
		"                              runc against the bundle's rootfs etc/passwd and etc/group\n"
		"                              (default: keep process.user)\n"
		"      --allow-low-ports       keep CAP_NET_BIND_SERVICE (and only it) in every set so\n"
		"                              a non-root process can bind ports below 1024\n"
		"      --unprivileged-port-start N\n"
		"                              set linux.sysctl net.ipv4.ip_unprivileged_port_start=N\n"
		"                              (0-65535; needs a network namespace), as Docker 20.10+\n"
		"      --allow-root            allow the process to run as uid 0 (refused otherwise)\n"
		"  -n, --dry-run               report the changes without writing config.json\n"
		"      --format text|json      report format (default: text)\n"
		"  -q, --quiet                 text: only the warnings\n"
		"  -h, --help                  show this help\n"
		"\n"
		"Exit status: 0 hardened (or already hardened), 2 usage or input error.\n");
}

enum { OPT_ALLOW_LOW = 256, OPT_PORT_START, OPT_ALLOW_ROOT, OPT_FORMAT };

static int harden(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "allow-low-ports", no_argument, NULL, OPT_ALLOW_LOW },
		{ "unprivileged-port-start", required_argument, NULL, OPT_PORT_START },
		{ "allow-root", no_argument, NULL, OPT_ALLOW_ROOT },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr_bundle_harden_options opts = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_bundle_report *report = NULL;
	nr_error err = NR_ERROR_INIT;
	unsigned long port;
	char *text = NULL, what[4200];
	int c, json = 0, error, quiet = 0;

	while ((c = getopt_long(argc, argv, "u:nhq", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'u':
			opts.user = optarg;
			break;
		case OPT_ALLOW_LOW:
			opts.allow_low_ports = 1;
			break;
		case OPT_PORT_START:
			if (cli_parse_uint("--unprivileged-port-start", optarg, 65535, &port) < 0)
				return NR_EXIT_USAGE;
			opts.unprivileged_port_start = (int)port;
			break;
		case OPT_ALLOW_ROOT:
			opts.allow_root = 1;
			break;
		case 'n':
			opts.dry_run = 1;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json"))
				json = 1;
			else if (!strcmp(optarg, "text"))
				json = 0;
			else
				return cli_usage_error("bundle harden",
					"--format: '%s' is not one of text, json", optarg);
			break;
		case 'h':
			usage(stdout);
			return NR_EXIT_OK;
		default:
			return cli_usage_error("bundle", "invalid option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("bundle", "harden needs a BUNDLE_DIR");
	if (optind + 1 < argc)
		return cli_usage_error("bundle", "unexpected argument '%s'", argv[optind + 1]);

	snprintf(what, sizeof(what), "bundle harden %s", argv[optind]);
	error = nr_bundle_harden_dir(&report, argv[optind], &opts, &err);
	if (error == 0)
		error = json ? nr_bundle_report_to_json(&text, NULL, report, &err) :
			nr_bundle_report_to_text(&text, NULL, report, &err);
	nr_bundle_report_free(report);
	if (error < 0)
		return cli_fail(what, &err);
	if (quiet && !json) {
		/* the lines of the "warnings:" section */
		const char *w = strstr(text, "\nwarnings:\n");
		if (w)
			fputs(w + strlen("\nwarnings:\n"), stdout);
	} else {
		fputs(text, stdout);
	}
	nr_free(text);
	return NR_EXIT_OK;
}

int nr_cmd_bundle(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("bundle", "missing subcommand (harden)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return NR_EXIT_OK;
	}
	if (strcmp(argv[1], "harden") != 0)
		return cli_usage_error("bundle", "unknown subcommand '%s' (expected harden)",
			argv[1]);
	return harden(argc - 1, argv + 1);
}
