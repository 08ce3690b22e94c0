/*
 * cmd_audit.c: nonroot audit: findings about what makes an image need root.
 * Output formats: text (default), json (DESIGN.md's shape), sarif (SARIF 2.1.0, with rules).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		"                           [--platform OS/ARCH[/VARIANT]] [--threshold N] [-q]\n"
		"                           [--config FILE|--no-config] [--ignore ID[,ID...]]\n"
		"                           [--level ID=LEVEL] [--allow-setid PATH] [--baseline FILE]\n"
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
		"  -q, --quiet      print the findings only (text: one line each, no headers)\n"
		"  --config FILE    accepted findings (docs/audit-config.md; YAML subset or JSON);\n"
		"                   default ./.nonroot.yaml, ./.nonroot.yml or ./.nonroot.json\n"
		"  --no-config      do not read ./.nonroot.yaml (or .yml, .json)\n"
		"  --ignore IDS     drop the findings of these rules (NR008,NR003); repeatable\n"
		"  --level ID=LEVEL set a rule's level (error, warning, note or none); repeatable\n"
		"  --allow-setid P  accept set-id files and files with capabilities matching P\n"
		"                   (\"/usr/bin/su\", \"/usr/lib/*\")\n"
		"  --baseline FILE  an earlier JSON or SARIF report of this image: its findings are\n"
		"                   marked and do not count for the exit status (only new ones do)\n"
		CLI_CACHE_USAGE
		CLI_REGISTRY_USAGE
		CLI_FLEET_USAGE
		"  -h, --help       this help\n"
		"\nRules:\n");
	for (k = 0; k < nr_audit_rule_count(); k++) {
		const nr_audit_rule *r = nr_audit_rule_at(k);
		fprintf(f, "  %s %-28s %-7s %s\n", r->id, r->name, nr_level_name(r->level), r->summary);
	}
	fprintf(f, "\nExit status: 0 clean (no finding outside the baseline at or above --fail-on),\n"
		"1 findings, 2 usage or input error\n"
		"(a blob that does not match its digest is an input error).\n");
}

/* The text report (nr_audit_to_text()); quiet: the findings only. */
static int print_text(const char *ref, const nr_audit *a, int quiet)
{
	nr_error err = NR_ERROR_INIT;
	char *doc = NULL;

	if (nr_audit_to_text(&doc, NULL, a, ref, quiet, &err) < 0)
		return cli_fail(ref, &err);
	fputs(doc, stdout);
	nr_free(doc);
	return NR_EXIT_OK;
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

/* SARIF 2.1.0 (nr_audit_to_sarif()): the exit status and whether --baseline was given go
 * into the document. */
static int print_sarif(const char *ref, const nr_audit *a, int exit_code, int baseline)
{
	nr_error err = NR_ERROR_INIT;
	char *doc = NULL;

	if (nr_audit_to_sarif(&doc, NULL, a, ref, exit_code, baseline, &err) < 0)
		return cli_fail(ref, &err);
	puts(doc);
	nr_free(doc);
	return NR_EXIT_OK;
}

/* The config: --config FILE, else ./.nonroot.yaml, ./.nonroot.yml or ./.nonroot.json. */
static int load_config(nr_audit_config *cfg, const char *path, int explicit)
{
	static const char *const defaults[] = { ".nonroot.yaml", ".nonroot.yml", ".nonroot.json" };
	nr_error err = NR_ERROR_INIT;
	char *text = NULL;
	size_t len, i;
	int rc;

	if (path == NULL) {
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]) && path == NULL; i++)
			if (access(defaults[i], F_OK) == 0)
				path = defaults[i];
		if (path == NULL)
			return 0;
	}
	if (cli_read_file(path, 1u << 20, &text, &len) < 0)
		return cli_failf("audit: %s: %s%s", path, strerror(errno),
			explicit ? "" : " (the default config; --no-config skips it)");
	rc = nr_audit_config_load(cfg, text, len, path, &err);
	free(text);
	if (rc < 0) {
		char msg[512];
		nr_error_format(&err, msg, sizeof(msg));
		return cli_failf("audit: config %s", msg);
	}
	return 0;
}

static int load_baseline(nr_audit_config *cfg, const char *path)
{
	nr_error err = NR_ERROR_INIT;
	char *text = NULL;
	size_t len;
	int rc;

	if (cli_read_file(path, 64u << 20, &text, &len) < 0)
		return cli_failf("audit: --baseline %s: %s", path, strerror(errno));
	rc = nr_audit_config_load_baseline(cfg, text, len, path, &err);
	free(text);
	return rc < 0 ? cli_fail("audit: --baseline", &err) : 0;
}

enum { O_FORMAT = 256, O_FAILON, O_PLATFORM, O_THRESHOLD, O_CONFIG, O_NOCONFIG, O_IGNORE,
	O_LEVEL, O_ALLOW_SETID, O_BASELINE };

static const struct option longopts[] = {
	{ "format", required_argument, NULL, O_FORMAT },
	{ "fail-on", required_argument, NULL, O_FAILON },
	{ "platform", required_argument, NULL, O_PLATFORM },
	{ "threshold", required_argument, NULL, O_THRESHOLD },
	{ "quiet", no_argument, NULL, 'q' },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "no-config", no_argument, NULL, O_NOCONFIG },
	{ "ignore", required_argument, NULL, O_IGNORE },
	{ "level", required_argument, NULL, O_LEVEL },
	{ "allow-setid", required_argument, NULL, O_ALLOW_SETID },
	{ "baseline", required_argument, NULL, O_BASELINE },
	CLI_CACHE_LONGOPTS,
	CLI_REGISTRY_LONGOPTS,
	CLI_FLEET_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The command line of nonroot audit. */
typedef struct audit_args {
	nr_image_open_options oo;
	nr_audit_options ao;
	cli_fleet fleet;
	nr_audit_config *cfg;
	const char *config, *baseline;
	int fmt, fail_on, quiet, no_config;
} audit_args;

#define CONTINUE (-1)   /* parse_option(), check_options(): go on */

/* --level ID=LEVEL: CONTINUE or an exit status. */
static int parse_level(audit_args *aa, const char *arg)
{
	nr_error err = NR_ERROR_INIT;
	const char *eq = strchr(arg, '=');
	char id[16];
	int lv = -1, k;

	for (k = NR_LEVEL_NONE; eq && k <= NR_LEVEL_ERROR; k++)
		if (!strcmp(eq + 1, nr_level_name(k)))
			lv = k;
	if (eq == NULL || lv < 0 || (size_t)(eq - arg) >= sizeof(id))
		return cli_usage_error("audit", "--level: '%s' is not ID=LEVEL (LEVEL: error, "
			"warning, note or none)", arg);
	memcpy(id, arg, (size_t)(eq - arg));
	id[eq - arg] = '\0';
	if (nr_audit_config_set_level(aa->cfg, id, lv, &err) < 0)
		return cli_usage_error("audit", "--level: %s", err.message);
	return CONTINUE;
}

/* --format and --fail-on: CONTINUE or an exit status. */
static int parse_choice(audit_args *aa, int c, const char *arg)
{
	if (c == O_FORMAT) {
		if (!strcmp(arg, "text"))
			aa->fmt = FMT_TEXT;
		else if (!strcmp(arg, "json"))
			aa->fmt = FMT_JSON;
		else if (!strcmp(arg, "sarif"))
			aa->fmt = FMT_SARIF;
		else
			return cli_usage_error("audit", "--format: '%s' is not text, json or sarif",
				arg);
		return CONTINUE;
	}
	if (!strcmp(arg, "error"))
		aa->fail_on = NR_LEVEL_ERROR;
	else if (!strcmp(arg, "warning"))
		aa->fail_on = NR_LEVEL_WARNING;
	else if (!strcmp(arg, "note"))
		aa->fail_on = NR_LEVEL_NOTE;
	else if (!strcmp(arg, "never"))
		aa->fail_on = NR_LEVEL_ERROR + 1;
	else
		return cli_usage_error("audit", "--fail-on: '%s' is not error, warning, note or never",
			arg);
	return CONTINUE;
}

/* One option: CONTINUE or an exit status (NR_EXIT_OK after --help). */
static int parse_option(audit_args *aa, int c, char *arg)
{
	nr_error err = NR_ERROR_INIT;
	unsigned long v;

	switch (c) {
	case CLI_O_FROM: aa->fleet.from = arg; break;
	case 'j':
		if (cli_parse_uint("--jobs", arg, 256, &v) < 0)
			return NR_EXIT_USAGE;
		if (v == 0)
			return cli_usage_error("audit", "--jobs: at least 1");
		aa->fleet.jobs = v;
		break;
	case CLI_O_CACHE: case CLI_O_NOCACHE: cli_cache_option(c, arg); break;
	case CLI_O_CREDS: case CLI_O_AUTHFILE: case CLI_O_TLSVERIFY: case CLI_O_CERTDIR:
		if (cli_registry_option("audit", c, arg, &aa->oo) != 0)
			return NR_EXIT_USAGE;
		break;
	case O_FORMAT: case O_FAILON: return parse_choice(aa, c, arg);
	case O_PLATFORM: aa->oo.platform = arg; break;
	case O_THRESHOLD:
		if (cli_parse_uint("--threshold", arg, 65536, &v) < 0)
			return NR_EXIT_USAGE;
		aa->ao.threshold = (unsigned)v;
		break;
	case 'q': aa->quiet = 1; break;
	case O_CONFIG: aa->config = arg; break;
	case O_NOCONFIG: aa->no_config = 1; break;
	case O_BASELINE: aa->baseline = arg; break;
	case O_IGNORE:
		if (nr_audit_config_ignore(aa->cfg, arg, &err) < 0)
			return cli_usage_error("audit", "--ignore: %s", err.message);
		break;
	case O_ALLOW_SETID:
		if (nr_audit_config_allow_setid(aa->cfg, arg, &err) < 0)
			return cli_usage_error("audit", "--allow-setid: %s", err.message);
		break;
	case O_LEVEL: return parse_level(aa, arg);
	case 'h': usage(stdout); return NR_EXIT_OK;
	default: return cli_usage_error("audit", "invalid option");
	}
	return CONTINUE;
}

/* The options that go (or do not go) together, and the configuration files, read once
 * before the fleet forks its workers (every image gets the same config): CONTINUE or an
 * exit status. */
static int check_options(audit_args *aa, int nargs)
{
	if (nargs <= 0 && aa->fleet.from == NULL)
		return cli_usage_error("audit", "missing IMAGE");
	if (aa->config && aa->no_config)
		return cli_usage_error("audit", "--config and --no-config exclude each other");
	if ((nargs > 1 || aa->fleet.from) && aa->fmt == FMT_SARIF)
		return cli_usage_error("audit", "--format sarif takes one IMAGE");
	if ((!aa->no_config && load_config(aa->cfg, aa->config, aa->config != NULL) != 0) ||
	    (aa->baseline && load_baseline(aa->cfg, aa->baseline) != 0))
		return NR_EXIT_USAGE;
	return CONTINUE;
}

/* Audit one image and print its findings. */
static int audit_image(audit_args *aa, const char *ref)
{
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	nr_audit *a = NULL;
	cli_progress prog;
	int rc;

	cli_progress_init(&prog, "audit");
	aa->ao.progress = cli_progress_cb;
	aa->ao.payload = &prog;
	if (nr_image_open(&img, ref, &aa->oo, &err) < 0) {
		rc = cli_fail(ref, &err);
		goto done;
	}
	if (nr_image_audit(&a, img, &aa->ao, &err) < 0) {
		cli_progress_done(&prog);
		rc = cli_fail(ref, &err);
		goto done;
	}
	cli_progress_done(&prog);
	if (nr_audit_apply(a, aa->cfg, &err) < 0) {
		rc = cli_fail(ref, &err);
		goto done;
	}
	rc = (int)nr_audit_max_level(a) >= aa->fail_on ? NR_EXIT_FINDINGS : NR_EXIT_OK;
	if (aa->fmt == FMT_JSON) {
		if (print_json(ref, a) != NR_EXIT_OK)
			rc = NR_EXIT_USAGE;
	} else if (aa->fmt == FMT_SARIF) {
		if (print_sarif(ref, a, rc, aa->baseline != NULL) != NR_EXIT_OK)
			rc = NR_EXIT_USAGE;
	} else if (print_text(ref, a, aa->quiet) != NR_EXIT_OK) {
		rc = NR_EXIT_USAGE;
	}
done:
	nr_audit_free(a);
	nr_image_free(img);
	return rc;
}

int nr_cmd_audit(int argc, char **argv)
{
	nr_image_open_options oo_init = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_audit_options ao_init = NR_AUDIT_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	audit_args aa;
	const char *ref;
	int c, rc;

	memset(&aa, 0, sizeof(aa));
	aa.oo = oo_init;
	aa.ao = ao_init;
	aa.fmt = FMT_TEXT;
	aa.fail_on = NR_LEVEL_ERROR;
	cli_cache_default();
	if (nr_audit_config_new(&aa.cfg, &err) < 0)
		return cli_fail("audit", &err);
	while ((c = getopt_long(argc, argv, "hqj:", longopts, NULL)) != -1)
		if ((rc = parse_option(&aa, c, optarg)) != CONTINUE)
			goto done;
	cli_cache_check();
	aa.fleet.json = aa.fmt == FMT_JSON;
	if ((rc = check_options(&aa, argc - optind)) != CONTINUE)
		goto done;
	if ((rc = cli_fleet_run("audit", &aa.fleet, argc - optind, argv + optind, &ref)) !=
	    CLI_FLEET_ONE)
		goto done;
	rc = audit_image(&aa, ref);
done:
	nr_audit_config_free(aa.cfg);
	return rc;
}
