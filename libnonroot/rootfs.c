/*
 * rootfs.c: file access confined to a root directory (openat2 RESOLVE_IN_ROOT, or a
 * component-by-component O_NOFOLLOW walk). The account files inside it (nr_rootfs_add_user(),
 * nr_rootfs_resolve_user()) are in rootfs_accounts.c.
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

/* A symlink met on the walk (fd: its O_PATH fd, closed here): its target spliced in front
 * of the rest *p of the path (*rest reallocated, *p pointing into it); *absolute when the
 * target is (the walk restarts at the root). @return 0 or -errno. */
static int splice_link(int fd, char **rest, char **p, size_t *links, bool *absolute)
{
	char target[PATH_MAX], *nrest;
	ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
	size_t tl, rl = strlen(*p);

	close(fd);
	if (n < 0)
		return -errno;
	if (++*links > MAX_SYMLINKS)
		return -ELOOP;
	tl = (size_t)n;
	target[tl] = '\0';
	if ((nrest = nr__malloc(tl + rl + 2)) == NULL)
		return -ENOMEM;
	memcpy(nrest, target, tl);
	nrest[tl] = '/';
	memcpy(nrest + tl + 1, *p, rl + 1);
	free(*rest);
	*rest = *p = nrest;
	*absolute = target[0] == '/';
	return 0;
}

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
			bool absolute;
			if ((rc = splice_link(fd, &rest, &p, &links, &absolute)) < 0)
				goto done;
			if (absolute) {
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

const char *nr__rootfs_path(const nr_rootfs *rfs)
{
	return rfs->path;
}

int nr__rootfs_fd(const nr_rootfs *rfs)
{
	return rfs->rootfd;
}

int nr__rootfs_open_dir(const nr_rootfs *rfs, const char *path)
{
	return open_dir(rfs, path);
}

/* The symlink b in directory fd (closed here), *cur its path (the directory's part ends at
 * slash, NULL: none): *cur becomes the target, absolute from the root, relative from the
 * link's directory joined as text (the kernel, or the walk, then resolves ".." physically,
 * inside the root). @return 0 or -errno. */
static int next_link(int fd, const char *b, char **cur, const char *slash, size_t *links)
{
	char *next, target[PATH_MAX];
	size_t dl = slash ? (size_t)(slash - *cur) : 0, tl;
	ssize_t n = readlinkat(fd, b, target, sizeof(target) - 1);

	close(fd);
	if (n < 0)
		return -errno;
	if (++*links > MAX_SYMLINKS)
		return -ELOOP;
	tl = (size_t)n;
	target[tl] = '\0';
	if ((next = nr__malloc(dl + tl + 2)) == NULL)
		return -ENOMEM;
	if (target[0] == '/') {
		memcpy(next, target, tl + 1);
	} else {
		memcpy(next, *cur, dl);
		next[dl] = '/';
		memcpy(next + dl + 1, target, tl + 1);
	}
	free(*cur);
	*cur = next;
	return 0;
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
		char *slash, *b;
		size_t len = strlen(cur);
		struct stat st;
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
			if ((rc = next_link(fd, b, &cur, slash, &links)) < 0)
				goto fail;
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

int nr_rootfs_read_file(char **out, size_t *len, const nr_rootfs *rfs, const char *path,
	size_t max, nr_error *err)
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

/* The directory comp just made in fd (closed here) gets its owner and mode. */
static int own_new_dir(int fd, const char *comp, const char *path, unsigned mode, uint32_t uid,
	uint32_t gid, nr_error *err)
{
	int dirfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	close(fd);
	if (dirfd < 0)
		return nr__error_errno(err, errno, path, "open");
	if (fchown(dirfd, uid, gid) < 0)
		rc = nr__error_errno(err, errno, path, "chown");
	else if (fchmod(dirfd, (mode_t)mode & 07777) < 0)
		rc = nr__error_errno(err, errno, path, "chmod");
	close(dirfd);
	return rc;
}

int nr_rootfs_mkdir(nr_rootfs *rfs, const char *path, unsigned mode, uint32_t uid,
	uint32_t gid, nr_error *err)
{
	char *work = NULL, *p;
	int rc = 0, fd;

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
			rc = own_new_dir(fd, comp, path, mode, uid, gid, err);
			goto done;
		}
		close(fd);
		if (end)
			*end = '/';
	}
done:
	free(work);
	return rc;
}
