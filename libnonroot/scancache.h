/*
 * scancache.h: reading layers for the scan (layers.c): each layer becomes a record of its
 * members (metadata in tar order, plus the content of the regular files the scan tracks and of
 * the account files), built by a worker per layer (bounded by cores) from the blob, gzip
 * inflated by inflate.c, or loaded from the layer-scan cache, and handed to layers.c in layer
 * order. Not installed.
 *
 *   scanrec.c        a record (entries in an arena) and its builder from one layer's tar
 *   layer_archive.c  a layer blob opened as a tar reader (decompressed, bounded, diff_id)
 *   scancache.c      the cache: directory, key, record file format, verified-blob markers
 *   scanrun.c        the parallel driver (nr__lscan_run)
 *
 * Layer-scan cache: a record is keyed by its layer's digest (content-addressed, so it never
 * goes stale), stored as DIR/layers/<hex>.scan, written atomically (temp + rename) only after
 * the blob matched its digest, verified on read (magic, digest, and an HMAC-SHA256 of the
 * payload under the per-user key DIR/key), so concurrent runs are safe and a record that this
 * user's nonroot did not write is never used. DIR comes from $NONROOT_CACHE: unset, "" or
 * "off": no cache; "auto": $XDG_CACHE_HOME/nonroot (else ~/.cache/nonroot); anything else:
 * that directory. DIR, DIR/layers and DIR/verified must be owned by the effective user and not
 * group/other-writable, DIR/key a 0600 file of that user; else the cache is not used.
 * A hit still verifies the blob (its digest, or an HMAC-named marker of its verified state).
 * For a registry layer (nr__layer_ref.fetch) a hit needs no blob at all (the record is this
 * user's, written after the blob matched its digest); a miss downloads the blob first.
 */
#ifndef NR_SCANCACHE_H
#define NR_SCANCACHE_H

#include "image_internal.h"

typedef struct nr__lent {
	const char *path;         /* cleaned (nr__path_clean) */
	size_t plen;
	const char *hardlink;     /* as stored; NULL: not a hard link */
	const char *symlink;      /* symlinks only ("" when the tar has none) */
	const char *content;      /* NUL-terminated; NULL when not captured */
	size_t content_len;
	const char *caps;         /* the security.capability xattr's value (binary); NULL: none */
	size_t caps_len;
	uint32_t ft;              /* AE_IF* */
	uint32_t perm;            /* archive_entry_perm() */
	uint64_t uid, gid;
	int64_t mtime;
	int64_t size;             /* archive_entry_size() */
} nr__lent;

typedef struct nr__lrec nr__lrec;
size_t nr__lrec_count(const nr__lrec *r);
const nr__lent *nr__lrec_get(const nr__lrec *r, size_t i);

typedef struct nr__lscan_opts {
	const char *const *tracked;   /* cleaned paths whose content is wanted */
	size_t ntracked;
	size_t content_max;
	const nr_scan_request *req;   /* for progress (serialised across workers) */
} nr__lscan_opts;

/* Called on the calling thread for each layer in order (0 = bottom). */
typedef int (*nr__lscan_apply)(void *ctx, size_t layer, const nr__lrec *rec);

/*
 * Read `n` layers and apply them in order. The first error in layer order wins: a layer's
 * media type, blob or tar error (as the sequential scan reported it), or apply's.
 */
int nr__lscan_run(const nr__layer_ref *layers, size_t n, const nr__lscan_opts *o,
	nr__lscan_apply apply, void *ctx, nr_error *err);

/* The cache directory from $NONROOT_CACHE (see above); NULL: no cache. Caller frees. */
char *nr__scancache_dir(void);

#define NR_SCANCACHE_KEY 32
typedef struct nr__scancache nr__scancache;
/* Open (making it 0700 when missing) and check the cache DIR: NR_EINVALID naming what makes
 * it unsafe (owner, mode, symlinked subdirectory, key file). */
int nr__scancache_open(nr__scancache **out, const char *dir, nr_error *err);
void nr__scancache_close(nr__scancache *c);

/* A record's bytes: MAGIC, digest, entries, HMAC-SHA256(key, all before). Encode appends to b
 * (-1 on OOM); parse returns NULL unless the MAC, the digest (when not NULL) and every field
 * check out. */
int nr__lrec_encode(nr__buf *b, const char *digest, const nr__lrec *r,
	const unsigned char key[NR_SCANCACHE_KEY]);
nr__lrec *nr__lrec_parse(const char *data, size_t len, const char *digest,
	const unsigned char key[NR_SCANCACHE_KEY]);
void nr__lrec_free(nr__lrec *r);

#endif
