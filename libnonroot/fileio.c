/*
 * fileio.c: bounded reads and atomic file replacement.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "fileio.h"
#include "parse.h"

int nr__write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int nr__fd_read_all(char **out, size_t *len, int fd, size_t max, const char *source,
	nr_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t size, used = 0;
	int error = 0;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) < 0)
		return nr__error_errno(err, errno, source, "stat");
	if (!S_ISREG(st.st_mode))
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"not a regular file (%s)", S_ISDIR(st.st_mode) ? "a directory" :
			S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISLNK(st.st_mode) ? "a symlink" :
			"a device or socket");
	if ((uint64_t)st.st_size > max)
		return nr__error_set(err, NR_ETOOBIG, source, 0, 0,
			"file is %lld bytes, over the limit of %zu", (long long)st.st_size, max);
	size = (size_t)st.st_size;
	if ((buf = nr__malloc(size + 1)) == NULL)
		return nr__error_oom(err);
	/* Read to EOF: the file may change size under us; never past max. */
	for (;;) {
		ssize_t n;
		if (used == size) {
			char probe;
			n = read(fd, &probe, 1);
			if (n == 0)
				break;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				error = nr__error_errno(err, errno, source, "read");
				goto done;
			}
			error = nr__error_set(err, NR_ETOOBIG, source, 0, 0,
				"file grew while being read");
			goto done;
		}
		n = read(fd, buf + used, size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = nr__error_errno(err, errno, source, "read");
			goto done;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
done:
	free(buf);
	return error;
}

int nr__file_read_at(char **out, size_t *len, int dirfd, const char *name, int flags,
	size_t max, const char *source, nr_error *err)
{
	int fd, error;

	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not hang; it is refused as non-regular right after. */
	fd = openat(dirfd, name, flags | O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return nr__error_errno(err, errno, source ? source : name, "open");
	error = nr__fd_read_all(out, len, fd, max, source ? source : name, err);
	close(fd);
	return error;
}

int nr__temp_name(char *out, size_t size, const char *stem)
{
	int n = snprintf(out, size, ".%.200s.nr-", stem);

	if (n < 0 || (size_t)n + 2 * 12 + 1 > size)
		return -1;
	return nr__random_hex(out + n, 12);
}

int nr__temp_create_at(int dirfd, const char *stem, mode_t mode, bool rw, char *name,
	size_t size, const char *source, nr_error *err)
{
	int fd = -1, tries;

	for (tries = 0; tries < 16; tries++) {
		if (nr__temp_name(name, size, stem) < 0)
			return nr__error_set(err, NR_EIO, source, 0, 0, "cannot make a temp file name");
		nr__temp_lock();
		fd = openat(dirfd, name, (rw ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC |
			O_NOFOLLOW | O_NOCTTY, mode);
		if (fd >= 0 && nr__temp_track_at(dirfd, name) < 0) {
			close(fd);
			unlinkat(dirfd, name, 0);
			nr__temp_unlock();
			return nr__error_oom(err);
		}
		nr__temp_unlock();
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return nr__error_errno(err, errno, source, "create temp file");
	}
	return nr__error_set(err, NR_EIO, source, 0, 0, "cannot create a temp file");
}

int nr__dir_open_at(int dirfd, const char *rel, bool create, mode_t mode, nr_error *err)
{
	char comp[256];
	const char *p = rel, *end;
	int fd, next;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, rel, "open directory");
	while (*p) {
		size_t n;
		struct stat st;
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n >= sizeof(comp)) {
			close(fd);
			return nr__error_set(err, NR_EINVALID, rel, 0, 0, "path component too long");
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			close(fd);
			return nr__error_set(err, NR_EINVALID, rel, 0, 0, "'..' in a path");
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, mode) < 0 && errno != EEXIST) {
				int e = errno;
				close(fd);
				return nr__error_errno(err, e, rel, "mkdir");
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int e = errno;
			bool link = fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				S_ISLNK(st.st_mode);
			close(fd);
			if (link || e == ELOOP || e == ENOTDIR)
				return nr__error_set(err, NR_EINVALID, rel, 0, 0,
					"refusing to use '%s': %s", comp, link || e == ELOOP ?
					"it is a symlink" : "it is not a directory");
			return nr__error_errno(err, e, rel, "open directory");
		}
		close(fd);
		fd = next;
	}
	return fd;
}

int nr__file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
	mode_t mode, const char *source, nr_error *err)
{
	char tmp[512];
	struct stat st;
	int fd = -1, error = 0, rc;
	bool have_old;

	if (source == NULL)
		source = name;
	if (strchr(name, '/') || strlen(name) > 200)
		return nr__error_set(err, NR_EARG, source, 0, 0, "invalid file name for atomic write");
	have_old = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (have_old && !S_ISREG(st.st_mode))
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"refusing to replace a file that is not a regular file");
	if ((fd = nr__temp_create_at(dirfd, name, 0600, false, tmp, sizeof(tmp), source,
			err)) < 0)
		return fd;
	if ((rc = nr__write_all(fd, data, len)) < 0) {
		error = nr__error_errno(err, -rc, source, "write");
		goto fail;
	}
	if (have_old) {
		/* Keep owner and mode of the file we replace; chown first (it clears set-id bits). */
		if (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM) {
			error = nr__error_errno(err, errno, source, "chown");
			goto fail;
		}
		mode = st.st_mode & 07777;
	}
	if (fchmod(fd, mode & 07777) < 0) {
		error = nr__error_errno(err, errno, source, "chmod");
		goto fail;
	}
	if (fsync(fd) < 0) {
		error = nr__error_errno(err, errno, source, "fsync");
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = nr__error_errno(err, errno, source, "close");
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		error = nr__error_errno(err, errno, source, "rename");
		goto fail;
	}
	nr__temp_untrack_at(tmp);
	/* The rename is durable once the directory is. */
	if (fsync(dirfd) < 0 && errno != EINVAL && errno != EBADF)
		return nr__error_errno(err, errno, source, "fsync directory");
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	nr__temp_untrack_at(tmp);
	return error;
}

int nr__file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	nr_error *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	int dirfd, error;

	if (slash == NULL) {
		dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		if ((dir = nr__strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL)
			return nr__error_oom(err);
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	free(dir);
	if (dirfd < 0)
		return nr__error_errno(err, errno, path, "open directory");
	error = nr__file_write_atomic_at(dirfd, slash ? slash + 1 : path, data, len, mode, path,
		err);
	close(dirfd);
	return error;
}
