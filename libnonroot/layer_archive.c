/*
 * layer_archive.c: a layer blob opened as a tar reader, decompressed, hashed and bounded as
 * it is read (layer_archive.h); used by the scan and by unpack.
 */
#include <errno.h>
#include <string.h>

#include <archive_entry.h>
#include <openssl/evp.h>

#include "layer_archive.h"
#include "inflate.h"

#define PLAIN_RATIO_MAX 1100u
#define PLAIN_FLOOR (1024u * 1024u)

struct nr__layer_archive {
	struct archive *a;        /* the tar reader */
	nr__blob_stream *bs;
	nr__inflate *z;
	struct archive *raw;      /* libarchive's filters, when inflate.c passes the blob on */
	bool raw_header, raw_eof;
	uint64_t plain;           /* plain (tar) bytes read so far */
	EVP_MD_CTX *md;           /* their SHA-256 (the diff_id) */
	const nr__layer_ref *ref;
	nr_error *err;
	int error;
	nr__layer_progress progress;
};

bool nr__archive_truncated(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m != NULL && strstr(m, "runcated") != NULL;
}

static la_ssize_t blob_read(struct archive *a, void *data, const void **buf)
{
	nr__layer_archive *io = data;
	ssize_t r = nr__inflate_read(io->z, buf, io->err);
	const nr__layer_progress *p = &io->progress;

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
	if (p->cb) {
		if (p->lock)
			pthread_mutex_lock(p->lock);
		p->cb(p->layer, p->nlayers, nr__blob_stream_total(io->bs), io->ref->size,
			p->payload);
		if (p->lock)
			pthread_mutex_unlock(p->lock);
	}
	return r;
}

/* The next block of the raw reader's single member (libarchive's decompression). */
static la_ssize_t raw_read(nr__layer_archive *io, struct archive *a, const void **buf)
{
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
			goto fail;
	}
	rr = archive_read_data_block(io->raw, buf, &n, &off);
	if (rr == ARCHIVE_EOF) {
		io->raw_eof = true;
		return 0;
	}
	if (rr < ARCHIVE_WARN)
		goto fail;
	return (la_ssize_t)n;
fail:
	archive_set_error(a, archive_errno(io->raw), "%s", archive_error_string(io->raw) ?
		archive_error_string(io->raw) : "read error");
	return -1;
}

/* The plain tar stream for the tar reader: counted (and bounded) and hashed. */
static la_ssize_t io_read(struct archive *a, void *data, const void **buf)
{
	nr__layer_archive *io = data;
	la_ssize_t r;
	uint64_t base;

	r = io->raw == NULL ? blob_read(a, data, buf) : raw_read(io, a, buf);
	if (r <= 0)
		return r;
	io->plain += (uint64_t)r;
	if (EVP_DigestUpdate(io->md, *buf, (size_t)r) != 1) {
		io->error = nr__error_oom(io->err);
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	base = io->ref->size != UINT64_MAX ? io->ref->size : nr__blob_stream_total(io->bs);
	if (base < PLAIN_FLOOR)
		base = PLAIN_FLOOR;
	if (io->plain / PLAIN_RATIO_MAX > base) {
		io->error = nr__error_set(io->err, NR_EINVALID, io->ref->digest, 0, 0,
			"layer decompresses to over %llu bytes, more than %u times its size: "
			"refused as a decompression bomb", (unsigned long long)io->plain,
			PLAIN_RATIO_MAX);
		archive_set_error(a, EINVAL, "decompression bomb");
		return -1;
	}
	return r;
}

int nr__layer_archive_open(nr__layer_archive **out, const nr__layer_ref *ref,
	const nr__layer_progress *progress, nr_error *err)
{
	nr__layer_archive *io;
	int error;

	*out = NULL;
	if ((io = nr__calloc(1, sizeof(*io))) == NULL)
		return nr__error_oom(err);
	io->ref = ref;
	io->err = err;
	if (progress)
		io->progress = *progress;
	if ((error = nr__blob_stream_open(&io->bs, ref->dirfd, ref->relpath, ref->digest,
			ref->size, err)) < 0 ||
	    (error = nr__inflate_open(&io->z, io->bs, err)) < 0)
		goto fail;
	if ((io->a = archive_read_new()) == NULL || (io->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(io->md, EVP_sha256(), NULL) != 1) {
		error = nr__error_oom(err);
		goto fail;
	}
	if (!nr__inflate_active(io->z)) {
		if ((io->raw = archive_read_new()) == NULL) {
			error = nr__error_oom(err);
			goto fail;
		}
		NR__ARCHIVE_READ_FILTERS(io->raw);
		archive_read_support_format_raw(io->raw);
		if (archive_read_open(io->raw, io, NULL, blob_read, NULL) != ARCHIVE_OK) {
			*out = io;
			return io->error ? io->error : nr__error_set(err, NR_EINVALID, ref->digest,
				0, 0, "layer is not a readable tar: %s", archive_error_string(io->raw));
		}
	}
	archive_read_support_format_tar(io->a);
	*out = io;
	if (archive_read_open(io->a, io, NULL, io_read, NULL) != ARCHIVE_OK)
		return io->error ? io->error : nr__error_set(err, NR_EINVALID, ref->digest, 0,
			0, "layer is not a readable tar: %s", archive_error_string(io->a));
	return 0;
fail:
	nr__layer_archive_free(io);
	return error;
}

struct archive *nr__layer_archive_reader(nr__layer_archive *la)
{
	return la->a;
}

int nr__layer_archive_error(const nr__layer_archive *la)
{
	return la->error;
}

int nr__layer_archive_finish(nr__layer_archive *la, int error, char plain[NR_DIGEST_SIZE],
	nr_error *err)
{
	char got[NR_DIGEST_SIZE];
	unsigned char md[32];
	unsigned int mdlen = 0;

	/* The tar ends at its end blocks; the diff_id is over the whole plain stream. */
	if (error == 0) {
		const void *blk;
		la_ssize_t k;
		while ((k = io_read(la->a, la, &blk)) > 0)
			;
		if (k < 0 && la->error == 0)
			error = nr__error_set(err, NR_EINVALID, la->ref->digest, 0, 0,
				"layer data after the tar cannot be read: %s",
				archive_error_string(la->a));
		else if (k < 0)
			error = la->error;
	}
	/* Whatever happened in the tar, a blob that does not match its digest says why. */
	if (la->error == 0) {
		nr_error derr = NR_ERROR_INIT;
		int derror = nr__blob_stream_finish(la->bs, &derr);
		if (derror < 0) {
			if (err) {
				nr_error_clear(err);
				*err = derr;
			}
			error = derror;
		}
	}
	if (error < 0)
		return error;
	if (EVP_DigestFinal_ex(la->md, md, &mdlen) != 1 || mdlen != 32)
		return nr__error_oom(err);
	nr__md_to_digest(md, got);
	if (plain)
		memcpy(plain, got, NR_DIGEST_SIZE);
	if (la->ref->diff_id && strcmp(got, la->ref->diff_id) != 0)
		return nr__error_set(err, NR_EINVALID, la->ref->digest, 0, 0,
			"uncompressed layer hashes to %s, but the config's diff_id is %s "
			"(containerd refuses it)", got, la->ref->diff_id);
	return 0;
}

void nr__layer_archive_free(nr__layer_archive *la)
{
	if (la == NULL)
		return;
	EVP_MD_CTX_free(la->md);
	if (la->a)
		archive_read_free(la->a);
	if (la->raw)
		archive_read_free(la->raw);
	nr__inflate_free(la->z);
	nr__blob_stream_free(la->bs);
	free(la);
}
