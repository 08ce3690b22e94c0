/*
 * layerscan.h: the state of a layer scan, shared by layers.c (tracked paths, set-id files,
 * applying each layer's members) and layers_result.c (passes, link resolution, the result).
 * Not installed.
 */
#ifndef NR_LAYERSCAN_H
#define NR_LAYERSCAN_H

#include "image_internal.h"
#include "scancache.h"

typedef struct nr__tstate {
	char *path;
	size_t plen;
	bool present;
	nr_entry_type type;
	uint32_t mode;
	uint64_t uid, gid, size;
	int64_t mtime;
	size_t layer;
	char *link;         /* symlink target as stored */
	char *hardlink;     /* cleaned hard link target */
	char *content;
	size_t content_len;
	char *caps;         /* privileged files: the security.capability xattr; NULL: none */
	size_t caps_len;
	bool too_big;
} nr__tstate;

typedef struct nr__scan {
	nr__tstate *t;
	size_t nt, at;
	/* Set-id files: setid[0, nlower) are from lower layers, sorted by path, with snext
	 * (union-find "next live entry") so that hiding a directory touches only what it removes;
	 * setid[nlower, nsetid) are this layer's, found by path through a chained hash. A removed
	 * entry has present == false until the next layer compacts the array. Every operation is
	 * O(log n) or amortised O(1), so 40k set-id files in a layer cost no more than a sort. */
	nr__tstate *setid;
	size_t nsetid, asetid, nlower;
	size_t *snext, *hhead, *hnext;
	size_t nhead, ahnext;
	bool want_setid, want_caps;
	size_t content_max;
	/* paths to track in the next pass */
	char **need;
	size_t nneed, aneed;
	nr_error *err;
} nr__scan;

void nr__tstate_clear(nr__tstate *s);
nr__tstate *nr__scan_find_tracked(nr__scan *sc, const char *p, size_t n);
/* Track a cleaned path and every directory above it. */
int nr__scan_track(nr__scan *sc, const char *p);
/* Track p in the next pass. */
int nr__scan_add_need(nr__scan *sc, const char *p);
/* Start a new layer: the live set-id entries of the last one join the sorted lower part. */
int nr__scan_setid_next_layer(nr__scan *sc);
/* The first lower set-id entry not before (p, n). */
size_t nr__scan_lower_bound(const nr__scan *sc, const char *p, size_t n);
/* Apply one layer's record (nr__lscan_apply). */
int nr__scan_apply_layer(void *ctx, size_t layer, const nr__lrec *rec);
/* Forget every state before a new pass (the tracked paths stay). */
void nr__scan_reset_states(nr__scan *sc);
void nr__scan_dispose(nr__scan *sc);

#endif
