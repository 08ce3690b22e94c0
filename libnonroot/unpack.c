/*
 * unpack.c: nr_image_unpack(): the final root filesystem of one manifest, written to a
 * directory, every create confined to it (see unpack.h).
 *
 * Per layer (streamed from its blob through inflate.c and libarchive, hashed as it is read):
 *   - member names are cleaned lexically ("../x" and "/x" are "x");
 *   - the parent directory is opened inside the target (rootfs.c: openat2 RESOLVE_IN_ROOT or
 *     the O_NOFOLLOW walk), missing parents are made 0755 one component at a time;
 *   - the last component is created relative to that fd with O_EXCL|O_NOFOLLOW (mkdirat,
 *     symlinkat, linkat without AT_SYMLINK_FOLLOW, mknodat), after removing whatever a lower
 *     layer had there (a directory over a directory is kept and only gets the new metadata);
 *   - `.wh.NAME` removes NAME, `.wh..wh..opq` removes the directory's children, except what
 *     this layer itself wrote (a set of this layer's paths, as umoci's upperPaths);
 *   - owners, then xattrs (chown clears security.capability), then modes (chown clears
 *     set-id bits), then times; directory times are set once at the end (their content
 *     changes them while unpacking).
 * After the archive, the blob is read to its end and its digest checked; any error removes
 * everything written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image_model.h"
#include "inflate.h"
#include "mediatype.h"
#include "path.h"
#include "registry.h"
#include "rootfs_internal.h"

/* ---- a set of strings (this layer's paths), and a map path -> directory metadata ------- */

typedef struct dmeta {
	uint32_t mode;
	int64_t sec;
	long nsec;
	bool has_mode;
} dmeta;

typedef struct hentry {
	char *key;
	dmeta v;
} hentry;

typedef struct hmap {
	hentry *e;
	size_t n, cap;     /* cap: power of two or 0 */
} hmap;

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
static hentry *hmap_put(hmap *m, const char *key)
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

static void hmap_clear(hmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* ---- state of one unpack ------------------------------------------------------------------ */

typedef struct upk {
	nr_rootfs *rfs;
	int rootfd;
	bool rootless;
	bool xattrs;
	nr_error *err;
	const char *digest;     /* the layer being applied */
	hmap upper;             /* paths written by this layer */
	hmap dirs;              /* directory metadata applied at the end */
	/* the last parent directory opened (members come grouped by directory) */
	nr_buf cpath;
	int cfd;
	bool cvalid;
	nr_buf path, tmp;
} upk;

static void cache_drop(upk *u)
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

static int fail_io(upk *u, const char *path, const char *what, int e)
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
static void empty_dir(int fd)
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
	cache_drop(u);
	fd = nr__rootfs_open_dir(u->rfs, dir);
	if (fd == -ENOENT && create) {
		/* Make the missing components one by one, each in its resolved parent. */
		nr_buf_truncate(&u->tmp, 0);
		nr_buf_put(&u->tmp, dir, n);
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
			if (hmap_find(&u->dirs, u->tmp.ptr) == NULL && hmap_put(&u->dirs, u->tmp.ptr) == NULL)
				return -ENOMEM;
			u->tmp.ptr[i] = save;
		}
		fd = nr__rootfs_open_dir(u->rfs, dir);
	}
	if (fd < 0)
		return fd;
	nr_buf_truncate(&u->cpath, 0);
	if (nr_buf_put(&u->cpath, dir, n) < 0) {
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
		return fail_io(u, path, "chown", errno);
	if (set_xattrs(u, fd, e) < 0)
		return nr__error_oom(u->err);
	if (dir && u->rootless)
		mode |= 0700;   /* owner keeps access while unpacking; the real mode at the end */
	if (fchmod(fd, mode) < 0)
		return fail_io(u, path, "chmod", errno);
	if (!dir) {
		entry_times(e, ts);
		if (futimens(fd, ts) < 0)
			return fail_io(u, path, "set times", errno);
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
				return fail_io(u, path, "write", errno);
			}
			off += (size_t)w;
		}
		if (at + (int64_t)bn > end)
			end = at + (int64_t)bn;
	}
	if (size > end && ftruncate(fd, (off_t)size) < 0)   /* a sparse file's hole at the end */
		return fail_io(u, path, "truncate", errno);
	return 0;
}

/* Record the final mode (rootless) and times of a directory, applied at the end. */
static int note_dir(upk *u, const char *path, struct archive_entry *e)
{
	struct timespec ts[2];
	hentry *h = hmap_put(&u->dirs, path);

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

	nr_buf_truncate(&u->path, 0);
	if (dn)
		nr_buf_printf(&u->path, "%.*s/", (int)dn, dir);
	nr_buf_puts(&u->path, name);
	if (u->path.oom)
		return nr__error_oom(u->err);
	if (hmap_find(&u->upper, u->path.ptr))
		return 0;   /* written by this very layer: whiteouts hide lower layers only */
	nr_buf_truncate(&u->tmp, 0);
	if (nr_buf_put(&u->tmp, dir, dn) < 0)
		return nr__error_oom(u->err);
	pfd = parent_fd(u, u->tmp.ptr ? u->tmp.ptr : "", false);
	if (pfd == -ENOENT || pfd == -ENOTDIR)
		return 0;
	if (pfd < 0)
		return fail_io(u, u->path.ptr, "whiteout", -pfd);
	rc = remove_at(pfd, name, 0);
	cache_drop(u);
	return rc < 0 ? fail_io(u, u->path.ptr, "whiteout", -rc) : 0;
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
		error = fail_io(u, dirpath, "opaque directory", -pfd);
		goto done;
	}
	if ((fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (dh = fdopendir(fd)) == NULL) {
		error = fail_io(u, dirpath, "opaque directory", errno);
		if (fd >= 0)
			close(fd);
		goto done;
	}
	while ((d = readdir(dh)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		nr_buf_truncate(&u->path, 0);
		if (dn)
			nr_buf_printf(&u->path, "%s/", dirpath);
		nr_buf_puts(&u->path, d->d_name);
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
			error = fail_io(u, dirpath, "opaque directory: remove", -rc);
	}
	closedir(dh);
	cache_drop(u);
done:
	for (k = 0; k < n; k++)
		free(names[k]);
	free(names);
	free(dirpath);
	return error;
}

/* The root entry ("./"): owner, mode and times of the target itself. */
static int apply_root(upk *u, struct archive_entry *e)
{
	if (archive_entry_filetype(e) != AE_IFDIR)
		return 0;
	if (finish_fd(u, u->rootfd, e, "", true) < 0)
		return u->err ? u->err->code : NR_EIO;
	return note_dir(u, "", e);
}

static int apply_member(upk *u, struct archive *a, struct archive_entry *e, const char *p,
	size_t n)
{
	const char *slash = memrchr(p, '/', n), *base = slash ? slash + 1 : p, *hl;
	size_t dn = slash ? (size_t)(slash - p) : 0;
	mode_t ft = archive_entry_filetype(e);
	struct stat st;
	char *dir = NULL;
	int pfd, fd = -1, error = 0;
	bool exists;

	if (strncmp(base, ".wh.", 4) == 0) {
		if (strcmp(base, ".wh..wh..opq") == 0)
			return opaque(u, p, dn);
		if (strncmp(base, ".wh..wh.", 8) == 0)
			return 0;   /* other AUFS metadata (.wh..wh.plnk, ...): not content */
		return whiteout(u, p, dn, base + 4);
	}
	if (hmap_put(&u->upper, p) == NULL)
		return nr__error_oom(u->err);
	if ((dir = nr__strndup(p, dn)) == NULL)
		return nr__error_oom(u->err);
	pfd = parent_fd(u, dir, true);
	if (pfd < 0) {
		error = pfd == -ENOTDIR || pfd == -ENOENT || pfd == -ELOOP ?
			fail_member(u, NR_EINVALID, p, "its directory cannot be made (a path "
				"component is not a directory, or a dangling or looping symlink)", -pfd) :
			fail_io(u, p, "open its directory", -pfd);
		goto done;
	}
	hl = archive_entry_hardlink(e);
	exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !(hl == NULL && ft == AE_IFDIR && S_ISDIR(st.st_mode))) {
		int rc = remove_at(pfd, base, 0);
		if (rc < 0) {
			error = fail_io(u, p, "replace", -rc);
			goto done;
		}
		if (!S_ISREG(st.st_mode)) {
			/* a directory or link on the way of the cached parent may be gone */
			cache_drop(u);
			if ((pfd = parent_fd(u, dir, true)) < 0) {
				error = fail_io(u, p, "open its directory", -pfd);
				goto done;
			}
		}
		exists = false;
	}
	if (hl != NULL) {
		const char *tslash, *tbase;
		int tfd;
		if (nr__path_clean(&u->path, hl, strlen(hl)) < 0) {
			error = nr__error_oom(u->err);
			goto done;
		}
		tslash = memrchr(u->path.ptr, '/', u->path.size);
		tbase = tslash ? tslash + 1 : u->path.ptr;
		if (tslash)
			*(char *)tslash = '\0';
		tfd = nr__rootfs_open_dir(u->rfs, tslash ? u->path.ptr : "");
		if (tslash)
			*(char *)tslash = '/';
		if (tfd < 0 || *tbase == '\0') {
			error = fail_member(u, NR_EINVALID, p, "hard link to a missing file", 0);
			if (tfd >= 0)
				close(tfd);
			goto done;
		}
		if (linkat(tfd, tbase, pfd, base, 0) < 0) {
			int e2 = errno;
			close(tfd);
			error = e2 == ENOENT ?
				fail_member(u, NR_EINVALID, p, "hard link to a missing file", 0) :
				fail_io(u, p, "link", e2);
			goto done;
		}
		close(tfd);
		goto done;
	}
	switch (ft) {
	case AE_IFDIR:
		if (!exists && mkdirat(pfd, base, 0700) < 0) {
			error = fail_io(u, p, "mkdir", errno);
			goto done;
		}
		if ((fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			error = fail_io(u, p, "open", errno);
			goto done;
		}
		if ((error = finish_fd(u, fd, e, p, true)) < 0)
			goto done;
		error = note_dir(u, p, e);
		break;
	case AE_IFREG:
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			error = fail_io(u, p, "create", errno);
			goto done;
		}
		if ((error = write_data(u, a, fd, e, p)) < 0)
			goto done;
		error = finish_fd(u, fd, e, p, false);
		break;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		struct timespec ts[2];
		if (symlinkat(target ? target : "", pfd, base) < 0) {
			error = fail_io(u, p, "symlink", errno);
			goto done;
		}
		if (!u->rootless && fchownat(pfd, base, (uid_t)archive_entry_uid(e),
				(gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0) {
			error = fail_io(u, p, "chown", errno);
			goto done;
		}
		entry_times(e, ts);
		if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0) {
			error = fail_io(u, p, "set times", errno);
			goto done;
		}
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		struct timespec ts[2];
		dev_t dev = 0;
		if (ft != AE_IFIFO) {
			if (u->rootless)
				break;   /* only root makes device nodes (umoci --rootless skips them) */
			dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
		}
		if (mknodat(pfd, base, (ft == AE_IFCHR ? S_IFCHR : ft == AE_IFBLK ? S_IFBLK : S_IFIFO) |
				0600, dev) < 0) {
			error = fail_io(u, p, "mknod", errno);
			goto done;
		}
		if ((!u->rootless && fchownat(pfd, base, (uid_t)archive_entry_uid(e),
				(gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0) ||
		    fchmodat(pfd, base, (mode_t)archive_entry_perm(e) & 07777, 0) < 0) {
			error = fail_io(u, p, "chown/chmod", errno);
			goto done;
		}
		entry_times(e, ts);
		if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0) {
			error = fail_io(u, p, "set times", errno);
			goto done;
		}
		break;
	}
	default:
		break;   /* sockets and unknown types are not unpacked (as tar and umoci) */
	}
done:
	if (fd >= 0)
		close(fd);
	free(dir);
	return error;
}

/* ---- one layer ------------------------------------------------------------------------ */

typedef struct layer_io {
	nr__blob_stream *bs;
	nr__inflate *z;
	nr_error *err;
	int error;
	size_t layer, nlayers;
	uint64_t size;
	const nr_unpack_options *opts;
} layer_io;

static la_ssize_t io_read(struct archive *a, void *data, const void **buf)
{
	layer_io *io = data;
	ssize_t r = nr__inflate_read(io->z, buf, io->err);

	if (r < 0) {
		if (r == NR_EINVALID) {
			archive_set_error(a, EINVAL, "%s", io->err ? io->err->message : "bad gzip data");
			if (io->err)
				nr_error_clear(io->err);
		} else {
			io->error = (int)r;
			archive_set_error(a, EIO, "read error");
		}
		return -1;
	}
	if (io->opts->progress)
		io->opts->progress(io->layer, io->nlayers, nr__blob_stream_total(io->bs), io->size,
			io->opts->payload);
	return r;
}

static bool truncated(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m != NULL && strstr(m, "runcated") != NULL;
}

static int apply_layer(upk *u, const nr__layer_ref *ref, size_t li, size_t nlayers,
	const nr_unpack_options *opts)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	layer_io io;
	size_t nmembers = 0;
	int error = 0, r;

	memset(&io, 0, sizeof(io));
	io.err = u->err;
	io.layer = li;
	io.nlayers = nlayers;
	io.size = ref->size;
	io.opts = opts;
	u->digest = ref->digest;
	hmap_clear(&u->upper);
	if (!nr__layer_media_type_ok(ref->media_type))
		return nr__error_set(u->err, NR_EUNSUPPORTED, ref->digest, 0, 0,
			"unsupported layer media type %s", ref->media_type ? ref->media_type : "(none)");
	if ((error = nr__blob_stream_open(&io.bs, ref->dirfd, ref->relpath, ref->digest,
			ref->size, u->err)) < 0)
		goto done;
	if ((error = nr__inflate_open(&io.z, io.bs, u->err)) < 0)
		goto done;
	if ((a = archive_read_new()) == NULL) {
		error = nr__error_oom(u->err);
		goto done;
	}
	if (!nr__inflate_active(io.z))
		NR__ARCHIVE_READ_FILTERS(a);
	archive_read_support_format_tar(a);
	if (archive_read_open(a, &io, NULL, io_read, NULL) != ARCHIVE_OK) {
		error = io.error ? io.error : nr__error_set(u->err, NR_EINVALID, ref->digest, 0, 0,
			"layer is not a readable tar: %s", archive_error_string(a));
		goto check;
	}
	for (;;) {
		const char *name;
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN && io.error == 0 && nmembers > 0 && truncated(a))
			break;   /* no end-of-archive blocks (umoci 0.4.7 insert): the digest decides */
		if (r < ARCHIVE_WARN) {
			error = io.error ? io.error : nr__error_set(u->err, NR_EINVALID, ref->digest,
				0, 0, "layer is not a readable tar or is cut short: %s",
				archive_error_string(a));
			goto check;
		}
		nmembers++;
		name = archive_entry_pathname(e);
		if (nr__path_clean(&u->path, name ? name : "", name ? strlen(name) : 0) < 0) {
			error = nr__error_oom(u->err);
			goto done;
		}
		{
			char *p = nr__strndup(u->path.ptr ? u->path.ptr : "", u->path.size);
			if (p == NULL) {
				error = nr__error_oom(u->err);
				goto done;
			}
			error = *p ? apply_member(u, a, e, p, strlen(p)) : apply_root(u, e);
			free(p);
		}
		if (error < 0) {
			if (io.error)
				error = io.error;
			goto check;
		}
	}
check:
	/* Whatever happened in the tar, a blob that does not match its digest says why. */
	if (io.error == 0) {
		nr_error derr = NR_ERROR_INIT;
		int derror = nr__blob_stream_finish(io.bs, &derr);
		if (derror < 0) {
			if (u->err) {
				nr_error_clear(u->err);
				*u->err = derr;
			}
			error = derror;
		}
	}
done:
	if (a)
		archive_read_free(a);
	nr__inflate_free(io.z);
	nr__blob_stream_free(io.bs);
	return error;
}

/* Directory modes (rootless) and times, once every layer is in. */
static int finish_dirs(upk *u)
{
	size_t k;

	cache_drop(u);
	for (k = 0; k < u->dirs.cap; k++) {
		hentry *h = &u->dirs.e[k];
		struct timespec ts[2];
		int fd;
		if (h->key == NULL)
			continue;
		fd = *h->key ? nr__rootfs_open_dir(u->rfs, h->key) :
			openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;   /* removed by a later layer */
		if (u->rootless && h->v.has_mode && fchmod(fd, (mode_t)h->v.mode) < 0) {
			close(fd);
			return fail_io(u, h->key, "chmod", errno);
		}
		ts[0].tv_sec = ts[1].tv_sec = (time_t)h->v.sec;
		ts[0].tv_nsec = ts[1].tv_nsec = h->v.nsec;
		if (futimens(fd, ts) < 0) {
			close(fd);
			return fail_io(u, h->key, "set times", errno);
		}
		close(fd);
	}
	return 0;
}

int nr_unpack_options_init(nr_unpack_options *opts, unsigned int version)
{
	static const nr_unpack_options init = NR_UNPACK_OPTIONS_INIT;

	if (opts == NULL || version != NR_UNPACK_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

int nr_image_unpack(nr_image *img, size_t i, const char *dir, const nr_unpack_options *opts,
	nr_error *err)
{
	static const nr_unpack_options dflt = NR_UNPACK_OPTIONS_INIT;
	nr__layer_ref *refs = NULL;
	char *names = NULL;
	manifest *m;
	upk u;
	bool created = false;
	size_t j;
	int error = 0, sfd = -1;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(dir, err);
	if (opts == NULL)
		opts = &dflt;
	if ((error = nr__check_version(err, "nr_unpack_options", opts->version,
	    NR_UNPACK_OPTIONS_VERSION)) < 0)
		return error;
	if (opts->flags & ~(NR_UNPACK_ROOTLESS | NR_UNPACK_NO_XATTRS))
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"invalid argument: nr_unpack_options flags %#x", opts->flags);
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu (the image has %zu)",
			i, img->nm);
	memset(&u, 0, sizeof(u));
	u.cfd = -1;
	u.err = err;
	u.rootless = (opts->flags & NR_UNPACK_ROOTLESS) || geteuid() != 0;
	u.xattrs = !(opts->flags & NR_UNPACK_NO_XATTRS);
	if (mkdir(dir, 0755) == 0) {
		created = true;
	} else if (errno != EEXIST) {
		return nr__error_errno(err, errno, dir, "mkdir");
	}
	if ((error = nr_rootfs_open(&u.rfs, dir, err)) < 0) {
		if (created)
			(void)rmdir(dir);
		goto done;
	}
	u.rootfd = nr__rootfs_fd(u.rfs);
	if (!created) {
		DIR *dh;
		struct dirent *d;
		int fd = openat(u.rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		bool empty = true;
		if (fd < 0 || (dh = fdopendir(fd)) == NULL) {
			error = nr__error_errno(err, errno, dir, "open");
			if (fd >= 0)
				close(fd);
			nr_rootfs_free(u.rfs);
			u.rfs = NULL;
			goto done;
		}
		while ((d = readdir(dh)) != NULL)
			if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
				empty = false;
		closedir(dh);
		if (!empty) {
			nr_rootfs_free(u.rfs);
			u.rfs = NULL;
			error = nr__error_set(err, NR_EEXISTS, dir, 0, 0,
				"not empty: unpack needs a new or empty directory");
			goto done;
		}
	}
	m = &img->m[i];
	if ((refs = nr__calloc(m->nlayers + 1, sizeof(*refs))) == NULL ||
	    (names = nr__calloc(m->nlayers + 1, 65)) == NULL) {
		error = nr__error_oom(err);
		goto fail;
	}
	for (j = 0; j < m->nlayers; j++) {
		layer *l = &m->layers[j];
		refs[j].digest = l->digest;
		refs[j].media_type = l->media_type;
		refs[j].size = l->size;
		if (l->relpath) {
			refs[j].dirfd = img->dirfd;
			refs[j].relpath = l->relpath;
			/* docker://: the layer is downloaded (digest-checked) into the private
			 * directory unless a scan or an earlier unpack fetched it already */
			if (img->reg && (error = nr__registry_layer_fetch(img, l->digest, l->size,
					l->relpath, err)) < 0)
				goto fail;
		} else {
			if (sfd < 0 && (sfd = nr__staging_fd(&img->staging, err)) < 0) {
				error = sfd;
				goto fail;
			}
			refs[j].dirfd = sfd;
			memcpy(names + 65 * j, l->digest + 7, 64);
			refs[j].relpath = names + 65 * j;
		}
	}
	if (hmap_put(&u.dirs, "") == NULL) {   /* the root: mtime 0 unless a layer sets it */
		error = nr__error_oom(err);
		goto fail;
	}
	for (j = 0; j < m->nlayers; j++)
		if ((error = apply_layer(&u, &refs[j], j, m->nlayers, opts)) < 0)
			goto fail;
	if ((error = finish_dirs(&u)) < 0)
		goto fail;
	goto done;
fail:
	cache_drop(&u);
	if (u.rfs) {
		if (created) {
			nr_rootfs_free(u.rfs);
			u.rfs = NULL;
			nr__rmtree(dir);
		} else {
			empty_dir(u.rootfd);
		}
	}
done:
	cache_drop(&u);
	nr_rootfs_free(u.rfs);
	hmap_clear(&u.upper);
	hmap_clear(&u.dirs);
	nr_buf_dispose(&u.cpath);
	nr_buf_dispose(&u.path);
	nr_buf_dispose(&u.tmp);
	free(refs);
	free(names);
	return error;
}
