/*
 * scancache.c: layer records for the scan, read in parallel, cached by digest (scancache.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "scancache.h"
#include "inflate.h"
#include "fileio.h"

#define MAX_WORKERS 8
#define ARENA_BLOCK (64u * 1024u)
#define CACHE_MAGIC "NRSCAN1\n"
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

typedef struct job_io {
	nr__blob_stream *bs;
	nr__inflate *z;
	nr_error *err;
	int error;
	size_t layer, nlayers;
	uint64_t size;
	const nr_scan_request *req;
	pthread_mutex_t *progress_lock;
} job_io;

static la_ssize_t io_read(struct archive *a, void *data, const void **buf)
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

/* Did libarchive stop because the input ended (not because it is damaged)? */
static bool truncated(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m != NULL && strstr(m, "runcated") != NULL;
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
	if (!nr__inflate_active(io.z))
		NR__ARCHIVE_READ_FILTERS(a);
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
done:
	if (a)
		archive_read_free(a);
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

static int sha256(const void *data, size_t len, unsigned char md[32])
{
	unsigned int mdlen = 0;

	return EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32 ? 0 : -1;
}

static int mkdirs(const char *path)
{
	char tmp[4096];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];
			tmp[i] = '\0';
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

/* Best effort: a cache that cannot be written is no cache. */
static void cache_store(const char *dir, const char *digest, const nr__lrec *r)
{
	nr_buf b = NR_BUF_INIT, path = NR_BUF_INIT;
	unsigned char md[32];
	size_t i;

	nr_buf_put(&b, CACHE_MAGIC, 8);
	put_str(&b, digest, strlen(digest));
	put_u64(&b, r->n);
	for (i = 0; i < r->n; i++) {
		const nr__lent *e = &r->e[i];
		uint32_t flags = (e->hardlink ? 1u : 0) | (e->symlink ? 2u : 0) | (e->content ? 4u : 0);
		put_u32(&b, flags);
		put_u32(&b, e->ft);
		put_u32(&b, e->perm);
		put_u64(&b, e->uid);
		put_u64(&b, e->gid);
		put_u64(&b, (uint64_t)e->mtime);
		put_u64(&b, (uint64_t)e->size);
		put_str(&b, e->path, e->plen);
		if (e->hardlink)
			put_str(&b, e->hardlink, strlen(e->hardlink));
		if (e->symlink)
			put_str(&b, e->symlink, strlen(e->symlink));
		if (e->content)
			put_str(&b, e->content, e->content_len);
	}
	if (b.oom || sha256(b.ptr, b.size, md) < 0)
		goto done;
	nr_buf_put(&b, md, 32);
	nr_buf_printf(&path, "%s/layers", dir);
	if (b.oom || path.oom || mkdirs(path.ptr) < 0)
		goto done;
	nr_buf_printf(&path, "/%s.scan", digest + 7);
	if (!path.oom)
		(void)nr__file_write_atomic(path.ptr, b.ptr, b.size, 0600, NULL);
done:
	nr_buf_dispose(&b);
	nr_buf_dispose(&path);
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

/* A verified record for this digest, or NULL (absent, damaged or another version). */
static nr__lrec *cache_load(const char *dir, const char *digest)
{
	nr_buf path = NR_BUF_INIT;
	char *data = NULL;
	size_t len = 0, dlen, i, n;
	unsigned char md[32];
	nr__lrec *rec = NULL;
	rd r;

	nr_buf_printf(&path, "%s/layers/%s.scan", dir, digest + 7);
	if (path.oom || nr__file_read_at(&data, &len, AT_FDCWD, path.ptr, 0, CACHE_MAX, path.ptr,
			NULL) < 0)
		goto fail;
	dlen = strlen(digest);
	if (len < 8 + 4 + dlen + 8 + 32 || memcmp(data, CACHE_MAGIC, 8) != 0 ||
	    sha256(data, len - 32, md) < 0 || memcmp(md, data + len - 32, 32) != 0)
		goto fail;
	r.p = data + 8;
	r.left = len - 8 - 32;
	r.bad = false;
	if (get_u32(&r) != dlen || r.left < dlen || memcmp(r.p, digest, dlen) != 0)
		goto fail;
	r.p += dlen;
	r.left -= dlen;
	n = (size_t)get_u64(&r);
	if (r.bad || n > r.left / 44 || (rec = nr__calloc(1, sizeof(*rec))) == NULL)
		goto fail;
	if (n && (rec->e = nr__calloc(n, sizeof(*rec->e))) == NULL)
		goto fail;
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
		rec->n++;
	}
	if (r.bad || r.left != 0)
		goto fail;
	free(data);
	nr_buf_dispose(&path);
	return rec;
fail:
	lrec_free(rec);
	free(data);
	nr_buf_dispose(&path);
	return NULL;
}

/*
 * Is the blob there, with its descriptor's size and digest? A cache hit skips inflating and
 * parsing the layer, never the check that the blob is what its digest says: every blob the
 * image names is verified, from the cache or not.
 *
 * Hashing is the cheap part (sha256 runs at ~1.7 GB/s here, inflate at a fraction of that),
 * and even it is skipped for a file already verified in exactly this state: a marker named
 * by (digest, device, inode, size, mtime, ctime) says "this file hashed to its digest while
 * it looked like this", as git's index trusts an unchanged stat. Rewriting the blob in place
 * changes its ctime (which user space cannot set) and replacing it changes the inode, so a
 * tampered blob is always hashed again, and refused.
 */
static int marker_path(nr_buf *b, const char *dir, const char *digest, const struct stat *st)
{
	nr_buf_printf(b, "%s/verified/%s.%llx.%llx.%llx.%lld.%ld.%lld.%ld", dir, digest + 7,
		(unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		(unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
		(long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec);
	return b->oom ? -1 : 0;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int blob_verified(const nr__layer_ref *ref, const char *cache, nr_error *err)
{
	nr__blob_stream *s = NULL;
	nr_buf marker = NR_BUF_INIT, dir = NR_BUF_INIT;
	struct stat st, after;
	struct timespec now;
	int error, fd;

	if (fstatat(ref->dirfd, ref->relpath, &st, 0) < 0)
		return errno == ENOENT ?
			nr__error_set(err, NR_ENOTFOUND, ref->digest, 0, 0, "blob missing: %s",
				ref->relpath) :
			nr__error_errno(err, errno, ref->relpath, "stat blob");
	if (!S_ISREG(st.st_mode))
		return nr__error_set(err, NR_EINVALID, ref->digest, 0, 0, "blob is not a regular file");
	if (ref->size != UINT64_MAX && (uint64_t)st.st_size != ref->size)
		return nr__error_set(err, NR_EDIGEST, ref->digest, 0, 0,
			"blob size %llu does not match its descriptor's size %llu",
			(unsigned long long)st.st_size, (unsigned long long)ref->size);
	if (marker_path(&marker, cache, ref->digest, &st) == 0 && access(marker.ptr, F_OK) == 0) {
		error = 0;
		goto done;
	}
	if ((error = nr__blob_stream_open(&s, ref->dirfd, ref->relpath, ref->digest, ref->size,
			err)) < 0 || (error = nr__blob_stream_finish(s, err)) < 0)
		goto done;
	/*
	 * Remember the verified state only if the file did not change while it was hashed and
	 * its last change is safely in the past: file times come from a coarse clock, so a
	 * rewrite in the same tick could keep them equal (git's "racily clean" entries).
	 */
	if (!marker.oom && fstatat(ref->dirfd, ref->relpath, &after, 0) == 0 &&
	    same_file_state(&st, &after) && clock_gettime(CLOCK_REALTIME, &now) == 0 &&
	    after.st_ctim.tv_sec + 2 < now.tv_sec && after.st_mtim.tv_sec + 2 < now.tv_sec) {
		nr_buf_printf(&dir, "%s/verified", cache);
		if (!dir.oom && mkdirs(dir.ptr) == 0 &&
		    (fd = open(marker.ptr, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0)
			close(fd);
	}
done:
	nr__blob_stream_free(s);
	nr_buf_dispose(&marker);
	nr_buf_dispose(&dir);
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
	char *cache;
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
		} else if ((j->error = blob_verified(ref, d->cache, &j->err)) < 0) {
			lrec_free(rec);
			return;
		}
	}
	if (rec == NULL) {
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
	d.cache = nr__scancache_dir();
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
	free(d.cache);
	return error;
}
