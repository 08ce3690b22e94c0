/*
 * unpack_member.c: one tar member written into the unpack target (unpack_internal.h): the
 * parent directory opened inside the target (made when missing), whatever a lower layer had
 * at the path removed, whiteouts and opaque directories, then the member created with
 * O_EXCL|O_NOFOLLOW and its owner, xattrs, mode and times set (see unpack.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "unpack_internal.h"
#include "path.h"

/* ---- a set of strings (this layer's paths), and a map path -> directory metadata ------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

static hentry *hmap_find(const hmap *m, const char *key)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = (size_t)hash_str(key) & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->e[i].key, key) == 0)
			return &m->e[i];
	return NULL;
}

/* @return the entry for key (new: zeroed value), NULL on allocation failure */
hentry *nr__upk_hmap_put(hmap *m, const char *key)
{
	hentry *h;
	size_t i;

	if ((h = hmap_find(m, key)) != NULL)
		return h;
	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64, k;
		hentry *ne = nr__calloc(ncap, sizeof(*ne));
		if (ne == NULL)
			return NULL;
		for (k = 0; k < m->cap; k++) {
			if (m->e[k].key == NULL)
				continue;
			for (i = (size_t)hash_str(m->e[k].key) & (ncap - 1); ne[i].key;
			     i = (i + 1) & (ncap - 1))
				;
			ne[i] = m->e[k];
		}
		free(m->e);
		m->e = ne;
		m->cap = ncap;
	}
	for (i = (size_t)hash_str(key) & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1))
		;
	if ((m->e[i].key = nr__strdup(key)) == NULL)
		return NULL;
	memset(&m->e[i].v, 0, sizeof(m->e[i].v));
	m->n++;
	return &m->e[i];
}

void nr__upk_hmap_clear(hmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* ---- the target ---------------------------------------------------------------------------- */

void nr__upk_cache_drop(upk *u)
{
	if (u->cvalid && u->cfd >= 0)
		close(u->cfd);
	u->cfd = -1;
	u->cvalid = false;
}

static int fail_member(upk *u, int code, const char *path, const char *what, int e)
{
	return nr__error_set(u->err, code, u->digest, 0, 0, "layer member %s: %s%s%s",
		*path ? path : "/", what, e ? ": " : "", e ? strerror(e) : "");
}

int nr__upk_fail_io(upk *u, const char *path, const char *what, int e)
{
	if (e == ENOMEM)
		return nr__error_oom(u->err);
	return fail_member(u, NR_EIO, path, what, e);
}

/* Remove `name` in dirfd, recursively, never following a symlink. @return 0 or -errno. */
static int remove_at(int dirfd, const char *name, unsigned depth)
{
	struct dirent *d;
	DIR *dir;
	int fd, rc = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > 4096)
		return -ELOOP;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if ((dir = fdopendir(fd)) == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if ((rc = remove_at(fd, d->d_name, depth + 1)) < 0)
			break;
	}
	closedir(dir);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

/* Remove every child of directory fd (the target on failure). */
void nr__upk_empty_dir(int fd)
{
	struct dirent *d;
	DIR *dir;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return;
	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			(void)remove_at(fd, d->d_name, 0);
	closedir(dir);
}

/*
 * Open directory `dir` (cleaned, "" = root) inside the target, making missing components
 * (0755) when `create`. @return a borrowed fd (valid until the next call or cache_drop), or
 * -errno.
 */
static int parent_fd(upk *u, const char *dir, bool create)
{
	size_t n = strlen(dir), i;
	int fd;

	if (n == 0)
		return u->rootfd;
	if (u->cvalid && u->cpath.size == n && memcmp(u->cpath.ptr, dir, n) == 0)
		return u->cfd;
	nr__upk_cache_drop(u);
	fd = nr__rootfs_open_dir(u->rfs, dir);
	if (fd == -ENOENT && create) {
		/* Make the missing components one by one, each in its resolved parent. */
		nr__buf_truncate(&u->tmp, 0);
		nr__buf_put(&u->tmp, dir, n);
		if (u->tmp.oom)
			return -ENOMEM;
		for (i = 0; i <= n; i++) {
			char save;
			int pfd, d;
			const char *comp;
			if (i < n && u->tmp.ptr[i] != '/')
				continue;
			save = u->tmp.ptr[i];
			u->tmp.ptr[i] = '\0';
			d = nr__rootfs_open_dir(u->rfs, u->tmp.ptr);
			if (d >= 0) {
				close(d);
				u->tmp.ptr[i] = save;
				continue;
			}
			if (d != -ENOENT)
				return d;
			comp = memrchr(u->tmp.ptr, '/', i);
			if (comp) {
				*(char *)comp = '\0';
				pfd = nr__rootfs_open_dir(u->rfs, u->tmp.ptr);
				*(char *)comp = '/';
				comp++;
			} else {
				pfd = openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				comp = u->tmp.ptr;
			}
			if (pfd < 0)
				return pfd < -1 ? pfd : -errno;
			if (mkdirat(pfd, comp, 0755) < 0) {
				d = errno == EEXIST ? -ENOENT : -errno;   /* EEXIST: a dangling link */
				close(pfd);
				return d;
			}
			close(pfd);
			/* an implied directory: 0755, mtime 0 at the end (as umoci) */
			if (hmap_find(&u->dirs, u->tmp.ptr) == NULL && nr__upk_hmap_put(&u->dirs, u->tmp.ptr) == NULL)
				return -ENOMEM;
			u->tmp.ptr[i] = save;
		}
		fd = nr__rootfs_open_dir(u->rfs, dir);
	}
	if (fd < 0)
		return fd;
	nr__buf_truncate(&u->cpath, 0);
	if (nr__buf_put(&u->cpath, dir, n) < 0) {
		close(fd);
		return -ENOMEM;
	}
	u->cfd = fd;
	u->cvalid = true;
	return fd;
}

static int set_xattrs(upk *u, int fd, struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;

	if (!u->xattrs || archive_entry_xattr_reset(e) == 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		/* Where the file system allows: ENOTSUP, EPERM (trusted.* as non-root), ... are
		 * not errors (umoci and runtimes skip them alike). */
		if (fsetxattr(fd, name, value, size, 0) < 0 && errno == ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = (time_t)archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = (time_t)archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

/* Owner, xattrs, mode and times of an open file or directory. */
static int finish_fd(upk *u, int fd, struct archive_entry *e, const char *path, bool dir)
{
	struct timespec ts[2];
	mode_t mode = (mode_t)archive_entry_perm(e) & 07777;

	if (!u->rootless && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return nr__upk_fail_io(u, path, "chown", errno);
	if (set_xattrs(u, fd, e) < 0)
		return nr__error_oom(u->err);
	if (dir && u->rootless)
		mode |= 0700;   /* owner keeps access while unpacking; the real mode at the end */
	if (fchmod(fd, mode) < 0)
		return nr__upk_fail_io(u, path, "chmod", errno);
	if (!dir) {
		entry_times(e, ts);
		if (futimens(fd, ts) < 0)
			return nr__upk_fail_io(u, path, "set times", errno);
	}
	return 0;
}

static int write_data(upk *u, struct archive *a, int fd, struct archive_entry *e,
	const char *path)
{
	int64_t size = archive_entry_size(e), end = 0;

	for (;;) {
		const void *blk;
		size_t bn, off = 0;
		la_int64_t at;
		int r = archive_read_data_block(a, &blk, &bn, &at);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return fail_member(u, NR_EINVALID, path, archive_error_string(a) ?
				archive_error_string(a) : "cannot read the data", 0);
		while (off < bn) {
			ssize_t w = pwrite(fd, (const char *)blk + off, bn - off, (off_t)at + (off_t)off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return nr__upk_fail_io(u, path, "write", errno);
			}
			off += (size_t)w;
		}
		if (at + (int64_t)bn > end)
			end = at + (int64_t)bn;
	}
	if (size > end && ftruncate(fd, (off_t)size) < 0)   /* a sparse file's hole at the end */
		return nr__upk_fail_io(u, path, "truncate", errno);
	return 0;
}

/* Record the final mode (rootless) and times of a directory, applied at the end. */
static int note_dir(upk *u, const char *path, struct archive_entry *e)
{
	struct timespec ts[2];
	hentry *h = nr__upk_hmap_put(&u->dirs, path);

	if (h == NULL)
		return nr__error_oom(u->err);
	entry_times(e, ts);
	h->v.sec = ts[1].tv_sec;
	h->v.nsec = ts[1].tv_nsec;
	h->v.mode = (uint32_t)archive_entry_perm(e) & 07777;
	h->v.has_mode = true;
	return 0;
}

static int whiteout(upk *u, const char *dir, size_t dn, const char *name)
{
	int pfd, rc;

	nr__buf_truncate(&u->path, 0);
	if (dn)
		nr__buf_printf(&u->path, "%.*s/", (int)dn, dir);
	nr__buf_puts(&u->path, name);
	if (u->path.oom)
		return nr__error_oom(u->err);
	if (hmap_find(&u->upper, u->path.ptr))
		return 0;   /* written by this very layer: whiteouts hide lower layers only */
	nr__buf_truncate(&u->tmp, 0);
	if (nr__buf_put(&u->tmp, dir, dn) < 0)
		return nr__error_oom(u->err);
	pfd = parent_fd(u, u->tmp.ptr ? u->tmp.ptr : "", false);
	if (pfd == -ENOENT || pfd == -ENOTDIR)
		return 0;
	if (pfd < 0)
		return nr__upk_fail_io(u, u->path.ptr, "whiteout", -pfd);
	rc = remove_at(pfd, name, 0);
	nr__upk_cache_drop(u);
	return rc < 0 ? nr__upk_fail_io(u, u->path.ptr, "whiteout", -rc) : 0;
}

static int opaque(upk *u, const char *dir, size_t dn)
{
	struct dirent *d;
	DIR *dh;
	char **names = NULL;
	size_t n = 0, alloc = 0, k;
	int pfd, fd, error = 0;
	char *dirpath;

	if ((dirpath = nr__strndup(dir, dn)) == NULL)
		return nr__error_oom(u->err);
	pfd = parent_fd(u, dirpath, false);
	if (pfd == -ENOENT || pfd == -ENOTDIR)
		goto done;
	if (pfd < 0) {
		error = nr__upk_fail_io(u, dirpath, "opaque directory", -pfd);
		goto done;
	}
	if ((fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (dh = fdopendir(fd)) == NULL) {
		error = nr__upk_fail_io(u, dirpath, "opaque directory", errno);
		if (fd >= 0)
			close(fd);
		goto done;
	}
	while ((d = readdir(dh)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		nr__buf_truncate(&u->path, 0);
		if (dn)
			nr__buf_printf(&u->path, "%s/", dirpath);
		nr__buf_puts(&u->path, d->d_name);
		if (u->path.oom) {
			error = nr__error_oom(u->err);
			break;
		}
		if (hmap_find(&u->upper, u->path.ptr))
			continue;
		if (nr__array_grow((void **)&names, &alloc, n + 1, sizeof(*names)) < 0 ||
		    (names[n] = nr__strdup(d->d_name)) == NULL) {
			error = nr__error_oom(u->err);
			break;
		}
		n++;
	}
	for (k = 0; k < n && error == 0; k++) {
		int rc = remove_at(dirfd(dh), names[k], 0);
		if (rc < 0)
			error = nr__upk_fail_io(u, dirpath, "opaque directory: remove", -rc);
	}
	closedir(dh);
	nr__upk_cache_drop(u);
done:
	for (k = 0; k < n; k++)
		free(names[k]);
	free(names);
	free(dirpath);
	return error;
}

/* The root entry ("./"): owner, mode and times of the target itself. */
int nr__upk_apply_root(upk *u, struct archive_entry *e)
{
	if (archive_entry_filetype(e) != AE_IFDIR)
		return 0;
	if (finish_fd(u, u->rootfd, e, "", true) < 0)
		return u->err ? u->err->code : NR_EIO;
	return note_dir(u, "", e);
}

/* Hard link member p (at base in pfd) to hl, a file this or a lower layer wrote. */
static int make_hardlink(upk *u, int pfd, const char *base, const char *p, const char *hl)
{
	const char *tslash, *tbase;
	int tfd;

	if (nr__path_clean(&u->path, hl, strlen(hl)) < 0)
		return nr__error_oom(u->err);
	tslash = memrchr(u->path.ptr, '/', u->path.size);
	tbase = tslash ? tslash + 1 : u->path.ptr;
	if (tslash)
		*(char *)tslash = '\0';
	tfd = nr__rootfs_open_dir(u->rfs, tslash ? u->path.ptr : "");
	if (tslash)
		*(char *)tslash = '/';
	if (tfd < 0 || *tbase == '\0') {
		if (tfd >= 0)
			close(tfd);
		return fail_member(u, NR_EINVALID, p, "hard link to a missing file", 0);
	}
	if (linkat(tfd, tbase, pfd, base, 0) < 0) {
		int e2 = errno;
		close(tfd);
		return e2 == ENOENT ?
			fail_member(u, NR_EINVALID, p, "hard link to a missing file", 0) :
			nr__upk_fail_io(u, p, "link", e2);
	}
	close(tfd);
	return 0;
}

/* A symlink member: the link, its owner (as root) and times. */
static int make_symlink(upk *u, int pfd, const char *base, const char *p,
	struct archive_entry *e)
{
	const char *target = archive_entry_symlink(e);
	struct timespec ts[2];

	if (symlinkat(target ? target : "", pfd, base) < 0)
		return nr__upk_fail_io(u, p, "symlink", errno);
	if (!u->rootless && fchownat(pfd, base, (uid_t)archive_entry_uid(e),
			(gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return nr__upk_fail_io(u, p, "chown", errno);
	entry_times(e, ts);
	if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return nr__upk_fail_io(u, p, "set times", errno);
	return 0;
}

/* A device node (root only: umoci --rootless skips them too) or a FIFO, with its metadata. */
static int make_node(upk *u, int pfd, const char *base, const char *p,
	struct archive_entry *e, mode_t ft)
{
	struct timespec ts[2];
	dev_t dev = 0;

	if (ft != AE_IFIFO) {
		if (u->rootless)
			return 0;
		dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
	}
	if (mknodat(pfd, base, (ft == AE_IFCHR ? S_IFCHR : ft == AE_IFBLK ? S_IFBLK : S_IFIFO) |
			0600, dev) < 0)
		return nr__upk_fail_io(u, p, "mknod", errno);
	if ((!u->rootless && fchownat(pfd, base, (uid_t)archive_entry_uid(e),
			(gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0) ||
	    fchmodat(pfd, base, (mode_t)archive_entry_perm(e) & 07777, 0) < 0)
		return nr__upk_fail_io(u, p, "chown/chmod", errno);
	entry_times(e, ts);
	if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return nr__upk_fail_io(u, p, "set times", errno);
	return 0;
}

/* A directory (kept when one is there: exists) or a regular file, with its metadata. */
static int make_dir_or_file(upk *u, struct archive *a, int pfd, const char *base,
	const char *p, struct archive_entry *e, bool exists)
{
	bool dir = archive_entry_filetype(e) == AE_IFDIR;
	int fd, error;

	if (dir) {
		if (!exists && mkdirat(pfd, base, 0700) < 0)
			return nr__upk_fail_io(u, p, "mkdir", errno);
		if ((fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return nr__upk_fail_io(u, p, "open", errno);
	} else {
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return nr__upk_fail_io(u, p, "create", errno);
		if ((error = write_data(u, a, fd, e, p)) < 0)
			goto done;
	}
	if ((error = finish_fd(u, fd, e, p, dir)) == 0 && dir)
		error = note_dir(u, p, e);
done:
	close(fd);
	return error;
}

/* Open p's directory in the target and clear the way for p: what a lower layer has there
 * goes, except a directory under a directory. *pfd: borrowed; *exists: a directory kept. */
static int prepare_path(upk *u, const char *p, const char *dir, const char *base,
	struct archive_entry *e, int *pfd, bool *exists)
{
	struct stat st;
	int rc;

	if ((*pfd = parent_fd(u, dir, true)) < 0)
		return *pfd == -ENOTDIR || *pfd == -ENOENT || *pfd == -ELOOP ?
			fail_member(u, NR_EINVALID, p, "its directory cannot be made (a path "
				"component is not a directory, or a dangling or looping symlink)",
				-*pfd) :
			nr__upk_fail_io(u, p, "open its directory", -*pfd);
	*exists = fstatat(*pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!*exists || (archive_entry_hardlink(e) == NULL &&
	    archive_entry_filetype(e) == AE_IFDIR && S_ISDIR(st.st_mode)))
		return 0;
	if ((rc = remove_at(*pfd, base, 0)) < 0)
		return nr__upk_fail_io(u, p, "replace", -rc);
	*exists = false;
	if (!S_ISREG(st.st_mode)) {
		/* a directory or link on the way of the cached parent may be gone */
		nr__upk_cache_drop(u);
		if ((*pfd = parent_fd(u, dir, true)) < 0)
			return nr__upk_fail_io(u, p, "open its directory", -*pfd);
	}
	return 0;
}

int nr__upk_apply_member(upk *u, struct archive *a, struct archive_entry *e, const char *p,
	size_t n)
{
	const char *slash = memrchr(p, '/', n), *base = slash ? slash + 1 : p, *hl;
	size_t dn = slash ? (size_t)(slash - p) : 0;
	mode_t ft = archive_entry_filetype(e);
	char *dir = NULL;
	int pfd = -1, error = 0;
	bool exists = false;

	if (strncmp(base, ".wh.", 4) == 0) {
		if (strcmp(base, ".wh..wh..opq") == 0)
			return opaque(u, p, dn);
		if (strncmp(base, ".wh..wh.", 8) == 0)
			return 0;   /* other AUFS metadata (.wh..wh.plnk, ...): not content */
		return whiteout(u, p, dn, base + 4);
	}
	if (nr__upk_hmap_put(&u->upper, p) == NULL)
		return nr__error_oom(u->err);
	if ((dir = nr__strndup(p, dn)) == NULL)
		return nr__error_oom(u->err);
	if ((error = prepare_path(u, p, dir, base, e, &pfd, &exists)) < 0)
		goto done;
	if ((hl = archive_entry_hardlink(e)) != NULL)
		error = make_hardlink(u, pfd, base, p, hl);
	else if (ft == AE_IFDIR || ft == AE_IFREG)
		error = make_dir_or_file(u, a, pfd, base, p, e, exists);
	else if (ft == AE_IFLNK)
		error = make_symlink(u, pfd, base, p, e);
	else if (ft == AE_IFCHR || ft == AE_IFBLK || ft == AE_IFIFO)
		error = make_node(u, pfd, base, p, e, ft);
	/* else: sockets and unknown types are not unpacked (as tar and umoci) */
done:
	free(dir);
	return error;
}
