/*
 * image_internal.h: shared by blobs.c, image.c and layers.c. Not installed.
 */
#ifndef NR_IMAGE_INTERNAL_H
#define NR_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "internal.h"
#include "buf.h"
#include "mediatype.h"
#include "path.h"

/* The decompression filters for archives and layers (call with a struct archive * being set up
 * for reading): gzip, zstd, bzip2 and xz, all in-process. Never archive_read_support_filter_all:
 * it would run external programs (lrzip, lzop, grzip) on the bytes of an untrusted blob. */
#define NR__ARCHIVE_READ_FILTERS(a) do { \
	archive_read_support_filter_gzip(a); \
	archive_read_support_filter_zstd(a); \
	archive_read_support_filter_bzip2(a); \
	archive_read_support_filter_xz(a); \
} while (0)

/* Largest manifest, index or config we read into memory. */
#define NR_JSON_BLOB_MAX (16u * 1024u * 1024u)
/* "sha256:" + 64 hex + NUL */
#define NR_DIGEST_SIZE 72

/* ---- blobs.c ------------------------------------------------------------------------------ */

/* Check that `digest` is "sha256:<64 lowercase hex>"; copy the hex part to hex[65].
 * @return 0, NR_EUNSUPPORTED (other algorithm) or NR_EINVALID; `source` names the field. */
int nr__digest_check(const char *digest, char hex[65], const char *source, nr_error *err);

/* A sha256 sum (32 bytes) as "sha256:<64 lowercase hex>". */
void nr__md_to_digest(const unsigned char *md, char out[NR_DIGEST_SIZE]);

/* sha256 of a buffer as "sha256:<hex>". */
int nr__digest_of(const void *data, size_t len, char out[NR_DIGEST_SIZE], nr_error *err);

/* Relative path of a blob in an OCI layout: "blobs/sha256/<hex>". */
int nr__blob_path(const char *digest, char out[96], nr_error *err);

/*
 * A verified reader over one blob file: every byte read is hashed; nr__blob_stream_finish()
 * reads what is left and compares digest and size (size UINT64_MAX = not checked).
 */
typedef struct nr__blob_stream nr__blob_stream;
int nr__blob_stream_open(nr__blob_stream **out, int dirfd, const char *relpath,
	const char *digest, uint64_t size, nr_error *err);
/* @return bytes read (0 at end), or a negative NR_E* code. */
ssize_t nr__blob_stream_read(nr__blob_stream *s, void *buf, size_t n, nr_error *err);
int nr__blob_stream_finish(nr__blob_stream *s, nr_error *err);
uint64_t nr__blob_stream_total(const nr__blob_stream *s);   /* bytes read so far */
void nr__blob_stream_free(nr__blob_stream *s);

/* Read a whole blob (at most max bytes) and verify it. *out is NUL-terminated, caller-owned. */
int nr__blob_read(char **out, size_t *len, int dirfd, const char *relpath, const char *digest,
	uint64_t size, size_t max, nr_error *err);

/* Staging area: a private directory for new blobs (named by digest hex). */
typedef struct nr__staging {
	char *path;        /* NULL until first use */
	int dirfd;         /* -1 until first use */
	const char *tmpdir;
} nr__staging;
int nr__staging_fd(nr__staging *st, nr_error *err);
/* Store bytes as a staged blob; digest out. */
int nr__staging_put(nr__staging *st, const void *data, size_t len,
	char digest[NR_DIGEST_SIZE], nr_error *err);
/* Does the staging area hold this blob? size out. */
bool nr__staging_has(nr__staging *st, const char *digest, uint64_t *size);
void nr__staging_dispose(nr__staging *st);

/*
 * Copy file `from` (in dirfd `fromfd`, symlinks followed: the content counts) to `to` (in
 * dirfd `tofd`; its directories opened and made without following symlinks). A hard link
 * when the source is ours and not group/other-writable, else copy_file_range, else
 * read/write into a new temp file (random name, O_EXCL|O_NOFOLLOW); the target appears
 * atomically (rename). With `digest`, what is linked or copied must hash to it (NR_EDIGEST)
 * and an existing target is reused only when it hashes to it (else replaced); without, an
 * existing regular target is left alone.
 */
int nr__file_copy_at(int fromfd, const char *from, int tofd, const char *to,
	const char *digest, nr_error *err);

/* sha256 of everything in fd, read with pread from offset 0 ("sha256:<hex>" out). */
int nr__fd_digest(int fd, char out[NR_DIGEST_SIZE], const char *source, nr_error *err);

/* mkdir -p of a relative path under dirfd (0755), refusing symlinked components. */
int nr__mkdirs_at(int dirfd, const char *rel, nr_error *err);

/* Remove a directory tree (no symlink following). */
void nr__rmtree(const char *path);

/* Make a private temp dir "nonroot-<what>-<pid>-XXXXXX" under tmpdir (NULL: $TMPDIR, /tmp),
 * locked (flock) while tracked; the first call of a process first removes the ones of dead
 * processes there (nr__temp_remove_stale_dirs). Caller frees *out.
 * The dir is tracked (nr__temp_track_dir) until nr__rmtree removes it. */
int nr__mkdtemp(char **out, const char *tmpdir, const char *what, nr_error *err);

/* ---- image_model.c ------------------------------------------------------------------------ */

/* The image's staging area for new blobs. */
nr__staging *nr__image_staging(nr_image *img);

/* ---- layers.c ----------------------------------------------------------------------------- */


/* A layer to scan: where its blob is and what it should hash to. */
typedef struct nr__layer_ref {
	int dirfd;
	const char *relpath;
	const char *digest;
	uint64_t size;           /* UINT64_MAX: unknown (not checked) */
	const char *media_type;
	const char *diff_id;     /* NULL: not checked; else the plain stream must hash to it */
	/* NULL, or: make relpath hold the blob (a registry download) before it is read; not
	 * called on a layer-scan cache hit, which then needs no blob at all */
	int (*fetch)(void *ctx, const char *digest, uint64_t size, const char *relpath,
		nr_error *err);
	void *fetch_ctx;
} nr__layer_ref;

/* A privileged file's capabilities: the raw security.capability xattr (vfs_cap_data). */
typedef struct nr__scan_caps {
	char *data;
	size_t len;
} nr__scan_caps;
/* For nr_scan_result_setid_at(res, k): its capabilities, NULL when it has none. Borrowed. */
const nr__scan_caps *nr__scan_result_caps(const nr_scan_result *res, size_t k);

int nr__scan_layers(const nr__layer_ref *layers, size_t nlayers, const nr_scan_request *req,
	nr_scan_result **out, nr_error *err);


#endif
