/*
 * fileio.c: bounded reads and atomic file replacement.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
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
	int n = snprintf(out, size, ".%.200s.nr-%ld-", stem, (long)getpid());

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
		if (fd >= 0) {
			/* held while the file is open: a later run that finds this name with our
			 * pid gone (another pid namespace, pid reuse) still sees it is in use */
			(void)flock(fd, LOCK_EX | LOCK_NB);
			return fd;
		}
		if (errno != EEXIST)
			return nr__error_errno(err, errno, source, "create temp file");
	}
	return nr__error_set(err, NR_EIO, source, 0, 0, "cannot create a temp file");
}

bool nr__temp_name_parse(const char *name, const char *stem, long *pid)
{
	size_t n = strlen(name), sl;
	const char *p, *q, *end;
	long v = 0;

	*pid = 0;
	/* the 24 hex digits of the random part */
	if (n < 30 || name[0] != '.' || strspn(name + n - 24, "0123456789abcdef") != 24)
		return false;
	end = name + n - 24;
	if (end[-1] == '-' && end[-2] >= '0' && end[-2] <= '9') {
		/* ".<stem>.nr-<pid>-<hex>" */
		p = end - 2;
		while (p > name && *p >= '0' && *p <= '9')
			p--;
		if (p - name < 4 || memcmp(p - 3, ".nr-", 4) != 0 || p[1] == '0' || end - 1 - (p + 1) > 9)
			return false;
		for (q = p + 1; q < end - 1; q++)
			v = v * 10 + (*q - '0');
		end = p - 3;
	} else if (end - name >= 5 && memcmp(end - 4, ".nr-", 4) == 0) {
		/* ".<stem>.nr-<hex>" (before the pid was in the name) */
		end -= 4;
	} else {
		return false;
	}
	if (stem != NULL) {
		sl = strlen(stem);
		if ((size_t)(end - (name + 1)) != sl || memcmp(name + 1, stem, sl) != 0)
			return false;
	}
	*pid = v;
	return true;
}

/* "<stem>.nr-tmp-<pid>": the temp name of older nonroot versions (no random part). */
static bool legacy_temp_name(const char *name, const char *stem, long *pid)
{
	size_t sl;
	const char *p;
	long v = 0;

	*pid = 0;
	if (stem == NULL)
		return false;
	sl = strlen(stem);
	p = name + sl + 8;
	if (strncmp(name, stem, sl) != 0 || strncmp(name + sl, ".nr-tmp-", 8) != 0 ||
	    *p < '1' || *p > '9' || strlen(p) > 9 || strspn(p, "0123456789") != strlen(p))
		return false;
	for (; *p; p++)
		v = v * 10 + (*p - '0');
	*pid = v;
	return true;
}

/* Is the process `pid` gone (never ourselves)? kill(pid, 0) fails with ESRCH only then; EPERM
 * means it exists under another user. */
static bool pid_dead(long pid)
{
	if (pid <= 0 || pid > 0x7fffffffL || pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Open `name` in dirfd without following a symlink and take its lock (nobody holds it): the
 * fd, or -1 when it is not ours (other owner, wrong type) or still in use. */
static int open_abandoned(int dirfd, const char *name, bool dir, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
		(dir ? O_DIRECTORY : 0));

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || st->st_uid != geteuid() ||
	    (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Is `name` in dirfd still the inode of `st` (not swapped since we opened it)? */
static bool same_entry(int dirfd, const char *name, const struct stat *st)
{
	struct stat now;

	return fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev &&
		now.st_ino == st->st_ino;
}

size_t nr__temp_remove_stale_at(int dirfd, const char *stem, uint64_t *bytes)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	long pid;
	size_t n = 0;
	int ffd, fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (!nr__temp_name_parse(de->d_name, stem, &pid) &&
		    !legacy_temp_name(de->d_name, stem, &pid))
			continue;
		/* only a dead writer's file (pid gone: ESRCH), only a regular file of ours (the
		 * directory may be shared: never someone else's file, never through a symlink),
		 * and only when nobody holds its lock (a live writer in another pid namespace) */
		if (!pid_dead(pid) || (ffd = open_abandoned(dirfd, de->d_name, false, &st)) < 0)
			continue;
		if (same_entry(dirfd, de->d_name, &st) && unlinkat(dirfd, de->d_name, 0) == 0) {
			n++;
			if (bytes)
				*bytes += (uint64_t)st.st_size;
		}
		close(ffd);
	}
	closedir(d);
	return n;
}

/* Remove everything in the directory dfd (ours: created by nr__mkdtemp), relative to fds, never
 * following a symlink. */
static void clear_dir_fd(int dfd, int depth, bool dry, uint64_t *bytes)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	int sub, fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			if ((dry || unlinkat(dfd, de->d_name, 0) == 0) && bytes && S_ISREG(st.st_mode))
				*bytes += (uint64_t)st.st_size;
			continue;
		}
		if (depth < 256) {
			sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				if (!dry)   /* an unpacked read-only directory */
					(void)fchmod(sub, 0700);
				clear_dir_fd(sub, depth + 1, dry, bytes);
				close(sub);
			}
		}
		if (!dry)
			unlinkat(dfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

bool nr__temp_dir_name_parse(const char *name, long *pid)
{
	const char *p = name, *q;
	long v = 0;

	*pid = 0;
	if (strncmp(p, "nonroot-", 8) != 0)
		return false;
	p += 8;
	for (q = p; *q >= 'a' && *q <= 'z'; q++)
		;
	if (q == p || *q != '-' || q[1] < '1' || q[1] > '9')
		return false;
	for (p = q + 1; *p >= '0' && *p <= '9'; p++) {
		if (p - q > 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (*p != '-' || strlen(p + 1) != 6 ||
	    strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != 6)
		return false;
	*pid = v;
	return true;
}

static size_t stale_dirs(const char *tmpdir, bool dry, uint64_t *bytes)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	long pid;
	size_t n = 0;
	int sub, fd;

	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if ((fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		/* "nonroot-<what>-<pid>-XXXXXX" of a dead pid, a directory of ours whose lock
		 * nobody holds (nr__mkdtemp holds it for the directory's life) */
		if (!nr__temp_dir_name_parse(de->d_name, &pid) || !pid_dead(pid) ||
		    (sub = open_abandoned(fd, de->d_name, true, &st)) < 0)
			continue;
		if (same_entry(fd, de->d_name, &st)) {
			clear_dir_fd(sub, 0, dry, bytes);
			if (dry || unlinkat(fd, de->d_name, AT_REMOVEDIR) == 0)
				n++;
		}
		close(sub);
	}
	closedir(d);
	return n;
}

size_t nr__temp_remove_stale_dirs(const char *tmpdir, uint64_t *bytes)
{
	return stale_dirs(tmpdir, false, bytes);
}

size_t nr__temp_count_stale_dirs(const char *tmpdir, uint64_t *bytes)
{
	return stale_dirs(tmpdir, true, bytes);
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
