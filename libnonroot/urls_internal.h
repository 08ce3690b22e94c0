/*
 * urls_internal.h: what url.c, urls.c and portmap.c share (internal, not installed).
 */
#ifndef NR_URLS_INTERNAL_H
#define NR_URLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nonroot/urls.h"

/* s[0..n) equals the lower-case literal lit, ignoring ASCII case. */
bool nr__url_ieq(const char *s, size_t n, const char *lit);
/* int.TryParse(NumberStyles.Integer, invariant) on s[0..n); tok/toklen: the digits. */
bool nr__dotnet_int_parse(const char *s, size_t n, int32_t *out, size_t *tok, size_t *toklen);
/* nr_url_parse with the variable named in errors (source may be NULL). */
int nr__url_parse(nr_url *u, const char *s, size_t len, const char *source, nr_error *err);
/* Kestrel's AddressBinder checks of a parsed URL. */
int nr__url_validate(const nr_url *u, const char *s, size_t len, const char *source,
	nr_error *err);
/* Would Kestrel fail with "address already in use" binding both (same port, shared address)? */
bool nr__binds_conflict(const nr_url *a, int32_t pa, const nr_url *b, int32_t pb);
/* Trim [*s, *s+*n) like string.Trim(). */
void nr__urls_trim(const char **s, size_t *n);

#endif
