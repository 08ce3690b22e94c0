/*
 * registry_blob.c: blobs of a registry: HEAD, verified downloads (sha256 and size checked while
 * streaming to a temp file, resumed with a Range request when a transfer drops, renamed into
 * place), cross-repository mounts and monolithic uploads.
 */
#ifdef NR_HAVE_CURL
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "registry_http.h"
#include "fileio.h"
#include "parse.h"

int nr__registry_has_blob(nr__registry *r, const char *digest, bool *has, nr_error *err)
{
	return nr__reg_head(r, "blobs", digest, has, err);
}

/* ---- blob download ------------------------------------------------------------------------------ */

typedef struct dl {
	int fd;
	EVP_MD_CTX *md;
	uint64_t got, size;
	bool too_big, werr, started;
	const nr__reg_req *q;
	unsigned resumed;
} dl;

static size_t dl_sink(void *ctx, const char *p, size_t n)
{
	dl *d = ctx;

	if (!d->started) {
		d->started = true;
		if (d->got > 0 && d->q->status == 206) {
			d->resumed++;
		} else if (d->got > 0) {
			/* no range support: start over */
			if (ftruncate(d->fd, 0) < 0 || lseek(d->fd, 0, SEEK_SET) < 0 ||
			    EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1) {
				d->werr = true;
				return 0;
			}
			d->got = 0;
		}
	}

	if (d->size != UINT64_MAX && d->got + n > d->size) {
		d->too_big = true;
		return 0;
	}
	if (nr__write_all(d->fd, p, n) < 0) {
		d->werr = true;
		return 0;
	}
	EVP_DigestUpdate(d->md, p, n);
	d->got += n;
	return n;
}

static int tmp_name(char *out, size_t size, const char *dir)
{
	char tail[17];

	if (nr__random_hex(tail, 8) < 0)
		return -1;
	snprintf(out, size, "%s%s.download-%s", dir, *dir ? "/" : "", tail);
	return 0;
}

/* Create the download's temp file next to relpath (tracked for cleanup at exit): its name in
 * tmp (tmp[0] stays '\0' when there is none), its descriptor in *fd. */
static int dl_create(int dirfd, const char *relpath, char *tmp, size_t tmpsize, int *fd,
	nr_error *err)
{
	const char *slash = strrchr(relpath, '/');
	char dir[4096];

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - relpath) : 0, relpath);
	if (tmp_name(tmp, tmpsize, dir) < 0)
		return nr__error_errno(err, errno, relpath, "getrandom");
	nr__temp_lock();
	*fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd >= 0 && nr__temp_track_at(dirfd, tmp) < 0) {
		close(*fd);
		*fd = -1;
		unlinkat(dirfd, tmp, 0);
		tmp[0] = '\0';
		nr__temp_unlock();
		return nr__error_oom(err);
	}
	nr__temp_unlock();
	if (*fd < 0)
		return nr__error_errno(err, errno, tmp, "create");
	return 0;
}

/* GET the blob into d (answering one 401, resuming a dropped transfer with a Range request):
 * *rc the last transfer's result; an error only when authentication fails. */
static int dl_transfer(nr__registry *r, nr__reg_req *q, dl *d, CURLcode *rc, nr_error *err)
{
	int attempt, auths = 0, error;

	for (attempt = 0; ; ) {
		q->range_from = d->got;
		d->started = false;
		*rc = nr__reg_perform(r, q);
		if (*rc == CURLE_OK && q->status == 401 && auths++ < 1) {
			if ((error = nr__reg_authenticate(r, q->www_auth, err)) < 0)
				return error;
			continue;
		}
		if (d->too_big || d->werr)
			break;
		if (*rc == CURLE_OK && (q->status == 200 || q->status == 206))
			break;
		if (!nr__reg_retryable(*rc, q->status) || attempt == NR__REG_MAX_RETRIES)
			break;
		/* a dropped transfer: the bytes so far stay and the next request asks for the
		 * rest; a server without ranges answers 200 and the sink starts over */
		nr__reg_backoff(attempt++, q);
		q->status = 0;
	}
	return 0;
}

/* The transfer's outcome: complete, of the descriptor's size and digest. */
static int dl_check(nr__registry *r, const nr__reg_req *q, dl *d, CURLcode rc,
	const char *digest, const char *tmp, nr_error *err)
{
	char got[NR_DIGEST_SIZE], what[120];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	snprintf(what, sizeof(what), "blob %s", digest);
	if (d->werr)
		return nr__error_errno(err, errno, tmp, "write");
	if (d->too_big)
		return nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"registry %s, repository %s: blob %s is larger than its descriptor's %llu bytes",
			r->host, r->repo, digest, (unsigned long long)d->size);
	if (rc != CURLE_OK)
		return nr__reg_transport_error(r, q, rc, what, err);
	if (q->status != 200 && q->status != 206)
		return nr__reg_http_error(r, q, what, err);
	if (EVP_DigestFinal_ex(d->md, md, &mdlen) != 1)
		return nr__error_oom(err);
	nr__md_to_digest(md, got);
	if ((d->size != UINT64_MAX && d->got != d->size) || strcmp(got, digest) != 0)
		return nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"registry %s, repository %s: blob %s does not match its digest (got %s, %llu "
			"bytes)", r->host, r->repo, digest, got, (unsigned long long)d->got);
	return 0;
}

int nr__registry_fetch_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, nr_error *err)
{
	nr__buf url = NR__BUF_INIT;
	nr__reg_req q;
	dl d;
	char tmp[4200];
	int error = 0;
	CURLcode rc;

	memset(&q, 0, sizeof(q));
	memset(&d, 0, sizeof(d));
	q.upfd = -1;
	d.fd = -1;
	d.size = size;
	tmp[0] = '\0';
	if (nr__reg_url(&url, r, "blobs", digest) < 0 || (d.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d.md, EVP_sha256(), NULL) != 1) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = dl_create(dirfd, relpath, tmp, sizeof(tmp), &d.fd, err)) < 0)
		goto done;
	q.method = "GET";
	q.url = url.ptr;
	q.sink = dl_sink;
	q.sink_ctx = &d;
	d.q = &q;
	if ((error = dl_transfer(r, &q, &d, &rc, err)) < 0 ||
	    (error = dl_check(r, &q, &d, rc, digest, tmp, err)) < 0)
		goto done;
	close(d.fd);
	d.fd = -1;
	if (renameat(dirfd, tmp, dirfd, relpath) < 0) {
		error = nr__error_errno(err, errno, relpath, "rename");
		goto done;
	}
	nr__temp_untrack_at(tmp);
	tmp[0] = '\0';
done:
	if (d.fd >= 0)
		close(d.fd);
	if (tmp[0] && error < 0) {
		unlinkat(dirfd, tmp, 0);
		nr__temp_untrack_at(tmp);
	}
	EVP_MD_CTX_free(d.md);
	nr__buf_dispose(&url);
	nr__reg_req_dispose(&q);
	return error;
}

/* ---- push -------------------------------------------------------------------------------------- */

/* Absolute upload URL from a Location header (may be relative). */
static int upload_url(nr__buf *b, nr__registry *r, const char *loc)
{
	nr__buf_truncate(b, 0);
	if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
		nr__buf_puts(b, loc);
	else
		nr__buf_printf(b, "%s%s%s", r->base, *loc == '/' ? "" : "/", loc);
	return b->oom ? NR_ENOMEM : 0;
}

/* PUT the bytes to an upload session's location. */
static int finish_upload(nr__registry *r, const char *loc, const char *digest, uint64_t size,
	int fd, nr_error *err)
{
	nr__buf url = NR__BUF_INIT;
	nr__reg_req q;
	char what[120];
	int error;

	memset(&q, 0, sizeof(q));
	snprintf(what, sizeof(what), "upload blob %s", digest);
	if (upload_url(&url, r, loc) < 0)
		return nr__error_oom(err);
	nr__buf_printf(&url, "%sdigest=%s", strchr(url.ptr, '?') ? "&" : "?", digest);
	if (url.oom) {
		nr__buf_dispose(&url);
		return nr__error_oom(err);
	}
	q.method = "PUT";
	q.url = url.ptr;
	q.ctype = "application/octet-stream";
	q.upfd = fd;
	q.uplen = size;
	q.rmax = NR__REG_ERRBODY_MAX;
	if ((error = nr__reg_call(r, &q, what, err)) == 0 && q.status != 201)
		error = nr__reg_http_error(r, &q, what, err);
	nr__buf_dispose(&url);
	nr__reg_req_dispose(&q);
	return error;
}

/* POST an upload session (optionally a mount); *loc: where to PUT (202), NULL when 201. */
static int start_upload(nr__registry *r, const char *digest, const char *from, char **loc,
	nr_error *err)
{
	nr__buf url = NR__BUF_INIT;
	nr__reg_req q;
	char what[160];
	int error;

	*loc = NULL;
	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	nr__buf_printf(&url, "%s/v2/%s/blobs/uploads/", r->base, r->repo);
	if (from) {
		char *e = curl_easy_escape(NULL, from, 0);
		nr__buf_printf(&url, "?mount=%s&from=%s", digest, e ? e : "");
		curl_free(e);
	}
	if (url.oom)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), from ? "mount blob %s" : "start upload of blob %s", digest);
	q.method = "POST";
	q.url = url.ptr;
	q.body = "";
	q.blen = 0;
	q.rmax = NR__REG_ERRBODY_MAX;
	if ((error = nr__reg_call(r, &q, what, err)) < 0)
		goto done;
	if (q.status == 201 && from)
		goto done;
	if (q.status != 202 || q.location == NULL) {
		error = nr__reg_http_error(r, &q, what, err);
		goto done;
	}
	if ((*loc = nr__strdup(q.location)) == NULL)
		error = nr__error_oom(err);
done:
	nr__buf_dispose(&url);
	nr__reg_req_dispose(&q);
	return error;
}

int nr__registry_mount_blob(nr__registry *r, const char *digest, const char *from,
	char **session, nr_error *err)
{
	return start_upload(r, digest, from, session, err);
}

int nr__registry_upload_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, const char *session, nr_error *err)
{
	char *loc = NULL;
	int fd, error;
	struct stat st;

	if ((fd = openat(dirfd, relpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return nr__error_errno(err, errno, relpath, "open blob");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		close(fd);
		return nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"blob %s is not a regular file of %llu bytes", relpath, (unsigned long long)size);
	}
	if (session)
		error = finish_upload(r, session, digest, size, fd, err);
	else if ((error = start_upload(r, digest, NULL, &loc, err)) == 0)
		error = finish_upload(r, loc, digest, size, fd, err);
	free(loc);
	close(fd);
	return error;
}

#else   /* built without libcurl (nonroot-static): docker:// is not supported */

#include "registry.h"

int nr__registry_fetch_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, nr_error *err)
{
	(void)r; (void)size; (void)dirfd; (void)relpath;
	return nr__reg_no_curl(digest, err);
}

int nr__registry_has_blob(nr__registry *r, const char *digest, bool *has, nr_error *err)
{
	(void)r;
	*has = false;
	return nr__reg_no_curl(digest, err);
}

int nr__registry_mount_blob(nr__registry *r, const char *digest, const char *from,
	char **session, nr_error *err)
{
	(void)r; (void)from;
	*session = NULL;
	return nr__reg_no_curl(digest, err);
}

int nr__registry_upload_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, const char *session, nr_error *err)
{
	(void)r; (void)size; (void)dirfd; (void)relpath; (void)session;
	return nr__reg_no_curl(digest, err);
}

#endif
