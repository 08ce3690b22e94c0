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
 * exact duplicate the last one wins. So a document is refused when
 * any object in it, at any depth, holds two keys that are equal or equal under that folding:
 * the error names `source` and both keys. A syntax error is "<prefix><jansson's text>" with
 * its line and column. Work is O(n log n) in the number of keys of an object. With at most one
 * key per field so guaranteed, nr__jget() below reads a lone "user" or "ENV" as Go does.
 * @return 0, NR_EINVALID or NR_ENOMEM (details in *err)
 */
int nr__json_load(json_t **out, const char *text, size_t len, const char *source,
	const char *prefix, nr_error *err);

/* The collision check of nr__json_load() alone, over a parsed document. */
int nr__json_check_keys(const json_t *root, const char *source, nr_error *err);

/*
 * A struct field of a document nr__json_load() accepted, looked up as Go's encoding/json
 * matches it: the key equal to `field` (ASCII), else the key equal to it under the folding
 * above (the loader refused two such keys, so there is at most one). Use these for every
 * struct field of an image, layout, archive or bundle document, so nonroot reads "User",
 * "Diff_ids" or "capabiLities" as runc and containerd do; use jansson's exact
 * json_object_get() only for map keys (annotations, Labels, ExposedPorts, sysctl), which Go
 * matches exactly. NULL when obj is not an object or has no such key.
 */
json_t *nr__jget(const json_t *obj, const char *field);

/* Set a struct field, first removing any other key Go would read as the same field, so the
 * written document never holds two (and the old spelling cannot win). Return as
 * json_object_set_new() / json_object_set(). */
int nr__jset_new(json_t *obj, const char *field, json_t *value);
int nr__jset(json_t *obj, const char *field, json_t *value);

/* Delete a struct field: the key `field` and any key Go reads as it. */
int nr__jdel(json_t *obj, const char *field);

#endif
