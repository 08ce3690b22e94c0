/*
 * image_edit.c: the edits of an opened image's model before nr_image_write(): a new config
 * (staged) and an added layer (staged, or a blob already in the layout).
 */
#include <sys/stat.h>

#include "image_model.h"

int nr_image_set_config(nr_image *img, size_t i, const char *json, size_t len, nr_error *err)
{
	char digest[NR_DIGEST_SIZE], *copy, *dg;
	json_t *j = NULL;
	manifest *m;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(json, err);
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu", i);
	if ((error = nr__json_parse(&j, json, len, "config", err)) < 0)
		return error;
	json_decref(j);
	m = &img->m[i];
	if ((error = nr__staging_put(&img->staging, json, len, digest, err)) < 0)
		return error;
	if ((copy = nr__malloc(len + 1)) == NULL || (dg = nr__strdup(digest)) == NULL) {
		free(copy);
		return nr__error_oom(err);
	}
	memcpy(copy, json, len);
	copy[len] = '\0';
	free(m->config);
	free(m->config_digest);
	free(m->config_relpath);
	m->config = copy;
	m->config_len = len;
	m->config_digest = dg;
	m->config_size = len;
	m->config_relpath = NULL;
	m->dirty = true;
	nr__refresh_pub(m);
	return 0;
}

int nr_image_add_layer(nr_image *img, size_t i, const nr_descriptor *desc, nr_error *err)
{
	uint64_t have;
	char path[96];
	struct stat st;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(desc, err);
	NR_ASSERT_ARG(desc->media_type, err);
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu", i);
	if ((error = nr__digest_check(desc->digest, NULL, "layer descriptor", err)) < 0)
		return error;
	if (!nr__layer_media_type_ok(desc->media_type))
		return nr__error_set(err, NR_EUNSUPPORTED, desc->digest, 0, 0,
			"layer media type not supported: %s", desc->media_type);
	if (nr__staging_has(&img->staging, desc->digest, &have)) {
		if (have != desc->size)
			return nr__error_set(err, NR_EDIGEST, desc->digest, 0, 0,
				"staged blob has %llu bytes, descriptor says %llu",
				(unsigned long long)have, (unsigned long long)desc->size);
		path[0] = '\0';
	} else {
		nr__blob_path(desc->digest, path, NULL);
		if (fstatat(img->dirfd, path, &st, 0) < 0)
			return nr__error_set(err, NR_ENOTFOUND, desc->digest, 0, 0,
				"no such blob: write it with nr_blob_writer first");
		if ((uint64_t)st.st_size != desc->size)
			return nr__error_set(err, NR_EDIGEST, desc->digest, 0, 0,
				"blob has %llu bytes, descriptor says %llu",
				(unsigned long long)st.st_size, (unsigned long long)desc->size);
	}
	if (nr__add_layer(&img->m[i], desc->media_type, desc->digest, desc->size,
			path[0] ? path : NULL, NULL) < 0)
		return nr__error_oom(err);
	img->m[i].dirty = true;
	return 0;
}
