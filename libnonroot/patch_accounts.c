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

/* The account files of one manifest, parsed, and which of passwd and group changed. */
typedef struct accounts {
	const nr_scan_entry *epw, *egr;
	nr_passwd *pw;
	nr_group *gr;
	bool pw_new, gr_new, pw_changed, gr_changed;
} accounts;

/* The user's passwd entry: reused when it matches, refused when it conflicts, else added
 * (with root first when the image has no passwd). An existing entry's home goes to homebuf. */
static int plan_user(nr__patch_ctx *c, accounts *ac, const char *shell, char *homebuf,
	size_t homesz)
{
	const nr__patch_settings *s = c->s;
	nr_error *err = c->err;
	const nr_pwent *pe;
	nr_pwent ent;
	char detail[256];
	const char *where;
	uint32_t mode, uid, gid;
	int error;

	if ((pe = nr_passwd_find_name(ac->pw, s->user)) != NULL) {
		if (pe->uid != s->uid && pe->uid == 0)
			return nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
				"user '%s' exists with uid 0: choose another name with --user NAME",
				pe->name);
		if (pe->uid != s->uid)
			return nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
				"user '%s' exists with uid %u, not %u: use --uid %u to reuse it, or "
				"--user NAME for another user", pe->name, (unsigned)pe->uid,
				(unsigned)s->uid, (unsigned)pe->uid);
		if (pe->gid != s->gid && !s->kept)
			return nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
				"user '%s' has primary group %u, not %u: use --gid %u to reuse it",
				pe->name, (unsigned)pe->gid, (unsigned)s->gid, (unsigned)pe->gid);
		if (*pe->dir)
			snprintf(homebuf, homesz, "%s", pe->dir);
		return 0;
	}
	if ((pe = nr_passwd_find_uid(ac->pw, s->uid)) != NULL)
		return nr__error_set(err, NR_ECONFLICT, "etc/passwd", pe->line, 0,
			"uid %u is taken by user '%s': choose another with --uid N, or --user %s to "
			"reuse it", (unsigned)s->uid, pe->name, pe->name);
	if (ac->pw_new) {
		/* No passwd at all: start one with root, as every base image has. */
		nr_pwent root = { "root", "x", 0, 0, "root", "/root", shell, 0 };
		if ((error = nr_passwd_add(ac->pw, &root, err)) < 0)
			return error;
	}
	memset(&ent, 0, sizeof(ent));
	ent.name = s->user;
	ent.passwd = "x";
	ent.uid = s->uid;
	ent.gid = s->gid;
	ent.gecos = "";
	ent.dir = s->home;
	ent.shell = shell;
	if ((error = nr_passwd_add(ac->pw, &ent, err)) < 0)
		return error;
	ac->pw_changed = true;
	snprintf(detail, sizeof(detail), "%s:x:%u:%u::%s:%s", s->user, (unsigned)s->uid,
		(unsigned)s->gid, s->home, shell);
	file_attrs(ac->epw, "etc/passwd", 0644, &where, &mode, &uid, &gid);
	return nr__patch_change(c, "file", where, NULL, detail,
		ac->pw_new ? "no passwd file: create it with root and the user"
		: "add the user, so that runc and id resolve it");
}

/* The user's primary group: joined when it is the account's or asked for by id, refused
 * when its name or gid conflicts, else added (with root first when the image has no group). */
static int plan_group(nr__patch_ctx *c, accounts *ac)
{
	const nr__patch_settings *s = c->s;
	nr_error *err = c->err;
	const nr_grent *ge;
	nr_grent g;
	char detail[256];
	const char *where;
	uint32_t mode, uid, gid;
	int error;

	if ((s->existing || s->gid_given) && nr_group_find_gid(ac->gr, s->gid) != NULL)
		return 0;   /* an existing account's group, or a group asked for by id: joined */
	ge = nr_group_find_name(ac->gr, s->user);
	if (s->kept && !s->existing && ge != NULL && ge->gid != s->gid)
		return nr__error_set(err, NR_ECONFLICT, "etc/group", ge->line, 0,
			"group '%s' exists with gid %u, not %u (the image's User): use --user NAME "
			"for another name", ge->name, (unsigned)ge->gid, (unsigned)s->gid);
	if (ge != NULL) {
		if (ge->gid != s->gid)
			return nr__error_set(err, NR_ECONFLICT, "etc/group", ge->line, 0,
				"group '%s' exists with gid %u, not %u: use --gid %u to reuse it",
				ge->name, (unsigned)ge->gid, (unsigned)s->gid, (unsigned)ge->gid);
		return 0;
	}
	if ((ge = nr_group_find_gid(ac->gr, s->gid)) != NULL)
		return nr__error_set(err, NR_ECONFLICT, "etc/group", ge->line, 0,
			"gid %u is taken by group '%s': choose another with --gid N",
			(unsigned)s->gid, ge->name);
	if (ac->gr_new) {
		nr_grent root;
		memset(&root, 0, sizeof(root));
		root.name = "root";
		root.passwd = "x";
		root.gid = 0;
		if ((error = nr_group_add(ac->gr, &root, err)) < 0)
			return error;
	}
	memset(&g, 0, sizeof(g));
	g.name = s->user;
	g.passwd = "x";
	g.gid = s->gid;
	if ((error = nr_group_add(ac->gr, &g, err)) < 0)
		return error;
	ac->gr_changed = true;
	snprintf(detail, sizeof(detail), "%s:x:%u:", s->user, (unsigned)s->gid);
	file_attrs(ac->egr, "etc/group", 0644, &where, &mode, &uid, &gid);
	return nr__patch_change(c, "file", where, NULL, detail, "add the user's primary group");
}

/* A rewritten account file (out, len: taken) into the plan at e's place and attributes. */
static int plan_file(nr__patch_ctx *c, nr__patch_plan *p, const nr_scan_entry *e,
	const char *path, uint32_t defmode, char *out, size_t len)
{
	const char *where;
	uint32_t mode, uid, gid;

	file_attrs(e, path, defmode, &where, &mode, &uid, &gid);
	return nr__patch_plan_add(p, where, NR__LAYER_FILE, out, len, mode, uid, gid, c->err);
}

/* shadow and gshadow, only when the image has them: a locked entry for the user and its
 * group when missing. */
static int plan_shadow(nr__patch_ctx *c, nr__patch_plan *p, const nr_scan_entry *esh,
	int64_t mtime)
{
	const nr__patch_settings *s = c->s;
	nr_shadow *sh = NULL;
	char *out = NULL, detail[256];
	size_t outlen;
	const char *where;
	uint32_t mode, uid, gid;
	int error;

	if (!exists(esh))
		return 0;
	if ((error = nr_shadow_parse(&sh, esh->content, esh->content_len, "etc/shadow",
	    c->err)) < 0)
		goto done;
	if (nr_shadow_find_name(sh, s->user) != NULL)
		goto done;
	if ((error = nr_shadow_add(sh, s->user, mtime / 86400, c->err)) < 0 ||
	    (error = nr_shadow_serialize(&out, &outlen, sh, c->err)) < 0)
		goto done;
	file_attrs(esh, "etc/shadow", 0640, &where, &mode, &uid, &gid);
	error = plan_file(c, p, esh, "etc/shadow", 0640, out, outlen);
	out = NULL;
	if (error < 0)
		goto done;
	snprintf(detail, sizeof(detail), "%s:!:%lld::::::", s->user, (long long)(mtime / 86400));
	error = nr__patch_change(c, "file", where, NULL, detail,
		"a locked shadow entry, so pwck stays clean");
done:
	free(out);
	nr_shadow_free(sh);
	return error;
}

static int plan_gshadow(nr__patch_ctx *c, nr__patch_plan *p, const nr_scan_entry *egs)
{
	const nr__patch_settings *s = c->s;
	nr_gshadow *gs = NULL;
	char *out = NULL, detail[256];
	size_t outlen;
	const char *where;
	uint32_t mode, uid, gid;
	int error;

	if (!exists(egs))
		return 0;
	if ((error = nr_gshadow_parse(&gs, egs->content, egs->content_len, "etc/gshadow",
	    c->err)) < 0)
		goto done;
	if (nr_gshadow_find_name(gs, s->user) != NULL)
		goto done;
	if ((error = nr_gshadow_add(gs, s->user, c->err)) < 0 ||
	    (error = nr_gshadow_serialize(&out, &outlen, gs, c->err)) < 0)
		goto done;
	file_attrs(egs, "etc/gshadow", 0640, &where, &mode, &uid, &gid);
	error = plan_file(c, p, egs, "etc/gshadow", 0640, out, outlen);
	out = NULL;
	if (error < 0)
		goto done;
	snprintf(detail, sizeof(detail), "%s:!::", s->user);
	error = nr__patch_change(c, "file", where, NULL, detail,
		"the group's gshadow entry, so grpck stays clean");
done:
	free(out);
	nr_gshadow_free(gs);
	return error;
}

/* passwd and group, written into the plan when they changed. */
static int plan_passwd_group(nr__patch_ctx *c, nr__patch_plan *p, accounts *ac)
{
	char *out = NULL;
	size_t outlen;
	int error;

	if (ac->pw_changed) {
		if ((error = nr_passwd_serialize(&out, &outlen, ac->pw, c->err)) < 0 ||
		    (error = plan_file(c, p, ac->epw, "etc/passwd", 0644, out, outlen)) < 0)
			return error;
	}
	if (ac->gr_changed) {
		if ((error = nr_group_serialize(&out, &outlen, ac->gr, c->err)) < 0 ||
		    (error = plan_file(c, p, ac->egr, "etc/group", 0644, out, outlen)) < 0)
			return error;
	}
	return 0;
}

/* The user, its group, shadow entries: add what is missing, refuse conflicts. */
int nr__patch_plan_accounts(nr__patch_ctx *c, const nr_scan_result *res, nr__patch_plan *p,
	const char *shell, const char **home_out, char *homebuf, size_t homesz, int64_t mtime)
{
	const nr__patch_settings *s = c->s;
	nr_error *err = c->err;
	const nr_scan_entry *esh = nr_scan_result_get(res, "etc/shadow");
	const nr_scan_entry *egs = nr_scan_result_get(res, "etc/gshadow");
	accounts ac;
	int error;

	memset(&ac, 0, sizeof(ac));
	ac.epw = nr_scan_result_get(res, "etc/passwd");
	ac.egr = nr_scan_result_get(res, "etc/group");
	ac.pw_new = !exists(ac.epw);
	ac.gr_new = !exists(ac.egr);
	if ((error = check_account_file(ac.epw, "etc/passwd", err)) < 0 ||
	    (error = check_account_file(ac.egr, "etc/group", err)) < 0 ||
	    (error = check_account_file(esh, "etc/shadow", err)) < 0 ||
	    (error = check_account_file(egs, "etc/gshadow", err)) < 0)
		return error;
	if ((error = nr_passwd_parse(&ac.pw, ac.pw_new ? NULL : ac.epw->content,
	    ac.pw_new ? 0 : ac.epw->content_len, "etc/passwd", err)) < 0 ||
	    (error = nr_group_parse(&ac.gr, ac.gr_new ? NULL : ac.egr->content,
	    ac.gr_new ? 0 : ac.egr->content_len, "etc/group", err)) < 0)
		goto done;
	snprintf(homebuf, homesz, "%s", s->home);
	*home_out = homebuf;
	if (s->kept && !s->existing && s->no_entry)
		goto done;   /* a numeric User kept without passwd entry, as asked */
	if ((error = plan_user(c, &ac, shell, homebuf, homesz)) < 0 ||
	    (error = plan_group(c, &ac)) < 0 ||
	    (error = plan_passwd_group(c, p, &ac)) < 0 ||
	    (error = plan_shadow(c, p, esh, mtime)) < 0 ||
	    (error = plan_gshadow(c, p, egs)) < 0)
		goto done;
done:
	nr_passwd_free(ac.pw);
	nr_group_free(ac.gr);
	return error;
}

/* Whether the home rel (e: its scan entry, or NULL) may be created and handed to the user:
 * 0 yes, 1 when it is only reported (the image's own user with a home outside /home), or an
 * error refusing it. */
static int check_home(nr__patch_ctx *c, const nr_scan_entry *e, const char *rel,
	const char *home)
{
	const nr__patch_settings *s = c->s;
	bool via = e && e->resolved && strcmp(e->resolved, rel);
	int error;

	/* The image's own user keeps a home outside /home as it is (/var/www, /nonexistent):
	 * never created or handed over, only reported. */
	if (s->kept && !s->home_given && (strncmp(rel, "home/", 5) != 0 ||
	    (e && e->resolved && *e->resolved && strncmp(e->resolved, "home/", 5) != 0))) {
		char why[512];
		snprintf(why, sizeof(why), "the home %s of the image's user (%u) is outside /home: "
			"%s", home, (unsigned)s->uid, e && e->type == NR_ENTRY_DIRECTORY
			? "left as it is" : "not created (use --home DIR to create one)");
		error = nr__patch_change(c, "warning", rel, NULL, NULL, why);
		return error < 0 ? error : 1;
	}
	/* Never hand an existing directory outside /home to the user: a home of /etc, /usr or
	 * /app (given, or taken from the image's passwd) would let it rewrite system files. */
	if (e && e->type == NR_ENTRY_DIRECTORY && (strncmp(rel, "home/", 5) != 0 ||
	    (e->resolved && *e->resolved && strncmp(e->resolved, "home/", 5) != 0)))
		return nr__error_set(c->err, NR_EINVALID, "home", 0, 0,
			"patch: the home %s%s%s%s is an existing directory outside /home owned by "
			"%llu:%llu: refusing to give it to uid %u; use --home DIR or --no-home", home,
			via ? " (-> /" : "", via ? e->resolved : "", via ? ")" : "",
			(unsigned long long)e->uid, (unsigned long long)e->gid, (unsigned)s->uid);
	if (e && e->type != NR_ENTRY_NONE && e->type != NR_ENTRY_DIRECTORY)
		return nr__error_set(c->err, NR_EINVALID, rel, 0, 0,
			"patch: the home %s exists and is not a directory: use --home DIR or --no-home",
			home);
	/* A home reached through a symlink (an image whose /home links to /) would put the
	 * directory elsewhere or replace the link: refused, the user picks another home. */
	if (e && e->resolved && *e->resolved && strcmp(e->resolved, rel) != 0)
		return nr__error_set(c->err, NR_EINVALID, "home", 0, 0,
			"patch: the home %s goes through a symlink (-> /%s): refusing to create it "
			"there; use --home DIR or --no-home", home, e->resolved);
	return 0;
}

/* The missing parents of the home rel (size bytes; restored on return), root's, 0755, first
 * so that their attributes are defined; never existing ones. */
static int plan_home_parents(nr__patch_ctx *c, const nr_scan_result *res, nr__patch_plan *p,
	char *rel, size_t size, const char *home)
{
	const nr_scan_entry *pe;
	size_t k;
	int error = 0;

	for (k = 1; k < size && error == 0; k++) {
		if (rel[k] != '/')
			continue;
		rel[k] = '\0';
		pe = nr_scan_result_get(res, rel);
		if (pe == NULL || pe->type == NR_ENTRY_NONE) {
			if ((error = nr__patch_plan_add(p, pe && pe->resolved && *pe->resolved
			    ? pe->resolved : rel, NR__LAYER_DIR, NULL, 0, 0755, 0, 0, c->err)) == 0)
				error = nr__patch_change(c, "directory", rel, NULL, "0755 0:0",
					"parent of the home directory, missing in the image");
		} else if (pe->type != NR_ENTRY_DIRECTORY) {
			error = nr__error_set(c->err, NR_EINVALID, rel, 0, 0,
				"patch: /%s (on the way to the home %s) is not a directory", rel, home);
		}
		rel[k] = '/';
	}
	return error;
}

/* The home directory (owned uid:gid, 0755) and any missing parent (root, 0755). */
int nr__patch_plan_home(nr__patch_ctx *c, const nr_scan_result *res, nr__patch_plan *p,
	const char *home)
{
	const nr__patch_settings *s = c->s;
	nr__buf rel = NR__BUF_INIT;
	const nr_scan_entry *e;
	char before[64], after[64];
	bool dir;
	int error = 0;

	if ((error = nr__path_relative(&rel, home, c->err)) < 0)
		return error;
	if (rel.size == 0)
		goto done;   /* home "/": nothing to create */
	e = nr_scan_result_get(res, rel.ptr);
	dir = e && e->type == NR_ENTRY_DIRECTORY;
	if (dir && e->uid == s->uid && e->gid == s->gid)
		goto done;
	if ((error = check_home(c, e, rel.ptr, home)) != 0) {
		error = error < 0 ? error : 0;
		goto done;
	}
	if ((error = plan_home_parents(c, res, p, rel.ptr, rel.size, home)) < 0)
		goto done;
	snprintf(after, sizeof(after), "0755 %u:%u", (unsigned)s->uid, (unsigned)s->gid);
	if (dir)
		snprintf(before, sizeof(before), "%04o %llu:%llu", (unsigned)e->mode,
			(unsigned long long)e->uid, (unsigned long long)e->gid);
	if ((error = nr__patch_plan_add(p, e && e->resolved && *e->resolved ? e->resolved
	    : rel.ptr, NR__LAYER_DIR, NULL, 0, 0755, s->uid, s->gid, c->err)) < 0)
		goto done;
	error = nr__patch_change(c, "directory", rel.ptr, dir ? before : NULL, after, dir
		? "the home must be owned by the user" : "create the user's home directory");
done:
	nr__buf_dispose(&rel);
	return error;
}
