/*
 * patch.c: nr_image_patch(), the plan that makes an image run as a non-root user, and its
 * application.
 *
 * Per manifest: one scan of the layer stack for the account files, nologin and the home
 * directory (and its parents); patch_accounts.c plans the passwd/group/shadow/gshadow edits
 * and the home; patch_config.c the config (User, env, ports, health check); newlayer streams
 * one reproducible layer into the image's blob writer; patch_report.c records what changed.
 * See patch.h for the contract.
 */
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "newlayer.h"
#include "patch_internal.h"
#include "image_internal.h"
#include "imgconfig_internal.h"
#include "nonroot/imgconfig.h"

#define DEFAULT_USER "app"
#define DEFAULT_ID 1654

int nr_patch_options_init(nr_patch_options *opts, unsigned int version)
{
	nr_patch_options init = NR_PATCH_OPTIONS_INIT;

	if (opts == NULL || version < 1 || version > NR_PATCH_OPTIONS_VERSION)
		return NR_EARG;
	init.version = version;
	/* A version 1 caller's struct ends before new_user. */
	memcpy(opts, &init, version == 1 ? offsetof(nr_patch_options, new_user) : sizeof(init));
	return 0;
}


/* ---- the plan ---------------------------------------------------------------------------- */

void nr__patch_plan_dispose(nr__patch_plan *p)
{
	size_t i;

	for (i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].data);
	}
	p->nfiles = 0;
}

/* Take ownership of data. */
int nr__patch_plan_add(nr__patch_plan *p, const char *path, int type, char *data, size_t len,
	uint32_t mode, uint32_t uid, uint32_t gid, nr_error *err)
{
	nr__patch_file *f;

	if (p->nfiles >= NR_ARRAY_SIZE(p->files)) {
		free(data);
		return nr__error_set(err, NR_ERROR, path, 0, 0, "patch: too many new layer entries");
	}
	f = &p->files[p->nfiles];
	if ((f->path = nr__strdup(path)) == NULL) {
		free(data);
		return nr__error_oom(err);
	}
	f->data = data;
	f->len = len;
	f->type = type;
	f->mode = mode;
	f->uid = uid;
	f->gid = gid;
	p->nfiles++;
	return 0;
}

int nr__patch_change(nr__patch_ctx *c, const char *what, const char *target, const char *before,
	const char *after, const char *why)
{
	return nr__patch_report_add(c->r, c->i, c->platform, what, target, before, after, why,
		c->err);
}


/* ---- the layer ------------------------------------------------------------------------------ */

static int sink_blob(void *ctx_, const void *buf, size_t len, nr_error *err)
{
	return nr_blob_writer_write(ctx_, buf, len, err);
}

static int sink_null(void *ctx_, const void *buf, size_t len, nr_error *err)
{
	(void)ctx_;
	(void)buf;
	(void)len;
	(void)err;
	return 0;
}

static int write_layer(nr__patch_ctx *c, nr__patch_plan *p, int64_t mtime, nr_imgconfig *cfg,
	const char *by, const char *comment)
{
	nr__layer_entry ents[NR_ARRAY_SIZE(p->files)];
	nr__layer_result lr;
	nr_blob_writer *w = NULL;
	nr_descriptor desc;
	const nr_descriptor *top;
	size_t nl = nr_image_layer_count(c->img, c->i), k;
	char digest[72], created[32], why[320];
	uint64_t size;
	int docker = 0, gzip = 1, error;

	for (k = 0; k < p->nfiles; k++) {
		ents[k].path = p->files[k].path;
		ents[k].type = p->files[k].type;
		ents[k].mode = p->files[k].mode;
		ents[k].uid = p->files[k].uid;
		ents[k].gid = p->files[k].gid;
		ents[k].data = p->files[k].data;
		ents[k].len = p->files[k].len;
	}
	/* Match the image's other layers: Docker or OCI media types, compressed or not. */
	if (nl > 0 && (top = nr_image_layer_at(c->img, c->i, nl - 1)) != NULL && top->media_type) {
		docker = strstr(top->media_type, "docker") != NULL;
		gzip = !nr__ends_with(top->media_type, ".tar") &&
			!nr__ends_with(top->media_type, "tar");
	} else {
		const char *mt = nr_image_manifest_media_type(c->img, c->i);
		docker = mt && strstr(mt, "docker") != NULL;
	}
	if (c->s->dry_run) {
		error = nr__newlayer_write(ents, p->nfiles, mtime, gzip, sink_null, NULL, &lr, c->err);
	} else {
		if ((error = nr_blob_writer_open(&w, c->img, c->err)) < 0)
			return error;
		error = nr__newlayer_write(ents, p->nfiles, mtime, gzip, sink_blob, w, &lr, c->err);
		if (error == 0)
			error = nr_blob_writer_finish(digest, &size, w, c->err);
		if (error == 0 && (strcmp(digest, lr.digest) != 0 || size != lr.size))
			error = nr__error_set(c->err, NR_EDIGEST, lr.digest, 0, 0,
				"patch: the stored layer %s does not match what was written", digest);
		if (error == 0) {
			desc.media_type = nr__newlayer_media_type(docker, gzip);
			desc.digest = lr.digest;
			desc.size = lr.size;
			error = nr_image_add_layer(c->img, c->i, &desc, c->err);
		}
		nr_blob_writer_free(w);
		if (error < 0)
			return error;
	}
	if (error < 0)
		return error;
	nr__format_time(created, sizeof(created), mtime);
	if ((error = nr_imgconfig_append_layer(cfg, lr.diff_id, created, by, comment, c->err)) < 0)
		return error;
	snprintf(why, sizeof(why), "one %s layer with only the changed files (%zu entries, %llu "
		"bytes), diff_id %s", nr__newlayer_media_type(docker, gzip), p->nfiles,
		(unsigned long long)lr.size, lr.diff_id);
	nr__patch_report_set_layer(c->r, c->i, lr.digest, lr.diff_id,
		nr__newlayer_media_type(docker, gzip), lr.size);
	return nr__patch_change(c, "layer", lr.digest, NULL, nr__newlayer_media_type(docker, gzip),
		why);
}

#define FIXED_PATHS 8

/* What one manifest's scan looks at, and what it found. */
typedef struct scan {
	const char *paths[64];
	size_t npaths;
	nr__buf homerel;
	nr_scan_request req;
	nr_scan_result *res;
} scan;

/* Append the home directory (relative) and each of its parents to paths. */
static int home_paths(const char **paths, size_t *npaths, size_t max, nr__buf *homerel,
	const char *home, nr_error *err)
{
	size_t k;
	int error;

	if ((error = nr__path_relative(homerel, home, err)) < 0)
		return error;
	for (k = 0; k < homerel->size && *npaths < max - 1; k++) {
		if (homerel->ptr[k] != '/')
			continue;
		homerel->ptr[k] = '\0';
		paths[*npaths] = nr__strdup(homerel->ptr);
		homerel->ptr[k] = '/';
		if (paths[*npaths] == NULL)
			return nr__error_oom(err);
		(*npaths)++;
	}
	if (homerel->size > 0)
		paths[(*npaths)++] = homerel->ptr;
	return 0;
}

static void free_paths(const char **paths, size_t *npaths, const nr__buf *homerel)
{
	size_t k;

	for (k = FIXED_PATHS; k < *npaths; k++)
		if (paths[k] != homerel->ptr)
			free((char *)paths[k]);
	*npaths = FIXED_PATHS;
}

/* Scan manifest i for the account files, nologin, the home and each of its parents. */
static int scan_first(scan *sc, nr_image *img, size_t i, const char *home,
	const nr_patch_options *opts, nr_error *err)
{
	int error;

	sc->paths[sc->npaths++] = "etc/passwd";
	sc->paths[sc->npaths++] = "etc/group";
	sc->paths[sc->npaths++] = "etc/shadow";
	sc->paths[sc->npaths++] = "etc/gshadow";
	sc->paths[sc->npaths++] = "sbin/nologin";
	sc->paths[sc->npaths++] = "etc";
	/* Where sbin/nologin usually points (merged /usr, busybox): asked for up front so that
	 * following the link does not cost a second pass over the layers. */
	sc->paths[sc->npaths++] = "usr/sbin/nologin";
	sc->paths[sc->npaths++] = "bin/busybox";
	if ((error = home_paths(sc->paths, &sc->npaths, NR_ARRAY_SIZE(sc->paths), &sc->homerel,
	    home, err)) < 0)
		return error;
	sc->req.paths = sc->paths;
	sc->req.npaths = sc->npaths;
	sc->req.progress = opts->progress;
	sc->req.payload = opts->payload;
	return nr_image_scan(&sc->res, img, i, &sc->req, err);
}

/* Scan again for another home (a reused user keeps its own). */
static int scan_home(scan *sc, nr_image *img, size_t i, const char *home, nr_error *err)
{
	int error;

	nr_scan_result_free(sc->res);
	sc->res = NULL;
	free_paths(sc->paths, &sc->npaths, &sc->homerel);
	if ((error = home_paths(sc->paths, &sc->npaths, NR_ARRAY_SIZE(sc->paths), &sc->homerel,
	    home, err)) < 0)
		return error;
	sc->req.npaths = sc->npaths;
	return nr_image_scan(&sc->res, img, i, &sc->req, err);
}

static void scan_dispose(scan *sc)
{
	free_paths(sc->paths, &sc->npaths, &sc->homerel);
	nr__buf_dispose(&sc->homerel);
	nr_scan_result_free(sc->res);
}

/* The new layer's time: the settings', else the config's `created`, and never before the
 * last history entry. */
static int layer_mtime(const nr__patch_settings *s, nr_imgconfig *cfg, int64_t *mtime,
	nr_error *err)
{
	const char *last;
	int64_t lt;
	int error;

	*mtime = s->mtime;
	if (*mtime < 0 && (error = nr__patch_mtime(mtime, nr_imgconfig_string(cfg, "created"),
	    err)) < 0)
		return error;
	last = nr__imgconfig_last_created(cfg);
	if (last && nr__parse_time(last, &lt) == 0 && lt > *mtime)
		*mtime = lt;
	return 0;
}

/* The account files, the home and, for an image without /etc (FROM scratch), /etc itself. */
static int plan_files(nr__patch_ctx *c, scan *sc, nr__patch_plan *p, int64_t mtime,
	const char **home, char *homebuf, size_t homesz)
{
	const nr__patch_settings *s = c->s;
	const char *shell = s->shell;
	const nr_scan_entry *etc;
	size_t k;
	int error;

	if (shell == NULL) {
		const nr_scan_entry *nl = nr_scan_result_get(sc->res, "sbin/nologin");
		shell = nl && nl->type == NR_ENTRY_REGULAR ? "/sbin/nologin" : "/bin/false";
	}
	if ((error = nr__patch_plan_accounts(c, sc->res, p, shell, home, homebuf, homesz,
	    mtime)) < 0)
		return error;
	if (!s->no_home) {
		if (strcmp(*home, s->home) != 0 &&
		    (error = scan_home(sc, c->img, c->i, *home, c->err)) < 0)
			return error;
		if ((error = nr__patch_plan_home(c, sc->res, p, *home)) < 0)
			return error;
	}
	etc = nr_scan_result_get(sc->res, "etc");
	for (k = 0; k < p->nfiles; k++) {
		if (strncmp(p->files[k].path, "etc/", 4) != 0 || (etc && etc->type != NR_ENTRY_NONE))
			continue;
		if ((error = nr__patch_plan_add(p, "etc", NR__LAYER_DIR, NULL, 0, 0755, 0, 0,
		    c->err)) < 0)
			return error;
		return nr__patch_change(c, "directory", "etc", NULL, "0755 0:0",
			"the image has no /etc");
	}
	return 0;
}

/* The new layer (when the plan has entries) and the new config, into the image unless this
 * is a dry run. */
static int apply(nr__patch_ctx *c, nr__patch_plan *p, nr_imgconfig *cfg, const char *home,
	int64_t mtime, bool cfg_changed)
{
	const nr__patch_settings *s = c->s;
	nr__buf by = NR__BUF_INIT;
	char comment[256], *json = NULL;
	size_t jlen;
	int error = 0;

	if (p->nfiles > 0) {
		nr__buf_printf(&by, "nonroot patch --user %s --uid %u --gid %u --home %s "
			"--port-map %s%s", s->user, (unsigned)s->uid, (unsigned)s->gid, home,
			s->portdesc, s->mode == NR_PATCH_COMPAT ? " --mode compat" : "");
		snprintf(comment, sizeof(comment), "libnonroot %s", nr_version());
		if (by.oom)
			error = nr__error_oom(c->err);
		else
			error = write_layer(c, p, mtime, cfg, by.ptr, comment);
		nr__buf_dispose(&by);
		if (error < 0)
			return error;
		cfg_changed = true;
	}
	if (cfg_changed && !s->dry_run) {
		if ((error = nr_imgconfig_serialize(&json, &jlen, cfg, c->err)) == 0)
			error = nr_image_set_config(c->img, c->i, json, jlen, c->err);
		free(json);
		if (error < 0)
			return error;
	}
	if (!s->dry_run)
		nr__patch_report_set_config(c->r, c->i, nr_image_config_descriptor(c->img, c->i));
	return 0;
}

static int patch_one(nr_image *img, size_t i, const nr__patch_settings *gs, nr_patch_report *r,
	const nr_patch_options *opts, nr_error *err)
{
	nr__patch_settings *s = NULL;
	nr_imgconfig *cfg = NULL;
	const char *cjson, *home;
	char homebuf[4096];
	size_t clen;
	int64_t mtime;
	nr__patch_plan p;
	scan sc;
	bool cfg_changed = false;
	nr__patch_ctx c;
	int error;

	memset(&p, 0, sizeof(p));
	memset(&sc, 0, sizeof(sc));
	sc.req = (nr_scan_request)NR_SCAN_REQUEST_INIT;
	if ((s = nr__malloc(sizeof(*s))) == NULL)
		return nr__error_oom(err);
	*s = *gs;   /* per manifest: the user may be the image's own */
	c.img = img;
	c.i = i;
	c.platform = nr_image_platform_at(img, i);
	c.s = s;
	c.r = r;
	c.err = err;
	if ((cjson = nr_image_config(&clen, img, i)) == NULL) {
		free(s);
		return nr__error_set(err, NR_EINVALID, c.platform, 0, 0, "patch: no config");
	}
	if ((error = nr_imgconfig_parse(&cfg, cjson, clen, err)) < 0) {
		free(s);
		return error;
	}
	if ((error = scan_first(&sc, img, i, s->home, opts, err)) < 0 ||
	    (error = nr__patch_choose_user(&c, sc.res, cfg, s)) < 0)
		goto done;
	if (s->kept && !s->existing && s->no_entry)
		s->no_home = 1;
	nr__patch_report_set_ids(r, s->uid, s->gid);
	if ((error = layer_mtime(s, cfg, &mtime, err)) < 0 ||
	    (error = plan_files(&c, &sc, &p, mtime, &home, homebuf, sizeof(homebuf))) < 0 ||
	    (error = nr__patch_report_bindings(r, i, c.platform, cfg, 0, err)) < 0 ||
	    (error = nr__patch_plan_config(&c, cfg, &cfg_changed)) < 0 ||
	    (error = nr__patch_report_bindings(r, i, c.platform, cfg, 1, err)) < 0 ||
	    (error = apply(&c, &p, cfg, home, mtime, cfg_changed)) < 0)
		goto done;
	error = 0;
done:
	scan_dispose(&sc);
	nr__patch_plan_dispose(&p);
	nr_imgconfig_free(cfg);
	free(s);
	return error;
}

/* The home (opts->home: absolute, clean, without ':' or control characters; else
 * /home/USER in homebuf) and the shell into s. */
static int settings_paths(nr__patch_settings *s, const nr_patch_options *opts, char *homebuf,
	size_t homesz, nr_error *err)
{
	if (opts->home) {
		size_t n = strlen(opts->home);
		if (opts->home[0] != '/' || nr__span_has_ctrl(opts->home, n) || strchr(opts->home, ':'))
			return nr__error_set(err, NR_EINVALID, "home", 0, 0,
				"patch: the home must be an absolute path without ':' or control "
				"characters: '%s'", opts->home);
		if (strstr(opts->home, "//") || strstr(opts->home, "/./") ||
		    strstr(opts->home, "/../") || (n > 1 && (!strcmp(opts->home + n - 1, "/") ||
		     !strcmp(opts->home + n - 2, "/.") || !strcmp(opts->home + n - 3, "/.."))))
			return nr__error_set(err, NR_EINVALID, "home", 0, 0,
				"patch: the home must be a clean path (no '.', '..', empty components "
				"or trailing '/'): '%s'", opts->home);
		s->home = opts->home;
	} else {
		snprintf(homebuf, homesz, "/home/%s", s->user);
		s->home = homebuf;
	}
	s->no_home = opts->no_home;
	if (opts->shell && (opts->shell[0] != '/' || strchr(opts->shell, ':') ||
	    nr__span_has_ctrl(opts->shell, strlen(opts->shell))))
		return nr__error_set(err, NR_EINVALID, "shell", 0, 0,
			"patch: the shell must be an absolute path without ':' or control characters: "
			"'%s'", opts->shell);
	s->shell = opts->shell;
	return 0;
}

/* The port map into s (every target unprivileged), with its "FROM:TO,..." description. */
static int settings_ports(nr__patch_settings *s, const nr_patch_options *opts, nr_error *err)
{
	size_t k;

	if (opts->ports)
		s->ports = *opts->ports;
	else
		nr_portmap_default(&s->ports);
	for (k = 0; k < s->ports.count; k++) {
		size_t used = strlen(s->portdesc);
		if (s->ports.entries[k].to < s->threshold)
			return nr__error_set(err, NR_EINVALID, "port-map", 0, 0,
				"patch: port map %u:%u: port %u is privileged (below the threshold %u): "
				"a non-root user cannot bind it; map onto a port >= %u",
				(unsigned)s->ports.entries[k].from, (unsigned)s->ports.entries[k].to,
				(unsigned)s->ports.entries[k].to, s->threshold, s->threshold);
		s->from[k] = s->ports.entries[k].from;
		s->to[k] = s->ports.entries[k].to;
		snprintf(s->portdesc + used, sizeof(s->portdesc) - used, "%s%u:%u", k ? "," : "",
			(unsigned)s->from[k], (unsigned)s->to[k]);
	}
	return 0;
}

/* The options checked into s (zeroed by the caller). */
static int settings_from(nr__patch_settings *s, const nr_patch_options *opts, char *homebuf,
	size_t homesz, nr_error *err)
{
	int error;

	s->user = opts->user ? opts->user : DEFAULT_USER;
	if ((error = nr_name_check(s->user, strlen(s->user), err)) < 0)
		return error;
	if ((opts->uid != NR_ID_AUTO && opts->uid > 2147483647) ||
	    (opts->gid != NR_ID_AUTO && opts->gid > 2147483647))
		return nr__error_set(err, NR_ERANGE, "uid", 0, 0,
			"patch: uid and gid must be 0..2147483647");
	s->user_given = opts->user != NULL;
	s->uid_given = opts->uid != NR_ID_AUTO;
	s->gid_given = opts->gid != NR_ID_AUTO;
	s->home_given = opts->home != NULL;
	if (opts->version >= 2) {
		s->new_user = opts->new_user != 0;
		s->no_entry = opts->no_passwd_entry != 0;
		s->threshold = opts->threshold;
	}
	if (s->threshold == 0)
		s->threshold = NR_UNPRIVILEGED_PORT_START;
	s->uid = s->uid_given ? opts->uid : DEFAULT_ID;
	s->gid = s->gid_given ? opts->gid : s->uid;
	if (s->uid == 0 || s->gid == 0)
		return nr__error_set(err, NR_EINVALID, s->uid == 0 ? "uid" : "gid", 0, 0,
			"patch: refusing uid/gid 0: the point is not to run as root");
	if ((error = settings_paths(s, opts, homebuf, homesz, err)) < 0 ||
	    (error = settings_ports(s, opts, err)) < 0)
		return error;
	if (opts->mode != NR_PATCH_NONROOT && opts->mode != NR_PATCH_COMPAT)
		return nr__error_set(err, NR_EARG, "mode", 0, 0, "patch: unknown mode %d",
			(int)opts->mode);
	s->mode = opts->mode;
	s->dry_run = opts->dry_run;
	s->mtime = opts->mtime;
	if (s->mtime < 0 && (error = nr__source_date_epoch(&s->mtime, err)) < 0)
		return error;
	return 0;
}

int nr_image_patch(nr_patch_report **out, nr_image *img, const nr_patch_options *opts,
	nr_error *err)
{
	nr_patch_options defaults = NR_PATCH_OPTIONS_INIT;
	nr_patch_report *r = NULL;
	nr__patch_settings s;
	char homebuf[4096];
	size_t i, n;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(img, err);
	if (opts == NULL)
		opts = &defaults;
	if ((error = nr__check_version(err, "nr_patch_options", opts->version,
	    NR_PATCH_OPTIONS_VERSION)) < 0)
		return error;
	memset(&s, 0, sizeof(s));
	if ((error = settings_from(&s, opts, homebuf, sizeof(homebuf), err)) < 0)
		return error;
	if ((n = nr_image_count(img)) == 0)
		return nr__error_set(err, NR_EINVALID, NULL, 0, 0, "patch: the image has no manifest");
	if ((r = nr__patch_report_new(s.uid, s.gid, s.dry_run)) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < n; i++) {
		if ((error = patch_one(img, i, &s, r, opts, err)) < 0) {
			nr_patch_report_free(r);
			return error;
		}
	}
	*out = r;
	return 0;
}
