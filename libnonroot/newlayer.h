/*
 * newlayer.h: one reproducible layer tar(+gzip) holding only the files a patch changes.
 * Not installed: patch.c builds the entry list, the image layer stores the blob.
 *
 * Reproducible: entries sorted by path, one fixed mtime, numeric owners only (no user or
 * group names), no atime/ctime, gzip with no file name and a zero timestamp; so the same
 * entries and mtime always give the same digest and diff_id. Digests are computed with
 * OpenSSL SHA-256 while the bytes stream to the sink: nothing is held in memory but the
 * entries themselves.
 */
#ifndef NR_NEWLAYER_H
#define NR_NEWLAYER_H

#include <stdint.h>

#include "nonroot/errors.h"
#include "mediatype.h"

enum { NR__LAYER_FILE = 'f', NR__LAYER_DIR = 'd' };

typedef struct nr__layer_entry {
	const char *path;     /* relative: "etc/passwd", "home/app" (no "/", "./", "..", trailing "/") */
	int type;             /* NR__LAYER_FILE or NR__LAYER_DIR */
	uint32_t mode;        /* permission bits incl. setuid/setgid/sticky (07777) */
	uint32_t uid, gid;
	const char *data;     /* file content (files only) */
	size_t len;
} nr__layer_entry;

/* Receives the layer's bytes (compressed when gzip). @return 0 or a negative NR_E* code. */
typedef int (*nr__layer_sink)(void *ctx, const void *buf, size_t len, nr_error *err);

typedef struct nr__layer_result {
	char digest[72];      /* "sha256:<64 hex>" of the bytes given to the sink */
	char diff_id[72];     /* "sha256:<64 hex>" of the uncompressed tar */
	uint64_t size;        /* bytes given to the sink */
	uint64_t tar_size;    /* bytes of the uncompressed tar */
} nr__layer_result;

/*
 * Write the layer. `entries` need not be sorted (they are written sorted by path; a
 * duplicate path is NR_EINVALID). mtime is seconds since the epoch (≥ 0).
 * gzip: 1 for a gzip layer (tar+gzip), 0 for a plain tar.
 */
int nr__newlayer_write(const nr__layer_entry *entries, size_t n, int64_t mtime, int gzip,
	nr__layer_sink sink, void *ctx, nr__layer_result *res, nr_error *err);


#endif
