/*
 * newlayer.c: a reproducible layer with only the changed files.
 *
 * libarchive writes the tar (pax restricted: plain ustar headers unless a name or id needs a
 * pax extension) to our callback, which hashes the tar bytes (diff_id), deflates them with
 * zlib into a gzip stream whose header has no name and a zero mtime, hashes the compressed
 * bytes (digest) and hands them to the sink. libarchive's own gzip filter is not used because
 * its header carries the current time unless told otherwise, and we need the uncompressed
 * bytes for the diff_id anyway.
 */
#include <errno.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <zlib.h>

#include "internal.h"
#include "image_internal.h"
#include "newlayer.h"
#include "parse.h"

typedef struct writer {
	EVP_MD_CTX *tar_md;
	EVP_MD_CTX *blob_md;
	z_stream z;
	bool gzip, zinit;
	nr__layer_sink sink;
	void *ctx;
	nr_error *err;
	int error;            /* first failure inside a callback */
	uint64_t tar_size, size;
	unsigned char out[16384];
} writer;

static int emit(writer *w, const void *buf, size_t len)
{
	int error;

	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(w->blob_md, buf, len) != 1)
		return nr__error_set(w->err, NR_ERROR, NULL, 0, 0, "sha256 failed");
	w->size += len;
	if ((error = w->sink(w->ctx, buf, len, w->err)) < 0)
		return error;
	return 0;
}

/* Deflate [buf, len) (flush: Z_NO_FLUSH or Z_FINISH) and emit the output. */
static int deflate_emit(writer *w, const void *buf, size_t len, int flush)
{
	int zr, error;

	w->z.next_in = (Bytef *)(uintptr_t)buf;
	w->z.avail_in = (uInt)len;
	do {
		w->z.next_out = w->out;
		w->z.avail_out = sizeof(w->out);
		zr = deflate(&w->z, flush);
		if (zr == Z_STREAM_ERROR)
			return nr__error_set(w->err, NR_ERROR, NULL, 0, 0, "gzip: deflate failed");
		if ((error = emit(w, w->out, sizeof(w->out) - w->z.avail_out)) < 0)
			return error;
	} while (w->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
	return 0;
}

static la_ssize_t on_write(struct archive *a, void *data, const void *buf, size_t len)
{
	writer *w = data;
	int error;
	(void)a;

	if (w->error < 0)
		return -1;
	if (EVP_DigestUpdate(w->tar_md, buf, len) != 1) {
		w->error = nr__error_set(w->err, NR_ERROR, NULL, 0, 0, "sha256 failed");
		return -1;
	}
	w->tar_size += len;
	/* zlib takes at most UINT_MAX per call; libarchive blocks are far smaller. */
	error = w->gzip ? deflate_emit(w, buf, len, Z_NO_FLUSH) : emit(w, buf, len);
	if (error < 0) {
		w->error = error;
		return -1;
	}
	return (la_ssize_t)len;
}

static int cmp_entry(const void *a, const void *b)
{
	const nr__layer_entry *x = *(const nr__layer_entry *const *)a;
	const nr__layer_entry *y = *(const nr__layer_entry *const *)b;
	return strcmp(x->path, y->path);
}

static int check_path(const char *p, nr_error *err)
{
	const char *seg = p, *slash;
	size_t n;

	if (p == NULL || *p == '\0' || *p == '/')
		goto bad;
	for (;;) {
		slash = strchr(seg, '/');
		n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			goto bad;
		if (!slash)
			break;
		seg = slash + 1;
	}
	if (nr__span_has_ctrl(p, strlen(p)))
		goto bad;
	return 0;
bad:
	return nr__error_set(err, NR_EINVALID, p ? p : "", 0, 0,
		"new layer: invalid entry path '%s'", p ? p : "(null)");
}

static int archive_fail(struct archive *a, const char *what, nr_error *err)
{
	const char *msg = archive_error_string(a);
	int e = archive_errno(a);

	if (e == ENOMEM)
		return nr__error_oom(err);
	return nr__error_set(err, NR_ERROR, NULL, 0, 0, "new layer: %s: %s", what,
		msg ? msg : "libarchive error");
}

/* The entries are valid: paths, types, data. */
static int check_entries(const nr__layer_entry *entries, size_t n, nr_error *err)
{
	size_t i;
	int error;

	for (i = 0; i < n; i++) {
		if ((error = check_path(entries[i].path, err)) < 0)
			return error;
		if (entries[i].type != NR__LAYER_FILE && entries[i].type != NR__LAYER_DIR)
			return nr__error_set(err, NR_EARG, entries[i].path, 0, 0,
				"new layer: unknown entry type");
		if (entries[i].type == NR__LAYER_FILE && entries[i].len > 0 && entries[i].data == NULL)
			return nr__error_set(err, NR_EARG, entries[i].path, 0, 0,
				"new layer: file without data");
	}
	return 0;
}

/* *sorted (caller frees, also on failure): the entries in path order, no path twice. */
static int sort_entries(const nr__layer_entry ***sorted, const nr__layer_entry *entries,
	size_t n, nr_error *err)
{
	size_t i;

	if (n > 0 && (*sorted = nr__calloc(n, sizeof(**sorted))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < n; i++)
		(*sorted)[i] = &entries[i];
	if (n > 1)
		qsort(*sorted, n, sizeof(**sorted), cmp_entry);
	for (i = 1; i < n; i++) {
		if (strcmp((*sorted)[i - 1]->path, (*sorted)[i]->path) == 0)
			return nr__error_set(err, NR_EINVALID, (*sorted)[i]->path, 0, 0,
				"new layer: duplicate entry '%s'", (*sorted)[i]->path);
	}
	return 0;
}

/* The writer's two sha256 contexts (tar stream, blob) and, with w->gzip, its deflate stream. */
static int writer_init(writer *w, nr_error *err)
{
	if ((w->tar_md = EVP_MD_CTX_new()) == NULL || (w->blob_md = EVP_MD_CTX_new()) == NULL)
		return nr__error_oom(err);
	if (EVP_DigestInit_ex(w->tar_md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(w->blob_md, EVP_sha256(), NULL) != 1)
		return nr__error_set(err, NR_ERROR, NULL, 0, 0, "sha256 init failed");
	if (w->gzip) {
		/* windowBits 15 + 16: gzip wrapper with a default header (no name, mtime 0). */
		int zr = deflateInit2(&w->z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
			Z_DEFAULT_STRATEGY);
		if (zr != Z_OK)
			return zr == Z_MEM_ERROR ? nr__error_oom(err)
				: nr__error_set(err, NR_ERROR, NULL, 0, 0, "gzip: deflateInit2 failed");
		w->zinit = true;
	}
	return 0;
}

/* Set archive a up as a restricted pax writer into w. */
static int open_tar(struct archive *a, const nr__layer_entry **sorted, size_t n, writer *w,
	nr_error *err)
{
	bool non_ascii = false;
	size_t i;

	/* A non-ASCII path ("home/élève"): libarchive would convert it from the locale's charset,
	 * which fails in the C locale; hdrcharset=BINARY writes the bytes as given (UTF-8 by
	 * image convention). Only then, so that ASCII-only layers stay plain ustar. */
	for (i = 0; i < n && !non_ascii; i++) {
		const unsigned char *c;
		for (c = (const unsigned char *)sorted[i]->path; *c; c++)
			non_ascii |= *c >= 0x80;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    (non_ascii && archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY") !=
	     ARCHIVE_OK) ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK)
		return archive_fail(a, "format", err);
	if (archive_write_open2(a, w, NULL, on_write, NULL, NULL) != ARCHIVE_OK)
		return w->error < 0 ? w->error : archive_fail(a, "open", err);
	return 0;
}

/* Write the sorted entries into the open archive a (entry ae reused). */
static int write_entries(struct archive *a, struct archive_entry *ae,
	const nr__layer_entry **sorted, size_t n, int64_t mtime, writer *w, nr_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const nr__layer_entry *e = sorted[i];

		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e->path);
		archive_entry_set_uid(ae, e->uid);
		archive_entry_set_gid(ae, e->gid);
		archive_entry_set_mtime(ae, (time_t)mtime, 0);
		if (e->type == NR__LAYER_DIR) {
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e->mode & 07777);
			archive_entry_set_size(ae, 0);
		} else {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e->mode & 07777);
			archive_entry_set_size(ae, (la_int64_t)e->len);
		}
		if (archive_write_header(a, ae) != ARCHIVE_OK)
			return w->error < 0 ? w->error : archive_fail(a, e->path, err);
		if (e->type == NR__LAYER_FILE && e->len > 0 &&
		    archive_write_data(a, e->data, e->len) != (la_ssize_t)e->len)
			return w->error < 0 ? w->error : archive_fail(a, e->path, err);
	}
	return 0;
}

/* After the archive is closed: the gzip trailer, then the digests and sizes into res. */
static int writer_finish(writer *w, nr__layer_result *res, nr_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int error;

	if (w->gzip && (error = deflate_emit(w, NULL, 0, Z_FINISH)) < 0)
		return error;
	if (EVP_DigestFinal_ex(w->tar_md, md, &mdlen) != 1 || mdlen != 32)
		goto md_fail;
	nr__md_to_digest(md, res->diff_id);
	if (EVP_DigestFinal_ex(w->blob_md, md, &mdlen) != 1 || mdlen != 32)
		goto md_fail;
	nr__md_to_digest(md, res->digest);
	res->size = w->size;
	res->tar_size = w->tar_size;
	return 0;
md_fail:
	return nr__error_set(err, NR_ERROR, NULL, 0, 0, "sha256 final failed");
}

int nr__newlayer_write(const nr__layer_entry *entries, size_t n, int64_t mtime, int gzip,
	nr__layer_sink sink, void *ctx, nr__layer_result *res, nr_error *err)
{
	const nr__layer_entry **sorted = NULL;
	struct archive *a = NULL;
	struct archive_entry *ae = NULL;
	writer w;
	int error = 0;
	bool opened = false;

	NR_ASSERT_ARG(sink, err);
	NR_ASSERT_ARG(res, err);
	if (n > 0 && entries == NULL)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: entries is NULL");
	if (mtime < 0)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "new layer: negative mtime");
	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	w.gzip = gzip != 0;
	w.sink = sink;
	w.ctx = ctx;
	w.err = err;

	if ((error = check_entries(entries, n, err)) < 0)
		return error;
	if ((error = sort_entries(&sorted, entries, n, err)) < 0 ||
	    (error = writer_init(&w, err)) < 0)
		goto done;
	if ((a = archive_write_new()) == NULL || (ae = archive_entry_new()) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = open_tar(a, sorted, n, &w, err)) < 0)
		goto done;
	opened = true;
	if ((error = write_entries(a, ae, sorted, n, mtime, &w, err)) < 0)
		goto done;
	opened = false;
	if (archive_write_close(a) != ARCHIVE_OK) {
		error = w.error < 0 ? w.error : archive_fail(a, "close", err);
		goto done;
	}
	error = writer_finish(&w, res, err);
done:
	if (a) {
		if (opened)
			archive_write_fail(a);
		archive_write_free(a);
	}
	archive_entry_free(ae);
	if (w.zinit)
		deflateEnd(&w.z);
	EVP_MD_CTX_free(w.tar_md);
	EVP_MD_CTX_free(w.blob_md);
	free(sorted);
	if (error < 0)
		memset(res, 0, sizeof(*res));
	return error;
}
