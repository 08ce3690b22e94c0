/*
 * patch_internal.h: helpers shared by patch.c and audit.c. Not installed.
 */
#ifndef NR_PATCH_INTERNAL_H
#define NR_PATCH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "nonroot.h"

/* An absolute image path made relative and lexically clean ("/home/app/" → "home/app"; ".."
 * clamped at the root; "/" → ""). */
int nr__path_relative(nr_buf *out, const char *path, nr_error *err);

/* SOURCE_DATE_EPOCH: *t = its value, or -1 when unset; NR_EINVALID when set but not a
 * decimal number of seconds (source "SOURCE_DATE_EPOCH"). */
int nr__source_date_epoch(int64_t *t, nr_error *err);

/* The layer mtime when SOURCE_DATE_EPOCH is unset: the config's `created` (RFC 3339), else 0.
 * An unparsable `created` is NR_EINVALID naming it. */
int nr__patch_mtime(int64_t *t, const char *created, nr_error *err);

/* RFC 3339 ("2024-01-01T00:00:00.123+02:00"): 0 or NR_EINVALID. */
int nr__parse_time(const char *s, int64_t *t);
/* "YYYY-MM-DDTHH:MM:SSZ" */
void nr__format_time(char *buf, size_t size, int64_t t);

bool nr__ends_with(const char *s, const char *suffix);

/* "80/tcp 443/tcp" (space-separated ExposedPorts keys) into buf. */
void nr__exposed_list(const nr_imgconfig *cfg, char *buf, size_t size);

/* Compat mode: does variable name=value already bind every mapped port of its privileged
 * ports (so that rewriting again would add duplicates)? */
bool nr__urls_compat_done(const char *name, const char *value, const nr_portmap *map);

#endif
