/*
 * rootfs_accounts.c: the account files inside a root directory: nr_rootfs_resolve_user()
 * and nr_rootfs_add_user() (useradd's checks, the ids, the files written under a lock with
 * the one that makes the account exist last).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "internal.h"
#include "buf.h"
#include "fileio.h"
#include "acctfile.h"
#include "rootfs_internal.h"

int nr_adduser_options_init(nr_adduser_options *opts, unsigned version)
{
	static const nr_adduser_options init = NR_ADDUSER_OPTIONS_INIT;

	if (opts == NULL || version != NR_ADDUSER_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

/* Read an account file: *buf NULL (and 0) when it does not exist. */
static int read_optional(const nr_rootfs *rfs, const char *path, char **buf, size_t *len,
	bool *present, nr_error *err)
{
	nr_error tmp = NR_ERROR_INIT;
	int rc;

	*present = false;
	rc = nr_rootfs_read_file(buf, len, rfs, path, NR_ROOTFS_FILE_MAX, &tmp);
	if (rc == NR_ENOTFOUND) {
		*buf = NULL;
		*len = 0;
		return 0;
	}
	if (rc < 0) {
		if (err && err->code == 0)
			*err = tmp;
		return rc;
	}
	*present = true;
	return 0;
}

typedef struct account_files {
	nr_passwd *pw;
	nr_group *gr;
	nr_shadow *sh;
	nr_gshadow *gs;
	bool have_pw, have_gr, have_sh, have_gs;
} account_files;

static void account_files_dispose(account_files *f)
{
	nr_passwd_free(f->pw);
	nr_group_free(f->gr);
	nr_shadow_free(f->sh);
	nr_gshadow_free(f->gs);
	memset(f, 0, sizeof(*f));
}

static int load_accounts(const nr_rootfs *rfs, account_files *f, bool want_shadow,
	nr_error *err)
{
	char *buf = NULL;
	size_t len;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = read_optional(rfs, "etc/passwd", &buf, &len, &f->have_pw, err)) < 0 ||
	    (rc = nr_passwd_parse(&f->pw, buf, len, "etc/passwd", err)) < 0)
		goto fail;
	free(buf);
	buf = NULL;
	if ((rc = read_optional(rfs, "etc/group", &buf, &len, &f->have_gr, err)) < 0 ||
	    (rc = nr_group_parse(&f->gr, buf, len, "etc/group", err)) < 0)
		goto fail;
	free(buf);
	buf = NULL;
	if (!want_shadow)
		return 0;
	if ((rc = read_optional(rfs, "etc/shadow", &buf, &len, &f->have_sh, err)) < 0)
		goto fail;
	if (f->have_sh && (rc = nr_shadow_parse(&f->sh, buf, len, "etc/shadow", err)) < 0)
		goto fail;
	free(buf);
	buf = NULL;
	if ((rc = read_optional(rfs, "etc/gshadow", &buf, &len, &f->have_gs, err)) < 0)
		goto fail;
	if (f->have_gs && (rc = nr_gshadow_parse(&f->gs, buf, len, "etc/gshadow", err)) < 0)
		goto fail;
	free(buf);
	return 0;
fail:
	free(buf);
	account_files_dispose(f);
	return rc;
}

int nr_rootfs_resolve_user(nr_exec_user *out, const nr_rootfs *rfs,
	const char *spec, const nr_userspec_options *defaults, nr_error *err)
{
	account_files f;
	int rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	memset(out, 0, sizeof(*out));
	NR_ASSERT_ARG(rfs, err);
	if ((rc = load_accounts(rfs, &f, false, err)) < 0)
		return rc;
	rc = nr_userspec_resolve(out, spec, f.have_pw ? f.pw : NULL, f.have_gr ? f.gr : NULL,
		defaults, err);
	account_files_dispose(&f);
	return rc;
}

/* mkdir that is fine with an existing directory. @return 0 (created: *created = true) or <0 */
static int ensure_dir(nr_rootfs *rfs, const char *path, unsigned mode, uint32_t uid,
	uint32_t gid, int *created, nr_error *err)
{
	nr_error tmp = NR_ERROR_INIT;
	int rc = nr_rootfs_mkdir(rfs, path, mode, uid, gid, &tmp);

	if (rc == NR_EEXISTS)
		return 0;
	if (rc < 0) {
		if (err && err->code == 0)
			*err = tmp;
		return rc;
	}
	if (created)
		*created = 1;
	return 0;
}

typedef int (*write_fn)(const void *obj, char **out, size_t *len, nr_error *err);

static int write_account(nr_rootfs *rfs, const char *path, const void *obj, write_fn fn,
	unsigned mode, nr_error *err)
{
	char *text = NULL;
	size_t len;
	int rc;

	if ((rc = fn(obj, &text, &len, err)) < 0)
		return rc;
	rc = nr_rootfs_write_file(rfs, path, text, len, mode, err);
	nr_free(text);
	return rc;
}

static int w_passwd(const void *o, char **out, size_t *len, nr_error *err)
{
	return nr_passwd_serialize(out, len, o, err);
}

static int w_group(const void *o, char **out, size_t *len, nr_error *err)
{
	return nr_group_serialize(out, len, o, err);
}

static int w_shadow(const void *o, char **out, size_t *len, nr_error *err)
{
	return nr_shadow_serialize(out, len, o, err);
}

static int w_gshadow(const void *o, char **out, size_t *len, nr_error *err)
{
	return nr_gshadow_serialize(out, len, o, err);
}

/* The result of adding a shadow/gshadow entry: NR_EEXISTS is an orphan entry (see its use)
 * and counts as done; another error is passed on to err (first error wins). */
static int keep_orphan(int rc, const nr_error *tmp, nr_error *err)
{
	if (rc == NR_EEXISTS)
		return 0;
	if (rc < 0 && err && err->code == 0)
		*err = *tmp;
	return rc;
}

/* The options as useradd checks them: known flags, a new name, an absolute home, a shell
 * that is empty or absolute. */
static int check_adduser_options(const nr_adduser_options *opts, nr_error *err)
{
	int rc;

	if ((rc = nr__check_version(err, "nr_adduser_options", opts->version,
	    NR_ADDUSER_OPTIONS_VERSION)) < 0)
		return rc;
	if (opts->flags & ~(NR_ADDUSER_CREATE_HOME | NR_ADDUSER_EXIST_OK))
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"invalid argument: nr_adduser_options flags %#x", opts->flags);
	if ((rc = nr__check_new_name(opts->name, "name", err)) < 0)
		return rc;
	if (opts->home && opts->home[0] != '/')
		return nr__error_set(err, NR_EINVALID, "home", 0, 0,
			"invalid home '%.64s': must be an absolute path", opts->home);
	if (opts->shell && opts->shell[0] != '\0' && opts->shell[0] != '/')
		return nr__error_set(err, NR_EINVALID, "shell", 0, 0,
			"invalid shell '%.64s': must be an absolute path", opts->shell);
	return 0;
}

/* The primary group (an existing one, or *new_group) and the automatic ids: uid and a new
 * group's gid share the number when they can. */
static int choose_ids(const account_files *f, const nr_adduser_options *opts, uint32_t *uid,
	uint32_t *gid, bool *new_group, nr_error *err)
{
	const nr_grent *grp;
	int rc;

	*new_group = false;
	if (*gid != NR_ID_AUTO) {
		const nr_grent *byname = nr_group_find_name(f->gr, opts->name);
		grp = nr_group_find_gid(f->gr, *gid);
		if (grp == NULL && byname != NULL)
			return nr__error_set(err, NR_ECONFLICT, "etc/group", byname->line, 0,
				"group '%s' exists already with gid %u, not %u", byname->name, byname->gid,
				*gid);
		*new_group = grp == NULL;
	} else if ((grp = nr_group_find_name(f->gr, opts->name)) != NULL) {
		*gid = grp->gid;
	} else {
		*new_group = true;
	}
	if (*uid == NR_ID_AUTO && (rc = nr_passwd_next_free_id(uid, f->pw, *new_group &&
	    *gid == NR_ID_AUTO ? f->gr : NULL, opts->id_first, opts->id_last, err)) < 0)
		return rc;
	if (*new_group && *gid == NR_ID_AUTO) {
		if (*uid != NR_ID_AUTO && nr_group_find_gid(f->gr, *uid) == NULL)
			*gid = *uid;
		else if ((rc = nr_group_next_free_gid(gid, f->gr, opts->id_first, opts->id_last,
		    err)) < 0)
			return rc;
	}
	return 0;
}

/* Defaults: home /home/NAME, shell /sbin/nologin when the image has it (else /bin/false),
 * shadow days today. */
static int adduser_defaults(nr_rootfs *rfs, const account_files *f,
	const nr_adduser_options *opts, nr__buf *home, const char **shell, int64_t *days,
	nr_error *err)
{
	if (opts->home)
		nr__buf_puts(home, opts->home);
	else
		nr__buf_printf(home, "/home/%s", opts->name);
	if (home->oom)
		return nr__error_oom(err);
	*shell = opts->shell;
	if (*shell == NULL) {
		nr_error tmp = NR_ERROR_INIT;
		int ex = nr_rootfs_exists(rfs, "sbin/nologin", &tmp);
		if (ex == NR_ENOMEM)
			return nr__error_oom(err);
		/* anything else that is not "exists" (a loop, EACCES): no usable nologin */
		*shell = ex == 1 ? "/sbin/nologin" : "/bin/false";
	}
	*days = -1;
	if (opts->shadow_days != NR_DAYS_AUTO)
		*days = opts->shadow_days;
	else if (f->have_sh)
		return nr_shadow_days_now(days, err);
	return 0;
}

/* The new account in memory (group and gshadow when new_group, passwd, shadow): any invalid
 * field stops us before a file is written. */
static int add_in_memory(account_files *f, const nr_adduser_options *opts, uint32_t uid,
	uint32_t gid, bool new_group, const char *home, const char *shell, int64_t days,
	nr_error *err)
{
	nr_error orphan = NR_ERROR_INIT;
	nr_pwent pe = { opts->name, "x", uid, gid, opts->gecos, home, shell, 0 };
	int rc;

	if (new_group) {
		nr_grent ge = { opts->name, "x", gid, NULL, 0, 0 };
		if ((rc = nr_group_add(f->gr, &ge, err)) < 0)
			return rc;
		/* An entry already in gshadow (and below in shadow) without its group (user) is
		 * what a killed add leaves: the group (passwd) file, written last, was not. Keep it,
		 * so that running the same command again finishes the job. */
		if (f->have_gs && (rc = keep_orphan(nr_gshadow_add(f->gs, opts->name, &orphan),
		    &orphan, err)) < 0)
			return rc;
	}
	if ((rc = nr_passwd_add(f->pw, &pe, err)) < 0)
		return rc;
	nr_error_clear(&orphan);
	if (f->have_sh && (rc = keep_orphan(nr_shadow_add(f->sh, opts->name, days, &orphan),
	    &orphan, err)) < 0)
		return rc;
	return 0;
}

/* The account files, gshadow before group, shadow before passwd: the file that makes the
 * account exist is written last. */
static int write_accounts(nr_rootfs *rfs, account_files *f, bool new_group,
	nr_adduser_result *res, nr_error *err)
{
	int rc;

	if (!f->have_pw || !f->have_gr) {
		rc = ensure_dir(rfs, "etc", 0755, (uint32_t)geteuid(), (uint32_t)getegid(), NULL, err);
		if (rc < 0)
			return rc;
	}
	if (new_group) {
		if (f->have_gs && (rc = write_account(rfs, "etc/gshadow", f->gs, w_gshadow, 0640,
			err)) < 0)
			return rc;
		if ((rc = write_account(rfs, "etc/group", f->gr, w_group, 0644, err)) < 0)
			return rc;
		res->group_created = 1;
		res->gshadow_updated = f->have_gs;
	}
	if (f->have_sh) {
		if ((rc = write_account(rfs, "etc/shadow", f->sh, w_shadow, 0640, err)) < 0)
			return rc;
		res->shadow_updated = 1;
	}
	return write_account(rfs, "etc/passwd", f->pw, w_passwd, 0644, err);
}

/* An existing user: an error, or (EXIST_OK with matching ids) nothing to add but its home. */
static int existing_user(nr_rootfs *rfs, const nr_adduser_options *opts, const nr_pwent *old,
	nr_adduser_result *res, nr_error *err)
{
	if (!(opts->flags & NR_ADDUSER_EXIST_OK) ||
	    (opts->uid != NR_ID_AUTO && opts->uid != old->uid) ||
	    (opts->gid != NR_ID_AUTO && opts->gid != old->gid))
		return nr__error_set(err, NR_EEXISTS, "etc/passwd", old->line, 0,
			"user '%s' exists already (uid %u, gid %u)", old->name, old->uid, old->gid);
	res->existed = 1;
	res->uid = old->uid;
	res->gid = old->gid;
	if ((opts->flags & NR_ADDUSER_CREATE_HOME) && old->dir[0])
		return ensure_dir(rfs, old->dir, 0755, old->uid, old->gid, &res->home_created, err);
	return 0;
}

/* The account: under the lock, read, changed in memory, written. */
static int add_user_locked(nr_rootfs *rfs, account_files *f, const nr_adduser_options *opts,
	nr_adduser_result *res, nr_error *err)
{
	const nr_pwent *old;
	nr__buf home = NR__BUF_INIT;
	const char *shell = NULL;
	bool new_group = false;
	uint32_t uid = opts->uid, gid = opts->gid;
	int64_t days = -1;
	int rc;

	/* A passwd file missing next to the other account files is not an empty one (another
	 * tool may be replacing it): never write a passwd holding only the new user then. */
	if (!f->have_pw && (f->have_gr || f->have_sh || f->have_gs))
		return nr__error_set(err, NR_ENOTFOUND, "etc/passwd", 0, 0,
			"missing, but etc/%s exists: refusing to write a passwd file with only the "
			"new user", f->have_gr ? "group" : f->have_sh ? "shadow" : "gshadow");
	if ((old = nr_passwd_find_name(f->pw, opts->name)) != NULL)
		return existing_user(rfs, opts, old, res, err);
	if ((rc = choose_ids(f, opts, &uid, &gid, &new_group, err)) < 0 ||
	    (rc = adduser_defaults(rfs, f, opts, &home, &shell, &days, err)) < 0 ||
	    (rc = add_in_memory(f, opts, uid, gid, new_group, home.ptr, shell, days, err)) < 0 ||
	    (rc = write_accounts(rfs, f, new_group, res, err)) < 0)
		goto done;
	res->uid = uid;
	res->gid = gid;
	if (opts->flags & NR_ADDUSER_CREATE_HOME)
		rc = ensure_dir(rfs, home.ptr, 0755, uid, gid, &res->home_created, err);
done:
	nr__buf_dispose(&home);
	return rc;
}

int nr_rootfs_add_user(nr_adduser_result *result, nr_rootfs *rfs,
	const nr_adduser_options *opts, nr_error *err)
{
	nr_adduser_result res;
	account_files f;
	int rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(rfs, err);
	NR_ASSERT_ARG(opts, err);
	memset(&res, 0, sizeof(res));
	if ((rc = check_adduser_options(opts, err)) < 0)
		return rc;
	/* One nonroot at a time adds to these files (flock on the root directory; it waits),
	 * and each reads them under the lock, so no concurrent add is lost. */
	while (flock(nr__rootfs_fd(rfs), LOCK_EX) < 0)
		if (errno != EINTR)
			return nr__error_errno(err, errno, nr__rootfs_path(rfs), "lock");
	if ((rc = load_accounts(rfs, &f, true, err)) < 0) {
		flock(nr__rootfs_fd(rfs), LOCK_UN);
		return rc;
	}
	rc = add_user_locked(rfs, &f, opts, &res, err);
	flock(nr__rootfs_fd(rfs), LOCK_UN);
	if (rc == 0 && result)
		*result = res;
	account_files_dispose(&f);
	return rc;
}
