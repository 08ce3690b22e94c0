/*
 * scancache.c: the layer-scan cache (scancache.h): its directory and per-user key, the record
 * file format (encode/parse, HMAC-checked), load and store by layer digest, and the markers of
 * blobs verified in an unchanged state.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "scanrec.h"
#include "fileio.h"

#define CACHE_MAGIC "NRSCAN4\n"   /* 4: file capabilities (entry flag 8) */
#define CACHE_MAX (512u * 1024u * 1024u)

/* ---- the cache ---------------------------------------------------------------------------- */

char *nr__scancache_dir(void)
{
	const char *v = getenv("NONROOT_CACHE"), *base;
	nr__buf b = NR__BUF_INIT;

	if (v == NULL || *v == '\0' || strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		return NULL;
	if (strcmp(v, "auto") != 0)
		return nr__strdup(v);
	if ((base = getenv("XDG_CACHE_HOME")) != NULL && base[0] == '/')
		nr__buf_printf(&b, "%s/nonroot", base);
	else if ((base = getenv("HOME")) != NULL && base[0] == '/')
		nr__buf_printf(&b, "%s/.cache/nonroot", base);
	else
		return NULL;
	return nr__buf_detach(&b, NULL);
}

static void put_u32(nr__buf *b, uint32_t v) { nr__buf_put(b, &v, sizeof(v)); }
static void put_u64(nr__buf *b, uint64_t v) { nr__buf_put(b, &v, sizeof(v)); }

static void put_str(nr__buf *b, const char *s, size_t len)
{
	put_u32(b, (uint32_t)len);
	nr__buf_put(b, s, len);
}

/* ---- the cache directory ------------------------------------------------------------------ */

struct nr__scancache {
	int lfd, vfd;                       /* DIR/layers, DIR/verified */
	unsigned char key[NR_SCANCACHE_KEY];
};

static int hmac(const unsigned char key[NR_SCANCACHE_KEY], const void *data, size_t len,
	unsigned char md[32])
{
	unsigned int mdlen = 0;

	return HMAC(EVP_sha256(), key, NR_SCANCACHE_KEY, data, len, md, &mdlen) != NULL &&
		mdlen == 32 ? 0 : -1;
}

/* A directory of the cache is ours alone: owned by the effective user, not group/other-
 * writable (else anyone who may write it could plant records or markers). */
static int check_private(int fd, const char *what, nr_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return nr__error_errno(err, errno, what, "stat");
	if (!S_ISDIR(st.st_mode))
		return nr__error_set(err, NR_EINVALID, what, 0, 0, "not a directory");
	if (st.st_uid != geteuid())
		return nr__error_set(err, NR_EINVALID, what, 0, 0,
			"owned by uid %lu, not by the user running nonroot (uid %lu)",
			(unsigned long)st.st_uid, (unsigned long)geteuid());
	if (st.st_mode & 022)
		return nr__error_set(err, NR_EINVALID, what, 0, 0,
			"writable by %s (mode %04o)", st.st_mode & 002 ? "others" : "its group",
			(unsigned)(st.st_mode & 07777));
	return 0;
}

/* The per-user key DIR/key: 32 random bytes, a regular file of ours with mode 0600; made
 * (O_EXCL temp + link, so concurrent first runs agree on one key) when missing. */
static int load_key(int dfd, unsigned char key[NR_SCANCACHE_KEY], const char *dir, nr_error *err)
{
	char tmp[64], *data = NULL;
	size_t len = 0;
	struct stat st;
	int fd, error, rc;

	for (;;) {
		fd = openat(dfd, "key", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd >= 0)
			break;
		if (errno != ENOENT)
			return nr__error_errno(err, errno, dir, "open key");
		if (getrandom(key, NR_SCANCACHE_KEY, 0) != NR_SCANCACHE_KEY)
			return nr__error_errno(err, errno, dir, "getrandom");
		if ((fd = nr__temp_create_at(dfd, "key", 0600, false, tmp, sizeof(tmp), dir,
				err)) < 0)
			return fd;
		rc = nr__write_all(fd, key, NR_SCANCACHE_KEY);
		if (rc == 0 && fsync(fd) < 0)
			rc = -errno;
		close(fd);
		if (rc == 0 && linkat(dfd, tmp, dfd, "key", 0) < 0 && errno != EEXIST)
			rc = -errno;
		unlinkat(dfd, tmp, 0);
		nr__temp_untrack_at(tmp);
		if (rc < 0)
			return nr__error_errno(err, -rc, dir, "write key");
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		return nr__error_set(err, NR_EINVALID, dir, 0, 0,
			"the cache key is not a private file of the user running nonroot");
	}
	error = nr__fd_read_all(&data, &len, fd, 64, dir, err);
	close(fd);
	if (error < 0)
		return error;
	if (len != NR_SCANCACHE_KEY)
		error = nr__error_set(err, NR_EINVALID, dir, 0, 0, "the cache key is damaged");
	else
		memcpy(key, data, NR_SCANCACHE_KEY);
	free(data);
	return error;
}

void nr__scancache_close(nr__scancache *c)
{
	if (c == NULL)
		return;
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->vfd >= 0)
		close(c->vfd);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}

int nr__scancache_open(nr__scancache **out, const char *dir, nr_error *err)
{
	nr__scancache *c = NULL;
	int dfd = -1, error = 0;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0')
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no cache directory");
	/* Made private when missing (each missing component 0700); an existing one is only
	 * opened (following a link the user may have set up) and then checked by its fd. */
	{
		char *p = nr__strdup(dir), *q;
		if (p == NULL) {
			error = nr__error_oom(err);
			goto fail;
		}
		for (q = p + 1; *q; q++) {
			if (*q != '/')
				continue;
			*q = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST) {
				error = nr__error_errno(err, errno, p, "mkdir");
				free(p);
				goto fail;
			}
			*q = '/';
		}
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			error = nr__error_errno(err, errno, dir, "mkdir");
			free(p);
			goto fail;
		}
		free(p);
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = nr__error_errno(err, errno, dir, "open");
		goto fail;
	}
	if ((error = check_private(dfd, dir, err)) < 0)
		goto fail;
	if ((c = nr__calloc(1, sizeof(*c))) == NULL) {
		error = nr__error_oom(err);
		goto fail;
	}
	c->lfd = c->vfd = -1;
	if ((c->lfd = nr__dir_open_at(dfd, "layers", true, 0700, err)) < 0 ||
	    (error = check_private(c->lfd, "layers", err)) < 0 ||
	    (c->vfd = nr__dir_open_at(dfd, "verified", true, 0700, err)) < 0 ||
	    (error = check_private(c->vfd, "verified", err)) < 0 ||
	    (error = load_key(dfd, c->key, dir, err)) < 0) {
		if (error == 0)
			error = c->lfd < 0 ? c->lfd : c->vfd;
		goto fail;
	}
	close(dfd);
	*out = c;
	return 0;
fail:
	if (dfd >= 0)
		close(dfd);
	nr__scancache_close(c);
	return error;
}

/* ---- records ------------------------------------------------------------------------------ */

int nr__lrec_encode(nr__buf *b, const char *digest, const nr__lrec *r,
	const unsigned char key[NR_SCANCACHE_KEY])
{
	unsigned char md[32];
	size_t i;

	nr__buf_put(b, CACHE_MAGIC, 8);
	put_str(b, digest, strlen(digest));
	put_str(b, r->plain, strlen(r->plain));
	put_u64(b, r->n);
	for (i = 0; i < r->n; i++) {
		const nr__lent *e = &r->e[i];
		uint32_t flags = (e->hardlink ? 1u : 0) | (e->symlink ? 2u : 0) | (e->content ? 4u : 0) |
			(e->caps ? 8u : 0);
		put_u32(b, flags);
		put_u32(b, e->ft);
		put_u32(b, e->perm);
		put_u64(b, e->uid);
		put_u64(b, e->gid);
		put_u64(b, (uint64_t)e->mtime);
		put_u64(b, (uint64_t)e->size);
		put_str(b, e->path, e->plen);
		if (e->hardlink)
			put_str(b, e->hardlink, strlen(e->hardlink));
		if (e->symlink)
			put_str(b, e->symlink, strlen(e->symlink));
		if (e->content)
			put_str(b, e->content, e->content_len);
		if (e->caps)
			put_str(b, e->caps, e->caps_len);
	}
	if (b->oom || hmac(key, b->ptr, b->size, md) < 0)
		return -1;
	nr__buf_put(b, md, 32);
	return b->oom ? -1 : 0;
}

/* Best effort: a cache that cannot be written is no cache. */
void nr__scancache_store(nr__scancache *c, const char *digest, const nr__lrec *r)
{
	nr__buf b = NR__BUF_INIT;
	char name[80];

	if (nr__lrec_encode(&b, digest, r, c->key) == 0) {
		snprintf(name, sizeof(name), "%s.scan", digest + 7);
		(void)nr__file_write_atomic_at(c->lfd, name, b.ptr, b.size, 0600, NULL, NULL);
	}
	nr__buf_dispose(&b);
}

typedef struct rd {
	const char *p;
	size_t left;
	bool bad;
} rd;

static uint32_t get_u32(rd *r)
{
	uint32_t v = 0;

	if (r->left < 4) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, 4);
	r->p += 4;
	r->left -= 4;
	return v;
}

static uint64_t get_u64(rd *r)
{
	uint64_t v = 0;

	if (r->left < 8) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, 8);
	r->p += 8;
	r->left -= 8;
	return v;
}

static const char *get_str(rd *r, nr__lrec *rec, size_t *len)
{
	uint32_t n = get_u32(r);
	const char *s;

	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	if ((s = nr__lrec_dup(rec, r->p, n)) == NULL) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	if (len)
		*len = n;
	return s;
}

nr__lrec *nr__lrec_parse(const char *data, size_t len, const char *digest,
	const unsigned char key[NR_SCANCACHE_KEY])
{
	size_t dlen, i, n;
	unsigned char md[32];
	char plain[NR_DIGEST_SIZE];
	nr__lrec *rec = NULL;
	rd r;

	if (len < 8 + 4 + 8 + 32 || memcmp(data, CACHE_MAGIC, 8) != 0 ||
	    hmac(key, data, len - 32, md) < 0 || CRYPTO_memcmp(md, data + len - 32, 32) != 0)
		return NULL;
	r.p = data + 8;
	r.left = len - 8 - 32;
	r.bad = false;
	dlen = get_u32(&r);
	if (r.bad || r.left < dlen ||
	    (digest && (dlen != strlen(digest) || memcmp(r.p, digest, dlen) != 0)))
		return NULL;
	r.p += dlen;
	r.left -= dlen;
	dlen = get_u32(&r);
	if (r.bad || r.left < dlen || dlen >= NR_DIGEST_SIZE)
		return NULL;
	memcpy(plain, r.p, dlen);
	plain[dlen] = '\0';
	if (dlen && nr__digest_check(plain, NULL, NULL, NULL) < 0)
		return NULL;
	r.p += dlen;
	r.left -= dlen;
	n = (size_t)get_u64(&r);
	if (r.bad || n > r.left / 44 || (rec = nr__calloc(1, sizeof(*rec))) == NULL)
		goto fail;
	if (n && (rec->e = nr__calloc(n, sizeof(*rec->e))) == NULL)
		goto fail;
	memcpy(rec->plain, plain, sizeof(plain));
	rec->alloc = n;
	for (i = 0; i < n && !r.bad; i++) {
		nr__lent *e = &rec->e[i];
		uint32_t flags = get_u32(&r);
		e->ft = get_u32(&r);
		e->perm = get_u32(&r);
		e->uid = get_u64(&r);
		e->gid = get_u64(&r);
		e->mtime = (int64_t)get_u64(&r);
		e->size = (int64_t)get_u64(&r);
		e->path = get_str(&r, rec, &e->plen);
		if (flags & 1)
			e->hardlink = get_str(&r, rec, NULL);
		if (flags & 2)
			e->symlink = get_str(&r, rec, NULL);
		if (flags & 4)
			e->content = get_str(&r, rec, &e->content_len);
		if (flags & 8)
			e->caps = get_str(&r, rec, &e->caps_len);
		if (flags & ~15u)
			r.bad = true;
		rec->n++;
	}
	if (r.bad || r.left != 0)
		goto fail;
	return rec;
fail:
	nr__lrec_free(rec);
	return NULL;
}

/* A record made by this user's nonroot for this digest, or NULL (absent, damaged, forged,
 * another version). */
nr__lrec *nr__scancache_load(nr__scancache *c, const char *digest)
{
	char name[80], *data = NULL;
	size_t len = 0;
	nr__lrec *rec;

	snprintf(name, sizeof(name), "%s.scan", digest + 7);
	if (nr__file_read_at(&data, &len, c->lfd, name, O_NOFOLLOW, CACHE_MAX, name, NULL) < 0)
		return NULL;
	rec = nr__lrec_parse(data, len, digest, c->key);
	free(data);
	/* used now: `nonroot cache prune` removes the least recently used records first */
	if (rec != NULL)
		(void)utimensat(c->lfd, name, NULL, AT_SYMLINK_NOFOLLOW);
	return rec;
}

/*
 * Is the blob there, with its descriptor's size and digest? A cache hit skips inflating and
 * parsing the layer, never the check that the blob is what its digest says: every blob the
 * image names is verified, from the cache or not.
 *
 * Hashing is the cheap part (sha256 runs at ~1.7 GB/s here, inflate at a fraction of that),
 * and even it is skipped for a file already verified in exactly this state: a marker named
 * by HMAC(key, digest, device, inode, size, mtime, ctime) says "this file hashed to its
 * digest while it looked like this", as git's index trusts an unchanged stat. Rewriting the
 * blob in place changes its ctime (which user space cannot set) and replacing it changes the
 * inode, so a tampered blob is always hashed again, and refused. The blob is opened once
 * (O_NOFOLLOW) and stat'ed and hashed through that one fd, so no symlink can be flipped
 * between the stat and the hash; a blob that is a symlink is hashed every time (no marker).
 */
static int marker_name(char out[65], const nr__scancache *c, const char *digest,
	const struct stat *st)
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[32];
	char text[256];
	int n = snprintf(text, sizeof(text), "verified\n%s.%llx.%llx.%llx.%lld.%ld.%lld.%ld", digest,
		(unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		(unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
		(long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec);
	size_t i;

	if (n < 0 || (size_t)n >= sizeof(text) || hmac(c->key, text, (size_t)n, md) < 0)
		return -1;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int nr__scancache_blob_verified(const nr__layer_ref *ref, nr__scancache *c, nr_error *err)
{
	char marker[65], got[NR_DIGEST_SIZE];
	struct stat st, after, ms;
	struct timespec now;
	bool use_marker = true;
	int error = 0, fd;

	fd = openat(ref->dirfd, ref->relpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
		O_NOCTTY);
	if (fd < 0 && errno == ELOOP) {
		use_marker = false;
		fd = openat(ref->dirfd, ref->relpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	}
	if (fd < 0)
		return errno == ENOENT ?
			nr__error_set(err, NR_ENOTFOUND, ref->digest, 0, 0, "blob missing: %s",
				ref->relpath) :
			nr__error_errno(err, errno, ref->relpath, "open blob");
	if (fstat(fd, &st) < 0) {
		error = nr__error_errno(err, errno, ref->relpath, "stat blob");
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = nr__error_set(err, NR_EINVALID, ref->digest, 0, 0, "blob is not a regular file");
		goto done;
	}
	if (ref->size != UINT64_MAX && (uint64_t)st.st_size != ref->size) {
		error = nr__error_set(err, NR_EDIGEST, ref->digest, 0, 0,
			"blob size %llu does not match its descriptor's size %llu",
			(unsigned long long)st.st_size, (unsigned long long)ref->size);
		goto done;
	}
	if (use_marker && marker_name(marker, c, ref->digest, &st) < 0)
		use_marker = false;
	if (use_marker && fstatat(c->vfd, marker, &ms, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(ms.st_mode)) {
		/* used now (`nonroot cache prune --max-age` keeps it) */
		(void)utimensat(c->vfd, marker, NULL, AT_SYMLINK_NOFOLLOW);
		goto done;
	}
	if ((error = nr__fd_digest(fd, got, ref->relpath, err)) < 0)
		goto done;
	if (strcmp(got, ref->digest) != 0) {
		error = nr__error_set(err, NR_EDIGEST, ref->digest, 0, 0,
			"blob content does not match its digest (content hashes to %s)", got);
		goto done;
	}
	/*
	 * Remember the verified state only if the file did not change while it was hashed and
	 * its last change is safely in the past: file times come from a coarse clock, so a
	 * rewrite in the same tick could keep them equal (git's "racily clean" entries).
	 */
	if (use_marker && fstat(fd, &after) == 0 && same_file_state(&st, &after) &&
	    clock_gettime(CLOCK_REALTIME, &now) == 0 &&
	    after.st_ctim.tv_sec + 2 < now.tv_sec && after.st_mtim.tv_sec + 2 < now.tv_sec) {
		int mfd = openat(c->vfd, marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			O_NOFOLLOW, 0600);
		if (mfd >= 0)
			close(mfd);
	}
done:
	close(fd);
	return error;
}
