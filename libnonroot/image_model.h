/*
 * image_model.h: the in-memory model of an opened image (image.c). Not installed.
 */
#ifndef NR_IMAGE_MODEL_H
#define NR_IMAGE_MODEL_H

#include "image_internal.h"

typedef struct layer {
	nr_descriptor pub;
	char *media_type;
	char *digest;
	uint64_t size;
	char *relpath;      /* in img->dirfd; NULL: staged (new) */
	json_t *desc;       /* the manifest's descriptor object (annotations kept); NULL: new */
} layer;

typedef struct manifest {
	char *platform;
	char *media_type;
	char *digest;       /* NULL for a docker-archive entry */
	uint64_t size;
	json_t *json;       /* the manifest object; NULL for a docker-archive entry */
	size_t parent;      /* SIZE_MAX: listed in index.json; else img->nx[parent] */
	size_t pos;         /* position in its parent's manifests array */
	char *config;
	size_t config_len;
	char *config_mt;
	char *config_digest;
	uint64_t config_size;
	char *config_relpath;   /* NULL: staged */
	char *old_config;       /* config path when opened (hybrid archives: manifest.json key) */
	nr_descriptor config_pub;
	layer *layers;
	size_t nlayers, alayers;
	bool dirty;
} manifest;

typedef struct nested {
	json_t *json;       /* the nested image index */
	char *digest;
	size_t top;         /* its position in index.json */
} nested;

typedef struct member {
	char *name;
	char *link;
	int type;           /* 'f' file, 'l' symlink, 'h' hard link */
	bool done;
} member;

struct nr_image {
	int transport;
	bool hybrid;            /* docker-archive with index.json (Docker 25+) */
	char *path;
	char *tag;
	char *tmpdir;
	int dirfd;              /* OCI layout root, or the unpacked archive */
	char *unpack;           /* unpack dir (archives) */
	json_t *index;          /* index.json */
	json_t *docker;         /* manifest.json (docker-archive, hybrid) */
	size_t docker_entry;
	size_t *top;            /* selected index.json entries */
	size_t ntop;
	manifest *m;
	size_t nm, am;
	nested *nx;
	size_t nnx, anx;
	member *members;        /* archive members (to write links back as links) */
	size_t nmembers, amembers;
	nr__staging staging;
};

const char *nr__json_str(const json_t *o, const char *key);
int nr__ref_parse(const char *ref, int *transport, char **path, char **tag, nr_error *err);

#endif
