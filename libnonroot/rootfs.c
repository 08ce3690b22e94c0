/*
 * rootfs.c: file access confined to a root directory (openat2 RESOLVE_IN_ROOT, or a
 * component-by-component O_NOFOLLOW walk), and nr_rootfs_add_user().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "buf.h"
#include "fileio.h"
#include "acctfile.h"
#include "rootfs_internal.h"

#define MAX_SYMLINKS 40   /* as the kernel's MAXSYMLINKS */

struct nr_rootfs {
	int rootfd;
	bool openat2;
	char *path;
};

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
#ifdef SYS_openat2
	struct open_how how;
	int fd, tries;

	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.resolve = resolve;
	for (tries = 0; tries < 16; tries++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			return fd;
	}
	return -1;
#else
	(void)dirfd; (void)path; (void)flags; (void)resolve;
	errno = ENOSYS;
	return -1;
#endif
}

static int errno_error(nr_error *err, int e, const char *source, const char *what)
{
	if (e == ENOENT)
		return nr__error_set(err, NR_ENOTFOUND, source, 0, 0, "%s: %s", what, strerror(e));
	return nr__error_errno(err, e, source, what);
}

int nr_rootfs_options_init(nr_rootfs_options *opts, unsigned version)
{
	static const nr_rootfs_options init = NR_ROOTFS_OPTIONS_INIT;

	if (opts == NULL || version != NR_ROOTFS_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

int nr_rootfs_open_ext(nr_rootfs **out, const char *dir, const nr_rootfs_options *opts,
	nr_error *err)
{
	static const nr_rootfs_options dflt = NR_ROOTFS_OPTIONS_INIT;
	nr_rootfs *rfs;
	struct stat st;
	int fd, rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(dir, err);
	if (opts == NULL)
		opts = &dflt;
	if ((rc = nr__check_version(err, "nr_rootfs_options", opts->version,
	    NR_ROOTFS_OPTIONS_VERSION)) < 0)
		return rc;
	if (opts->flags & ~NR_ROOTFS_NO_OPENAT2)
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"invalid argument: nr_rootfs_options flags %#x", opts->flags);
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return nr__error_set(err, NR_EINVALID, dir, 0, 0, "not a directory");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno_error(err, errno, dir, "open");
	if ((rfs = nr__calloc(1, sizeof(*rfs))) == NULL || (rfs->path = nr__strdup(dir)) == NULL) {
		free(rfs);
		close(fd);
		return nr__error_oom(err);
	}
	rfs->rootfd = fd;
	if (!(opts->flags & NR_ROOTFS_NO_OPENAT2)) {
		int probe = sys_openat2(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC,
			RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (probe >= 0) {
			rfs->openat2 = true;
			close(probe);
		}
	}
	*out = rfs;
	return 0;
}

int nr_rootfs_open(nr_rootfs **out, const char *dir, nr_error *err)
{
	return nr_rootfs_open_ext(out, dir, NULL, err);
}

void nr_rootfs_free(nr_rootfs *rfs)
{
	if (rfs == NULL)
		return;
	close(rfs->rootfd);
	free(rfs->path);
	free(rfs);
}

int nr_rootfs_uses_openat2(const nr_rootfs *rfs)
{
	return rfs && rfs->openat2 ? 1 : 0;
}

/* ---- the O_NOFOLLOW walk ----------------------------------------------------------------- */

/*
 * Open the directory `path` inside the root by walking it one component at a time: each
 * component is opened with O_PATH|O_NOFOLLOW relative to the previous one; a symlink is read
 * and its target spliced in front of the rest of the path (an absolute target restarts at
 * the root); ".." pops our own stack of directories, so it never leaves the root.
 * @return an fd (O_RDONLY|O_DIRECTORY) or -errno.
 */
static int walk_dir(const nr_rootfs *rfs, const char *path)
{
	int *stack = NULL, rc = 0, fd;
	size_t depth = 0, alloc = 0, links = 0;
	char *rest = NULL, *p;

	if (nr__array_grow((void **)&stack, &alloc, 1, sizeof(*stack)))
		return -ENOMEM;
	stack[0] = rfs->rootfd;
	if ((rest = nr__strdup(path)) == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	p = rest;
	for (;;) {
		char *comp, *end;
		struct stat st;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		comp = p;
		end = strchr(p, '/');
		if (end) {
			*end = '\0';
			p = end + 1;
		} else {
			p += strlen(p);
		}
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = openat(stack[depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			rc = -errno;
			if (fd >= 0)
				close(fd);
			goto done;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], *nrest;
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			size_t tl, rl = strlen(p);
			close(fd);
			if (n < 0) {
				rc = -errno;
				goto done;
			}
			if (++links > MAX_SYMLINKS) {
				rc = -ELOOP;
				goto done;
			}
			tl = (size_t)n;
			target[tl] = '\0';
			if ((nrest = nr__malloc(tl + rl + 2)) == NULL) {
				rc = -ENOMEM;
				goto done;
			}
			memcpy(nrest, target, tl);
			nrest[tl] = '/';
			memcpy(nrest + tl + 1, p, rl + 1);
			free(rest);
			rest = p = nrest;
			if (target[0] == '/') {
				while (depth > 0)
					close(stack[depth--]);
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			rc = -ENOTDIR;
			goto done;
		}
		if (nr__array_grow((void **)&stack, &alloc, depth + 2, sizeof(*stack))) {
			close(fd);
			rc = -ENOMEM;
			goto done;
		}
		stack[++depth] = fd;
	}
	fd = openat(stack[depth], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = fd < 0 ? -errno : fd;
done:
	while (depth > 0)
		close(stack[depth--]);
	free(stack);
	free(rest);
	return rc;
}

/* Open directory `path` inside the root. @return fd or -errno. */
static int open_dir(const nr_rootfs *rfs, const char *path)
{
	int fd;

	if (!rfs->openat2)
		return walk_dir(rfs, path);
	fd = sys_openat2(rfs->rootfd, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	return fd < 0 ? -errno : fd;
}

int nr__rootfs_fd(const nr_rootfs *rfs)
{
	return rfs->rootfd;
}

int nr__rootfs_open_dir(const nr_rootfs *rfs, const char *path)
{
	return open_dir(rfs, path);
}

/*
 * Resolve `path` to (directory fd, last component) with every symlink, the last one too,
 * followed inside the root. *base points into *buf (owned by the caller). The last
 * component may not exist (then *exists is false).
 * @return 0 or -errno (-EISDIR when the path names the root or ends in "." / "..").
 */
static int resolve_last(const nr_rootfs *rfs, const char *path, int *dirfd, char **buf,
	const char **base, bool *exists)
{
	char *cur = NULL;
	size_t links = 0;
	int rc;

	*dirfd = -1;
	*buf = NULL;
	if ((cur = nr__strdup(path)) == NULL)
		return -ENOMEM;
	for (;;) {
		char *slash, *b, target[PATH_MAX];
		size_t len = strlen(cur);
		struct stat st;
		ssize_t n;
		int fd;

		while (len > 0 && cur[len - 1] == '/')
			cur[--len] = '\0';
		slash = strrchr(cur, '/');
		b = slash ? slash + 1 : cur;
		if (*b == '\0' || strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
			rc = -EISDIR;
			goto fail;
		}
		if (slash)
			*slash = '\0';
		fd = open_dir(rfs, slash ? (slash == cur ? "/" : cur) : "");
		if (slash)
			*slash = '/';
		if (fd < 0) {
			rc = fd;
			goto fail;
		}
		if (fstatat(fd, b, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) {
				rc = -errno;
				close(fd);
				goto fail;
			}
			*exists = false;
		} else if (S_ISLNK(st.st_mode)) {
			char *next;
			size_t dl = slash ? (size_t)(slash - cur) : 0, tl;
			n = readlinkat(fd, b, target, sizeof(target) - 1);
			close(fd);
			if (n < 0) {
				rc = -errno;
				goto fail;
			}
			if (++links > MAX_SYMLINKS) {
				rc = -ELOOP;
				goto fail;
			}
			tl = (size_t)n;
			target[tl] = '\0';
			/* Absolute: from the root. Relative: from the link's directory, joined as text;
			 * the kernel (or the walk) then resolves ".." physically, inside the root. */
			if ((next = nr__malloc(dl + tl + 2)) == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			if (target[0] == '/') {
				memcpy(next, target, tl + 1);
			} else {
				memcpy(next, cur, dl);
				next[dl] = '/';
				memcpy(next + dl + 1, target, tl + 1);
			}
			free(cur);
			cur = next;
			continue;
		} else {
			*exists = true;
		}
		*dirfd = fd;
		*buf = cur;
		*base = b;
		return 0;
	}
fail:
	free(cur);
	return rc;
}

static int resolve_error(nr_error *err, int rc, const char *path)
{
	if (rc == -EISDIR)
		return nr__error_set(err, NR_EINVALID, path, 0, 0, "not a regular file (a directory)");
	if (rc == -ENOMEM)
		return nr__error_oom(err);
	return errno_error(err, -rc, path, "resolve");
}

int nr_rootfs_read_file(const nr_rootfs *rfs, const char *path, size_t max, char **out,
	size_t *len, nr_error *err)
{
	const char *base;
	char *buf;
	size_t dummy;
	bool exists;
	int dirfd, rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if (len)
		*len = 0;
	NR_ASSERT_ARG(rfs, err);
	NR_ASSERT_ARG(path, err);
	if ((rc = resolve_last(rfs, path, &dirfd, &buf, &base, &exists)) < 0)
		return resolve_error(err, rc, path);
	if (!exists) {
		rc = nr__error_set(err, NR_ENOTFOUND, path, 0, 0, "open: %s", strerror(ENOENT));
	} else {
		/* O_NOFOLLOW: a symlink swapped in since we looked fails instead of being followed */
		rc = nr__file_read_at(out, len ? len : &dummy, dirfd, base, O_NOFOLLOW,
			max ? max : NR_ROOTFS_FILE_MAX, path, err);
	}
	close(dirfd);
	free(buf);
	return rc;
}

int nr_rootfs_write_file(nr_rootfs *rfs, const char *path, const void *data, size_t len,
	unsigned mode, nr_error *err)
{
	const char *base;
	char *buf;
	bool exists;
	int dirfd, rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(rfs, err);
	NR_ASSERT_ARG(path, err);
	if (data == NULL && len > 0)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: data is NULL");
	if ((rc = resolve_last(rfs, path, &dirfd, &buf, &base, &exists)) < 0)
		return resolve_error(err, rc, path);
	rc = nr__file_write_atomic_at(dirfd, base, data ? data : "", len, (mode_t)mode, path, err);
	close(dirfd);
	free(buf);
	return rc;
}

int nr_rootfs_exists(const nr_rootfs *rfs, const char *path, nr_error *err)
{
	const char *base;
	char *buf;
	bool exists;
	int dirfd, rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(rfs, err);
	NR_ASSERT_ARG(path, err);
	rc = resolve_last(rfs, path, &dirfd, &buf, &base, &exists);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return 0;
	if (rc == -EISDIR)
		return 1;
	if (rc < 0)
		return resolve_error(err, rc, path);
	close(dirfd);
	free(buf);
	return exists ? 1 : 0;
}

int nr_rootfs_mkdir(nr_rootfs *rfs, const char *path, unsigned mode, uint32_t uid,
	uint32_t gid, nr_error *err)
{
	char *work = NULL, *p;
	int dirfd = -1, rc = 0, fd;

	nr__error_reset(err);
	NR_ASSERT_ARG(rfs, err);
	NR_ASSERT_ARG(path, err);
	if ((work = nr__strdup(path)) == NULL)
		return nr__error_oom(err);
	/* Create each missing parent: resolve the prefix before every component. */
	for (p = work;;) {
		char *comp, *end, save;
		bool last;

		while (*p == '/')
			p++;
		if (*p == '\0') {
			rc = nr__error_set(err, NR_EEXISTS, path, 0, 0, "exists already");
			goto done;
		}
		comp = p;
		end = strchr(p, '/');
		while (end && end[1] == '/')
			end++;
		last = end == NULL || end[1] == '\0';
		p = end ? end : p + strlen(p);
		save = *comp;
		*comp = '\0';
		fd = open_dir(rfs, work);
		*comp = save;
		if (fd < 0) {
			rc = errno_error(err, -fd, path, "resolve");
			goto done;
		}
		if (end)
			*end = '\0';
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			close(fd);
			if (last) {
				rc = nr__error_set(err, NR_EEXISTS, path, 0, 0, "exists already");
				goto done;
			}
			*end = '/';
			continue;
		}
		if (mkdirat(fd, comp, last ? 0700 : 0755) < 0) {
			if (errno != EEXIST) {
				rc = nr__error_errno(err, errno, path, "mkdir");
				close(fd);
				goto done;
			}
			if (last) {
				rc = nr__error_set(err, NR_EEXISTS, path, 0, 0, "exists already");
				close(fd);
				goto done;
			}
		} else if (last) {
			dirfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(fd);
			if (dirfd < 0) {
				rc = nr__error_errno(err, errno, path, "open");
				goto done;
			}
			if (fchown(dirfd, uid, gid) < 0) {
				rc = nr__error_errno(err, errno, path, "chown");
				goto done;
			}
			if (fchmod(dirfd, (mode_t)mode & 07777) < 0) {
				rc = nr__error_errno(err, errno, path, "chmod");
				goto done;
			}
			goto done;
		}
		close(fd);
		if (end)
			*end = '/';
	}
done:
	if (dirfd >= 0)
		close(dirfd);
	free(work);
	return rc;
}

/* ---- accounts inside the root ------------------------------------------------------------ */

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
	rc = nr_rootfs_read_file(rfs, path, NR_ROOTFS_FILE_MAX, buf, len, &tmp);
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

int nr_rootfs_resolve_user(const nr_rootfs *rfs, const char *spec,
	const nr_userspec_options *defaults, nr_exec_user *out, nr_error *err)
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
	return nr_passwd_write(o, out, len, err);
}

static int w_group(const void *o, char **out, size_t *len, nr_error *err)
{
	return nr_group_write(o, out, len, err);
}

static int w_shadow(const void *o, char **out, size_t *len, nr_error *err)
{
	return nr_shadow_write(o, out, len, err);
}

static int w_gshadow(const void *o, char **out, size_t *len, nr_error *err)
{
	return nr_gshadow_write(o, out, len, err);
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

int nr_rootfs_add_user(nr_rootfs *rfs, const nr_adduser_options *opts,
	nr_adduser_result *result, nr_error *err)
{
	nr_adduser_result res;
	account_files f;
	const nr_pwent *old;
	const nr_grent *grp = NULL;
	nr_buf home = NR_BUF_INIT;
	const char *shell;
	bool new_group = false;
	uint32_t uid, gid;
	int64_t days = -1;
	nr_error orphan = NR_ERROR_INIT;
	int rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(rfs, err);
	NR_ASSERT_ARG(opts, err);
	memset(&res, 0, sizeof(res));
	if ((rc = nr__check_version(err, "nr_adduser_options", opts->version,
	    NR_ADDUSER_OPTIONS_VERSION)) < 0)
		return rc;
	if (opts->flags & ~(NR_ADDUSER_CREATE_HOME | NR_ADDUSER_EXIST_OK))
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"invalid argument: nr_adduser_options flags %#x", opts->flags);
	if ((rc = nr__check_new_name(opts->name, "name", err)) < 0)
		return rc;
	/* as useradd: an absolute home; a shell that is empty or absolute */
	if (opts->home && opts->home[0] != '/')
		return nr__error_set(err, NR_EINVALID, "home", 0, 0,
			"invalid home '%.64s': must be an absolute path", opts->home);
	if (opts->shell && opts->shell[0] != '\0' && opts->shell[0] != '/')
		return nr__error_set(err, NR_EINVALID, "shell", 0, 0,
			"invalid shell '%.64s': must be an absolute path", opts->shell);
	/* One nonroot at a time adds to these files (flock on the root directory; it waits),
	 * and each reads them under the lock, so no concurrent add is lost. */
	while (flock(rfs->rootfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return nr__error_errno(err, errno, rfs->path, "lock");
	if ((rc = load_accounts(rfs, &f, true, err)) < 0) {
		flock(rfs->rootfd, LOCK_UN);
		return rc;
	}
	/* A passwd file missing next to the other account files is not an empty one (another
	 * tool may be replacing it): never write a passwd holding only the new user then. */
	if (!f.have_pw && (f.have_gr || f.have_sh || f.have_gs)) {
		rc = nr__error_set(err, NR_ENOTFOUND, "etc/passwd", 0, 0,
			"missing, but etc/%s exists: refusing to write a passwd file with only the "
			"new user", f.have_gr ? "group" : f.have_sh ? "shadow" : "gshadow");
		goto done;
	}
	uid = opts->uid;
	gid = opts->gid;

	/* An existing user: an error, or (EXIST_OK with matching ids) nothing to add. */
	if ((old = nr_passwd_find_name(f.pw, opts->name)) != NULL) {
		if (!(opts->flags & NR_ADDUSER_EXIST_OK) || (uid != NR_ID_AUTO && uid != old->uid) ||
		    (gid != NR_ID_AUTO && gid != old->gid)) {
			rc = nr__error_set(err, NR_EEXISTS, "etc/passwd", old->line, 0,
				"user '%s' exists already (uid %u, gid %u)", old->name, old->uid, old->gid);
			goto done;
		}
		res.existed = 1;
		res.uid = old->uid;
		res.gid = old->gid;
		if ((opts->flags & NR_ADDUSER_CREATE_HOME) && old->dir[0])
			rc = ensure_dir(rfs, old->dir, 0755, old->uid, old->gid, &res.home_created, err);
		goto done;
	}

	/* The primary group. */
	if (gid != NR_ID_AUTO) {
		const nr_grent *byname = nr_group_find_name(f.gr, opts->name);
		grp = nr_group_find_gid(f.gr, gid);
		if (grp == NULL && byname != NULL) {
			rc = nr__error_set(err, NR_ECONFLICT, "etc/group", byname->line, 0,
				"group '%s' exists already with gid %u, not %u", byname->name, byname->gid,
				gid);
			goto done;
		}
		new_group = grp == NULL;
	} else if ((grp = nr_group_find_name(f.gr, opts->name)) != NULL) {
		gid = grp->gid;
	} else {
		new_group = true;
	}

	/* Automatic ids: uid and a new group's gid share the number when they can. */
	if (uid == NR_ID_AUTO) {
		rc = nr_passwd_next_free_id(f.pw, new_group && gid == NR_ID_AUTO ? f.gr : NULL,
			opts->id_first, opts->id_last, &uid, err);
		if (rc < 0)
			goto done;
	}
	if (new_group && gid == NR_ID_AUTO) {
		if (uid != NR_ID_AUTO && nr_group_find_gid(f.gr, uid) == NULL)
			gid = uid;
		else if ((rc = nr_group_next_free_gid(f.gr, opts->id_first, opts->id_last, &gid,
			err)) < 0)
			goto done;
	}

	/* Defaults for home and shell. */
	if (opts->home)
		nr_buf_puts(&home, opts->home);
	else
		nr_buf_printf(&home, "/home/%s", opts->name);
	if (home.oom) {
		rc = nr__error_oom(err);
		goto done;
	}
	shell = opts->shell;
	if (shell == NULL) {
		nr_error tmp = NR_ERROR_INIT;
		int ex = nr_rootfs_exists(rfs, "sbin/nologin", &tmp);
		if (ex == NR_ENOMEM) {
			rc = nr__error_oom(err);
			goto done;
		}
		/* anything else that is not "exists" (a loop, EACCES): no usable nologin */
		shell = ex == 1 ? "/sbin/nologin" : "/bin/false";
	}
	if (opts->shadow_days == NR_DAYS_AUTO) {
		if (f.have_sh && (rc = nr_shadow_days_now(&days, err)) < 0)
			goto done;
	} else {
		days = opts->shadow_days;
	}

	/* Everything in memory first: any invalid field stops us before a file is written. */
	if (new_group) {
		nr_grent ge = { opts->name, "x", gid, NULL, 0, 0 };
		if ((rc = nr_group_add(f.gr, &ge, err)) < 0)
			goto done;
		/* An entry already in gshadow (and below in shadow) without its group (user) is
		 * what a killed add leaves: the group (passwd) file, written last, was not. Keep it,
		 * so that running the same command again finishes the job. */
		if (f.have_gs && (rc = keep_orphan(nr_gshadow_add(f.gs, opts->name, &orphan), &orphan,
		    err)) < 0)
			goto done;
	}
	{
		nr_pwent pe = { opts->name, "x", uid, gid, opts->gecos, home.ptr, shell, 0 };
		if ((rc = nr_passwd_add(f.pw, &pe, err)) < 0)
			goto done;
	}
	nr_error_clear(&orphan);
	if (f.have_sh && (rc = keep_orphan(nr_shadow_add(f.sh, opts->name, days, &orphan), &orphan,
	    err)) < 0)
		goto done;

	if (!f.have_pw || !f.have_gr) {
		rc = ensure_dir(rfs, "etc", 0755, (uint32_t)geteuid(), (uint32_t)getegid(), NULL, err);
		if (rc < 0)
			goto done;
	}
	if (new_group) {
		/* gshadow before group, shadow before passwd: the file that makes the account
		 * exist is written last. */
		if (f.have_gs && (rc = write_account(rfs, "etc/gshadow", f.gs, w_gshadow, 0640,
			err)) < 0)
			goto done;
		if ((rc = write_account(rfs, "etc/group", f.gr, w_group, 0644, err)) < 0)
			goto done;
		res.group_created = 1;
		res.gshadow_updated = f.have_gs;
	}
	if (f.have_sh) {
		if ((rc = write_account(rfs, "etc/shadow", f.sh, w_shadow, 0640, err)) < 0)
			goto done;
		res.shadow_updated = 1;
	}
	if ((rc = write_account(rfs, "etc/passwd", f.pw, w_passwd, 0644, err)) < 0)
		goto done;
	res.uid = uid;
	res.gid = gid;
	if (opts->flags & NR_ADDUSER_CREATE_HOME) {
		rc = ensure_dir(rfs, home.ptr, 0755, uid, gid, &res.home_created, err);
	}
done:
	flock(rfs->rootfd, LOCK_UN);
	if (rc == 0 && result)
		*result = res;
	nr_buf_dispose(&home);
	account_files_dispose(&f);
	return rc;
}
