/*
 * cmd_patch.c: nonroot patch: make an image run as a non-root user without rebuilding it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "verify.h"
#include "cacheopt.h"
#include "regopt.h"
#include "fleet.h"
#include "progress.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot patch IMAGE... [-o DEST] [--tag TAG] [--user NAME] [--uid N] [--gid N]\n"
		"                     [--home DIR] [--shell PATH] [--port-map FROM:TO[,...]] [--no-home]\n"
		"                     [--new-user] [--no-passwd-entry] [--threshold N]\n"
		"                     [--mode non-root|compat] [--platform OS/ARCH[/VARIANT]]\n"
		"                     [--dry-run] [--format text|json] [-q] [--digestfile FILE]\n"
		"                     [--cache DIR|--no-cache]\n"
		"\n"
		"Make IMAGE run as a non-root user: add the user to its /etc/passwd and /etc/group\n"
		"(and shadow/gshadow when present) in ONE new reproducible layer with its home\n"
		"directory, set a numeric User, move ASP.NET Core's ports (ASPNETCORE_URLS, DOTNET_URLS,\n"
		"ASPNETCORE_HTTP_PORTS/HTTPS_PORTS), ExposedPorts and health-check URLs off privileged\n"
		"ports, and set APP_UID like the .NET 8 images.\n"
		"\n"
		"IMAGE: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
		"docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry) or a path.\n"
		"Without -o the image is changed in place (oci: new blobs first, index.json last).\n"
		"A patched image patched again changes nothing (and says so). Several images\n"
		"(arguments, --from FILE) are patched in place by parallel workers, one report each, in\n"
		"order; the exit status is the worst; with --format json one document {\"images\":[...]}.\n"
		"\n"
		"Which user: when the image's User already resolves (as runc) to a non-root user, that\n"
		"user is kept and written numeric (www-data -> 33:33); a numeric User without a passwd\n"
		"entry gets one. Otherwise (root, or --new-user) the user app 1654:1654 is added.\n"
		"--user NAME naming an existing non-root user reuses its ids.\n"
		"After writing, patch audits its result: what remains at error level is listed.\n"
		"\n"
		"Options:\n"
		"  -o, --output DEST    write the result to DEST (any transport) instead of in place\n"
		"  --tag TAG            add TAG to the result and keep the old tag\n"
		"  --user NAME          user and group name (default app; an existing non-root user\n"
		"                       of that name is reused with its ids)\n"
		"  --uid N, --gid N     ids (default 1654; gid defaults to the uid; an existing group\n"
		"                       with gid N is joined)\n"
		"  --new-user           add a new user even when the image's User is non-root\n"
		"  --no-passwd-entry    keep a numeric User that has no passwd entry without one\n"
		"  --threshold N        first unprivileged port (default 1024): the port map must\n"
		"                       map onto ports >= N\n"
		"  --home DIR           home directory (default /home/NAME, created 0755 owned uid:gid)\n"
		"  --no-home            do not create the home directory\n"
		"  --shell PATH         login shell (default /sbin/nologin if the image has it, else\n"
		"                       /bin/false)\n"
		"  --port-map MAP       default 80:8080,443:8443\n"
		"  --mode MODE          non-root (default): switch the user and move the ports;\n"
		"                       compat: add the user and the new ports beside the old ones\n"
		"                       (http://+:80 becomes http://+:80;http://+:8080), keep the user\n"
		"  --platform P         only this platform of a multi-platform image\n"
		"  --dry-run            print the plan, write nothing\n"
		"  --verify             then run the result with 'nonroot verify' (runc, as root) and\n"
		"                       fail (exit 1) when the proof fails; with --runtime PATH,\n"
		"                       --timeout S, --port N, --http as for verify\n"
		"  --format FMT         text (default) or json (the changes, the new layer, config\n"
		"                       and manifest digests, the written image's digest)\n"
		"  --digestfile FILE    write the digest of the written image's manifest (or index)\n"
		"                       to FILE, as skopeo copy --digestfile does (the image is\n"
		"                       written even when unchanged)\n"
		"  -q, --quiet          text: print only the warnings (what the patch could not fix)\n"
		"                       and, with --verify, only the proof's FAIL lines\n"
		CLI_CACHE_USAGE
		CLI_REGISTRY_USAGE
		CLI_FLEET_USAGE
		"  -h, --help           this help\n"
		"\n"
		"SOURCE_DATE_EPOCH, when set, is the new layer's mtime (else the image's created time).\n"
		"Exit status: 0 patched (or already patched, or planned) and the result is clean at\n"
		"error level; 1 written, but error-level findings remain (listed, with their fixes);\n"
		"2 usage or input error (a user or id taken by another account is named with the\n"
		"option that avoids it; a port map onto a privileged port names the threshold).\n");
}

static void text_value(const char *s)
{
	cli_put_safe(stdout, s ? s : "(none)");
}

static void print_text(const char *ref, const nr_patch_report *r, int dry_run,
	const char *written, int quiet)
{
	size_t k, n = nr_patch_report_count(r);
	const char *platform = NULL;

	for (k = 0; k < n; k++) {
		const nr_patch_change *c = nr_patch_report_at(r, k);

		if (quiet) {
			if (!strcmp(c->what, "warning"))
				printf("%s: ! %s: %s\n", c->platform, c->target, c->why);
			continue;
		}
		if (platform == NULL || strcmp(platform, c->platform) != 0) {
			platform = c->platform;
			printf("%s:\n", platform);
		}
		if (!strcmp(c->what, "warning")) {
			fputs("  ! ", stdout);
			cli_put_safe(stdout, c->target);
			fputs(": ", stdout);
			cli_put_safe(stdout, c->why);
			fputc('\n', stdout);
			continue;
		}
		printf("  %s %s ", c->before ? "~" : "+", c->what);
		cli_put_safe(stdout, c->target);
		fputs(": ", stdout);
		if (c->before) {
			text_value(c->before);
			fputs(" -> ", stdout);
		}
		text_value(c->after);
		fputs("\n      (", stdout);
		cli_put_safe(stdout, c->why);
		fputs(")\n", stdout);
	}
	if (quiet)
		return;
	if (!nr_patch_report_changed(r))
		printf("%s: already patched: nothing to change (user %u:%u)\n", ref,
			(unsigned)nr_patch_report_uid(r), (unsigned)nr_patch_report_gid(r));
	if (dry_run)
		printf("dry run: nothing written\n");
	else if (written)
		printf("wrote %s\n", written);
}

/* --digestfile FILE: the written image's manifest (or index) digest, as skopeo's. */
static int write_digestfile(const char *path, const nr_image *img, const char *written)
{
	const nr_descriptor *d = nr_image_written(img);
	FILE *f;
	int e;

	if (d == NULL)
		return cli_failf("patch: --digestfile: %s has no one manifest digest (a docker-archive, "
			"or several index.json entries)", written);
	if ((f = fopen(path, "w")) == NULL)
		return cli_failf("patch: --digestfile %s: %s", path, strerror(errno));
	e = fputs(d->digest, f) < 0;
	if (fclose(f) != 0 || e)
		return cli_failf("patch: --digestfile %s: %s", path, strerror(errno ? errno : EIO));
	return NR_EXIT_OK;
}

/* The error-level findings that remain in the result (patch's own audit). */
static size_t remaining_count(const nr_audit *a)
{
	size_t k, n = 0;

	for (k = 0; k < nr_audit_count(a); k++)
		if (nr_audit_at(a, k)->level >= NR_LEVEL_ERROR)
			n++;
	return n;
}

static void print_remaining_text(const char *ref, const nr_audit *a, int compat, int quiet)
{
	size_t k, n = remaining_count(a);

	if (a == NULL || (quiet && n == 0))
		return;
	if (n == 0) {
		printf("audit of the result: clean at error level\n");
		return;
	}
	printf("NOT DONE: %zu error-level finding%s remain%s in the result (the image still "
		"cannot run as non-root):\n", n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	for (k = 0; k < nr_audit_count(a); k++) {
		const nr_finding *f = nr_audit_at(a, k);
		if (f->level < NR_LEVEL_ERROR)
			continue;
		printf("  %s %s %s: %s\n          fix: %s\n", f->platform, f->id, f->location,
			f->message, f->fix);
	}
	if (compat)
		printf("compat mode keeps the image's user: patch again without --mode compat to "
			"finish the migration\n");
	fflush(stdout);
	fprintf(stderr, "nonroot: patch %s: not fixed: %zu error-level finding%s remain%s (see "
		"above; nonroot audit lists them all)\n", ref, n, n == 1 ? "" : "s",
		n == 1 ? "s" : "");
}

static void json_finding(const nr_finding *f)
{
	printf("{\"platform\":");
	cli_json_string(stdout, f->platform);
	printf(",\"id\":\"%s\",\"level\":\"%s\",\"location\":", f->id, nr_level_name(f->level));
	cli_json_string(stdout, f->location);
	printf(",\"message\":");
	cli_json_string(stdout, f->message);
	printf(",\"fix\":");
	cli_json_string(stdout, f->fix);
	putchar('}');
}

/* ,"clean":bool|null,"remaining":[error-level findings],"findings":[all findings] */
static void print_remaining_json(const nr_audit *a)
{
	size_t k, first = 1;

	if (a == NULL) {
		printf(",\"clean\":null,\"remaining\":null,\"findings\":null");
		return;
	}
	printf(",\"clean\":%s,\"remaining\":[", remaining_count(a) ? "false" : "true");
	for (k = 0; k < nr_audit_count(a); k++) {
		const nr_finding *f = nr_audit_at(a, k);
		if (f->level < NR_LEVEL_ERROR)
			continue;
		if (!first)
			putchar(',');
		json_finding(f);
		first = 0;
	}
	printf("],\"findings\":[");
	for (k = 0; k < nr_audit_count(a); k++) {
		if (k)
			putchar(',');
		json_finding(nr_audit_at(a, k));
	}
	putchar(']');
}

/* The library's report (nr_patch_report_to_json()) with the audit of the result spliced in. */
static int print_json(const char *ref, const nr_patch_report *r, const char *written,
	const nr_audit *a)
{
	nr_error err = NR_ERROR_INIT;
	char *doc = NULL;
	size_t len = 0;

	if (nr_patch_report_to_json(&doc, &len, r, ref, written, &err) < 0)
		return cli_fail(ref, &err);
	/* the document is one compact object: drop its closing brace, add the audit's keys */
	if (len > 0 && doc[len - 1] == '}')
		doc[len - 1] = '\0';
	fputs(doc, stdout);
	print_remaining_json(a);
	puts("}");
	nr_free(doc);
	return NR_EXIT_OK;
}

/* One platform of a multi-platform image patched in place: the others are left as they were
 * (still root, for a root image): say which, so nobody takes the image for done. */
static void warn_other_platforms(const char *ref, const nr_image_open_options *oo,
	const nr_image *img)
{
	nr_image_open_options all = *oo;
	nr_image *whole = NULL;
	nr_error err = NR_ERROR_INIT;
	const char *done = nr_image_platform_at(img, 0), *p;
	size_t i, n = 0;

	all.platform = NULL;
	if (done == NULL || nr_image_open(&whole, ref, &all, &err) < 0)
		return;
	for (i = 0; i < nr_image_count(whole); i++) {
		p = nr_image_platform_at(whole, i);
		if (p == NULL || strcmp(p, done) == 0)
			continue;
		if (n++ == 0)
			fprintf(stderr, "nonroot: warning: %s: patched %s only; left untouched (as "
				"they were: still root if they ran as root): %s", ref, done, p);
		else
			fprintf(stderr, ", %s", p);
	}
	if (n)
		fprintf(stderr, "\n  (patch each with --platform, or all of them without it)\n");
	nr_image_free(whole);
}

enum { O_TAG = 256, O_USER, O_UID, O_GID, O_HOME, O_SHELL, O_PORTMAP, O_NOHOME, O_DRY,
	O_FORMAT, O_MODE, O_PLATFORM, O_VERIFY, O_NEWUSER, O_NOENTRY, O_THRESHOLD, O_DIGESTFILE };

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "tag", required_argument, NULL, O_TAG },
	{ "user", required_argument, NULL, O_USER },
	{ "uid", required_argument, NULL, O_UID },
	{ "gid", required_argument, NULL, O_GID },
	{ "home", required_argument, NULL, O_HOME },
	{ "shell", required_argument, NULL, O_SHELL },
	{ "port-map", required_argument, NULL, O_PORTMAP },
	{ "no-home", no_argument, NULL, O_NOHOME },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "mode", required_argument, NULL, O_MODE },
	{ "platform", required_argument, NULL, O_PLATFORM },
	{ "verify", no_argument, NULL, O_VERIFY },
	{ "digestfile", required_argument, NULL, O_DIGESTFILE },
	{ "runtime", required_argument, NULL, VERIFY_O_RUNTIME },
	{ "timeout", required_argument, NULL, VERIFY_O_TIMEOUT },
	{ "port", required_argument, NULL, VERIFY_O_PORT },
	{ "http", no_argument, NULL, VERIFY_O_HTTP },
	{ "new-user", no_argument, NULL, O_NEWUSER },
	{ "no-passwd-entry", no_argument, NULL, O_NOENTRY },
	{ "threshold", required_argument, NULL, O_THRESHOLD },
	CLI_CACHE_LONGOPTS,
	CLI_REGISTRY_LONGOPTS,
	CLI_FLEET_LONGOPTS,
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The command line of nonroot patch. */
typedef struct patch_args {
	nr_patch_options po;
	nr_image_open_options oo;
	nr_image_write_options wo;
	nr_audit_options ao;
	nr_portmap map;
	cli_fleet fleet;
	verify_opts vo;
	const char *dest, *digestfile;
	int json, verify, have_map, quiet;
} patch_args;

#define CONTINUE (-1)   /* parse_option(), check_options(): go on */

/* The ids and the threshold: CONTINUE or an exit status. */
static int parse_number(patch_args *pa, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case 'j':
		if (cli_parse_uint("--jobs", arg, 256, &v) < 0)
			return NR_EXIT_USAGE;
		if (v == 0)
			return cli_usage_error("patch", "--jobs: at least 1");
		pa->fleet.jobs = v;
		break;
	case O_UID:
		if (cli_parse_uint("--uid", arg, 2147483647ul, &v) < 0)
			return NR_EXIT_USAGE;
		pa->po.uid = (uint32_t)v;
		break;
	case O_GID:
		if (cli_parse_uint("--gid", arg, 2147483647ul, &v) < 0)
			return NR_EXIT_USAGE;
		pa->po.gid = (uint32_t)v;
		break;
	case O_THRESHOLD:
		if (cli_parse_uint("--threshold", arg, 65535, &v) < 0)
			return NR_EXIT_USAGE;
		if (v == 0)
			return cli_usage_error("patch", "--threshold: must be 1..65535");
		pa->po.threshold = (unsigned)v;
		pa->ao.threshold = (unsigned)v;
		break;
	}
	return CONTINUE;
}

/* One option: CONTINUE or an exit status (NR_EXIT_OK after --help). */
static int parse_option(patch_args *pa, int c, char *arg)
{
	nr_error err = NR_ERROR_INIT;

	switch (c) {
	case CLI_O_FROM: pa->fleet.from = arg; break;
	case 'j': case O_UID: case O_GID: case O_THRESHOLD: return parse_number(pa, c, arg);
	case CLI_O_CACHE: case CLI_O_NOCACHE: cli_cache_option(c, arg); break;
	case CLI_O_CREDS: case CLI_O_AUTHFILE: case CLI_O_TLSVERIFY: case CLI_O_CERTDIR:
		if (cli_registry_option("patch", c, arg, &pa->oo) != 0)
			return NR_EXIT_USAGE;
		break;
	case 'o': pa->dest = arg; break;
	case 'q': pa->quiet = 1; break;
	case O_TAG: pa->wo.tag = arg; break;
	case O_DIGESTFILE: pa->digestfile = arg; break;
	case O_USER: pa->po.user = arg; break;
	case O_HOME: pa->po.home = arg; break;
	case O_SHELL: pa->po.shell = arg; break;
	case O_PORTMAP:
		if (nr_portmap_parse(&pa->map, arg, strlen(arg), &err) < 0)
			return cli_fail("--port-map", &err);
		pa->po.ports = &pa->map;
		pa->have_map = 1;
		break;
	case O_NOHOME: pa->po.no_home = 1; break;
	case O_DRY: pa->po.dry_run = 1; break;
	case O_FORMAT:
		if (!strcmp(arg, "json"))
			pa->json = 1;
		else if (!strcmp(arg, "text"))
			pa->json = 0;
		else
			return cli_usage_error("patch", "--format: '%s' is not text or json", arg);
		break;
	case O_MODE:
		if (!strcmp(arg, "non-root") || !strcmp(arg, "nonroot"))
			pa->po.mode = NR_PATCH_NONROOT;
		else if (!strcmp(arg, "compat"))
			pa->po.mode = NR_PATCH_COMPAT;
		else
			return cli_usage_error("patch", "--mode: '%s' is not non-root or compat", arg);
		break;
	case O_PLATFORM: pa->oo.platform = arg; break;
	case O_VERIFY: pa->verify = 1; break;
	case VERIFY_O_RUNTIME: case VERIFY_O_TIMEOUT: case VERIFY_O_PORT: case VERIFY_O_HTTP: {
		int rc = cli_verify_parse(&pa->vo, c, arg, "patch");
		return rc != 0 ? rc : CONTINUE;
	}
	case O_NEWUSER: pa->po.new_user = 1; break;
	case O_NOENTRY: pa->po.no_passwd_entry = 1; break;
	case 'h': usage(stdout); return NR_EXIT_OK;
	default: return cli_usage_error("patch", "invalid option");
	}
	return CONTINUE;
}

/* The options that go (or do not go) together, checked before any work: CONTINUE or an
 * exit status. */
static int check_options(patch_args *pa, int nargs)
{
	const nr_patch_options *po = &pa->po;
	unsigned threshold = po->threshold ? po->threshold : NR_UNPRIVILEGED_PORT_START;
	size_t k;

	if (nargs <= 0 && pa->fleet.from == NULL)
		return cli_usage_error("patch", "missing IMAGE");
	if ((nargs > 1 || pa->fleet.from) && pa->dest)
		return cli_usage_error("patch", "-o takes one IMAGE (several images are patched "
			"in place, or with --tag)");
	if ((pa->vo.runtime || pa->vo.timeout > 0 || pa->vo.nports || pa->vo.http) && !pa->verify)
		return cli_usage_error("patch", "--runtime, --timeout, --port and --http go with --verify");
	if (pa->verify && po->dry_run)
		return cli_usage_error("patch", "--verify needs an image: not with --dry-run");
	if (pa->verify && pa->wo.tag)
		return cli_usage_error("patch", "--verify: give the tag in -o DEST instead of --tag");
	/* A port map onto a privileged port can never make the image run as non-root. */
	if (!pa->have_map)
		nr_portmap_default(&pa->map);
	for (k = 0; k < pa->map.count; k++)
		if (pa->map.entries[k].to < threshold)
			return cli_usage_error("patch", "--port-map %u:%u: port %u is privileged "
				"(below the threshold %u, see --threshold): a non-root user cannot bind "
				"it; map onto a port >= %u", (unsigned)pa->map.entries[k].from,
				(unsigned)pa->map.entries[k].to, (unsigned)pa->map.entries[k].to,
				threshold, threshold);
	if (pa->digestfile && (po->dry_run || nargs > 1 || pa->fleet.from))
		return cli_usage_error("patch", "--digestfile takes one IMAGE and writes it (not with "
			"--dry-run)");
	if (pa->digestfile && pa->dest && strncmp(pa->dest, "docker-archive:", 15) == 0)
		return cli_usage_error("patch", "--digestfile: a docker-archive stores no manifest "
			"digest");
	return CONTINUE;
}

/* Open ref, check the destination, patch, write: CONTINUE or an exit status; *written is
 * where the result went (NULL: nowhere). */
static int patch_write(patch_args *pa, const char *ref, nr_image **img, nr_patch_report **rep,
	const char **written)
{
	nr_error err = NR_ERROR_INIT;
	cli_progress prog;

	cli_progress_init(&prog, "patch");
	pa->po.progress = cli_progress_cb;
	pa->po.payload = &prog;
	if (nr_image_open(img, ref, &pa->oo, &err) < 0)
		return cli_fail(ref, &err);
	if (pa->digestfile && !pa->dest &&
	    nr_image_transport_of(*img) == NR_TRANSPORT_DOCKER_ARCHIVE)
		return cli_usage_error("patch", "--digestfile: a docker-archive stores no manifest "
			"digest");
	/* The destination and tags are checked before any work, by the same code the write
	 * uses: a dry run validates exactly what the real run would. */
	if (nr_image_write_check(*img, pa->dest, &pa->wo, &err) < 0)
		return err.code == NR_EARG ? cli_usage_error("patch", "%s%s%s", *err.source ?
			err.source : "", *err.source ? ": " : "", err.message) : cli_fail(pa->dest ?
			pa->dest : ref, &err);
	if (nr_image_patch(rep, *img, &pa->po, &err) < 0) {
		cli_progress_done(&prog);
		return cli_fail(ref, &err);
	}
	cli_progress_done(&prog);
	/* --digestfile: written even when unchanged, for the digest of what is there */
	if (!pa->po.dry_run && (nr_patch_report_changed(*rep) || pa->dest || pa->wo.tag ||
	    pa->digestfile)) {
		if (nr_image_write(*img, pa->dest, &pa->wo, &err) < 0 ||
		    nr_patch_report_set_written(*rep, *img, &err) < 0)
			return cli_fail(pa->dest ? pa->dest : ref, &err);
		*written = pa->dest ? pa->dest : ref;
	}
	return CONTINUE;
}

/* Patch one image: open, patch, write, audit the result, print, and --verify. */
static int patch_image(patch_args *pa, const char *ref)
{
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	nr_patch_report *rep = NULL;
	nr_audit *audit = NULL;
	const char *written = NULL;
	int rc;

	if ((rc = patch_write(pa, ref, &img, &rep, &written)) != CONTINUE)
		goto done;
	if (written && !pa->dest && pa->oo.platform)
		warn_other_platforms(ref, &pa->oo, img);
	if (pa->digestfile && (rc = write_digestfile(pa->digestfile, img, written)) != NR_EXIT_OK)
		goto done;
	/* Audit the result (the patched image in memory, as written): 0 only when clean at
	 * error level. A dry run has no result to audit. */
	if (!pa->po.dry_run && nr_image_audit(&audit, img, &pa->ao, &err) < 0) {
		rc = cli_fail(written ? written : ref, &err);
		goto done;
	}
	if (pa->json) {
		if ((rc = print_json(ref, rep, written, audit)) != NR_EXIT_OK)
			goto done;
	} else {
		print_text(ref, rep, pa->po.dry_run, written, pa->quiet);
		print_remaining_text(ref, audit, pa->po.mode == NR_PATCH_COMPAT, pa->quiet);
	}
	rc = audit && remaining_count(audit) ? NR_EXIT_FINDINGS : NR_EXIT_OK;
	if (pa->verify) {
		/* the proof by running, on what was written (or the unchanged image); its report
		 * goes to stderr in JSON mode so that stdout stays one JSON document. The worse of
		 * the audit's and the proof's status is the patch's. */
		int vrc;
		nr_image_free(img);
		img = NULL;
		pa->vo.platform = pa->oo.platform;
		pa->vo.open = &pa->oo;
		pa->vo.out = pa->json ? stderr : stdout;
		pa->vo.quiet = pa->quiet;
		vrc = cli_verify_image(written ? written : ref, &pa->vo);
		if (vrc > rc)
			rc = vrc;
	}
done:
	nr_audit_free(audit);
	nr_patch_report_free(rep);
	nr_image_free(img);
	return rc;
}

int nr_cmd_patch(int argc, char **argv)
{
	nr_patch_options po_init = NR_PATCH_OPTIONS_INIT;
	nr_image_open_options oo_init = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_image_write_options wo_init = NR_IMAGE_WRITE_OPTIONS_INIT;
	nr_audit_options ao_init = NR_AUDIT_OPTIONS_INIT;
	patch_args pa;
	const char *ref;
	int c, rc;

	memset(&pa, 0, sizeof(pa));
	pa.po = po_init;
	pa.oo = oo_init;
	pa.wo = wo_init;
	pa.ao = ao_init;
	cli_cache_default();
	while ((c = getopt_long(argc, argv, "o:hqj:", longopts, NULL)) != -1)
		if ((rc = parse_option(&pa, c, optarg)) != CONTINUE)
			return rc;
	cli_cache_check();
	if ((rc = check_options(&pa, argc - optind)) != CONTINUE)
		return rc;
	pa.fleet.json = pa.json;
	if ((rc = cli_fleet_run("patch", &pa.fleet, argc - optind, argv + optind, &ref)) !=
	    CLI_FLEET_ONE)
		return rc;
	return patch_image(&pa, ref);
}
