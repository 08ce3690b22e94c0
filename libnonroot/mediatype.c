/*
 * mediatype.c: the table of layer media types (OCI and Docker, with their OCI equivalents) and
 * which media types are image indexes and image manifests.
 */
#include <string.h>

#include "internal.h"
#include "mediatype.h"

static const struct {
	const char *mt;
	const char *oci;     /* the OCI equivalent of a Docker type; NULL: mt is OCI */
} layer_types[] = {
	{ MT_OCI_LAYER, NULL },
	{ MT_OCI_LAYER_GZIP, NULL },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", NULL },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar", NULL },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", NULL },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", NULL },
	{ MT_DOCKER_LAYER, MT_OCI_LAYER },
	{ MT_DOCKER_LAYER_GZIP, MT_OCI_LAYER_GZIP },
	{ "application/vnd.docker.image.rootfs.diff.tar.zstd",
	  "application/vnd.oci.image.layer.v1.tar+zstd" },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" },
};

bool nr__layer_media_type_ok(const char *mt)
{
	size_t i;

	if (mt == NULL)
		return false;
	for (i = 0; i < NR_ARRAY_SIZE(layer_types); i++)
		if (strcmp(mt, layer_types[i].mt) == 0)
			return true;
	return false;
}

const char *nr__layer_media_type_oci(const char *mt)
{
	size_t i;

	for (i = 0; i < NR_ARRAY_SIZE(layer_types); i++)
		if (strcmp(mt, layer_types[i].mt) == 0 && layer_types[i].oci)
			return layer_types[i].oci;
	return mt;
}

const char *nr__newlayer_media_type(int docker, int gzip)
{
	if (docker)
		return gzip ? MT_DOCKER_LAYER_GZIP : MT_DOCKER_LAYER;
	return gzip ? MT_OCI_LAYER_GZIP : MT_OCI_LAYER;
}

bool nr__is_index_mt(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

bool nr__is_manifest_mt(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}
