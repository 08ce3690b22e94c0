/*
 * image_json.c: the JSON helpers the image readers and writers share: string fields,
 * parsing into an nr_error, verified JSON blobs, descriptor fields.
 */
#include <unistd.h>

#include "image_model.h"
#include "jsonload.h"

const char *nr__jstr(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? nr__jget(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *nr__jmap_str(const json_t *map, const char *key)
{
	json_t *v = json_is_object(map) ? json_object_get(map, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int nr__json_parse(json_t **out, const char *text, size_t len, const char *source,
	nr_error *err)
{
	int error;

	if ((error = nr__json_load(out, text, len, source, "invalid JSON: ", err)) < 0)
		return error;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return nr__error_set(err, NR_EINVALID, source, 0, 0, "not a JSON object");
	}
	return 0;
}

/* Read and parse a descriptor's JSON blob (verified). */
int nr__load_json_blob(json_t **out, nr_image *img, const char *digest, uint64_t size,
	nr_error *err)
{
	char path[96], *text = NULL;
	size_t len;
	int error;

	*out = NULL;
	if ((error = nr__blob_path(digest, path, err)) < 0)
		return error;
	if ((error = nr__blob_read(&text, &len, img->dirfd, path, digest, size, NR_JSON_BLOB_MAX,
			err)) < 0)
		return error;
	error = nr__json_parse(out, text, len, digest, err);
	free(text);
	return error;
}

/* A descriptor object: mediaType, digest, size checked. */
int nr__desc_fields(const json_t *d, const char **mt, const char **digest, uint64_t *size,
	const char *source, nr_error *err)
{
	json_t *sz;
	int error;

	if (!json_is_object(d))
		return nr__error_set(err, NR_EINVALID, source, 0, 0, "descriptor is not an object");
	*mt = nr__jstr(d, "mediaType");
	*digest = nr__jstr(d, "digest");
	sz = nr__jget(d, "size");
	if (*digest == NULL)
		return nr__error_set(err, NR_EINVALID, source, 0, 0, "descriptor has no digest");
	if ((error = nr__digest_check(*digest, NULL, source, err)) < 0)
		return error;
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"descriptor %s has no valid size", *digest);
	*size = (uint64_t)json_integer_value(sz);
	return 0;
}
