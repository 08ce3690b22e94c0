/*
 * unpack_internal.h: what unpack.c (layers, the target, nr_image_unpack) and unpack_member.c
 * (one tar member written into the target) share. Not installed.
 */
#ifndef NR_UNPACK_INTERNAL_H
#define NR_UNPACK_INTERNAL_H

#include <archive.h>
#include <archive_entry.h>

#include "image_model.h"
#include "rootfs_internal.h"

/* ---- a set of strings (this layer's paths), and a map path -> directory metadata ------- */

typedef struct dmeta {
	uint32_t mode;
	int64_t sec;
	long nsec;
	bool has_mode;
} dmeta;

typedef struct hentry {
	char *key;
	dmeta v;
} hentry;

typedef struct hmap {
	hentry *e;
	size_t n, cap;     /* cap: power of two or 0 */
} hmap;

typedef struct upk {
	nr_rootfs *rfs;
	int rootfd;
	bool rootless;
	bool xattrs;
	nr_error *err;
	const char *digest;     /* the layer being applied */
	hmap upper;             /* paths written by this layer */
	hmap dirs;              /* directory metadata applied at the end */
	/* the last parent directory opened (members come grouped by directory) */
	nr__buf cpath;
	int cfd;
	bool cvalid;
	nr__buf path, tmp;
} upk;

/* ---- unpack_member.c ---------------------------------------------------------------------- */

/* Add key (copied) to the map; its entry, or NULL on OOM. */
hentry *nr__upk_hmap_put(hmap *m, const char *key);
void nr__upk_hmap_clear(hmap *m);
/* Close the cached parent directory. */
void nr__upk_cache_drop(upk *u);
/* An I/O error on a member (ENOMEM: out of memory), naming the layer and the member. */
int nr__upk_fail_io(upk *u, const char *path, const char *what, int e);
/* Remove every child of directory fd (the target on failure). */
void nr__upk_empty_dir(int fd);
/* The root entry ("./"): owner, mode and times of the target itself. */
int nr__upk_apply_root(upk *u, struct archive_entry *e);
/* Write member e (cleaned path p of n bytes, not the root) into the target: whiteouts,
 * opaque directories, hard links, and each file type with its metadata. */
int nr__upk_apply_member(upk *u, struct archive *a, struct archive_entry *e, const char *p,
	size_t n);

#endif
