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
	if (nl > 0 && (top = nr_image_layer(c->img, c->i, nl - 1)) != NULL && top->media_type) {
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
			error = nr_blob_writer_finish(w, digest, &size, c->err);
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

/* Append the home directory (relative) and each of its parents to paths. */
static int home_paths(const char **paths, size_t *npaths, size_t max, nr_buf *homerel,
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

static void free_paths(const char **paths, size_t *npaths, const nr_buf *homerel)
{
	size_t k;

	for (k = FIXED_PATHS; k < *npaths; k++)
		if (paths[k] != homerel->ptr)
			free((char *)paths[k]);
	*npaths = FIXED_PATHS;
}

static int patch_one(nr_image *img, size_t i, const nr__patch_settings *gs, nr_patch_report *r,
	const nr_patch_options *opts, nr_error *err)
{
	nr__patch_settings *s = NULL;
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	nr_imgconfig *cfg = NULL;
	const char *paths[64], *cjson, *shell, *home;
	char homebuf[4096], comment[256], *json = NULL;
	nr_buf homerel = NR_BUF_INIT, by = NR_BUF_INIT;
	size_t npaths = 0, clen, jlen, k;
	int64_t mtime;
	nr__patch_plan p;
	bool cfg_changed = false;
	nr__patch_ctx c;
	int error;

	memset(&p, 0, sizeof(p));
	if ((s = nr__malloc(sizeof(*s))) == NULL)
		return nr__error_oom(err);
	*s = *gs;   /* per manifest: the user may be the image's own */
	c.img = img;
	c.i = i;
	c.platform = nr_image_platform(img, i);
	c.s = s;
	c.r = r;
	c.err = err;
	if ((cjson = nr_image_config(img, i, &clen)) == NULL) {
		free(s);
		return nr__error_set(err, NR_EINVALID, c.platform, 0, 0, "patch: no config");
	}
	if ((error = nr_imgconfig_parse(&cfg, cjson, clen, err)) < 0) {
		free(s);
		return error;
	}

	/* What to look at: the account files, nologin, the home and each of its parents. */
	paths[npaths++] = "etc/passwd";
	paths[npaths++] = "etc/group";
	paths[npaths++] = "etc/shadow";
	paths[npaths++] = "etc/gshadow";
	paths[npaths++] = "sbin/nologin";
	paths[npaths++] = "etc";
	/* Where sbin/nologin usually points (merged /usr, busybox): asked for up front so that
	 * following the link does not cost a second pass over the layers. */
	paths[npaths++] = "usr/sbin/nologin";
	paths[npaths++] = "bin/busybox";
	if ((error = home_paths(paths, &npaths, NR_ARRAY_SIZE(paths), &homerel, s->home, err)) < 0)
		goto done;
	req.paths = paths;
	req.npaths = npaths;
	req.progress = opts->progress;
	req.payload = opts->payload;
	if ((error = nr_image_scan(img, i, &req, &res, err)) < 0)
		goto done;
	if ((error = nr__patch_choose_user(&c, res, cfg, s)) < 0)
		goto done;
	if (s->kept && !s->existing && s->no_entry)
		s->no_home = 1;
	nr__patch_report_set_ids(r, s->uid, s->gid);

	mtime = s->mtime;
	if (mtime < 0 && (error = nr__patch_mtime(&mtime, nr_imgconfig_string(cfg, "created"),
	    err)) < 0)
		goto done;
	{
		/* The new history entry never goes back in time: not before the last one. */
		const char *last = nr__imgconfig_last_created(cfg);
		int64_t lt;
		if (last && nr__parse_time(last, &lt) == 0 && lt > mtime)
			mtime = lt;
	}
	shell = s->shell;
	if (shell == NULL) {
		const nr_scan_entry *nl = nr_scan_result_get(res, "sbin/nologin");
		shell = nl && nl->type == NR_ENTRY_REGULAR ? "/sbin/nologin" : "/bin/false";
	}
	if ((error = nr__patch_plan_accounts(&c, res, &p, shell, &home, homebuf, sizeof(homebuf), mtime)) < 0)
		goto done;
	if (!s->no_home) {
		/* A reused user keeps its own home: scan again if it is not the one we looked at. */
		if (strcmp(home, s->home) != 0) {
			nr_scan_result_free(res);
			res = NULL;
			free_paths(paths, &npaths, &homerel);
			if ((error = home_paths(paths, &npaths, NR_ARRAY_SIZE(paths), &homerel, home,
			    err)) < 0)
				goto done;
			req.npaths = npaths;
			if ((error = nr_image_scan(img, i, &req, &res, err)) < 0)
				goto done;
		}
		if ((error = nr__patch_plan_home(&c, res, &p, home)) < 0)
			goto done;
	}
	/* An image without /etc (FROM scratch): define the directory the new files go in. */
	for (k = 0; k < p.nfiles; k++) {
		const nr_scan_entry *etc = nr_scan_result_get(res, "etc");
		if (strncmp(p.files[k].path, "etc/", 4) != 0 || (etc && etc->type != NR_ENTRY_NONE))
			continue;
		if ((error = nr__patch_plan_add(&p, "etc", NR__LAYER_DIR, NULL, 0, 0755, 0, 0, err)) < 0 ||
		    (error = nr__patch_change(&c, "directory", "etc", NULL, "0755 0:0",
			"the image has no /etc")) < 0)
			goto done;
		break;
	}
	if ((error = nr__patch_report_bindings(r, i, c.platform, cfg, 0, err)) < 0 ||
	    (error = nr__patch_plan_config(&c, cfg, &cfg_changed)) < 0 ||
	    (error = nr__patch_report_bindings(r, i, c.platform, cfg, 1, err)) < 0)
		goto done;

	if (p.nfiles > 0) {
		nr_buf_printf(&by, "nonroot patch --user %s --uid %u --gid %u --home %s "
			"--port-map %s%s", s->user, (unsigned)s->uid, (unsigned)s->gid, home,
			s->portdesc, s->mode == NR_PATCH_COMPAT ? " --mode compat" : "");
		snprintf(comment, sizeof(comment), "libnonroot %s", nr_version());
		if (by.oom) {
			error = nr__error_oom(err);
			goto done;
		}
		if ((error = write_layer(&c, &p, mtime, cfg, by.ptr, comment)) < 0)
			goto done;
		cfg_changed = true;
	}
	if (cfg_changed && !s->dry_run) {
		if ((error = nr_imgconfig_serialize(&json, &jlen, cfg, err)) < 0 ||
		    (error = nr_image_set_config(img, i, json, jlen, err)) < 0)
			goto done;
	}
	if (!s->dry_run)
		nr__patch_report_set_config(r, i, nr_image_config_descriptor(img, i));
	error = 0;
done:
	free_paths(paths, &npaths, &homerel);
	nr_buf_dispose(&homerel);
	nr_buf_dispose(&by);
	nr__patch_plan_dispose(&p);
	nr_scan_result_free(res);
	nr_imgconfig_free(cfg);
	free(json);
	free(s);
	return error;
}

int nr_image_patch(nr_image *img, const nr_patch_options *opts, nr_patch_report **out,
	nr_error *err)
{
	nr_patch_options defaults = NR_PATCH_OPTIONS_INIT;
	nr_patch_report *r = NULL;
	nr__patch_settings s;
	char homebuf[4096];
	size_t i, n, k;
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
	s.user = opts->user ? opts->user : DEFAULT_USER;
	if ((error = nr_name_check(s.user, strlen(s.user), err)) < 0)
		return error;
	if (opts->uid < -1 || opts->uid > 2147483647 || opts->gid < -1 || opts->gid > 2147483647)
		return nr__error_set(err, NR_ERANGE, "uid", 0, 0,
			"patch: uid and gid must be 0..2147483647");
	s.user_given = opts->user != NULL;
	s.uid_given = opts->uid >= 0;
	s.gid_given = opts->gid >= 0;
	s.home_given = opts->home != NULL;
	if (opts->version >= 2) {
		s.new_user = opts->new_user != 0;
		s.no_entry = opts->no_passwd_entry != 0;
		s.threshold = opts->threshold;
	}
	if (s.threshold == 0)
		s.threshold = NR_UNPRIVILEGED_PORT_START;
	s.uid = opts->uid < 0 ? DEFAULT_ID : (uint32_t)opts->uid;
	s.gid = opts->gid < 0 ? s.uid : (uint32_t)opts->gid;
	if (s.uid == 0 || s.gid == 0)
		return nr__error_set(err, NR_EINVALID, s.uid == 0 ? "uid" : "gid", 0, 0,
			"patch: refusing uid/gid 0: the point is not to run as root");
	if (opts->home) {
		if (opts->home[0] != '/' || nr_span_has_ctrl(opts->home, strlen(opts->home)) ||
		    strchr(opts->home, ':'))
			return nr__error_set(err, NR_EINVALID, "home", 0, 0,
				"patch: the home must be an absolute path without ':' or control "
				"characters: '%s'", opts->home);
		if (strstr(opts->home, "//") || strstr(opts->home, "/./") ||
		    strstr(opts->home, "/../") || (strlen(opts->home) > 1 &&
		    (!strcmp(opts->home + strlen(opts->home) - 1, "/") ||
		     !strcmp(opts->home + strlen(opts->home) - 2, "/.") ||
		     !strcmp(opts->home + strlen(opts->home) - 3, "/.."))))
			return nr__error_set(err, NR_EINVALID, "home", 0, 0,
				"patch: the home must be a clean path (no '.', '..', empty components "
				"or trailing '/'): '%s'", opts->home);
		s.home = opts->home;
	} else {
		snprintf(homebuf, sizeof(homebuf), "/home/%s", s.user);
		s.home = homebuf;
	}
	s.no_home = opts->no_home;
	if (opts->shell && (opts->shell[0] != '/' || strchr(opts->shell, ':') ||
	    nr_span_has_ctrl(opts->shell, strlen(opts->shell))))
		return nr__error_set(err, NR_EINVALID, "shell", 0, 0,
			"patch: the shell must be an absolute path without ':' or control characters: "
			"'%s'", opts->shell);
	s.shell = opts->shell;
	if (opts->ports)
		s.ports = *opts->ports;
	else
		nr_portmap_default(&s.ports);
	for (k = 0; k < s.ports.count; k++) {
		size_t used = strlen(s.portdesc);
		if (s.ports.entries[k].to < s.threshold)
			return nr__error_set(err, NR_EINVALID, "port-map", 0, 0,
				"patch: port map %u:%u: port %u is privileged (below the threshold %u): "
				"a non-root user cannot bind it; map onto a port >= %u",
				(unsigned)s.ports.entries[k].from, (unsigned)s.ports.entries[k].to,
				(unsigned)s.ports.entries[k].to, s.threshold, s.threshold);
		s.from[k] = s.ports.entries[k].from;
		s.to[k] = s.ports.entries[k].to;
		snprintf(s.portdesc + used, sizeof(s.portdesc) - used, "%s%u:%u", k ? "," : "",
			(unsigned)s.from[k], (unsigned)s.to[k]);
	}
	if (opts->mode != NR_PATCH_NONROOT && opts->mode != NR_PATCH_COMPAT)
		return nr__error_set(err, NR_EARG, "mode", 0, 0, "patch: unknown mode %d",
			(int)opts->mode);
	s.mode = opts->mode;
	s.dry_run = opts->dry_run;
	s.mtime = opts->mtime;
	if (s.mtime < 0 && (error = nr__source_date_epoch(&s.mtime, err)) < 0)
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

