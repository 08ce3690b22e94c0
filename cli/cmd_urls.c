/*
 * cmd_urls.c: nonroot urls: where ASP.NET Core (Kestrel) would listen, and port rewriting.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

extern char **environ;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot urls [--json] [--check] [--threshold N] [--host webapp|generic]\n"
		"                    [--no-unprefixed] [NAME=VALUE ...]\n"
		"       nonroot urls --rewrite FROM:TO[,FROM:TO...] [--compat] [--threshold N]\n"
		"                    NAME=VALUE ...\n"
		"\n"
		"Show where an ASP.NET Core app (Kestrel) would listen, exactly as it reads\n"
		"ASPNETCORE_URLS / DOTNET_URLS / URLS and ASPNETCORE_HTTP_PORTS / HTTPS_PORTS (and their\n"
		"DOTNET_ and unprefixed forms): URLS wins over the PORTS variables (with Kestrel's\n"
		"\"Overriding HTTP_PORTS\" warning); Kestrel__Endpoints__NAME__Url variables win over\n"
		"both (unless ASPNETCORE_PREFERHOSTINGURLS=true); nothing set means\n"
		"http://localhost:5000. Without NAME=VALUE arguments the process environment is read.\n"
		"\n"
		"Options:\n"
		"  --json            JSON: {\"effective\",\"variables\",\"warnings\",\"bindings\":[{\"url\",\n"
		"                    \"scheme\",\"host\",\"port\",\"path_base\",\"kind\",\"privileged\",...}]}\n"
		"  --check           exit 1 when a binding needs a privileged port\n"
		"  --threshold N     first unprivileged port (default 1024, as\n"
		"                    net.ipv4.ip_unprivileged_port_start); 0: nothing is privileged\n"
		"  --host MODEL      webapp (WebApplication.CreateBuilder, default: DOTNET_ beats\n"
		"                    ASPNETCORE_) or generic (ConfigureWebHostDefaults: ASPNETCORE_ wins)\n"
		"  --no-unprefixed   ignore unprefixed URLS/HTTP_PORTS/HTTPS_PORTS\n"
		"  --rewrite MAP     print each NAME=VALUE with only its port numbers changed by MAP\n"
		"                    (e.g. 80:8080,443:8443); a privileged port without a mapping is\n"
		"                    an error\n"
		"  --compat          with --rewrite: keep each old binding and add the mapped one\n"
		"  -q, --quiet       text: only the warnings and the privileged bindings\n"
		"  -h, --help        this help\n"
		"\n"
		"Kinds: any (*, +, 0.0.0.0, [::]), localhost (127.0.0.1 and ::1), ip, host (a name:\n"
		"Kestrel binds every interface), unix, pipe.\n"
		"Exit status: 0 ok; 1 --check found a privileged port; 2 usage error or an address\n"
		"Kestrel would reject (its message, e.g. \"Invalid url: 'http://'\").\n");
}

static int print_json(const nr_bindings *b)
{
	nr_error err = NR_ERROR_INIT;
	char *doc = NULL;

	if (nr_bindings_to_json(&doc, NULL, b, &err) < 0)
		return cli_fail("urls", &err);
	puts(doc);
	nr_free(doc);
	return NR_EXIT_OK;
}

static void print_text(const nr_bindings *b, unsigned threshold, int quiet)
{
	size_t i, n;
	const char *value, *name;
	nr_urls_source src = nr_bindings_source(b);

	if (quiet) {
		for (i = 0, n = nr_bindings_warning_count(b); i < n; i++)
			printf("warning: %s\n", nr_bindings_warning_at(b, i));
		for (i = 0, n = nr_bindings_count(b); i < n; i++)
			if (nr_bindings_at(b, i)->privileged)
				printf("%s\tport %d\tprivileged (below %u)\n", nr_bindings_at(b, i)->url,
					(int)nr_bindings_at(b, i)->parsed.port, threshold);
		return;
	}
	if (src == NR_URLS_SOURCE_URLS) {
		name = nr_bindings_variable(&value, b, NR_URLS_KEY_URLS);
		printf("effective: urls (%s=%s)\n", name, value);
	} else if (src == NR_URLS_SOURCE_PORTS) {
		printf("effective: http_ports");
		if ((name = nr_bindings_variable(&value, b, NR_URLS_KEY_HTTP_PORTS)) != NULL)
			printf(" (%s=%s)", name, value);
		if ((name = nr_bindings_variable(&value, b, NR_URLS_KEY_HTTPS_PORTS)) != NULL)
			printf(" (%s=%s)", name, value);
		putchar('\n');
	} else if (src == NR_URLS_SOURCE_ENDPOINTS) {
		printf("effective: kestrel_endpoints (Kestrel__Endpoints__NAME__Url variables)\n");
	} else {
		printf("effective: default (nothing set)\n");
	}
	for (i = 0, n = nr_bindings_warning_count(b); i < n; i++)
		printf("warning: %s\n", nr_bindings_warning_at(b, i));
	for (i = 0, n = nr_bindings_count(b); i < n; i++) {
		const nr_binding *x = nr_bindings_at(b, i);
		const nr_url *u = &x->parsed;
		printf("%s\t%s", x->url, nr_url_kind_name(u->kind));
		if (u->kind != NR_URL_UNIX && u->kind != NR_URL_PIPE)
			printf("\tport %d", (int)u->port);
		if (x->privileged)
			printf("\tprivileged (below %u: needs root or CAP_NET_BIND_SERVICE)", threshold);
		if (src == NR_URLS_SOURCE_ENDPOINTS)
			printf("\t%s", x->variable);
		putchar('\n');
	}
}

static int check_assignments(char **args, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const char *eq = strchr(args[i], '=');
		if (eq == NULL || eq == args[i])
			return cli_usage_error("urls", "'%s' is not NAME=VALUE", args[i]);
	}
	return 0;
}

static int do_rewrite(const char *mapspec, char **args, int n, unsigned threshold,
	unsigned flags)
{
	nr_error err = NR_ERROR_INIT;
	nr_portmap map;
	int i;

	if (nr_portmap_parse(&map, mapspec, strlen(mapspec), &err) < 0)
		return cli_fail("urls --rewrite", &err);
	for (i = 0; i < n; i++) {
		const char *eq = strchr(args[i], '=');
		char name[256], *out = NULL;
		size_t nlen = (size_t)(eq - args[i]);
		if (nlen >= sizeof(name))
			return cli_usage_error("urls", "variable name too long: %.40s...", args[i]);
		memcpy(name, args[i], nlen);
		name[nlen] = '\0';
		if (nr_urls_rewrite(&out, NULL, name, eq + 1, strlen(eq + 1), &map, threshold, flags,
				&err) < 0)
			return cli_fail("urls --rewrite", &err);
		printf("%s=%s\n", name, out);
		nr_free(out);
	}
	return NR_EXIT_OK;
}

int nr_cmd_urls(int argc, char **argv)
{
	enum { OPT_HOST = 256, OPT_NO_UNPREFIXED, OPT_COMPAT, OPT_THRESHOLD, OPT_REWRITE };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'c' },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "no-unprefixed", no_argument, NULL, OPT_NO_UNPREFIXED },
		{ "rewrite", required_argument, NULL, OPT_REWRITE },
		{ "compat", no_argument, NULL, OPT_COMPAT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr_urls_options opts = NR_URLS_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_bindings *b = NULL;
	const char *rewrite = NULL;
	int json = 0, check = 0, compat = 0, quiet = 0, c, rc;
	unsigned long v;

	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'c': check = 1; break;
		case OPT_THRESHOLD:
			if (cli_parse_uint("--threshold", optarg, 65536, &v) < 0)
				return NR_EXIT_USAGE;
			opts.threshold = (unsigned)v;
			break;
		case OPT_HOST:
			if (!strcmp(optarg, "webapp"))
				opts.host = NR_URLS_HOST_WEBAPP;
			else if (!strcmp(optarg, "generic"))
				opts.host = NR_URLS_HOST_GENERIC;
			else
				return cli_usage_error("urls", "--host: '%s' is not webapp or generic",
					optarg);
			break;
		case OPT_NO_UNPREFIXED: opts.flags |= NR_URLS_NO_UNPREFIXED; break;
		case OPT_REWRITE: rewrite = optarg; break;
		case OPT_COMPAT: compat = 1; break;
		case 'h': usage(stdout); return NR_EXIT_OK;
		default: return cli_usage_error("urls", "invalid option");
		}
	}
	if ((rc = check_assignments(argv + optind, argc - optind)) != 0)
		return rc;
	if (rewrite) {
		if (json || check)
			return cli_usage_error("urls", "--rewrite does not combine with --json/--check");
		if (optind >= argc)
			return cli_usage_error("urls", "--rewrite needs NAME=VALUE arguments");
		return do_rewrite(rewrite, argv + optind, argc - optind, opts.threshold,
			compat ? NR_REWRITE_COMPAT : 0);
	}
	if (compat)
		return cli_usage_error("urls", "--compat only applies to --rewrite");
	if (nr_bindings_from_env(&b, optind < argc ? (const char *const *)(argv + optind) :
			(const char *const *)environ, &opts, &err) < 0)
		return cli_fail("urls", &err);
	rc = NR_EXIT_OK;
	if (json)
		rc = print_json(b);
	else
		print_text(b, opts.threshold, quiet);
	if (rc == NR_EXIT_OK && check && nr_bindings_any_privileged(b))
		rc = NR_EXIT_FINDINGS;
	nr_bindings_free(b);
	return rc;
}
