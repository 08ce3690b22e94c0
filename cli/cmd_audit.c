/*
 * cmd_audit.c: nonroot audit: findings about what makes an image need root.
 * Output formats: text (default), json (DESIGN.md's shape), sarif (SARIF 2.1.0, with rules).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cacheopt.h"
#include "regopt.h"
#include "fleet.h"
#include "progress.h"

enum { FMT_TEXT, FMT_JSON, FMT_SARIF };

static void usage(FILE *f)
{
	size_t k;

	fprintf(f,
		"Usage: nonroot audit IMAGE... [--format text|json|sarif] [--fail-on error|warning|note|never]\n"
		"                           [--platform OS/ARCH[/VARIANT]] [--threshold N]\n"
		"                           [--from FILE] [-j N]\n"
		"\n"
		"Report why IMAGE would run as root or need privileges: its User, the ASP.NET Core\n"
		"ports (ASPNETCORE_URLS, DOTNET_URLS, ASPNETCORE_HTTP(S)_PORTS: which one is effective\n"
		"and why), ExposedPorts, the health check, set-uid/set-gid files and the user's home.\n"
		"Each finding has a stable id, a level and a one-line fix. Several images (arguments,\n"
		"--from FILE) are audited by parallel workers, one report each, in order; the exit\n"
		"status is the worst; with --format json one document: {\"images\":[...]}.\n"
		"\n"
		"Options:\n"
		"  --format FMT     text (default), json or sarif (SARIF 2.1.0)\n"
		"  --fail-on LEVEL  exit 1 when a finding is at least LEVEL (default error); never: 0\n"
		"  --platform P     only this platform of a multi-platform image\n"
		"  --threshold N    first unprivileged port (default 1024)\n"
		CLI_CACHE_USAGE
		CLI_REGISTRY_USAGE
		CLI_FLEET_USAGE
		"  -h, --help       this help\n"
		"\nRules:\n");
	for (k = 0; k < nr_audit_rule_count(); k++) {
		const nr_audit_rule *r = nr_audit_rule_at(k);
		fprintf(f, "  %s %-28s %-7s %s\n", r->id, r->name, nr_level_name(r->level), r->summary);
	}
	fprintf(f, "\nExit status: 0 clean (below --fail-on), 1 findings, 2 usage or input error\n"
		"(a blob that does not match its digest is an input error).\n");
}

static void print_text(const char *ref, const nr_audit *a)
{
	size_t i, k, n = nr_audit_count(a), np = nr_audit_platform_count(a);

	for (i = 0; i < np; i++) {
		size_t count = 0;
		const char *u = nr_audit_user(a, i);

		cli_put_safe(stdout, ref);
		printf(" (%s): User %s", nr_audit_platform(a, i), *u ? "'" : "");
		cli_put_safe(stdout, *u ? u : "not set");
		printf("%s\n", *u ? "'" : "");
		for (k = 0; k < n; k++) {
			const nr_finding *f = nr_audit_finding(a, k);
			if (f->manifest != i)
				continue;
			printf("  %s %-7s ", f->id, nr_level_name(f->level));
			cli_put_safe(stdout, f->message);
			fputs("\n          fix: ", stdout);
			cli_put_safe(stdout, f->fix);
			fputc('\n', stdout);
			count++;
		}
		if (count == 0)
			printf("  clean: no findings\n");
	}
}

static int print_json(const char *ref, const nr_audit *a)
{
	nr_error err = NR_ERROR_INIT;
	char *doc = NULL;

	if (nr_audit_to_json(&doc, NULL, a, ref, &err) < 0)
		return cli_fail(ref, &err);
	puts(doc);
	nr_free(doc);
	return NR_EXIT_OK;
}

static void print_sarif(const char *ref, const nr_audit *a)
{
	size_t k, n = nr_audit_count(a), nr = nr_audit_rule_count();

	printf("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
		"\"runs\":[{\"tool\":{\"driver\":{\"name\":\"nonroot\",\"version\":\"%s\","
		"\"semanticVersion\":\"%s\",\"informationUri\":"
		"\"https://github.com/libnonroot/libnonroot\",\"rules\":[", nr_version(), nr_version());
	for (k = 0; k < nr; k++) {
		const nr_audit_rule *r = nr_audit_rule_at(k);
		printf("%s{\"id\":\"%s\",\"name\":", k ? "," : "", r->id);
		cli_json_string(stdout, r->name);
		printf(",\"shortDescription\":{\"text\":");
		cli_json_string(stdout, r->summary);
		printf("},\"fullDescription\":{\"text\":");
		cli_json_string(stdout, r->summary);
		printf("},\"help\":{\"text\":");
		cli_json_string(stdout, r->help);
		printf("},\"defaultConfiguration\":{\"level\":\"%s\"}}", nr_level_name(r->level));
	}
	printf("]}},\"artifacts\":[{\"location\":{\"uri\":");
	cli_json_string(stdout, ref);
	printf("}}],\"results\":[");
	for (k = 0; k < n; k++) {
		const nr_finding *f = nr_audit_finding(a, k);
		size_t idx;
		for (idx = 0; idx < nr && strcmp(nr_audit_rule_at(idx)->id, f->id) != 0; idx++)
			;
		printf("%s{\"ruleId\":\"%s\",\"ruleIndex\":%zu,\"level\":\"%s\",\"message\":{\"text\":",
			k ? "," : "", f->id, idx, nr_level_name(f->level));
		cli_json_string(stdout, f->message);
		printf("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
		cli_json_string(stdout, ref);
		printf(",\"index\":0}},\"logicalLocations\":[{\"name\":");
		cli_json_string(stdout, f->location);
		printf(",\"fullyQualifiedName\":");
		{
			char fq[512];
			snprintf(fq, sizeof(fq), "%s/%s", f->platform, f->location);
			cli_json_string(stdout, fq);
		}
		printf(",\"kind\":\"%s\"}]}],\"properties\":{\"platform\":",
			strncmp(f->location, "config.", 7) == 0 ? "member" : "resource");
		cli_json_string(stdout, f->platform);
		printf(",\"fix\":");
		cli_json_string(stdout, f->fix);
		printf("}}");
	}
	printf("]}]}\n");
}

int nr_cmd_audit(int argc, char **argv)
{
	enum { O_FORMAT = 256, O_FAILON, O_PLATFORM, O_THRESHOLD };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, O_FORMAT },
		{ "fail-on", required_argument, NULL, O_FAILON },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "threshold", required_argument, NULL, O_THRESHOLD },
		CLI_CACHE_LONGOPTS,
		CLI_REGISTRY_LONGOPTS,
		CLI_FLEET_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_audit_options ao = NR_AUDIT_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	nr_audit *a = NULL;
	cli_fleet fleet = { NULL, 0, 0 };
	cli_progress prog;
	const char *ref;
	unsigned long v;
	int c, fmt = FMT_TEXT, fail_on = NR_LEVEL_ERROR, rc = NR_EXIT_USAGE;

	cli_cache_default();
	while ((c = getopt_long(argc, argv, "hj:", longopts, NULL)) != -1) {
		switch (c) {
		case CLI_O_FROM: fleet.from = optarg; break;
		case 'j':
			if (cli_parse_uint("--jobs", optarg, 256, &v) < 0)
				return NR_EXIT_USAGE;
			if (v == 0)
				return cli_usage_error("audit", "--jobs: at least 1");
			fleet.jobs = v;
			break;
		case CLI_O_CACHE: case CLI_O_NOCACHE: cli_cache_option(c, optarg); break;
		case CLI_O_CREDS: case CLI_O_AUTHFILE: case CLI_O_TLSVERIFY: case CLI_O_CERTDIR:
			if (cli_registry_option("audit", c, optarg, &oo) != 0)
				return NR_EXIT_USAGE;
			break;
		case O_FORMAT:
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "sarif"))
				fmt = FMT_SARIF;
			else
				return cli_usage_error("audit", "--format: '%s' is not text, json or sarif",
					optarg);
			break;
		case O_FAILON:
			if (!strcmp(optarg, "error"))
				fail_on = NR_LEVEL_ERROR;
			else if (!strcmp(optarg, "warning"))
				fail_on = NR_LEVEL_WARNING;
			else if (!strcmp(optarg, "note"))
				fail_on = NR_LEVEL_NOTE;
			else if (!strcmp(optarg, "never"))
				fail_on = NR_LEVEL_ERROR + 1;
			else
				return cli_usage_error("audit",
					"--fail-on: '%s' is not error, warning, note or never", optarg);
			break;
		case O_PLATFORM: oo.platform = optarg; break;
		case O_THRESHOLD:
			if (cli_parse_uint("--threshold", optarg, 65536, &v) < 0)
				return NR_EXIT_USAGE;
			ao.threshold = (unsigned)v;
			break;
		case 'h': usage(stdout); return NR_EXIT_OK;
		default: return cli_usage_error("audit", "invalid option");
		}
	}
	cli_cache_check();
	if (optind >= argc && fleet.from == NULL)
		return cli_usage_error("audit", "missing IMAGE");
	fleet.json = fmt == FMT_JSON;
	if ((optind < argc - 1 || fleet.from) && fmt == FMT_SARIF)
		return cli_usage_error("audit", "--format sarif takes one IMAGE");
	if ((rc = cli_fleet_run("audit", &fleet, argc - optind, argv + optind, &ref)) !=
	    CLI_FLEET_ONE)
		return rc;
	rc = NR_EXIT_USAGE;

	cli_progress_init(&prog, "audit");
	ao.progress = cli_progress_cb;
	ao.payload = &prog;
	if (nr_image_open(&img, ref, &oo, &err) < 0) {
		rc = cli_fail(ref, &err);
		goto done;
	}
	if (nr_image_audit(img, &ao, &a, &err) < 0) {
		cli_progress_done(&prog);
		rc = cli_fail(ref, &err);
		goto done;
	}
	cli_progress_done(&prog);
	if (fmt == FMT_JSON) {
		if ((rc = print_json(ref, a)) != NR_EXIT_OK)
			goto done;
	} else if (fmt == FMT_SARIF)
		print_sarif(ref, a);
	else
		print_text(ref, a);
	rc = nr_audit_max_level(a) >= fail_on ? NR_EXIT_FINDINGS : NR_EXIT_OK;
done:
	nr_audit_free(a);
	nr_image_free(img);
	return rc;
}
