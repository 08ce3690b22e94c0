/*
 * cmd_verify.c: nonroot verify IMAGE: start the image as its user in a hardened runtime and
 * prove (or disprove) that it works as non-root (the engine is verify.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "verify.h"
#include "regopt.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot verify IMAGE [--runtime PATH] [--timeout S] [--port N]... [--http]\n"
		"                            [--format text|json] [--platform OS/ARCH[/VARIANT]]\n"
		"                            [--creds USER:PASSWORD] [--authfile FILE]\n"
		"                            [--tls-verify=false] [--cert-dir DIR] [-q]\n"
		"\n"
		"Prove by running that IMAGE works as non-root: unpack it into a private directory\n"
		"as a hardened bundle (every capability dropped, noNewPrivileges, its own network\n"
		"namespace), start it with an OCI runtime, and watch its init process through /proc:\n"
		"uid/gid, CapEff, NoNewPrivs, the sockets its network namespace listens on, its exit\n"
		"status and output. Expected ports: the image's ASP.NET Core bindings (URL\n"
		"variables), else its ExposedPorts, else --port. The container and every file are\n"
		"removed when done, also on timeout and on SIGINT.\n"
		"\n"
		"Options:\n"
		"  --runtime PATH   OCI runtime (name on PATH or a path; default runc; crun works)\n"
		"  --timeout S      seconds to wait for the expected ports (default 10)\n"
		"  --port N         expect port N (repeatable; replaces the image's expected ports)\n"
		"  --http           GET / on each expected port from inside the container's network\n"
		"                   namespace (loopback brought up) and record the status line\n"
		"  --format FMT     text (default) or json (every observation)\n"
		"  --platform P     the platform of a multi-platform image\n"
		CLI_REGISTRY_USAGE
		"  -q, --quiet      text: nothing when proven, only the FAIL lines when not\n"
		"  -h, --help       this help\n"
		"\n"
		"Exit status: 0 proven (non-root uid = config User, no capabilities, listens on every\n"
		"expected port and none privileged), 1 the proof failed (the reason is printed),\n"
		"2 cannot run (no runtime, not root, input error).\n");
}

int cli_verify_parse(verify_opts *o, int opt, const char *arg, const char *cmd)
{
	unsigned long v;
	char *end;

	switch (opt) {
	case VERIFY_O_RUNTIME:
		o->runtime = arg;
		return 0;
	case VERIFY_O_TIMEOUT:
		o->timeout = strtod(arg, &end);
		if (end == arg || *end || !(o->timeout > 0) || o->timeout > 86400)
			return cli_usage_error(cmd, "--timeout: '%s' is not a number of seconds "
				"(0-86400)", arg);
		return 0;
	case VERIFY_O_PORT:
		if (cli_parse_uint("--port", arg, 65535, &v) < 0 || v == 0)
			return v == 0 ? cli_usage_error(cmd, "--port: 0 is not a port") : NR_EXIT_USAGE;
		if (o->nports >= VERIFY_MAX_PORTS)
			return cli_usage_error(cmd, "--port: at most %d", VERIFY_MAX_PORTS);
		o->ports[o->nports++] = (uint16_t)v;
		return 0;
	case VERIFY_O_HTTP:
		o->http = 1;
		return 0;
	default:
		return NR_EXIT_USAGE;
	}
}

int nr_cmd_verify(int argc, char **argv)
{
	enum { O_FORMAT = 256, O_PLATFORM };
	static const struct option longopts[] = {
		{ "runtime", required_argument, NULL, VERIFY_O_RUNTIME },
		{ "timeout", required_argument, NULL, VERIFY_O_TIMEOUT },
		{ "port", required_argument, NULL, VERIFY_O_PORT },
		{ "http", no_argument, NULL, VERIFY_O_HTTP },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "platform", required_argument, NULL, O_PLATFORM },
		CLI_REGISTRY_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	verify_opts o;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.open = &oo;
	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case VERIFY_O_RUNTIME: case VERIFY_O_TIMEOUT: case VERIFY_O_PORT: case VERIFY_O_HTTP:
			if ((rc = cli_verify_parse(&o, c, optarg, "verify")) != 0)
				return rc;
			break;
		case O_FORMAT:
			if (!strcmp(optarg, "json"))
				o.json = 1;
			else if (!strcmp(optarg, "text"))
				o.json = 0;
			else
				return cli_usage_error("verify", "--format: '%s' is not text or json",
					optarg);
			break;
		case O_PLATFORM: o.platform = optarg; break;
		case CLI_O_CREDS: case CLI_O_AUTHFILE: case CLI_O_TLSVERIFY: case CLI_O_CERTDIR:
			if (cli_registry_option("verify", c, optarg, &oo) != 0)
				return NR_EXIT_USAGE;
			break;
		case 'q': o.quiet = 1; break;
		case 'h': usage(stdout); return NR_EXIT_OK;
		default: return cli_usage_error("verify", "invalid option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("verify", optind >= argc ? "missing IMAGE" : "too many arguments");
	return cli_verify_image(argv[optind], &o);
}
