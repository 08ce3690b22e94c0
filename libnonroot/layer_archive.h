/*
 * layer_archive.h: a layer blob opened as a tar reader, for the scan (scanrec.c) and for
 * unpack (unpack.c). Not installed.
 *
 * The compressed blob is decompressed by inflate.c (gzip), or by libarchive's filters in a
 * "raw" reader when inflate.c passes it through (zstd, xz, bzip2, plain), and the tar reader
 * reads the plain stream through one counting function: every plain byte is hashed (the
 * diff_id) and bounded: a layer may decompress to at most 1100 times its compressed size
 * (counted from 1 MiB), above gzip's own limit (deflate stops at 1032:1), so a real gzip layer
 * always passes and a zstd, xz or bzip2 bomb stops early, naming the layer.
 * nr__layer_archive_finish then reads the plain stream to its end, checks the blob against its
 * digest and size, and the plain stream against ref->diff_id (when set).
 */
#ifndef NR_LAYER_ARCHIVE_H
#define NR_LAYER_ARCHIVE_H

#include <pthread.h>

#include <archive.h>

#include "image_internal.h"

typedef struct nr__layer_archive nr__layer_archive;

/* Progress, as nr_scan_progress_cb, for layer `layer` of `nlayers`; lock (may be NULL)
 * serialises the calls across threads. */
typedef struct nr__layer_progress {
	nr_scan_progress_cb cb;   /* NULL: none */
	void *payload;
	size_t layer, nlayers;
	pthread_mutex_t *lock;
} nr__layer_progress;

/*
 * Open ref's blob as a tar reader (nr__layer_archive_reader). On failure *out is NULL when
 * nothing was read yet (the blob cannot be opened, out of memory), and set when the blob is
 * not a readable archive: then nr__layer_archive_finish still checks the blob's digest, which
 * explains a damaged blob better.
 */
int nr__layer_archive_open(nr__layer_archive **out, const nr__layer_ref *ref,
	const nr__layer_progress *progress, nr_error *err);
/* The tar reader: read headers and data from it. */
struct archive *nr__layer_archive_reader(nr__layer_archive *la);
/* The error the plain stream met (I/O, a decompression bomb), 0 when none: it explains a
 * libarchive failure better than libarchive's message. */
int nr__layer_archive_error(const nr__layer_archive *la);
/*
 * After the tar: `error` is what reading it came to. When 0, the plain stream is read to
 * its end; then (unless the stream met an error of its own) the blob is checked against its
 * digest, whose error replaces `error`; then, when still 0, the plain stream's digest goes to
 * plain (may be NULL) and is checked against ref->diff_id. Returns the outcome.
 */
int nr__layer_archive_finish(nr__layer_archive *la, int error, char plain[NR_DIGEST_SIZE],
	nr_error *err);
void nr__layer_archive_free(nr__layer_archive *la);

/* Did libarchive stop because the input ended (not because it is damaged)? */
bool nr__archive_truncated(struct archive *a);

#endif
