/*
 * audit.c: findings about what makes an image need root (see audit.h for the rules): the
 * rule table, the nr_audit object and its accessors, and nr_image_audit().
 *
 * The rules run over plain facts (nr__audit_eval, audit_eval.c), gathered from the image by
 * one layer scan (passwd, group, set-id files) and, for a non-root user with a home, a second
 * scan for the home directory.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "audit_internal.h"
#include "image_internal.h"
#include "imgconfig_internal.h"
#include "patch_internal.h"
#include "serverports.h"
#include "nonroot/imgconfig.h"

static const nr_audit_rule rules[] = {
	{ "NR001", "runs-as-root", NR_LEVEL_ERROR,
	  "The image runs as root",
	  "Add a non-root user and set a numeric User: nonroot patch IMAGE (user app, 1654:1654)." },
	{ "NR002", "user-not-found", NR_LEVEL_ERROR,
	  "The image's User is not in its /etc/passwd or /etc/group: the runtime refuses to start it",
	  "Add the user to the image (nonroot patch IMAGE --user NAME) or set a numeric User." },
	{ "NR003", "non-numeric-user", NR_LEVEL_WARNING,
	  "The image's User is a name: Kubernetes runAsNonRoot cannot verify it",
	  "Set User to numeric UID:GID (nonroot patch writes \"1654:1654\")." },
	{ "NR004", "exposed-privileged-port", NR_LEVEL_WARNING,
	  "ExposedPorts has a privileged port (below 1024)",
	  "Expose the unprivileged port the server listens on as non-root (nonroot patch maps "
	  "80/tcp to 8080/tcp and 443/tcp to 8443/tcp)." },
	{ "NR005", "aspnet-privileged-port", NR_LEVEL_ERROR,
	  "An ASP.NET Core variable makes Kestrel bind a privileged port",
	  "Move the binding to a port >= 1024 (nonroot patch rewrites ASPNETCORE_URLS, DOTNET_URLS "
	  "and ASPNETCORE_HTTP(S)_PORTS: 80 to 8080, 443 to 8443)." },
	{ "NR006", "healthcheck-privileged-port", NR_LEVEL_WARNING,
	  "The health check probes a privileged port",
	  "Probe the port the server listens on as non-root (nonroot patch rewrites the URL)." },
	{ "NR007", "port-fallback", NR_LEVEL_WARNING,
	  "A URL's port is not a number: Kestrel silently binds the scheme's default port",
	  "Write the port as a number, e.g. http://+:8080." },
	{ "NR008", "setid-file", NR_LEVEL_WARNING,
	  "The image has a set-uid or set-gid file",
	  "Remove the set-id bit (chmod u-s,g-s) or the file, and run with no-new-privileges "
	  "(nonroot bundle harden)." },
	{ "NR009", "home-not-owned", NR_LEVEL_WARNING,
	  "The user's home directory is missing or not owned by the user",
	  "Create the home owned by the user (nonroot patch does: 0755 UID:GID)." },
	{ "NR010", "aspnet-invalid-address", NR_LEVEL_ERROR,
	  "An ASP.NET Core address is invalid: Kestrel would refuse to start",
	  "Correct the address (see nonroot urls --check NAME=VALUE)." },
	{ "NR011", "user-without-entry", NR_LEVEL_NOTE,
	  "The numeric User has no passwd entry: it runs with gid 0, HOME=/ and no name",
	  "Add the user: nonroot patch IMAGE --uid UID." },
	{ "NR012", "command-privileged-port", NR_LEVEL_ERROR,
	  "A Cmd or Entrypoint argument makes the server listen on a privileged port",
	  "Change the argument to a port >= 1024 (e.g. -p 8080) and expose that port: nonroot "
	  "patch cannot rewrite program arguments." },
	{ "NR013", "server-config-privileged-port", NR_LEVEL_ERROR,
	  "A server configuration file in the image (nginx, Apache, lighttpd) listens on a "
	  "privileged port",
	  "Make the server listen on a port >= 1024 (nginx: listen 8080; Apache: Listen 8080; "
	  "lighttpd: server.port = 8080) in a new layer: nonroot patch cannot edit server "
	  "configurations." },
	{ "NR014", "root-group", NR_LEVEL_WARNING,
	  "The non-root user runs with group 0 (root's group), as its primary or a supplementary "
	  "group: it may read and write what root's group may",
	  "Set User to numeric UID:GID with a GID other than 0 and take the user out of group 0 "
	  "(nonroot patch writes \"1654:1654\")." },
	{ "NR015", "file-capabilities", NR_LEVEL_WARNING,
	  "The image has a file with file capabilities (security.capability): running it grants "
	  "them like a set-uid bit",
	  "Remove the capabilities (setcap -r FILE) in a new layer, or the file, and run with "
	  "no-new-privileges and no bounding capabilities (nonroot bundle harden)." },
};

const char *nr_level_name(nr_level level)
{
	switch (level) {
	case NR_LEVEL_NONE: return "none";
	case NR_LEVEL_NOTE: return "note";
	case NR_LEVEL_WARNING: return "warning";
	case NR_LEVEL_ERROR: return "error";
	default: return "?";
	}
}

size_t nr_audit_rule_count(void)
{
	return NR_ARRAY_SIZE(rules);
}

const nr_audit_rule *nr_audit_rule_at(size_t k)
{
	return k < NR_ARRAY_SIZE(rules) ? &rules[k] : NULL;
}

const nr_audit_rule *nr_audit_rule_get(const char *id)
{
	size_t k;

	for (k = 0; id && k < NR_ARRAY_SIZE(rules); k++)
		if (!strcmp(rules[k].id, id))
			return &rules[k];
	return NULL;
}

int nr_audit_options_init(nr_audit_options *opts, unsigned int version)
{
	nr_audit_options init = NR_AUDIT_OPTIONS_INIT;

	if (opts == NULL || version != NR_AUDIT_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

size_t nr_audit_platform_count(const nr_audit *a)
{
	return a ? a->np : 0;
}

const char *nr_audit_platform_at(const nr_audit *a, size_t i)
{
	return a && i < a->np ? a->p[i].platform : NULL;
}

const char *nr_audit_user(const nr_audit *a, size_t i)
{
	return a && i < a->np ? a->p[i].user : NULL;
}

const nr_bindings *nr_audit_bindings(const nr_error **why, const nr_audit *a, size_t i)
{
	if (why)
		*why = a && i < a->np && a->p[i].bindings == NULL ? &a->p[i].bindings_err : NULL;
	return a && i < a->np ? a->p[i].bindings : NULL;
}

size_t nr_audit_count(const nr_audit *a)
{
	return a ? a->n : 0;
}

const nr_finding *nr_audit_at(const nr_audit *a, size_t k)
{
	return a && k < a->n ? &a->f[k] : NULL;
}

nr_level nr_audit_max_level(const nr_audit *a)
{
	return a ? a->max : NR_LEVEL_NONE;
}

size_t nr_audit_suppressed_count(const nr_audit *a)
{
	return a ? a->suppressed : 0;
}

int nr_audit_apply(nr_audit *a, const nr_audit_config *cfg, nr_error *err)
{
	size_t k, kept = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(a, err);
	if (cfg == NULL)
		return 0;
	a->max = NR_LEVEL_NONE;
	for (k = 0; k < a->n; k++) {
		nr_finding *f = &a->f[k];
		int level, in_baseline;
		if (!nr__audit_config_keeps(cfg, f, &level, &in_baseline)) {
			free((char *)f->platform);
			free((char *)f->location);
			free((char *)f->message);
			free((char *)f->fix);
			free((char *)f->fingerprint);
			a->suppressed++;
			continue;
		}
		f->level = (nr_level)level;
		f->baseline = in_baseline;
		if (!in_baseline && level > a->max)
			a->max = level;
		a->f[kept++] = *f;
	}
	a->n = kept;
	return 0;
}

void nr_audit_free(nr_audit *a)
{
	size_t k;

	if (a == NULL)
		return;
	for (k = 0; k < a->n; k++) {
		free((char *)a->f[k].platform);
		free((char *)a->f[k].location);
		free((char *)a->f[k].message);
		free((char *)a->f[k].fix);
		free((char *)a->f[k].fingerprint);
	}
	for (k = 0; k < a->np; k++) {
		free(a->p[k].platform);
		free(a->p[k].user);
		nr_bindings_free(a->p[k].bindings);
	}
	free(a->f);
	free(a->p);
	json_decref(a->occ);
	free(a);
}

nr_audit *nr__audit_new(void)
{
	return nr__calloc(1, sizeof(nr_audit));
}

/* ---- over an image ----------------------------------------------------------------------- */

typedef struct lookup_ctx {
	nr_image *img;
	size_t i;
	const nr_audit_options *opts;
	const nr_scan_result *first;   /* the first scan: it may hold the path already */
} lookup_ctx;

static int image_lookup(void *ctx_, const char *path, int *type, uint64_t *uid, uint64_t *gid,
	nr_error *err)
{
	lookup_ctx *c = ctx_;
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	const nr_scan_entry *en;
	const char *paths[1];
	int error;

	if ((en = nr_scan_result_get(c->first, path)) != NULL) {
		*type = (int)en->type;
		*uid = en->uid;
		*gid = en->gid;
		return 0;
	}
	paths[0] = path;
	req.paths = paths;
	req.npaths = 1;
	req.content_max = 1;
	req.progress = c->opts->progress;
	req.payload = c->opts->payload;
	if ((error = nr_image_scan(&res, c->img, c->i, &req, err)) < 0)
		return error;
	en = nr_scan_result_get(res, path);
	*type = en ? (int)en->type : NR_ENTRY_NONE;
	*uid = en ? en->uid : 0;
	*gid = en ? en->gid : 0;
	nr_scan_result_free(res);
	return 0;
}

/* The paths audit_one scans for: the account files, likely homes (so that the home check
 * rarely needs a second pass: /home/app, the patched images', and /home/NAME for a User given
 * by name) and the server configuration files. Returns how many (at most max). */
static size_t scan_paths(const char **paths, size_t max, char *guess, size_t guesssz,
	const char *config, size_t config_len)
{
	nr_imgconfig *cfg = NULL;
	size_t n = 0, k;

	paths[n++] = "etc/passwd";
	paths[n++] = "etc/group";
	paths[n++] = "home/app";
	if (nr_imgconfig_parse(&cfg, config, config_len, NULL) == 0) {
		const char *u = nr_imgconfig_user(cfg);
		size_t len = strcspn(u, ":");
		uint64_t v;
		if (len > 0 && len < 128 && nr__parse_u64(u, len, UINT64_MAX, &v) == NR_EINVALID &&
		    !memchr(u, '/', len)) {
			snprintf(guess, guesssz, "home/%.*s", (int)len, u);
			paths[n++] = guess;
		}
	}
	nr_imgconfig_free(cfg);
	for (k = 0; nr__server_config_paths[k] && n < max; k++)
		paths[n++] = nr__server_config_paths[k];
	return n;
}

/* The set-id and file-capability entries of res as facts (*out: free it). */
static int setid_facts(const nr_scan_result *res, nr__audit_setid **out, size_t *n,
	nr_error *err)
{
	nr__audit_setid *setid = NULL;
	const nr__scan_caps *caps;
	size_t k, ns = nr_scan_result_setid_count(res);

	*out = NULL;
	*n = 0;
	if (ns > 0 && (setid = nr__calloc(ns, sizeof(*setid))) == NULL)
		return nr__error_oom(err);
	for (k = 0; k < ns; k++) {
		const nr_scan_entry *s = nr_scan_result_setid_at(res, k);
		setid[k].path = s->path;
		setid[k].mode = s->mode;
		setid[k].uid = s->uid;
		setid[k].gid = s->gid;
		if ((caps = nr__scan_result_caps(res, k)) != NULL) {
			setid[k].caps = caps->data;
			setid[k].caps_len = caps->len;
		}
	}
	*out = setid;
	*n = ns;
	return 0;
}

/* The account and server configuration files of res into f (files: max entries). */
static void file_facts(const nr_scan_result *res, nr__audit_facts *f, nr__audit_file *files,
	size_t max)
{
	const nr_scan_entry *pw = nr_scan_result_get(res, "etc/passwd");
	const nr_scan_entry *gr = nr_scan_result_get(res, "etc/group");
	size_t k;

	if (pw && pw->type == NR_ENTRY_REGULAR && pw->content) {
		f->passwd = pw->content;
		f->passwd_len = pw->content_len;
	}
	if (gr && gr->type == NR_ENTRY_REGULAR && gr->content) {
		f->group = gr->content;
		f->group_len = gr->content_len;
	}
	for (k = 0; nr__server_config_paths[k] && f->nfiles < max; k++) {
		const nr_scan_entry *c = nr_scan_result_get(res, nr__server_config_paths[k]);
		if (c && c->type == NR_ENTRY_REGULAR && c->content) {
			files[f->nfiles].path = nr__server_config_paths[k];
			files[f->nfiles].content = c->content;
			files[f->nfiles].len = c->content_len;
			f->nfiles++;
		}
	}
	f->files = files;
}

static int audit_one(nr_image *img, size_t i, const nr_audit_options *opts, nr_audit *a,
	nr_error *err)
{
	const char *paths[16];
	nr__audit_file files[12];
	char guess[160];
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	nr__audit_facts f;
	nr__audit_setid *setid = NULL;
	lookup_ctx lc;
	int error;

	memset(&f, 0, sizeof(f));
	f.manifest = i;
	f.platform = nr_image_platform_at(img, i);
	if ((f.config = nr_image_config(&f.config_len, img, i)) == NULL)
		return nr__error_set(err, NR_EINVALID, f.platform, 0, 0, "audit: no config");
	req.npaths = scan_paths(paths, NR_ARRAY_SIZE(paths), guess, sizeof(guess), f.config,
		f.config_len);
	req.paths = paths;
	req.flags = NR_SCAN_SETID | NR_SCAN_CAPS;
	req.progress = opts->progress;
	req.payload = opts->payload;
	if ((error = nr_image_scan(&res, img, i, &req, err)) < 0)
		return error;
	file_facts(res, &f, files, NR_ARRAY_SIZE(files));
	if ((error = setid_facts(res, &setid, &f.nsetid, err)) < 0)
		goto done;
	f.setid = setid;
	lc.img = img;
	lc.i = i;
	lc.opts = opts;
	lc.first = res;
	f.lookup = image_lookup;
	f.lookup_ctx = &lc;
	f.threshold = opts->threshold;
	error = nr__audit_eval(a, &f, err);
done:
	free(setid);
	nr_scan_result_free(res);
	return error;
}

int nr_image_audit(nr_audit **out, nr_image *img, const nr_audit_options *opts, nr_error *err)
{
	nr_audit_options defaults = NR_AUDIT_OPTIONS_INIT;
	nr_audit *a;
	size_t i, n;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(img, err);
	if (opts == NULL)
		opts = &defaults;
	if ((error = nr__check_version(err, "nr_audit_options", opts->version,
	    NR_AUDIT_OPTIONS_VERSION)) < 0)
		return error;
	if ((n = nr_image_count(img)) == 0)
		return nr__error_set(err, NR_EINVALID, NULL, 0, 0, "audit: the image has no manifest");
	if ((a = nr__audit_new()) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < n; i++) {
		if ((error = audit_one(img, i, opts, a, err)) < 0) {
			nr_audit_free(a);
			return error;
		}
	}
	*out = a;
	return 0;
}

