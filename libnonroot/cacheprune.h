/*
 * cacheprune.h: bounding the layer-scan cache and removing dead runs' temp directories
 * (`nonroot cache prune`). Internal: the CLI links the static library.
 */
#ifndef NR_CACHEPRUNE_H
#define NR_CACHEPRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nonroot/errors.h"

typedef struct nr__prune_opts {
	uint64_t max_size;   /* records kept: at most this many bytes (UINT64_MAX: no bound) */
	int64_t max_age;     /* seconds since last use (0: no bound) */
	bool dry_run;        /* count what would go, remove nothing */
	bool tmpdirs;        /* also remove dead runs' $TMPDIR/nonroot-* directories */
	const char *tmpdir;  /* NULL: $TMPDIR, else /tmp */
} nr__prune_opts;

typedef struct nr__prune_stats {
	size_t records, markers, temps, tmpdirs;      /* removed (or, dry run, would be) */
	uint64_t record_bytes, temp_bytes, tmpdir_bytes;
	size_t kept_records, kept_markers;            /* left in the cache */
	uint64_t kept_bytes;
} nr__prune_stats;

/*
 * Prune the layer-scan cache `dir` (as nr__scancache_dir: NULL or missing is an empty cache):
 * records (layers/<hex>.scan) unused for over max_age, then the least recently used ones until
 * the rest fit in max_size; verification markers (verified/<hmac>) unused for over max_age;
 * temp files of dead writers. Use is the file's mtime (a cache hit touches it). Only regular
 * files of ours with exactly these names, relative to directory fds (O_NOFOLLOW): a symlink
 * is never followed or removed. The directory must be private (as for nr__scancache_open).
 * 0, or a negative code naming the directory.
 */
int nr__scancache_prune(const char *dir, const nr__prune_opts *o, nr__prune_stats *st,
	nr_error *err);

#endif
