/*
 * blob_writer.c: the public blob writer: stream bytes into an image's staging area, hashed
 * as they come, renamed to their digest when finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image_model.h"
#include "fileio.h"
#include "parse.h"

struct nr_blob_writer {
	nr__staging *st;
	int fd;
	char tmp[64];
	EVP_MD_CTX *md;
	uint64_t size;
	bool finished;
};

int nr_blob_writer_open(nr_blob_writer **out, nr_image *img, nr_error *err)
{
	nr_blob_writer *w;
	int dfd, error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(img, err);
	if ((w = nr__calloc(1, sizeof(*w))) == NULL)
		return nr__error_oom(err);
	w->fd = -1;
	w->st = nr__image_staging(img);
	if ((dfd = nr__staging_fd(w->st, err)) < 0) {
		error = dfd;
		goto fail;
	}
	if ((w->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) {
		error = nr__error_oom(err);
		goto fail;
	}
	memcpy(w->tmp, ".writing-", 9);
	if (nr__random_hex(w->tmp + 9, 8) < 0) {
		error = nr__error_errno(err, errno, NULL, "getrandom");
		goto fail;
	}
	nr__temp_lock();
	w->fd = openat(dfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (w->fd >= 0 && nr__temp_track_at(dfd, w->tmp) < 0) {
		close(w->fd);
		w->fd = -1;
		unlinkat(dfd, w->tmp, 0);
		nr__temp_unlock();
		error = nr__error_oom(err);
		goto fail;
	}
	nr__temp_unlock();
	if (w->fd < 0) {
		error = nr__error_errno(err, errno, w->tmp, "create staged blob");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	nr_blob_writer_free(w);
	return error;
}

int nr_blob_writer_write(nr_blob_writer *w, const void *data, size_t len, nr_error *err)
{
	int rc;

	nr__error_reset(err);
	NR_ASSERT_ARG(w, err);
	if (w->finished || w->fd < 0)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "blob writer already finished");
	if (len == 0)
		return 0;
	NR_ASSERT_ARG(data, err);
	if ((rc = nr__write_all(w->fd, data, len)) < 0)
		return nr__error_errno(err, -rc, "staged blob", "write");
	EVP_DigestUpdate(w->md, data, len);
	w->size += len;
	return 0;
}

int nr_blob_writer_finish(char digest[72], uint64_t *size, nr_blob_writer *w, nr_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char d[NR_DIGEST_SIZE];

	nr__error_reset(err);
	NR_ASSERT_ARG(w, err);
	if (w->finished || w->fd < 0)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "blob writer already finished");
	if (EVP_DigestFinal_ex(w->md, md, &mdlen) != 1 || mdlen != 32)
		return nr__error_set(err, NR_ERROR, NULL, 0, 0, "sha256 failed");
	nr__md_to_digest(md, d);
	if (fsync(w->fd) < 0 || close(w->fd) < 0) {
		w->fd = -1;
		return nr__error_errno(err, errno, "staged blob", "fsync/close");
	}
	w->fd = -1;
	if (renameat(w->st->dirfd, w->tmp, w->st->dirfd, d + 7) < 0)
		return nr__error_errno(err, errno, "staged blob", "rename");
	nr__temp_untrack_at(w->tmp);
	w->finished = true;
	if (digest)
		memcpy(digest, d, NR_DIGEST_SIZE);
	if (size)
		*size = w->size;
	return 0;
}

void nr_blob_writer_free(nr_blob_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		unlinkat(w->st->dirfd, w->tmp, 0);
		nr__temp_untrack_at(w->tmp);
	}
	EVP_MD_CTX_free(w->md);
	free(w);
}
