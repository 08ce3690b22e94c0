/*
 * mediatype.h: the OCI and Docker media types and annotations libnonroot reads and writes, in
 * one place (mediatype.c holds the layer table). Not installed.
 */
#ifndef NR_MEDIATYPE_H
#define NR_MEDIATYPE_H

#include <stdbool.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_IMAGE_NAME "io.containerd.image.name"

/* An image index (OCI index or Docker manifest list)? */
bool nr__is_index_mt(const char *mt);

/* An image manifest (OCI or Docker schema2)? */
bool nr__is_manifest_mt(const char *mt);

/* Is this a layer media type we can read? */
bool nr__layer_media_type_ok(const char *mt);

/* The OCI media type of a Docker layer media type (an OCI one is returned as is). */
const char *nr__layer_media_type_oci(const char *mt);

/* The media type of a new layer: Docker or OCI, gzip or plain tar. */
const char *nr__newlayer_media_type(int docker, int gzip);

#endif
