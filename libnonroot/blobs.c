/*
 * blobs.c: sha256 digests, verified blob reads, the staging area for new blobs and file
 * copies (hard link, copy_file_range, read/write).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image_internal.h"
#include "fileio.h"
#include "parse.h"

int nr__digest_check(const char *digest, char hex[65], const char *source, nr_error *err)
{
	size_t i;

	if (digest == NULL)
		return nr__error_set(err, NR_EINVALID, source, 0, 0, "missing digest");
	if (strncmp(digest, "sha256:", 7) != 0) {
		if (strchr(digest, ':') != NULL)
			return nr__error_set(err, NR_EUNSUPPORTED, source, 0, 0,
				"digest algorithm not supported (only sha256): %.40s", digest);
		return nr__error_set(err, NR_EINVALID, source, 0, 0, "malformed digest: %.80s",
			digest);
	}
	for (i = 0; i < 64; i++) {
		char c = digest[7 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			break;
	}
	if (i != 64 || digest[71] != '\0')
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"malformed sha256 digest (want 64 lowercase hex digits): %.80s", digest);
	if (hex) {
		memcpy(hex, digest + 7, 64);
		hex[64] = '\0';
	}
	return 0;
}

void nr__md_to_digest(const unsigned char *md, char out[NR_DIGEST_SIZE])
{
	memcpy(out, "sha256:", 7);
	nr__hex(out + 7, md, 32);
}

int nr__digest_of(const void *data, size_t len, char out[NR_DIGEST_SIZE], nr_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return nr__error_set(err, NR_ERROR, NULL, 0, 0, "sha256 failed");
	nr__md_to_digest(md, out);
	return 0;
}

int nr__blob_path(const char *digest, char out[96], nr_error *err)
{
	char hex[65];
	int error;

	if ((error = nr__digest_check(digest, hex, digest, err)) < 0)
		return error;
	snprintf(out, 96, "blobs/sha256/%s", hex);
	return 0;
}

/* ---- verified streaming reads -------------------------------------------------------------- */

struct nr__blob_stream {
	int fd;
	EVP_MD_CTX *md;
	uint64_t expect_size;
	uint64_t total;
	char digest[NR_DIGEST_SIZE];
	char name[80];
};

int nr__blob_stream_open(nr__blob_stream **out, int dirfd, const char *relpath,
	const char *digest, uint64_t size, nr_error *err)
{
	nr__blob_stream *s;
	struct stat st;
	int error;

	*out = NULL;
	if ((error = nr__digest_check(digest, NULL, relpath, err)) < 0)
		return error;
	if ((s = nr__calloc(1, sizeof(*s))) == NULL)
		return nr__error_oom(err);
	s->fd = -1;
	memcpy(s->digest, digest, NR_DIGEST_SIZE);
	snprintf(s->name, sizeof(s->name), "%s", digest);
	s->expect_size = size;
	if ((s->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		error = nr__error_oom(err);
		goto fail;
	}
	s->fd = openat(dirfd, relpath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (s->fd < 0) {
		error = errno == ENOENT ?
			nr__error_set(err, NR_ENOTFOUND, digest, 0, 0, "blob missing: %s", relpath) :
			nr__error_errno(err, errno, relpath, "open blob");
		goto fail;
	}
	if (fstat(s->fd, &st) < 0) {
		error = nr__error_errno(err, errno, relpath, "stat");
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		error = nr__error_set(err, NR_EINVALID, digest, 0, 0, "blob is not a regular file");
		goto fail;
	}
	if (size != UINT64_MAX && (uint64_t)st.st_size != size) {
		error = nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"blob size %llu does not match its descriptor's size %llu",
			(unsigned long long)st.st_size, (unsigned long long)size);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	nr__blob_stream_free(s);
	return error;
}

ssize_t nr__blob_stream_read(nr__blob_stream *s, void *buf, size_t n, nr_error *err)
{
	ssize_t r;

	for (;;) {
		r = read(s->fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	if (r < 0)
		return nr__error_errno(err, errno, s->name, "read blob");
	if (r > 0) {
		EVP_DigestUpdate(s->md, buf, (size_t)r);
		s->total += (uint64_t)r;
	}
	return r;
}

uint64_t nr__blob_stream_total(const nr__blob_stream *s)
{
	return s->total;
}

int nr__blob_stream_finish(nr__blob_stream *s, nr_error *err)
{
	char buf[65536], got[NR_DIGEST_SIZE];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ssize_t r;

	while ((r = nr__blob_stream_read(s, buf, sizeof(buf), err)) > 0)
		;
	if (r < 0)
		return (int)r;
	if (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 || mdlen != 32)
		return nr__error_set(err, NR_ERROR, s->name, 0, 0, "sha256 failed");
	nr__md_to_digest(md, got);
	if (s->expect_size != UINT64_MAX && s->total != s->expect_size)
		return nr__error_set(err, NR_EDIGEST, s->name, 0, 0,
			"blob has %llu bytes, its descriptor says %llu",
			(unsigned long long)s->total, (unsigned long long)s->expect_size);
	if (strcmp(got, s->digest) != 0)
		return nr__error_set(err, NR_EDIGEST, s->name, 0, 0,
			"blob content does not match its digest (content hashes to %s)", got);
	return 0;
}

void nr__blob_stream_free(nr__blob_stream *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	EVP_MD_CTX_free(s->md);
	free(s);
}

int nr__blob_read(char **out, size_t *len, int dirfd, const char *relpath, const char *digest,
	uint64_t size, size_t max, nr_error *err)
{
	nr__blob_stream *s = NULL;
	nr__buf b = NR__BUF_INIT;
	int error;

	*out = NULL;
	if (len)
		*len = 0;
	if (size != UINT64_MAX && size > max)
		return nr__error_set(err, NR_ETOOBIG, digest, 0, 0,
			"blob of %llu bytes is over the limit of %zu", (unsigned long long)size, max);
	if ((error = nr__blob_stream_open(&s, dirfd, relpath, digest, size, err)) < 0)
		return error;
	for (;;) {
		ssize_t r;
		if ((error = nr__buf_grow(&b, 65536)) < 0) {
			error = nr__error_oom(err);
			goto done;
		}
		r = nr__blob_stream_read(s, b.ptr + b.size, 65536, err);
		if (r < 0) {
			error = (int)r;
			goto done;
		}
		if (r == 0)
			break;
		b.size += (size_t)r;
		b.ptr[b.size] = '\0';
		if (b.size > max) {
			error = nr__error_set(err, NR_ETOOBIG, digest, 0, 0,
				"blob is over the limit of %zu bytes", max);
			goto done;
		}
	}
	if ((error = nr__blob_stream_finish(s, err)) < 0)
		goto done;
	if ((*out = nr__buf_detach(&b, len)) == NULL)
		error = nr__error_oom(err);
done:
	nr__buf_dispose(&b);
	nr__blob_stream_free(s);
	return error;
}

/* ---- temp dirs, trees, copies ------------------------------------------------------------- */

static bool swept;

int nr__mkdtemp(char **out, const char *tmpdir, const char *what, nr_error *err)
{
	nr__buf b = NR__BUF_INIT;

	*out = NULL;
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	/* once per process: what runs killed with SIGKILL left here (dead pid, lock free) */
	if (!__atomic_exchange_n(&swept, true, __ATOMIC_ACQ_REL))
		nr__temp_remove_stale_dirs(tmpdir, NULL);
	/* the pid tells a later run whether we are still alive */
	if (nr__buf_printf(&b, "%s/nonroot-%s-%ld-XXXXXX", tmpdir, what, (long)getpid()) < 0)
		return nr__error_oom(err);
	nr__temp_lock();
	if (mkdtemp(b.ptr) == NULL) {
		int e = errno;
		nr__temp_unlock();
		nr__buf_dispose(&b);
		return nr__error_errno(err, e, tmpdir, "create temp directory");
	}
	if (nr__temp_track_dir(b.ptr) < 0) {
		rmdir(b.ptr);
		nr__temp_unlock();
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	nr__temp_unlock();
	*out = nr__buf_detach(&b, NULL);
	if (*out == NULL)
		return nr__error_oom(err);
	return 0;
}

int nr__mkdirs_at(int dirfd, const char *rel, nr_error *err)
{
	int fd = nr__dir_open_at(dirfd, rel, true, 0755, err);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* sha256 of everything in fd (read from offset 0 with pread; the offset is left alone). */
int nr__fd_digest(int fd, char out[NR_DIGEST_SIZE], const char *source, nr_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	char *buf = NULL;
	off_t off = 0;
	int error = 0;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    (buf = nr__malloc(1u << 20)) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, 1u << 20, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = nr__error_errno(err, errno, source, "read");
			goto done;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		off += n;
	}
	if (EVP_DigestFinal_ex(md, h, &hl) != 1 || hl != 32) {
		error = nr__error_set(err, NR_ERROR, source, 0, 0, "sha256 failed");
		goto done;
	}
	nr__md_to_digest(h, out);
done:
	free(buf);
	EVP_MD_CTX_free(md);
	return error;
}

/* Does regular file `leaf` in dfd (not followed if a symlink) hash to digest? */
static bool existing_matches(int dfd, const char *leaf, const char *digest)
{
	char got[NR_DIGEST_SIZE];
	struct stat st;
	bool ok = false;
	int fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && nr__fd_digest(fd, got, leaf, NULL) == 0)
		ok = strcmp(got, digest) == 0;
	close(fd);
	return ok;
}

static int copy_fd(int in, int outfd, off_t size, const char *from, const char *to,
	nr_error *err)
{
	off_t left = size, inoff = 0;
	bool fallback = false;
	int rc;

	while (left > 0 && !fallback) {
		ssize_t n = copy_file_range(in, &inoff, outfd, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP &&
			    errno != EINVAL)
				return nr__error_errno(err, errno, to, "copy_file_range");
			fallback = true;
			break;
		}
		left -= n;
	}
	if (fallback) {
		char buf[65536];
		/* restart from the beginning: the output is truncated to what was copied */
		if (ftruncate(outfd, 0) < 0 || lseek(outfd, 0, SEEK_SET) < 0)
			return nr__error_errno(err, errno, to, "truncate");
		inoff = 0;
		for (;;) {
			ssize_t n = pread(in, buf, sizeof(buf), inoff);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return nr__error_errno(err, errno, from, "read");
			if (n == 0)
				break;
			inoff += n;
			if ((rc = nr__write_all(outfd, buf, (size_t)n)) < 0)
				return nr__error_errno(err, -rc, to, "write");
		}
	}
	return 0;
}

/* The directory of `to` (slash: its last '/', or NULL) under tofd, made when missing, opened
 * without following symlinks. @return the fd or a negative NR_E* code. */
static int open_target_dir(int tofd, const char *to, const char *slash, nr_error *err)
{
	char dir[4096];

	if (slash == NULL)
		return nr__dir_open_at(tofd, "", false, 0, err);
	if ((size_t)(slash - to) >= sizeof(dir))
		return nr__error_set(err, NR_EINVALID, to, 0, 0, "path too long");
	memcpy(dir, to, (size_t)(slash - to));
	dir[slash - to] = '\0';
	return nr__dir_open_at(tofd, dir, true, 0755, err);
}

/* The source, read through a symlink (its content is verified, never its name): a regular
 * file, *st its status. @return the fd or a negative NR_E* code. */
static int open_source(int fromfd, const char *from, struct stat *st, nr_error *err)
{
	int in = openat(fromfd, from, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), error;

	if (in < 0)
		return nr__error_errno(err, errno, from, "open");
	if (fstat(in, st) < 0)
		error = nr__error_errno(err, errno, from, "stat");
	else if (!S_ISREG(st->st_mode))
		error = nr__error_set(err, NR_EINVALID, from, 0, 0, "not a regular file");
	else
		return in;
	close(in);
	return error;
}

/* A hard link to open file `in` under a new temp name (tmp, tracked) in dfd; *linked stays
 * false when none could be made (the caller copies instead). */
static int link_temp(int in, int dfd, const char *leaf, char *tmp, size_t tmpsize, bool *linked,
	nr_error *err)
{
	char proc[64];
	int tries;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", in);
	for (tries = 0; tries < 16 && !*linked; tries++) {
		if (nr__temp_name(tmp, tmpsize, leaf) < 0)
			break;
		nr__temp_lock();
		if (linkat(AT_FDCWD, proc, dfd, tmp, AT_SYMLINK_FOLLOW) == 0 ||
		    linkat(in, "", dfd, tmp, AT_EMPTY_PATH) == 0) {
			if (nr__temp_track_at(dfd, tmp) < 0) {
				unlinkat(dfd, tmp, 0);
				nr__temp_unlock();
				return nr__error_oom(err);
			}
			*linked = true;
		}
		nr__temp_unlock();
		if (!*linked && errno != EEXIST)
			break;
	}
	return 0;
}

int nr__file_copy_at(int fromfd, const char *from, int tofd, const char *to,
	const char *digest, nr_error *err)
{
	char tmp[320], got[NR_DIGEST_SIZE];
	const char *slash = strrchr(to, '/'), *leaf = slash ? slash + 1 : to;
	struct stat st;
	int in = -1, outfd = -1, dfd, error = 0;
	bool have_tmp = false, linked = false;

	if ((dfd = open_target_dir(tofd, to, slash, err)) < 0)
		return dfd;
	/* Content-addressed: an existing target is reused only when it is what its name says. */
	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (digest == NULL || existing_matches(dfd, leaf, digest)))
		goto done;
	if ((in = open_source(fromfd, from, &st, err)) < 0) {
		error = in;
		goto done;
	}
	/*
	 * A hard link shares the inode: only for a file nobody else may change (ours, not
	 * group/other-writable), verified before it is linked. Anything else is copied into a
	 * new file of ours and the copy is verified.
	 */
	if (st.st_uid == geteuid() && (st.st_mode & 022) == 0 &&
	    (digest == NULL || ((error = nr__fd_digest(in, got, from, err)) == 0 &&
	     strcmp(got, digest) == 0)))
		error = link_temp(in, dfd, leaf, tmp, sizeof(tmp), &linked, err);
	have_tmp = linked;
	if (error < 0)
		goto done;
	if (!linked) {
		if ((outfd = nr__temp_create_at(dfd, leaf, 0600, true, tmp, sizeof(tmp), to,
				err)) < 0) {
			error = outfd;
			goto done;
		}
		have_tmp = true;
		if ((error = copy_fd(in, outfd, st.st_size, from, to, err)) < 0)
			goto done;
		if (digest && (error = nr__fd_digest(outfd, got, to, err)) < 0)
			goto done;
		if (fchmod(outfd, 0644) < 0 || fsync(outfd) < 0) {
			error = nr__error_errno(err, errno, to, "write");
			goto done;
		}
	}
	if (digest && strcmp(got, digest) != 0) {
		error = nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"blob content does not match its digest (content hashes to %s): %s", got, from);
		goto done;
	}
	if (renameat(dfd, tmp, dfd, leaf) < 0) {
		error = nr__error_errno(err, errno, to, "rename");
		goto done;
	}
	have_tmp = false;
	nr__temp_untrack_at(tmp);
done:
	if (in >= 0)
		close(in);
	if (outfd >= 0)
		close(outfd);
	if (have_tmp) {
		unlinkat(dfd, tmp, 0);
		nr__temp_untrack_at(tmp);
	}
	close(dfd);
	return error;
}

/* ---- staging ------------------------------------------------------------------------------ */

int nr__staging_fd(nr__staging *st, nr_error *err)
{
	int error;

	if (st->dirfd >= 0)
		return st->dirfd;
	if (st->path == NULL && (error = nr__mkdtemp(&st->path, st->tmpdir, "blobs", err)) < 0)
		return error;
	if ((st->dirfd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, st->path, "open staging directory");
	return st->dirfd;
}

int nr__staging_put(nr__staging *st, const void *data, size_t len,
	char digest[NR_DIGEST_SIZE], nr_error *err)
{
	int fd, error;

	if ((fd = nr__staging_fd(st, err)) < 0)
		return fd;
	if ((error = nr__digest_of(data, len, digest, err)) < 0)
		return error;
	return nr__file_write_atomic_at(fd, digest + 7, data, len, 0644, digest, err);
}

bool nr__staging_has(nr__staging *st, const char *digest, uint64_t *size)
{
	struct stat s;

	if (st->dirfd < 0 || nr__digest_check(digest, NULL, NULL, NULL) < 0)
		return false;
	if (fstatat(st->dirfd, digest + 7, &s, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(s.st_mode))
		return false;
	if (size)
		*size = (uint64_t)s.st_size;
	return true;
}

void nr__staging_dispose(nr__staging *st)
{
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
	nr__rmtree(st->path);
	free(st->path);
	st->path = NULL;
}
