/*
 * image_model.c: the records of the image model (image_model.h): a manifest's layers added and
 * disposed of, its public descriptors kept pointing at its fields, the image's staging area.
 * The readers (layout_read.c, docker_read.c, registry_read.c) build the model through these;
 * image.c owns the image's life (nr_image_open, nr_image_free).
 */
#include "image_model.h"

static void layer_dispose(layer *l)
{
	free(l->media_type);
	free(l->digest);
	free(l->relpath);
	json_decref(l->desc);
}

void nr__manifest_dispose(manifest *m)
{
	size_t j;

	free(m->platform);
	free(m->media_type);
	free(m->digest);
	json_decref(m->json);
	free(m->config);
	free(m->config_mt);
	free(m->config_digest);
	free(m->written_mt);
	free(m->config_relpath);
	free(m->old_config);
	for (j = 0; j < m->nlayers; j++)
		layer_dispose(&m->layers[j]);
	free(m->layers);
}

void nr__refresh_pub(manifest *m)
{
	size_t j;

	m->config_pub.media_type = m->config_mt;
	m->config_pub.digest = m->config_digest;
	m->config_pub.size = m->config_size;
	for (j = 0; j < m->nlayers; j++) {
		m->layers[j].pub.media_type = m->layers[j].media_type;
		m->layers[j].pub.digest = m->layers[j].digest;
		m->layers[j].pub.size = m->layers[j].size;
	}
}

int nr__add_layer(manifest *m, const char *mt, const char *digest, uint64_t size,
	const char *relpath, json_t *desc)
{
	layer *l;

	if (nr__array_grow((void **)&m->layers, &m->alayers, m->nlayers + 1, sizeof(*l)) < 0)
		return NR_ENOMEM;
	l = &m->layers[m->nlayers];
	memset(l, 0, sizeof(*l));
	l->media_type = nr__strdup(mt ? mt : "");
	l->digest = nr__strdup(digest);
	l->relpath = relpath ? nr__strdup(relpath) : NULL;
	l->size = size;
	if (l->media_type == NULL || l->digest == NULL || (relpath && l->relpath == NULL)) {
		layer_dispose(l);
		return NR_ENOMEM;
	}
	l->desc = desc ? json_incref(desc) : NULL;
	m->nlayers++;
	nr__refresh_pub(m);
	return 0;
}

/* The image's staging area for new blobs (blob_writer.c). */
nr__staging *nr__image_staging(nr_image *img)
{
	return &img->staging;
}
