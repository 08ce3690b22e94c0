/*
 * jsonload.h: the one way libnonroot parses a JSON document that comes from an image, a
 * layout, an archive or a runtime bundle. Not installed.
 */
#ifndef NR_JSONLOAD_H
#define NR_JSONLOAD_H

#include <jansson.h>

#include "internal.h"

/*
 * Parse [text, text+len) into *out (new reference; NULL on failure), read the way the Go tools
 * (runc, containerd, skopeo, umoci, Docker) read it, or refused where they would read it
 * differently. Go's encoding/json matches an object key to a struct field case-insensitively
 * (ASCII case, plus U+017F for 's' and U+212A for 'k') and the last match wins, and with an
 * exact duplicate the last one wins; nonroot reads the exact key. So a document is refused when
 * any object in it, at any depth, holds two keys that are equal or equal under that folding:
 * the error names `source` and both keys. A syntax error is "<prefix><jansson's text>" with
 * its line and column. Work is O(n log n) in the number of keys of an object.
 * @return 0, NR_EINVALID or NR_ENOMEM (details in *err)
 */
int nr__json_load(json_t **out, const char *text, size_t len, const char *source,
	const char *prefix, nr_error *err);

/* The collision check of nr__json_load() alone, over a parsed document. */
int nr__json_check_keys(const json_t *root, const char *source, nr_error *err);

#endif
