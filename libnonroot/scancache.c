/*
 * scancache.c: layer records for the scan, read in parallel, cached by digest (scancache.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/random.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "scancache.h"
#include "inflate.h"
#include "fileio.h"

#define MAX_WORKERS 8
#define ARENA_BLOCK (64u * 1024u)
#define CACHE_MAGIC "NRSCAN4\n"   /* 4: file capabilities (entry flag 8) */
#define CACHE_MAX (512u * 1024u * 1024u)

/* Always captured (when small enough), so a cached record serves every patch. */
static const char *const account_files[] = {
	"etc/passwd", "etc/group", "etc/shadow", "etc/gshadow",
};

/* ---- records ------------------------------------------------------------------------------ */

typedef struct arena_blk {
	struct arena_blk *next;
	size_t used, size;
	char data[];
} arena_blk;

struct nr__lrec {
	nr__lent *e;
	size_t n, alloc;
	arena_blk *blk;
	char plain[NR_DIGEST_SIZE];   /* digest of the plain (uncompressed) tar stream */
};

size_t nr__lrec_count(const nr__lrec *r)
{
	return r->n;
}

const nr__lent *nr__lrec_get(const nr__lrec *r, size_t i)
{
	return &r->e[i];
}

static void lrec_free(nr__lrec *r)
{
	arena_blk *b, *next;

	if (r == NULL)
		return;
	for (b = r->blk; b; b = next) {
		next = b->next;
		free(b);
	}
	free(r->e);
	free(r);
}

/* Copy len bytes + NUL into the record's arena. */
static const char *arena_dup(nr__lrec *r, const char *s, size_t len)
{
	arena_blk *b = r->blk;
	char *p;

	if (b == NULL || b->size - b->used < len + 1) {
		size_t sz = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
		if ((b = nr__malloc(sizeof(*b) + sz)) == NULL)
			return NULL;
		b->size = sz;
		b->used = 0;
		b->next = r->blk;
		r->blk = b;
	}
	p = b->data + b->used;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

static nr__lent *lrec_add(nr__lrec *r)
{
	if (nr__array_grow((void **)&r->e, &r->alloc, r->n + 1, sizeof(*r->e)) < 0)
		return NULL;
	memset(&r->e[r->n], 0, sizeof(r->e[r->n]));
	return &r->e[r->n++];
}

static bool in_list(const char *const *list, size_t n, const char *p, size_t plen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == plen && memcmp(list[i], p, plen) == 0)
			return true;
	return false;
}

static bool wants_content(const nr__lscan_opts *o, const char *p, size_t plen)
{
	return in_list(o->tracked, o->ntracked, p, plen) ||
		in_list(account_files, NR_ARRAY_SIZE(account_files), p, plen);
}

/* Does the record hold every content the scan will ask for? */
static bool lrec_serves(const nr__lrec *r, const nr__lscan_opts *o)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const nr__lent *e = &r->e[i];
		if (e->ft == AE_IFREG && e->hardlink == NULL && e->content == NULL &&
		    e->size >= 0 && (uint64_t)e->size <= o->content_max &&
		    in_list(o->tracked, o->ntracked, e->path, e->plen))
			return false;
	}
	return true;
}

/* ---- one layer from its blob ------------------------------------------------------------ */

/*
 * A layer is read in two stages: the compressed blob is decompressed (by inflate.c, or by
 * libarchive's filters in a "raw" reader when inflate.c passes it through), and the tar
 * reader reads the plain stream from io_read. Every plain byte passes io_read, which bounds
 * it: a layer may decompress to at most PLAIN_RATIO_MAX times its compressed size (counted
 * from PLAIN_FLOOR), above gzip's own limit (deflate stops at 1032:1), so a real gzip layer
 * always passes and a zstd, xz or bzip2 bomb stops early, naming the layer.
 */
#define PLAIN_RATIO_MAX 1100u
#define PLAIN_FLOOR (1024u * 1024u)

typedef struct job_io {
	nr__blob_stream *bs;
	nr__inflate *z;
	struct archive *raw;      /* libarchive's filters, when inflate.c passes the blob on */
	bool raw_header, raw_eof;
	uint64_t plain;           /* plain (tar) bytes read so far */
	EVP_MD_CTX *md;           /* their SHA-256 (the diff_id) */
	const char *digest;
	nr_error *err;
	int error;
	size_t layer, nlayers;
	uint64_t size;
	const nr_scan_request *req;
	pthread_mutex_t *progress_lock;
} job_io;

static la_ssize_t blob_read(struct archive *a, void *data, const void **buf)
{
	job_io *io = data;
	ssize_t r = nr__inflate_read(io->z, buf, io->err);

	if (r < 0) {
		if (r == NR_EINVALID) {
			/* bad gzip: reported like libarchive's own filter errors */
			archive_set_error(a, EINVAL, "%s", io->err ? io->err->message : "bad gzip data");
			if (io->err)
				nr_error_clear(io->err);
		} else {
			io->error = (int)r;
			archive_set_error(a, EIO, "read error");
		}
		return -1;
	}
	if (io->req && io->req->progress) {
		if (io->progress_lock)
			pthread_mutex_lock(io->progress_lock);
		io->req->progress(io->layer, io->nlayers, nr__blob_stream_total(io->bs), io->size,
			io->req->payload);
		if (io->progress_lock)
			pthread_mutex_unlock(io->progress_lock);
	}
	return r;
}

/* The plain tar stream for the tar reader: counted (and bounded). */
static la_ssize_t io_read(struct archive *a, void *data, const void **buf)
{
	job_io *io = data;
	la_ssize_t r;
	uint64_t base;

	if (io->raw == NULL) {
		if ((r = blob_read(a, data, buf)) <= 0)
			return r;
	} else {
		struct archive_entry *e;
		size_t n;
		la_int64_t off;
		int rr;
		if (io->raw_eof)
			return 0;
		if (!io->raw_header) {
			rr = archive_read_next_header(io->raw, &e);
			io->raw_header = true;
			if (rr == ARCHIVE_EOF) {
				io->raw_eof = true;
				return 0;
			}
			if (rr < ARCHIVE_WARN)
				goto raw_fail;
		}
		rr = archive_read_data_block(io->raw, buf, &n, &off);
		if (rr == ARCHIVE_EOF) {
			io->raw_eof = true;
			return 0;
		}
		if (rr < ARCHIVE_WARN)
			goto raw_fail;
		r = (la_ssize_t)n;
	}
	io->plain += (uint64_t)r;
	if (EVP_DigestUpdate(io->md, *buf, (size_t)r) != 1) {
		io->error = nr__error_oom(io->err);
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	base = io->size != UINT64_MAX ? io->size : nr__blob_stream_total(io->bs);
	if (base < PLAIN_FLOOR)
		base = PLAIN_FLOOR;
	if (io->plain / PLAIN_RATIO_MAX > base) {
		io->error = nr__error_set(io->err, NR_EINVALID, io->digest, 0, 0,
			"layer decompresses to over %llu bytes, more than %u times its size: "
			"refused as a decompression bomb", (unsigned long long)io->plain,
			PLAIN_RATIO_MAX);
		archive_set_error(a, EINVAL, "decompression bomb");
		return -1;
	}
	return r;
raw_fail:
	archive_set_error(a, archive_errno(io->raw), "%s", archive_error_string(io->raw) ?
		archive_error_string(io->raw) : "read error");
	return -1;
}

/* Did libarchive stop because the input ended (not because it is damaged)? */
static bool truncated(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m != NULL && strstr(m, "runcated") != NULL;
}

/* A member's file capabilities: the security.capability xattr (PAX SCHILY.xattr.* or
 * LIBARCHIVE.xattr.*, both read by libarchive), which the runtime applies like a set-id bit.
 * The last one wins, as it does when an unpacker sets them in turn. -1 on OOM. */
static int read_caps(nr__lrec *r, nr__lent *le, struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;

	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (name == NULL || strcmp(name, "security.capability") != 0)
			continue;
		if ((le->caps = arena_dup(r, value ? value : "", value ? size : 0)) == NULL)
			return -1;
		le->caps_len = value ? size : 0;
	}
	return 0;
}

static int read_content(nr__lrec *r, nr__lent *le, struct archive *a, const char *digest,
	nr_error *err)
{
	size_t n = (size_t)le->size, got = 0;
	char *buf;

	if ((buf = nr__malloc(n + 1)) == NULL)
		return nr__error_oom(err);
	while (got < n) {
		la_ssize_t k = archive_read_data(a, buf + got, n - got);
		if (k < 0) {
			int e = truncated(a) ?
				nr__error_set(err, NR_EINVALID, digest, 0, 0,
					"layer member %s is cut short (%zu of %zu bytes): %s", le->path,
					got, n, archive_error_string(a)) :
				nr__error_set(err, NR_EINVALID, digest, 0, 0,
					"layer %s: %s", le->path, archive_error_string(a));
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got != n) {
		free(buf);
		return nr__error_set(err, NR_EINVALID, digest, 0, 0,
			"layer member %s is cut short (%zu of %zu bytes)", le->path, got, n);
	}
	le->content = arena_dup(r, buf, n);
	le->content_len = n;
	free(buf);
	return le->content ? 0 : nr__error_oom(err);
}

static int build_record(nr__lrec **out, const nr__layer_ref *ref, size_t layer, size_t nlayers,
	const nr__lscan_opts *o, pthread_mutex_t *plock, nr_error *err)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	job_io io;
	nr__lrec *rec = NULL;
	nr_buf path = NR_BUF_INIT;
	int error = 0, r;
	size_t nmembers = 0;

	*out = NULL;
	memset(&io, 0, sizeof(io));
	io.err = err;
	io.layer = layer;
	io.nlayers = nlayers;
	io.size = ref->size;
	io.req = o->req;
	io.progress_lock = plock;
	if ((rec = nr__calloc(1, sizeof(*rec))) == NULL)
		return nr__error_oom(err);
	if ((error = nr__blob_stream_open(&io.bs, ref->dirfd, ref->relpath, ref->digest,
			ref->size, err)) < 0)
		goto done;
	if ((error = nr__inflate_open(&io.z, io.bs, err)) < 0)
		goto done;
	if ((a = archive_read_new()) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	io.digest = ref->digest;
	if ((io.md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(io.md, EVP_sha256(), NULL) != 1) {
		error = nr__error_oom(err);
		goto done;
	}
	if (!nr__inflate_active(io.z)) {
		if ((io.raw = archive_read_new()) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		NR__ARCHIVE_READ_FILTERS(io.raw);
		archive_read_support_format_raw(io.raw);
		if (archive_read_open(io.raw, &io, NULL, blob_read, NULL) != ARCHIVE_OK) {
			error = io.error ? io.error : nr__error_set(err, NR_EINVALID, ref->digest,
				0, 0, "layer is not a readable tar: %s",
				archive_error_string(io.raw));
			goto check;
		}
	}
	archive_read_support_format_tar(a);
	if (archive_read_open(a, &io, NULL, io_read, NULL) != ARCHIVE_OK) {
		error = io.error ? io.error : nr__error_set(err, NR_EINVALID, ref->digest, 0,
			0, "layer is not a readable tar: %s", archive_error_string(a));
		goto check;
	}
	for (;;) {
		const char *name, *hl;
		nr__lent *le;
		bool consumed = false;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN && io.error == 0 && nmembers > 0 && truncated(a)) {
			/* The stream ends after a complete member, without its padding or the
			 * end-of-archive blocks (umoci 0.4.7 insert writes such layers). Every
			 * member was read in full; the digest check below still applies. */
			break;
		}
		if (r < ARCHIVE_WARN) {
			error = io.error ? io.error : nr__error_set(err, NR_EINVALID,
				ref->digest, 0, 0, "layer is not a readable tar or is cut short: %s",
				archive_error_string(a));
			goto check;
		}
		name = archive_entry_pathname(e);
		if (name == NULL)
			name = "";
		if (nr__path_clean(&path, name, strlen(name)) < 0 || (le = lrec_add(rec)) == NULL ||
		    (le->path = arena_dup(rec, path.ptr, path.size)) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		le->plen = path.size;
		le->ft = archive_entry_filetype(e);
		le->perm = archive_entry_perm(e);
		le->uid = (uint64_t)archive_entry_uid(e);
		le->gid = (uint64_t)archive_entry_gid(e);
		le->mtime = (int64_t)archive_entry_mtime(e);
		le->size = archive_entry_size(e);
		if ((hl = archive_entry_hardlink(e)) != NULL &&
		    (le->hardlink = arena_dup(rec, hl, strlen(hl))) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		if ((error = read_caps(rec, le, e)) < 0) {
			error = nr__error_oom(err);
			goto done;
		}
		if (hl == NULL && le->ft == AE_IFLNK) {
			const char *l = archive_entry_symlink(e);
			if ((le->symlink = arena_dup(rec, l ? l : "", l ? strlen(l) : 0)) == NULL) {
				error = nr__error_oom(err);
				goto done;
			}
		}
		if (hl == NULL && le->ft == AE_IFREG && le->size >= 0 &&
		    (uint64_t)le->size <= o->content_max && wants_content(o, le->path, le->plen)) {
			consumed = true;
			if ((error = read_content(rec, le, a, ref->digest, err)) < 0) {
				if (io.error == 0 && error == NR_EINVALID)
					goto check;
				goto done;
			}
		}
		nmembers++;
		if (!consumed) {
			/* Read the data through (no copy: libarchive hands out its read-ahead
			 * buffer) so that a member cut short is told apart from a complete one
			 * that lacks only its padding. */
			int64_t want = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
			int64_t got = 0;
			const void *blk;
			size_t bn;
			la_int64_t off;
			if (hl != NULL || le->ft != AE_IFREG)
				want = 0;
			for (;;) {
				r = archive_read_data_block(a, &blk, &bn, &off);
				if (r == ARCHIVE_EOF || r < ARCHIVE_WARN)
					break;
				if (off + (int64_t)bn > got)
					got = off + (int64_t)bn;
			}
			if (r < ARCHIVE_WARN && (io.error || got < want || !truncated(a))) {
				error = io.error ? io.error : nr__error_set(err, NR_EINVALID,
					ref->digest, 0, 0,
					"layer member %s is cut short (%lld of %lld bytes): %s", path.ptr,
					(long long)got, (long long)want, archive_error_string(a));
				goto check;
			}
			if (r < ARCHIVE_WARN)
				break;   /* complete member, missing padding: the end */
		}
	}
	/* The tar ends at its end blocks; the diff_id is over the whole plain stream. */
	if (error == 0) {
		const void *blk;
		la_ssize_t k;
		while ((k = io_read(a, &io, &blk)) > 0)
			;
		if (k < 0 && io.error == 0)
			error = nr__error_set(err, NR_EINVALID, ref->digest, 0, 0,
				"layer data after the tar cannot be read: %s", archive_error_string(a));
		else if (k < 0)
			error = io.error;
	}
check:
	/* Whatever happened in the tar, a blob that does not match its digest says why. */
	if (io.error == 0) {
		nr_error derr = NR_ERROR_INIT;
		int derror = nr__blob_stream_finish(io.bs, &derr);
		if (derror < 0) {
			if (err) {
				nr_error_clear(err);
				*err = derr;
			}
			error = derror;
		}
	}
	if (error == 0) {
		unsigned char md[32];
		unsigned int mdlen = 0;
		if (EVP_DigestFinal_ex(io.md, md, &mdlen) != 1 || mdlen != 32) {
			error = nr__error_oom(err);
			goto done;
		}
		nr__md_to_digest(md, rec->plain);
		if (ref->diff_id && strcmp(rec->plain, ref->diff_id) != 0)
			error = nr__error_set(err, NR_EINVALID, ref->digest, 0, 0,
				"uncompressed layer hashes to %s, but the config's diff_id is %s "
				"(containerd refuses it)", rec->plain, ref->diff_id);
	}
done:
	EVP_MD_CTX_free(io.md);
	if (a)
		archive_read_free(a);
	if (io.raw)
		archive_read_free(io.raw);
	nr__inflate_free(io.z);
	nr__blob_stream_free(io.bs);
	nr_buf_dispose(&path);
	if (error < 0)
		lrec_free(rec);
	else
		*out = rec;
	return error;
}

/* ---- the cache ---------------------------------------------------------------------------- */

char *nr__scancache_dir(void)
{
	const char *v = getenv("NONROOT_CACHE"), *base;
	nr_buf b = NR_BUF_INIT;

	if (v == NULL || *v == '\0' || strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		return NULL;
	if (strcmp(v, "auto") != 0)
		return nr__strdup(v);
	if ((base = getenv("XDG_CACHE_HOME")) != NULL && base[0] == '/')
		nr_buf_printf(&b, "%s/nonroot", base);
	else if ((base = getenv("HOME")) != NULL && base[0] == '/')
		nr_buf_printf(&b, "%s/.cache/nonroot", base);
	else
		return NULL;
	return nr_buf_detach(&b, NULL);
}

static void put_u32(nr_buf *b, uint32_t v) { nr_buf_put(b, &v, sizeof(v)); }
static void put_u64(nr_buf *b, uint64_t v) { nr_buf_put(b, &v, sizeof(v)); }

static void put_str(nr_buf *b, const char *s, size_t len)
{
	put_u32(b, (uint32_t)len);
	nr_buf_put(b, s, len);
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

void nr__lrec_free(nr__lrec *r)
{
	lrec_free(r);
}

int nr__lrec_encode(nr_buf *b, const char *digest, const nr__lrec *r,
	const unsigned char key[NR_SCANCACHE_KEY])
{
	unsigned char md[32];
	size_t i;

	nr_buf_put(b, CACHE_MAGIC, 8);
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
	nr_buf_put(b, md, 32);
	return b->oom ? -1 : 0;
}

/* Best effort: a cache that cannot be written is no cache. */
static void cache_store(nr__scancache *c, const char *digest, const nr__lrec *r)
{
	nr_buf b = NR_BUF_INIT;
	char name[80];

	if (nr__lrec_encode(&b, digest, r, c->key) == 0) {
		snprintf(name, sizeof(name), "%s.scan", digest + 7);
		(void)nr__file_write_atomic_at(c->lfd, name, b.ptr, b.size, 0600, NULL, NULL);
	}
	nr_buf_dispose(&b);
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
	if ((s = arena_dup(rec, r->p, n)) == NULL) {
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
	lrec_free(rec);
	return NULL;
}

/* A record made by this user's nonroot for this digest, or NULL (absent, damaged, forged,
 * another version). */
static nr__lrec *cache_load(nr__scancache *c, const char *digest)
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

static int blob_verified(const nr__layer_ref *ref, nr__scancache *c, nr_error *err)
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

/* ---- the parallel driver ------------------------------------------------------------------ */

typedef struct job {
	nr__lrec *rec;
	nr_error err;
	int error;
	bool done;
} job;

typedef struct driver {
	const nr__layer_ref *layers;
	size_t n;
	const nr__lscan_opts *o;
	nr__scancache *cache;
	job *jobs;
	size_t next, consumed, window;
	bool stop;
	pthread_mutex_t lock, plock;
	pthread_cond_t cond;
	bool threaded;
} driver;

static void run_job(driver *d, size_t i)
{
	const nr__layer_ref *ref = &d->layers[i];
	job *j = &d->jobs[i];
	nr__lrec *rec = NULL;

	j->err = (nr_error)NR_ERROR_INIT;
	if (!nr__layer_media_type_ok(ref->media_type)) {
		j->error = nr__error_set(&j->err, NR_EUNSUPPORTED, ref->digest, 0, 0,
			"layer media type not supported: %s",
			ref->media_type ? ref->media_type : "(none)");
		return;
	}
	if (d->cache && nr__digest_check(ref->digest, NULL, NULL, NULL) == 0 &&
	    (rec = cache_load(d->cache, ref->digest)) != NULL) {
		if (!lrec_serves(rec, d->o)) {
			lrec_free(rec);
			rec = NULL;
		} else if (ref->fetch == NULL &&
			   (j->error = blob_verified(ref, d->cache, &j->err)) < 0) {
			lrec_free(rec);
			return;
		} else if (ref->diff_id && strcmp(rec->plain, ref->diff_id) != 0) {
			j->error = nr__error_set(&j->err, NR_EINVALID, ref->digest, 0, 0,
				"uncompressed layer hashes to %s, but the config's diff_id is %s "
				"(containerd refuses it)", rec->plain, ref->diff_id);
			lrec_free(rec);
			return;
		}
	}
	if (rec == NULL) {
		if (ref->fetch && (j->error = ref->fetch(ref->fetch_ctx, ref->digest, ref->size,
				ref->relpath, &j->err)) < 0)
			return;
		j->error = build_record(&rec, ref, i, d->n, d->o, d->threaded ? &d->plock : NULL,
			&j->err);
		if (j->error == 0 && d->cache)
			cache_store(d->cache, ref->digest, rec);
	}
	j->rec = rec;
}

static void *worker(void *arg)
{
	driver *d = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&d->lock);
		while (!d->stop && d->next < d->n && d->next >= d->consumed + d->window)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop || d->next >= d->n) {
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		i = d->next++;
		pthread_mutex_unlock(&d->lock);
		run_job(d, i);
		pthread_mutex_lock(&d->lock);
		d->jobs[i].done = true;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
	}
}

static size_t workers_for(size_t n)
{
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) :
		sysconf(_SC_NPROCESSORS_ONLN);
	size_t w = cpus > 0 ? (size_t)cpus : 1;

	if (w > MAX_WORKERS)
		w = MAX_WORKERS;
	return w < n ? w : n;
}

int nr__lscan_run(const nr__layer_ref *layers, size_t n, const nr__lscan_opts *o,
	nr__lscan_apply apply, void *ctx, nr_error *err)
{
	driver d;
	pthread_t tid[MAX_WORKERS];
	size_t nw = workers_for(n), started = 0, i, k;
	int error = 0;

	memset(&d, 0, sizeof(d));
	d.layers = layers;
	d.n = n;
	d.o = o;
	d.cache = NULL;
	d.window = 2 * (nw ? nw : 1);
	if (n == 0)
		return 0;
	if ((d.jobs = nr__calloc(n, sizeof(*d.jobs))) == NULL)
		return nr__error_oom(err);
	{
		/* A cache that is not this user's alone is not used (cli warns about it). */
		char *dir = nr__scancache_dir();
		if (dir && nr__scancache_open(&d.cache, dir, NULL) < 0)
			d.cache = NULL;
		free(dir);
	}
	d.threaded = nw > 1;
	if (d.threaded) {
		pthread_mutex_init(&d.lock, NULL);
		pthread_mutex_init(&d.plock, NULL);
		pthread_cond_init(&d.cond, NULL);
		for (k = 0; k < nw; k++) {
			if (pthread_create(&tid[k], NULL, worker, &d) != 0)
				break;
			started++;
		}
		if (started == 0) {
			d.threaded = false;
			pthread_mutex_destroy(&d.lock);
			pthread_mutex_destroy(&d.plock);
			pthread_cond_destroy(&d.cond);
		}
	}
	for (i = 0; i < n; i++) {
		job *j = &d.jobs[i];

		if (d.threaded) {
			pthread_mutex_lock(&d.lock);
			while (!j->done)
				pthread_cond_wait(&d.cond, &d.lock);
			pthread_mutex_unlock(&d.lock);
		} else {
			run_job(&d, i);
		}
		if (j->error < 0) {
			error = j->error;
			if (err && err->code == 0)
				*err = j->err;
			break;
		}
		error = apply(ctx, i, j->rec);
		lrec_free(j->rec);
		j->rec = NULL;
		if (error < 0)
			break;
		if (d.threaded) {
			pthread_mutex_lock(&d.lock);
			d.consumed = i + 1;
			pthread_cond_broadcast(&d.cond);
			pthread_mutex_unlock(&d.lock);
		}
	}
	if (d.threaded) {
		pthread_mutex_lock(&d.lock);
		d.stop = true;
		pthread_cond_broadcast(&d.cond);
		pthread_mutex_unlock(&d.lock);
		for (k = 0; k < started; k++)
			pthread_join(tid[k], NULL);
		pthread_mutex_destroy(&d.lock);
		pthread_mutex_destroy(&d.plock);
		pthread_cond_destroy(&d.cond);
	}
	for (i = 0; i < n; i++)
		lrec_free(d.jobs[i].rec);
	free(d.jobs);
	nr__scancache_close(d.cache);
	return error;
}
