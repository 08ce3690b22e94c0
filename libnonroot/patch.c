/*
 * patch.c: the plan that makes an image run as a non-root user, and its application.
 *
 * Per manifest: one scan of the layer stack for the account files, nologin and the home
 * directory (and its parents); the text layer edits passwd/group/shadow/gshadow; imgconfig
 * edits the config; urls rewrites the ASP.NET variables; newlayer streams one reproducible
 * layer into the image's blob writer. See patch.h for the contract.
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

struct nr_patch_report {
	nr_patch_change *changes;
	size_t n, alloc;
	char **strings;
	size_t nstrings, astrings;
	int changed;
	uint32_t uid, gid;
	int dry_run;
	struct {
		char *platform;
		nr_bindings *before, *after;
		/* the new layer (layer_digest[0] == 0: none), the new config, and the manifest
		 * as written (nr_patch_report_set_written()) */
		char layer_digest[72], layer_diff_id[72];
		const char *layer_mt;
		uint64_t layer_size;
		char config_digest[72], config_mt[96];
		uint64_t config_size;
		char manifest_digest[72];
		char *manifest_mt;
		uint64_t manifest_size;
	} *bindings;   /* per manifest */
	size_t nbindings, abindings;
	char written_digest[72];   /* the written image (nr_image_written()); "" when unknown */
	char *written_mt;
	uint64_t written_size;
};

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

/* ---- report ------------------------------------------------------------------------------ */

static const char *report_str(nr_patch_report *r, const char *s)
{
	char *copy;

	if (s == NULL)
		return NULL;
	if (nr__array_grow((void **)&r->strings, &r->astrings, r->nstrings + 1,
	    sizeof(*r->strings)) < 0)
		return NULL;
	if ((copy = nr__strdup(s)) == NULL)
		return NULL;
	r->strings[r->nstrings++] = copy;
	return copy;
}

static int report_add(nr_patch_report *r, size_t manifest, const char *platform,
	const char *what, const char *target, const char *before, const char *after,
	const char *why, nr_error *err)
{
	nr_patch_change c;

	if (nr__array_grow((void **)&r->changes, &r->alloc, r->n + 1, sizeof(*r->changes)) < 0)
		return nr__error_oom(err);
	c.manifest = manifest;
	if ((c.platform = report_str(r, platform ? platform : "")) == NULL ||
	    (c.what = report_str(r, what)) == NULL ||
	    (c.target = report_str(r, target ? target : "")) == NULL ||
	    (before && (c.before = report_str(r, before)) == NULL) ||
	    (after && (c.after = report_str(r, after)) == NULL) ||
	    (c.why = report_str(r, why ? why : "")) == NULL)
		return nr__error_oom(err);
	if (!before)
		c.before = NULL;
	if (!after)
		c.after = NULL;
	r->changes[r->n++] = c;
	if (strcmp(what, "warning") != 0)
		r->changed = 1;
	return 0;
}

size_t nr_patch_report_count(const nr_patch_report *r)
{
	return r ? r->n : 0;
}

const nr_patch_change *nr_patch_report_change(const nr_patch_report *r, size_t k)
{
	return r && k < r->n ? &r->changes[k] : NULL;
}

int nr_patch_report_changed(const nr_patch_report *r)
{
	return r ? r->changed : 0;
}

uint32_t nr_patch_report_uid(const nr_patch_report *r)
{
	return r ? r->uid : 0;
}

uint32_t nr_patch_report_gid(const nr_patch_report *r)
{
	return r ? r->gid : 0;
}

const nr_bindings *nr_patch_report_bindings(const nr_patch_report *r, size_t manifest,
	int after)
{
	if (r == NULL || manifest >= r->nbindings)
		return NULL;
	return after ? r->bindings[manifest].after : r->bindings[manifest].before;
}

/* The effective bindings of cfg (nr_imgconfig_bindings()) into the report; NULL when
 * Kestrel would refuse the environment (patch reports that itself). */
size_t nr_patch_report_platform_count(const nr_patch_report *r)
{
	return r ? r->nbindings : 0;
}

const char *nr_patch_report_platform(const nr_patch_report *r, size_t manifest)
{
	return r && manifest < r->nbindings ? r->bindings[manifest].platform : NULL;
}

int nr_patch_report_dry_run(const nr_patch_report *r)
{
	return r ? r->dry_run : 0;
}

int nr_patch_report_set_written(nr_patch_report *r, const nr_image *img, nr_error *err)
{
	const nr_descriptor *d;
	size_t i;

	nr__error_reset(err);
	NR_ASSERT_ARG(r, err);
	NR_ASSERT_ARG(img, err);
	r->written_digest[0] = '\0';
	if ((d = nr_image_written(img)) != NULL) {
		free(r->written_mt);
		if ((r->written_mt = nr__strdup(d->media_type)) == NULL)
			return nr__error_oom(err);
		snprintf(r->written_digest, sizeof(r->written_digest), "%s", d->digest);
		r->written_size = d->size;
	}
	for (i = 0; i < r->nbindings; i++) {
		r->bindings[i].manifest_digest[0] = '\0';
		if ((d = nr_image_written_manifest(img, i)) == NULL)
			continue;
		free(r->bindings[i].manifest_mt);
		if ((r->bindings[i].manifest_mt = nr__strdup(d->media_type)) == NULL)
			return nr__error_oom(err);
		snprintf(r->bindings[i].manifest_digest, 72, "%s", d->digest);
		r->bindings[i].manifest_size = d->size;
	}
	return 0;
}

static const nr_descriptor *desc_of(nr_descriptor *out, const char *mt, const char *digest,
	uint64_t size)
{
	if (digest == NULL || *digest == '\0')
		return NULL;
	out->media_type = mt;
	out->digest = digest;
	out->size = size;
	return out;
}

const nr_descriptor *nr_patch_report_written(const nr_patch_report *r, nr_descriptor *out)
{
	return r && out ? desc_of(out, r->written_mt, r->written_digest, r->written_size) : NULL;
}

const nr_descriptor *nr_patch_report_descriptor(const nr_patch_report *r, size_t manifest,
	int which, nr_descriptor *out, const char **diff_id)
{
	if (diff_id)
		*diff_id = NULL;
	if (r == NULL || out == NULL || manifest >= r->nbindings)
		return NULL;
	switch (which) {
	case NR_PATCH_MANIFEST:
		return desc_of(out, r->bindings[manifest].manifest_mt,
			r->bindings[manifest].manifest_digest, r->bindings[manifest].manifest_size);
	case NR_PATCH_CONFIG:
		return desc_of(out, r->bindings[manifest].config_mt[0] ?
			r->bindings[manifest].config_mt : NULL, r->bindings[manifest].config_digest,
			r->bindings[manifest].config_size);
	case NR_PATCH_LAYER:
		if (diff_id && r->bindings[manifest].layer_digest[0])
			*diff_id = r->bindings[manifest].layer_diff_id;
		return desc_of(out, r->bindings[manifest].layer_mt,
			r->bindings[manifest].layer_digest, r->bindings[manifest].layer_size);
	default:
		return NULL;
	}
}

static int report_bindings(nr_patch_report *r, size_t manifest, const char *platform,
	const nr_imgconfig *cfg, int after, nr_error *err)
{
	nr_bindings **slot;
	nr_error berr = NR_ERROR_INIT;

	if (manifest >= r->nbindings) {
		if (nr__array_grow((void **)&r->bindings, &r->abindings, manifest + 1,
		    sizeof(*r->bindings)) < 0)
			return nr__error_oom(err);
		memset(&r->bindings[r->nbindings], 0,
			(manifest + 1 - r->nbindings) * sizeof(*r->bindings));
		r->nbindings = manifest + 1;
	}
	if (r->bindings[manifest].platform == NULL &&
	    (r->bindings[manifest].platform = nr__strdup(platform ? platform : "")) == NULL)
		return nr__error_oom(err);
	slot = after ? &r->bindings[manifest].after : &r->bindings[manifest].before;
	nr_bindings_free(*slot);
	*slot = NULL;
	if (nr_imgconfig_bindings(slot, cfg, NULL, &berr) < 0 && berr.code == NR_ENOMEM)
		return nr__error_oom(err);
	return 0;
}

void nr_patch_report_free(nr_patch_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	for (i = 0; i < r->nbindings; i++) {
		free(r->bindings[i].platform);
		nr_bindings_free(r->bindings[i].before);
		nr_bindings_free(r->bindings[i].after);
		free(r->bindings[i].manifest_mt);
	}
	free(r->bindings);
	free(r->written_mt);
	free(r->strings);
	free(r->changes);
	free(r);
}

/* ---- one manifest -------------------------------------------------------------------------- */

typedef struct settings {
	const char *user;
	uint32_t uid, gid;
	const char *home;        /* absolute */
	int no_home;
	const char *shell;       /* NULL: decide per image */
	nr_portmap ports;
	uint16_t from[NR_PORTMAP_MAX], to[NR_PORTMAP_MAX];
	nr_patch_mode mode;
	int dry_run;
	int64_t mtime;           /* -1: per image */
	char portdesc[NR_PORTMAP_MAX * 12 + 1];
	bool user_given, uid_given, gid_given, home_given, new_user, no_entry;
	unsigned threshold;
	/* Per manifest (choose_user): the image's own non-root user is kept; the user's
	 * account already exists (its home is not taken from --home). */
	bool kept, existing;
	const char *kept_spec;
	char namebuf[256], homebuf[4096], specbuf[256];
} settings;

/* A changed file of the new layer. */
typedef struct newfile {
	char *path;
	char *data;
	size_t len;
	uint32_t mode, uid, gid;
	int type;
} newfile;

typedef struct plan {
	newfile files[16];
	size_t nfiles;
} plan;

static void plan_dispose(plan *p)
{
	size_t i;

	for (i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].data);
	}
	p->nfiles = 0;
}

/* Take ownership of data. */
static int plan_add(plan *p, const char *path, int type, char *data, size_t len, uint32_t mode,
	uint32_t uid, uint32_t gid, nr_error *err)
{
	newfile *f;

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

/* Where a file is written and with which attributes: the effective entry's (symlinks
 * followed), or defaults for a new file. */
static void file_attrs(const nr_scan_entry *e, const char *path, uint32_t defmode,
	const char **where, uint32_t *mode, uint32_t *uid, uint32_t *gid)
{
	if (e && e->type == NR_ENTRY_REGULAR) {
		*where = e->resolved && *e->resolved ? e->resolved : path;
		*mode = e->mode & 07777;
		*uid = (uint32_t)e->uid;
		*gid = (uint32_t)e->gid;
	} else {
		*where = e && e->resolved && *e->resolved ? e->resolved : path;
		*mode = defmode;
		*uid = 0;
		*gid = 0;
	}
}

static int check_account_file(const nr_scan_entry *e, const char *path, nr_error *err)
{
	if (e && (e->flags & (NR_SCAN_ENTRY_LOOP | NR_SCAN_ENTRY_NOTDIR)))
		return nr__error_set(err, NR_EINVALID, path, 0, 0, "patch: /%s: %s", path,
			(e->flags & NR_SCAN_ENTRY_LOOP) ? "too many levels of symbolic links"
			: "a component of the path is not a directory");
	if (e == NULL || e->type == NR_ENTRY_NONE)
		return 0;
	if (e->type != NR_ENTRY_REGULAR)
		return nr__error_set(err, NR_EINVALID, path, 0, 0,
			"patch: /%s is not a regular file", path);
	if (e->flags & NR_SCAN_ENTRY_TOO_BIG || e->content == NULL)
		return nr__error_set(err, NR_ETOOBIG, path, 0, 0,
			"patch: /%s is over the 10 MiB limit", path);
	return 0;
}

static bool exists(const nr_scan_entry *e)
{
	return e && e->type != NR_ENTRY_NONE;
}

typedef struct ctx {
	nr_image *img;
	size_t i;
	const char *platform;
	const settings *s;
	nr_patch_report *r;
	nr_error *err;
} ctx;

static int change(ctx *c, const char *what, const char *target, const char *before,
	const char *after, const char *why)
{
	return report_add(c->r, c->i, c->platform, what, target, before, after, why, c->err);
}

/* Which user the image will run as (mode non-root): the image's own non-root User is kept
 * unless a user was asked for; --user NAME naming an existing non-root account reuses its
 * ids. Adjusts *s (a per-manifest copy). */
static int choose_user(ctx *c, const nr_scan_result *res, const nr_imgconfig *cfg, settings *s)
{
	const nr_scan_entry *epw = nr_scan_result_get(res, "etc/passwd");
	const nr_scan_entry *egr = nr_scan_result_get(res, "etc/group");
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_exec_user eu;
	nr_error rerr = NR_ERROR_INIT;
	const nr_pwent *pe;
	const char *spec = nr_imgconfig_user(cfg), *colon;
	int error = 0, r;

	memset(&eu, 0, sizeof(eu));
	s->kept = s->existing = false;
	if (s->mode != NR_PATCH_NONROOT || s->new_user)
		return 0;
	/* Unreadable account files: plan_accounts() reports them. */
	if (check_account_file(epw, "etc/passwd", &rerr) < 0 ||
	    check_account_file(egr, "etc/group", &rerr) < 0)
		return 0;
	if (exists(epw) && nr_passwd_parse(&pw, epw->content, epw->content_len, "etc/passwd",
	    &rerr) < 0)
		goto done;
	if (exists(egr) && nr_group_parse(&gr, egr->content, egr->content_len, "etc/group",
	    &rerr) < 0)
		goto done;
	if (s->user_given) {
		/* --user NAME of an existing non-root account, without ids: reuse its ids. */
		if (!s->uid_given && !s->gid_given && pw &&
		    (pe = nr_passwd_find_name(pw, s->user)) != NULL && pe->uid != 0) {
			s->uid = pe->uid;
			s->gid = pe->gid;
			s->existing = true;
		}
		goto done;
	}
	if (s->uid_given || s->gid_given || spec == NULL || *spec == '\0')
		goto done;
	r = nr_userspec_resolve(&eu, spec, pw, gr, NULL, &rerr);
	if (r == NR_ENOMEM) {
		error = nr__error_oom(c->err);
		goto done;
	}
	if (r < 0 || eu.uid == 0)
		goto done;   /* unresolvable or root: a new user */
	s->kept = true;
	snprintf(s->specbuf, sizeof(s->specbuf), "%s", spec);
	s->kept_spec = s->specbuf;
	s->uid = eu.uid;
	if (eu.name) {
		snprintf(s->namebuf, sizeof(s->namebuf), "%s", eu.name);
		s->user = s->namebuf;
		s->gid = eu.gid;
		s->existing = true;
	} else {
		/* A numeric User without passwd entry: the spec's group, else a group of its own
		 * (never gid 0, the root group the runtime would default to). */
		colon = strchr(spec, ':');
		s->gid = colon && eu.gid != 0 ? eu.gid : eu.uid;
	}
	if (eu.name && !s->home_given && eu.home && *eu.home == '/') {
		snprintf(s->homebuf, sizeof(s->homebuf), "%s", eu.home);
		s->home = s->homebuf;
	}
done:
	nr_exec_user_dispose(&eu);
	nr_passwd_free(pw);
	nr_group_free(gr);
	return error;
}

/* The user, its group, shadow entries: add what is missing, refuse conflicts. */
static int plan_accounts(ctx *c, const nr_scan_result *res, plan *p, const char *shell,
	const char **home_out, char *homebuf, size_t homesz, int64_t mtime)
{
	const settings *s = c->s;
	nr_error *err = c->err;
	const nr_scan_entry *epw = nr_scan_result_get(res, "etc/passwd");
	const nr_scan_entry *egr = nr_scan_result_get(res, "etc/group");
	const nr_scan_entry *esh = nr_scan_result_get(res, "etc/shadow");
	const nr_scan_entry *egs = nr_scan_result_get(res, "etc/gshadow");
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_shadow *sh = NULL;
	nr_gshadow *gs = NULL;
	const nr_pwent *pe;
	const nr_grent *ge;
	char *out = NULL, detail[256];
	size_t outlen;
	const char *where;
	uint32_t mode, uid, gid;
	bool pw_new = !exists(epw), gr_new = !exists(egr), pw_changed = false, gr_changed = false;
	int error;

	if ((error = check_account_file(epw, "etc/passwd", err)) < 0 ||
	    (error = check_account_file(egr, "etc/group", err)) < 0 ||
	    (error = check_account_file(esh, "etc/shadow", err)) < 0 ||
	    (error = check_account_file(egs, "etc/gshadow", err)) < 0)
		return error;

	if ((error = nr_passwd_parse(&pw, pw_new ? NULL : epw->content,
	    pw_new ? 0 : epw->content_len, "etc/passwd", err)) < 0)
		goto done;
	if ((error = nr_group_parse(&gr, gr_new ? NULL : egr->content,
	    gr_new ? 0 : egr->content_len, "etc/group", err)) < 0)
		goto done;

	snprintf(homebuf, homesz, "%s", s->home);
	*home_out = homebuf;
	if (s->kept && !s->existing && s->no_entry) {
		error = 0;   /* a numeric User kept without passwd entry, as asked */
		goto done;
	}
	if ((pe = nr_passwd_find_name(pw, s->user)) != NULL) {
		if (pe->uid != s->uid && pe->uid == 0) {
			error = nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
				"user '%s' exists with uid 0: choose another name with --user NAME",
				pe->name);
			goto done;
		}
		if (pe->uid != s->uid) {
			error = nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
				"user '%s' exists with uid %u, not %u: use --uid %u to reuse it, or "
				"--user NAME for another user", pe->name, (unsigned)pe->uid,
				(unsigned)s->uid, (unsigned)pe->uid);
			goto done;
		}
		if (pe->gid != s->gid && !s->kept) {
			error = nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
				"user '%s' has primary group %u, not %u: use --gid %u to reuse it",
				pe->name, (unsigned)pe->gid, (unsigned)s->gid, (unsigned)pe->gid);
			goto done;
		}
		if (*pe->dir)
			snprintf(homebuf, homesz, "%s", pe->dir);
	} else if ((pe = nr_passwd_find_uid(pw, s->uid)) != NULL) {
		error = nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
			"uid %u is taken by user '%s': choose another with --uid N, or --user %s to "
			"reuse it", (unsigned)s->uid, pe->name, pe->name);
		goto done;
	} else {
		nr_pwent ent;

		if (pw_new) {
			/* No passwd at all: start one with root, as every base image has. */
			nr_pwent root = { "root", "x", 0, 0, "root", "/root", shell, 0 };
			if ((error = nr_passwd_add(pw, &root, err)) < 0)
				goto done;
		}
		memset(&ent, 0, sizeof(ent));
		ent.name = s->user;
		ent.passwd = "x";
		ent.uid = s->uid;
		ent.gid = s->gid;
		ent.gecos = "";
		ent.dir = s->home;
		ent.shell = shell;
		if ((error = nr_passwd_add(pw, &ent, err)) < 0)
			goto done;
		pw_changed = true;
		snprintf(detail, sizeof(detail), "%s:x:%u:%u::%s:%s", s->user, (unsigned)s->uid,
			(unsigned)s->gid, s->home, shell);
		file_attrs(epw, "etc/passwd", 0644, &where, &mode, &uid, &gid);
		if ((error = change(c, "file", where, NULL, detail,
		    pw_new ? "no passwd file: create it with root and the user"
			   : "add the user, so that runc and id resolve it")) < 0)
			goto done;
	}

	if ((s->existing || s->gid_given) && nr_group_find_gid(gr, s->gid) != NULL) {
		/* An existing account's group, or a group asked for by id: joined as it is. */
	} else if (s->kept && !s->existing && nr_group_find_name(gr, s->user) != NULL &&
	    nr_group_find_name(gr, s->user)->gid != s->gid) {
		ge = nr_group_find_name(gr, s->user);
		error = nr__error_set(err, NR_ECONFLICT, "etc/group", ge->line, 0,
			"group '%s' exists with gid %u, not %u (the image's User): use --user NAME "
			"for another name", ge->name, (unsigned)ge->gid, (unsigned)s->gid);
		goto done;
	} else if ((ge = nr_group_find_name(gr, s->user)) != NULL) {
		if (ge->gid != s->gid) {
			error = nr__error_set(err, NR_ECONFLICT, "etc/group", ge->line, 0,
				"group '%s' exists with gid %u, not %u: use --gid %u to reuse it",
				ge->name, (unsigned)ge->gid, (unsigned)s->gid, (unsigned)ge->gid);
			goto done;
		}
	} else if ((ge = nr_group_find_gid(gr, s->gid)) != NULL) {
		error = nr__error_set(err, NR_ECONFLICT, "etc/group", ge->line, 0,
			"gid %u is taken by group '%s': choose another with --gid N",
			(unsigned)s->gid, ge->name);
		goto done;
	} else {
		nr_grent g;

		if (gr_new) {
			nr_grent root;
			memset(&root, 0, sizeof(root));
			root.name = "root";
			root.passwd = "x";
			root.gid = 0;
			if ((error = nr_group_add(gr, &root, err)) < 0)
				goto done;
		}
		memset(&g, 0, sizeof(g));
		g.name = s->user;
		g.passwd = "x";
		g.gid = s->gid;
		if ((error = nr_group_add(gr, &g, err)) < 0)
			goto done;
		gr_changed = true;
		snprintf(detail, sizeof(detail), "%s:x:%u:", s->user, (unsigned)s->gid);
		file_attrs(egr, "etc/group", 0644, &where, &mode, &uid, &gid);
		if ((error = change(c, "file", where, NULL, detail,
		    "add the user's primary group")) < 0)
			goto done;
	}

	if (pw_changed) {
		if ((error = nr_passwd_write(pw, &out, &outlen, err)) < 0)
			goto done;
		file_attrs(epw, "etc/passwd", 0644, &where, &mode, &uid, &gid);
		if ((error = plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid, err)) < 0)
			goto done;
		out = NULL;
	}
	if (gr_changed) {
		if ((error = nr_group_write(gr, &out, &outlen, err)) < 0)
			goto done;
		file_attrs(egr, "etc/group", 0644, &where, &mode, &uid, &gid);
		if ((error = plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid, err)) < 0)
			goto done;
		out = NULL;
	}

	/* shadow and gshadow: only when the image has them. */
	if (exists(esh)) {
		if ((error = nr_shadow_parse(&sh, esh->content, esh->content_len, "etc/shadow",
		    err)) < 0)
			goto done;
		if (nr_shadow_find_name(sh, s->user) == NULL) {
			if ((error = nr_shadow_add(sh, s->user, mtime / 86400, err)) < 0 ||
			    (error = nr_shadow_write(sh, &out, &outlen, err)) < 0)
				goto done;
			file_attrs(esh, "etc/shadow", 0640, &where, &mode, &uid, &gid);
			if ((error = plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid,
			    err)) < 0)
				goto done;
			out = NULL;
			snprintf(detail, sizeof(detail), "%s:!:%lld::::::", s->user,
				(long long)(mtime / 86400));
			if ((error = change(c, "file", where, NULL, detail,
			    "a locked shadow entry, so pwck stays clean")) < 0)
				goto done;
		}
	}
	if (exists(egs)) {
		if ((error = nr_gshadow_parse(&gs, egs->content, egs->content_len, "etc/gshadow",
		    err)) < 0)
			goto done;
		if (nr_gshadow_find_name(gs, s->user) == NULL) {
			if ((error = nr_gshadow_add(gs, s->user, err)) < 0 ||
			    (error = nr_gshadow_write(gs, &out, &outlen, err)) < 0)
				goto done;
			file_attrs(egs, "etc/gshadow", 0640, &where, &mode, &uid, &gid);
			if ((error = plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid,
			    err)) < 0)
				goto done;
			out = NULL;
			snprintf(detail, sizeof(detail), "%s:!::", s->user);
			if ((error = change(c, "file", where, NULL, detail,
			    "the group's gshadow entry, so grpck stays clean")) < 0)
				goto done;
		}
	}
	error = 0;
done:
	free(out);
	nr_passwd_free(pw);
	nr_group_free(gr);
	nr_shadow_free(sh);
	nr_gshadow_free(gs);
	return error;
}

/* The home directory (owned uid:gid, 0755) and any missing parent (root, 0755). */
static int plan_home(ctx *c, const nr_scan_result *res, plan *p, const char *home)
{
	const settings *s = c->s;
	nr_buf rel = NR_BUF_INIT;
	const nr_scan_entry *e;
	char before[64], after[64];
	size_t k;
	int error = 0;

	if ((error = nr__path_relative(&rel, home, c->err)) < 0)
		return error;
	if (rel.size == 0)
		goto done;   /* home "/": nothing to create */
	e = nr_scan_result_get(res, rel.ptr);
	if (e && e->type == NR_ENTRY_DIRECTORY && e->uid == s->uid && e->gid == s->gid)
		goto done;
	/* The image's own user keeps a home outside /home as it is (/var/www, /nonexistent):
	 * never created or handed over, only reported. */
	if (s->kept && !s->home_given && (strncmp(rel.ptr, "home/", 5) != 0 ||
	    (e && e->resolved && *e->resolved && strncmp(e->resolved, "home/", 5) != 0))) {
		char why[512];
		snprintf(why, sizeof(why), "the home %s of the image's user (%u) is outside /home: "
			"%s", home, (unsigned)s->uid, e && e->type == NR_ENTRY_DIRECTORY
			? "left as it is" : "not created (use --home DIR to create one)");
		error = change(c, "warning", rel.ptr, NULL, NULL, why);
		goto done;
	}
	/* Never hand an existing directory outside /home to the user: a home of /etc, /usr or
	 * /app (given, or taken from the image's passwd) would let it rewrite system files. */
	if (e && e->type == NR_ENTRY_DIRECTORY && (strncmp(rel.ptr, "home/", 5) != 0 ||
	    (e->resolved && *e->resolved && strncmp(e->resolved, "home/", 5) != 0))) {
		error = nr__error_set(c->err, NR_EINVALID, "home", 0, 0,
			"patch: the home %s%s%s%s is an existing directory outside /home owned by "
			"%llu:%llu: refusing to give it to uid %u; use --home DIR or --no-home", home,
			e->resolved && strcmp(e->resolved, rel.ptr) ? " (-> /" : "",
			e->resolved && strcmp(e->resolved, rel.ptr) ? e->resolved : "",
			e->resolved && strcmp(e->resolved, rel.ptr) ? ")" : "",
			(unsigned long long)e->uid, (unsigned long long)e->gid, (unsigned)s->uid);
		goto done;
	}
	if (e && e->type != NR_ENTRY_NONE && e->type != NR_ENTRY_DIRECTORY) {
		error = nr__error_set(c->err, NR_EINVALID, rel.ptr, 0, 0,
			"patch: the home %s exists and is not a directory: use --home DIR or --no-home",
			home);
		goto done;
	}
	/* A home reached through a symlink (an image whose /home links to /) would put the
	 * directory elsewhere or replace the link: refused, the user picks another home. */
	if (e && e->resolved && *e->resolved && strcmp(e->resolved, rel.ptr) != 0) {
		error = nr__error_set(c->err, NR_EINVALID, "home", 0, 0,
			"patch: the home %s goes through a symlink (-> /%s): refusing to create it "
			"there; use --home DIR or --no-home", home, e->resolved);
		goto done;
	}
	/* Missing parents first (so that their attributes are defined), never existing ones. */
	for (k = 1; k < rel.size; k++) {
		const nr_scan_entry *pe;
		if (rel.ptr[k] != '/')
			continue;
		rel.ptr[k] = '\0';
		pe = nr_scan_result_get(res, rel.ptr);
		if (pe == NULL || pe->type == NR_ENTRY_NONE) {
			if ((error = plan_add(p, pe && pe->resolved && *pe->resolved ? pe->resolved
			    : rel.ptr, NR__LAYER_DIR, NULL, 0, 0755, 0, 0, c->err)) < 0 ||
			    (error = change(c, "directory", rel.ptr, NULL, "0755 0:0",
				"parent of the home directory, missing in the image")) < 0)
				goto done;
		} else if (pe->type != NR_ENTRY_DIRECTORY) {
			error = nr__error_set(c->err, NR_EINVALID, rel.ptr, 0, 0,
				"patch: /%s (on the way to the home %s) is not a directory", rel.ptr,
				home);
			goto done;
		}
		rel.ptr[k] = '/';
	}
	snprintf(after, sizeof(after), "0755 %u:%u", (unsigned)s->uid, (unsigned)s->gid);
	if (e && e->type == NR_ENTRY_DIRECTORY)
		snprintf(before, sizeof(before), "%04o %llu:%llu", (unsigned)e->mode,
			(unsigned long long)e->uid, (unsigned long long)e->gid);
	if ((error = plan_add(p, e && e->resolved && *e->resolved ? e->resolved : rel.ptr,
	    NR__LAYER_DIR, NULL, 0, 0755, s->uid, s->gid, c->err)) < 0)
		goto done;
	error = change(c, "directory", rel.ptr, e && e->type == NR_ENTRY_DIRECTORY ? before : NULL,
		after, e && e->type == NR_ENTRY_DIRECTORY ? "the home must be owned by the user"
		: "create the user's home directory");
done:
	nr_buf_dispose(&rel);
	return error;
}

/* ---- config -------------------------------------------------------------------------------- */

/* Finishing a gradual migration: value without its privileged mapped bindings (those that
 * --mode compat kept beside their unprivileged ones). Each ';'-separated entry is judged
 * alone, as Kestrel reads it. *out is NULL when nothing is dropped. */
static int drop_migrated(char **out, const char *name, const char *value, const nr_portmap *map,
	nr_error *err)
{
	nr_buf nv = NR_BUF_INIT, kv = NR_BUF_INIT;
	const char *p = value;
	bool dropped = false, first = true;

	*out = NULL;
	for (;;) {
		const char *semi = strchr(p, ';'), *envp[2];
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		nr_bindings *b = NULL;
		bool drop = false;

		nr_buf_truncate(&kv, 0);
		nr_buf_printf(&kv, "%s=%.*s", name, (int)len, p);
		envp[0] = kv.ptr;
		envp[1] = NULL;
		if (!kv.oom && len > 0 && nr_bindings_from_env(&b, envp, NULL, NULL) == 0 &&
		    nr_bindings_count(b) == 1) {
			const nr_binding *bd = nr_bindings_get(b, 0);
			drop = bd->privileged && nr_portmap_lookup(map, bd->parsed.port) >= 0;
		}
		nr_bindings_free(b);
		if (drop) {
			dropped = true;
		} else if (len > 0) {
			nr_buf_printf(&nv, "%s%.*s", first ? "" : ";", (int)len, p);
			first = false;
		}
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	nr_buf_dispose(&kv);
	if (nv.oom || kv.oom) {
		nr_buf_dispose(&nv);
		return nr__error_oom(err);
	}
	if (dropped && nv.size > 0)
		*out = nr_buf_detach(&nv, NULL);
	nr_buf_dispose(&nv);
	return 0;
}

/* The ports Kestrel binds with cfg's environment (at most max; none when Kestrel would refuse
 * it). */
static size_t bound_ports(const nr_imgconfig *cfg, uint16_t *ports, size_t max)
{
	size_t n = nr_imgconfig_env_count(cfg), k, np = 0;
	const char **envp;
	nr_bindings *b = NULL;

	if ((envp = nr__calloc(n + 1, sizeof(*envp))) == NULL)
		return 0;
	for (k = 0; k < n; k++)
		envp[k] = nr_imgconfig_env_at(cfg, k);
	if (nr_bindings_from_env(&b, envp, NULL, NULL) == 0)
		for (k = 0; k < nr_bindings_count(b) && np < max; k++)
			if (nr_bindings_get(b, k)->parsed.port > 0)
				ports[np++] = (uint16_t)nr_bindings_get(b, k)->parsed.port;
	nr_bindings_free(b);
	free(envp);
	return np;
}

static bool has_port(const uint16_t *ports, size_t n, unsigned port)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (ports[k] == port)
			return true;
	return false;
}

static int plan_config(ctx *c, nr_imgconfig *cfg, bool *changed)
{
	const settings *s = c->s;
	nr_error *err = c->err;
	char user[32], id[16], why[256];
	const char *cur;
	size_t k, n, nbefore, nafter, nmoved = 0;
	uint16_t before_ports[64], after_ports[64], from[NR_PORTMAP_MAX], to[NR_PORTMAP_MAX];
	int r;

	nbefore = bound_ports(cfg, before_ports, NR_ARRAY_SIZE(before_ports));

	/* User: numeric, so that Kubernetes runAsNonRoot can verify it. */
	if (s->mode == NR_PATCH_NONROOT) {
		snprintf(user, sizeof(user), "%u:%u", (unsigned)s->uid, (unsigned)s->gid);
		cur = nr_imgconfig_user(cfg);
		if (strcmp(cur, user) != 0) {
			if ((r = change(c, "config", "User", *cur ? cur : NULL, user, s->kept
			    ? "keep the image's non-root user; numeric so that runAsNonRoot can verify it"
			    : "run as the non-root user; numeric so that runAsNonRoot can verify it")) < 0 ||
			    (r = nr_imgconfig_set_user(cfg, user, err)) < 0)
				return r;
			*changed = true;
		}
	}
	/* APP_UID, like the .NET 8 images. */
	snprintf(id, sizeof(id), "%u", (unsigned)s->uid);
	cur = nr_imgconfig_env_get(cfg, "APP_UID");
	if (cur == NULL || strcmp(cur, id) != 0) {
		if ((r = change(c, "env", "APP_UID", cur, id,
		    "the non-root uid, as .NET 8 images publish it")) < 0 ||
		    (r = nr_imgconfig_env_set(cfg, "APP_UID", id, err)) < 0)
			return r;
		*changed = true;
	}
	/* ASP.NET Core's variables: only ports change. */
	n = nr_imgconfig_env_count(cfg);
	for (k = 0; k < n; k++) {
		const char *kv = nr_imgconfig_env_at(cfg, k), *eq = strchr(kv, '=');
		char name[128], *nv = NULL;
		const char *val;
		size_t nlen;

		if (eq == NULL || (nlen = (size_t)(eq - kv)) >= sizeof(name))
			continue;
		if (nr_urls_key_of(kv, nlen) == NR_URLS_KEY_NONE)
			continue;
		memcpy(name, kv, nlen);
		name[nlen] = '\0';
		val = nr_imgconfig_env_get(cfg, name);   /* the effective (last) value */
		if (val != eq + 1)
			continue;   /* handle a repeated variable once, at its last entry */
		if (s->mode == NR_PATCH_COMPAT && nr__urls_compat_done(name, val, &s->ports))
			continue;
		if (s->mode == NR_PATCH_NONROOT && nr__urls_compat_done(name, val, &s->ports)) {
			/* After --mode compat: every privileged binding has its unprivileged twin.
			 * Finish the migration: drop the privileged ones. */
			if ((r = drop_migrated(&nv, name, val, &s->ports, err)) < 0)
				return r;
			if (nv && strcmp(nv, val) != 0) {
				if ((r = change(c, "env", name, val, nv, "finish the gradual migration: "
				    "drop the privileged bindings that --mode compat kept beside their "
				    "unprivileged ones")) < 0 ||
				    (r = nr_imgconfig_env_set(cfg, name, nv, err)) < 0) {
					free(nv);
					return r;
				}
				*changed = true;
				n = nr_imgconfig_env_count(cfg);
			}
			free(nv);
			continue;
		}
		r = nr_urls_rewrite(&nv, NULL, name, val, strlen(val), &s->ports,
			NR_UNPRIVILEGED_PORT_START,
			s->mode == NR_PATCH_COMPAT ? NR_REWRITE_COMPAT : 0, err);
		if (r < 0)
			return r;
		if (r > 0 && strcmp(nv, val) != 0) {
			snprintf(why, sizeof(why), s->mode == NR_PATCH_COMPAT
				? "keep the privileged bindings and add unprivileged ones (%s)"
				: "a non-root user cannot bind ports below 1024 (%s)", s->portdesc);
			if ((r = change(c, "env", name, val, nv, why)) < 0 ||
			    (r = nr_imgconfig_env_set(cfg, name, nv, err)) < 0) {
				free(nv);
				return r;
			}
			*changed = true;
			n = nr_imgconfig_env_count(cfg);
		}
		free(nv);
	}
	/* ExposedPorts (and the health check) move only with a binding that moved: FROM was
	 * bound before and TO is bound now. A server told its port some other way (program
	 * arguments, a configuration file) still listens on FROM: audit reports it. */
	nafter = bound_ports(cfg, after_ports, NR_ARRAY_SIZE(after_ports));
	for (k = 0; k < s->ports.count; k++) {
		if (has_port(before_ports, nbefore, s->from[k]) &&
		    has_port(after_ports, nafter, s->to[k])) {
			from[nmoved] = s->from[k];
			to[nmoved++] = s->to[k];
		}
	}
	{
		char before[1024] = "", after[1024] = "";
		nr__exposed_list(cfg, before, sizeof(before));
		r = nr_imgconfig_map_exposed(cfg, from, to, nmoved,
			s->mode == NR_PATCH_COMPAT, err);
		if (r < 0)
			return r;
		if (r > 0) {
			nr__exposed_list(cfg, after, sizeof(after));
			if ((r = change(c, "exposed-port", "ExposedPorts", before, after,
			    s->mode == NR_PATCH_COMPAT ? "expose the added unprivileged ports too"
			    : "the server now listens on unprivileged ports")) < 0)
				return r;
			*changed = true;
		}
		/* Privileged ports the map does not cover stay: say so. */
		for (k = 0; k < nr_imgconfig_exposed_count(cfg); k++) {
			const char *key = nr_imgconfig_exposed_at(cfg, k);
			uint16_t port;
			int mapped;
			if (nr_imgconfig_parse_port_key(key, &port, NULL, NULL) < 0 || port == 0 ||
			    port >= s->threshold)
				continue;
			if ((mapped = nr_portmap_lookup(&s->ports, port)) >= 0 && s->mode == NR_PATCH_COMPAT)
				continue;   /* compat keeps the old ports on purpose */
			if (mapped >= 0)
				snprintf(why, sizeof(why), "port %u stays exposed: no binding of the image "
					"moved off it (patch moves ASP.NET Core's variables only; program "
					"arguments and server configurations are audit findings NR012/NR013)",
					(unsigned)port);
			else
				snprintf(why, sizeof(why), "port %u is privileged and not in the port map: "
					"add --port-map %u:%u", (unsigned)port, (unsigned)port,
					(unsigned)port + 8000u);
			if ((r = change(c, "warning", key, NULL, NULL, why)) < 0)
				return r;
		}
	}
	/* Health check URLs (non-root mode: the old ports are gone). */
	if (s->mode == NR_PATCH_NONROOT) {
		char *before = NULL, *after = NULL;
		if ((r = nr_imgconfig_healthcheck(&before, cfg, err)) < 0)
			return r;
		r = nr_imgconfig_map_healthcheck(cfg, from, to, nmoved, err);
		if (r > 0 && (r = nr_imgconfig_healthcheck(&after, cfg, err)) == 0) {
			r = change(c, "healthcheck", "Healthcheck", before, after,
				"probe the ports the server now listens on");
			*changed = true;
		}
		free(before);
		free(after);
		if (r < 0)
			return r;
	}
	return 0;
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

static int write_layer(ctx *c, plan *p, int64_t mtime, nr_imgconfig *cfg, const char *by,
	const char *comment)
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
	if (c->i < c->r->nbindings) {
		snprintf(c->r->bindings[c->i].layer_digest, 72, "%s", lr.digest);
		snprintf(c->r->bindings[c->i].layer_diff_id, 72, "%s", lr.diff_id);
		c->r->bindings[c->i].layer_mt = nr__newlayer_media_type(docker, gzip);
		c->r->bindings[c->i].layer_size = lr.size;
	}
	return change(c, "layer", lr.digest, NULL, nr__newlayer_media_type(docker, gzip), why);
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

static int patch_one(nr_image *img, size_t i, const settings *gs, nr_patch_report *r,
	const nr_patch_options *opts, nr_error *err)
{
	settings *s = NULL;
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	nr_imgconfig *cfg = NULL;
	const char *paths[64], *cjson, *shell, *home;
	char homebuf[4096], comment[256], *json = NULL;
	nr_buf homerel = NR_BUF_INIT, by = NR_BUF_INIT;
	size_t npaths = 0, clen, jlen, k;
	int64_t mtime;
	plan p;
	bool cfg_changed = false;
	ctx c;
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
	if ((error = choose_user(&c, res, cfg, s)) < 0)
		goto done;
	if (s->kept && !s->existing && s->no_entry)
		s->no_home = 1;
	r->uid = s->uid;
	r->gid = s->gid;

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
	if ((error = plan_accounts(&c, res, &p, shell, &home, homebuf, sizeof(homebuf), mtime)) < 0)
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
		if ((error = plan_home(&c, res, &p, home)) < 0)
			goto done;
	}
	/* An image without /etc (FROM scratch): define the directory the new files go in. */
	for (k = 0; k < p.nfiles; k++) {
		const nr_scan_entry *etc = nr_scan_result_get(res, "etc");
		if (strncmp(p.files[k].path, "etc/", 4) != 0 || (etc && etc->type != NR_ENTRY_NONE))
			continue;
		if ((error = plan_add(&p, "etc", NR__LAYER_DIR, NULL, 0, 0755, 0, 0, err)) < 0 ||
		    (error = change(&c, "directory", "etc", NULL, "0755 0:0",
			"the image has no /etc")) < 0)
			goto done;
		break;
	}
	if ((error = report_bindings(r, i, c.platform, cfg, 0, err)) < 0 ||
	    (error = plan_config(&c, cfg, &cfg_changed)) < 0 ||
	    (error = report_bindings(r, i, c.platform, cfg, 1, err)) < 0)
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
	if (i < r->nbindings && !s->dry_run) {
		const nr_descriptor *cd = nr_image_config_descriptor(img, i);
		if (cd && cd->digest) {
			snprintf(r->bindings[i].config_digest, 72, "%s", cd->digest);
			snprintf(r->bindings[i].config_mt, 96, "%s", cd->media_type ? cd->media_type : "");
			r->bindings[i].config_size = cd->size;
		}
	}
	error = 0;
done:
	free_paths(paths, &npaths, &homerel);
	nr_buf_dispose(&homerel);
	nr_buf_dispose(&by);
	plan_dispose(&p);
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
	settings s;
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
	if ((r = nr__calloc(1, sizeof(*r))) == NULL)
		return nr__error_oom(err);
	r->uid = s.uid;
	r->gid = s.gid;
	r->dry_run = s.dry_run != 0;
	for (i = 0; i < n; i++) {
		if ((error = patch_one(img, i, &s, r, opts, err)) < 0) {
			nr_patch_report_free(r);
			return error;
		}
	}
	*out = r;
	return 0;
}

/* ---- helpers (patch_internal.h) ------------------------------------------------------------ */

int nr__path_relative(nr_buf *out, const char *path, nr_error *err)
{
	if (nr__path_clean(out, path, strlen(path)) < 0)
		return nr__error_oom(err);
	return 0;
}

int nr__source_date_epoch(int64_t *t, nr_error *err)
{
	const char *v = getenv("SOURCE_DATE_EPOCH");
	uint64_t u;

	*t = -1;
	if (v == NULL)
		return 0;
	if (nr_parse_u64(v, strlen(v), INT64_MAX, &u) < 0)
		return nr__error_set(err, NR_EINVALID, "SOURCE_DATE_EPOCH", 0, 0,
			"SOURCE_DATE_EPOCH is not a number of seconds: '%s'", v);
	*t = (int64_t)u;
	return 0;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int nr__parse_time(const char *s, int64_t *t)
{
	struct tm tm;
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	time_t base;

	if (s == NULL || strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' ||
	    digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
		return NR_EINVALID;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return NR_EINVALID;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return NR_EINVALID;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return NR_EINVALID;
		p += 6;
	} else {
		return NR_EINVALID;
	}
	if (*p != '\0')
		return NR_EINVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	base = timegm(&tm);
	*t = (int64_t)base - sign * (oh * 3600 + om * 60);
	return 0;
}

void nr__format_time(char *buf, size_t size, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int nr__patch_mtime(int64_t *t, const char *created, nr_error *err)
{
	*t = 0;
	if (created == NULL || *created == '\0')
		return 0;
	if (nr__parse_time(created, t) < 0)
		return nr__error_set(err, NR_EINVALID, "created", 0, 0,
			"image config: created is not an RFC 3339 time: '%s' (set SOURCE_DATE_EPOCH)",
			created);
	if (*t < 0)
		*t = 0;
	return 0;
}

bool nr__ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

void nr__exposed_list(const nr_imgconfig *cfg, char *buf, size_t size)
{
	size_t k, used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (k = 0; k < nr_imgconfig_exposed_count(cfg) && used < size; k++) {
		int w = snprintf(buf + used, size - used, "%s%s", k ? " " : "",
			nr_imgconfig_exposed_at(cfg, k));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

bool nr__urls_compat_done(const char *name, const char *value, const nr_portmap *map)
{
	nr_buf kv = NR_BUF_INIT;
	nr_bindings *b = NULL;
	const char *envp[2];
	int32_t ports[64];
	size_t n = 0, k, j;
	bool done = true, any = false;

	nr_buf_printf(&kv, "%s=%s", name, value);
	envp[0] = kv.ptr;
	envp[1] = NULL;
	if (kv.oom || nr_bindings_from_env(&b, envp, NULL, NULL) < 0) {
		nr_buf_dispose(&kv);
		return false;
	}
	for (k = 0; k < nr_bindings_count(b) && n < NR_ARRAY_SIZE(ports); k++)
		ports[n++] = nr_bindings_get(b, k)->parsed.port;
	for (k = 0; k < nr_bindings_count(b); k++) {
		const nr_binding *bd = nr_bindings_get(b, k);
		int to;
		bool found = false;
		if (!bd->privileged || (to = nr_portmap_lookup(map, bd->parsed.port)) < 0)
			continue;
		any = true;
		for (j = 0; j < n; j++)
			if (ports[j] == to)
				found = true;
		if (!found)
			done = false;
	}
	nr_bindings_free(b);
	nr_buf_dispose(&kv);
	return any && done;
}
