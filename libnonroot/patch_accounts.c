/*
 * patch_accounts.c: the account side of the patch plan: which user the image runs as, its
 * passwd/group/shadow/gshadow entries (added when missing, conflicts refused) and its home
 * directory with any missing parent.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "newlayer.h"
#include "patch_internal.h"

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

/* Which user the image will run as (mode non-root): the image's own non-root User is kept
 * unless a user was asked for; --user NAME naming an existing non-root account reuses its
 * ids. Adjusts *s (a per-manifest copy). */
int nr__patch_choose_user(nr__patch_ctx *c, const nr_scan_result *res, const nr_imgconfig *cfg,
	nr__patch_settings *s)
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
	/* Unreadable account files: nr__patch_plan_accounts() reports them. */
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
int nr__patch_plan_accounts(nr__patch_ctx *c, const nr_scan_result *res, nr__patch_plan *p,
	const char *shell, const char **home_out, char *homebuf, size_t homesz, int64_t mtime)
{
	const nr__patch_settings *s = c->s;
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
		if ((error = nr__patch_change(c, "file", where, NULL, detail,
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
		if ((error = nr__patch_change(c, "file", where, NULL, detail,
		    "add the user's primary group")) < 0)
			goto done;
	}

	if (pw_changed) {
		if ((error = nr_passwd_write(pw, &out, &outlen, err)) < 0)
			goto done;
		file_attrs(epw, "etc/passwd", 0644, &where, &mode, &uid, &gid);
		if ((error = nr__patch_plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid, err)) < 0)
			goto done;
		out = NULL;
	}
	if (gr_changed) {
		if ((error = nr_group_write(gr, &out, &outlen, err)) < 0)
			goto done;
		file_attrs(egr, "etc/group", 0644, &where, &mode, &uid, &gid);
		if ((error = nr__patch_plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid, err)) < 0)
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
			if ((error = nr__patch_plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid,
			    err)) < 0)
				goto done;
			out = NULL;
			snprintf(detail, sizeof(detail), "%s:!:%lld::::::", s->user,
				(long long)(mtime / 86400));
			if ((error = nr__patch_change(c, "file", where, NULL, detail,
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
			if ((error = nr__patch_plan_add(p, where, NR__LAYER_FILE, out, outlen, mode, uid, gid,
			    err)) < 0)
				goto done;
			out = NULL;
			snprintf(detail, sizeof(detail), "%s:!::", s->user);
			if ((error = nr__patch_change(c, "file", where, NULL, detail,
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
int nr__patch_plan_home(nr__patch_ctx *c, const nr_scan_result *res, nr__patch_plan *p,
	const char *home)
{
	const nr__patch_settings *s = c->s;
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
		error = nr__patch_change(c, "warning", rel.ptr, NULL, NULL, why);
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
			if ((error = nr__patch_plan_add(p, pe && pe->resolved && *pe->resolved ? pe->resolved
			    : rel.ptr, NR__LAYER_DIR, NULL, 0, 0755, 0, 0, c->err)) < 0 ||
			    (error = nr__patch_change(c, "directory", rel.ptr, NULL, "0755 0:0",
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
	if ((error = nr__patch_plan_add(p, e && e->resolved && *e->resolved ? e->resolved : rel.ptr,
	    NR__LAYER_DIR, NULL, 0, 0755, s->uid, s->gid, c->err)) < 0)
		goto done;
	error = nr__patch_change(c, "directory", rel.ptr, e && e->type == NR_ENTRY_DIRECTORY ? before : NULL,
		after, e && e->type == NR_ENTRY_DIRECTORY ? "the home must be owned by the user"
		: "create the user's home directory");
done:
	nr_buf_dispose(&rel);
	return error;
}

