/*
 * scanrec.h: inside a layer's scan record (scancache.h's nr__lrec): what the record builder
 * (scanrec.c), the cache file format (scancache.c) and the parallel driver (scanrun.c)
 * share. Not installed.
 */
#ifndef NR_SCANREC_H
#define NR_SCANREC_H

#include <pthread.h>

#include "scancache.h"

#define NR__LREC_ARENA_BLOCK (64u * 1024u)

typedef struct nr__arena_blk {
	struct nr__arena_blk *next;
	size_t used, size;
	char data[];
} nr__arena_blk;

struct nr__lrec {
	nr__lent *e;
	size_t n, alloc;
	nr__arena_blk *blk;
	char plain[NR_DIGEST_SIZE];   /* digest of the plain (uncompressed) tar stream */
};

/* Copy len bytes + NUL into the record's arena; NULL on OOM. */
const char *nr__lrec_dup(nr__lrec *r, const char *s, size_t len);
/* A new zeroed entry at the end; NULL on OOM. */
nr__lent *nr__lrec_add(nr__lrec *r);
/* Does the record hold every content the scan will ask for? */
bool nr__lrec_serves(const nr__lrec *r, const nr__lscan_opts *o);
/* Read layer `layer` of `nlayers` from its blob into a new record (progress calls serialised
 * by plock, may be NULL). The blob's digest and ref->diff_id are checked. */
int nr__lrec_build(nr__lrec **out, const nr__layer_ref *ref, size_t layer, size_t nlayers,
	const nr__lscan_opts *o, pthread_mutex_t *plock, nr_error *err);

/* ---- scancache.c, for scanrun.c ------------------------------------------------------------ */

/* A record made by this user's nonroot for this digest, or NULL (absent, damaged, forged,
 * another version). */
nr__lrec *nr__scancache_load(nr__scancache *c, const char *digest);
/* Store a record; best effort: a cache that cannot be written is no cache. */
void nr__scancache_store(nr__scancache *c, const char *digest, const nr__lrec *r);
/* Is the blob there, with its descriptor's size and digest (see scancache.c)? */
int nr__scancache_blob_verified(const nr__layer_ref *ref, nr__scancache *c, nr_error *err);

#endif
