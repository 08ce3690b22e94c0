/*
 * image_model.h: the in-memory model of an opened image (image.c, image_model.c) and the
 * functions the image files (image*.c, platform.c, reference.c, layout_read.c, docker_read.c,
 * archive_unpack.c, layout_write.c, tar_write.c, docker_write.c) share. Not installed.
 */
#ifndef NR_IMAGE_MODEL_H
#define NR_IMAGE_MODEL_H

#include <sys/stat.h>

#include "image_internal.h"
#include "jsonload.h"
#include "mediatype.h"
#include "registry.h"

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
	/* the manifest as the last nr__prepare() staged it, then as the last successful
	 * nr_image_write() wrote it (nr_image_written_manifest()) */
	char staged_digest[NR_DIGEST_SIZE];
	uint64_t staged_size;
	char written_digest[NR_DIGEST_SIZE];
	char *written_mt;
	nr_descriptor written_pub;
	bool written;
} manifest;

/* Image indexes below index.json, followed to the image manifests (OCI image index or Docker
 * manifest list in a manifests[] entry), at most NR__NESTED_MAX on one path. */
#define NR__NESTED_MAX 8
/* ... and at most NR__NESTED_TOTAL in an image (an index may list the same index many times:
 * without a total, 8 levels of 1000 entries each would be 1000^8 loads). */
#define NR__NESTED_TOTAL 256

typedef struct nested {
	json_t *json;       /* the nested image index */
	char *digest;
	size_t parent;      /* SIZE_MAX: listed in index.json; else img->nx[parent] (always < own) */
	size_t pos;         /* its position in its parent's manifests array */
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
	struct stat src_st;     /* the archive as it was read (archives): a write-back checks
	                         * under a lock that nobody replaced it meanwhile */
	bool have_src_st;
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
	nr__reg_conf reg_conf;  /* registry settings (for docker:// sources and outputs) */
	nr__reg_ref rref;       /* docker://: the parsed reference */
	nr__registry *reg;      /* docker://: the source registry */
	/* the top manifest or index of the last successful write (nr_image_written()) */
	char written_digest[NR_DIGEST_SIZE];
	char *written_mt;
	nr_descriptor written_pub;
	bool written;
};


/* ---- image_model.c --------------------------------------------------------------------------- */

int nr__add_layer(manifest *m, const char *mt, const char *digest, uint64_t size,
	const char *relpath, json_t *desc);
void nr__manifest_dispose(manifest *m);
void nr__refresh_pub(manifest *m);

/* ---- image_json.c ---------------------------------------------------------------------------- */

int nr__desc_fields(const json_t *d, const char **mt, const char **digest, uint64_t *size,
	const char *source, nr_error *err);
int nr__json_parse(json_t **out, const char *text, size_t len, const char *source,
	nr_error *err);
const char *nr__jstr(const json_t *o, const char *key);
/* A string value of a map (annotations): the exact key, as Go reads a map. */
const char *nr__jmap_str(const json_t *map, const char *key);
int nr__load_json_blob(json_t **out, nr_image *img, const char *digest, uint64_t size,
	nr_error *err);

/* ---- platform.c ------------------------------------------------------------------------------ */

int nr__check_platform(const char *p, nr_error *err);
bool nr__platform_matches(const char *want, const char *have);

/* The tags a missing-tag error lists: the first few distinct ones, quoted for one line. */
typedef struct nr__taglist {
	const char *seen[5];
	size_t n;
	bool more;
} nr__taglist;
void nr__taglist_add(nr__taglist *t, const char *tag);
/* " (tags: a, b)", " (tags: a, b, c, d, e, ...)" or " (it has no tags)"; free() it. NULL on OOM. */
char *nr__taglist_str(const nr__taglist *t);
char *nr__platform_string(const char *os, const char *arch, const char *variant);

/* ---- reference.c ----------------------------------------------------------------------------- */

int nr__ref_parse(const char *ref, int *transport, char **path, char **tag, nr_error *err);

/* ---- layout_read.c --------------------------------------------------------------------------- */

int nr__open_layout(nr_image *img, const char *platform, nr_error *err);

/* ---- docker_read.c --------------------------------------------------------------------------- */

int nr__open_docker(nr_image *img, const char *platform, nr_error *err);
/* A hybrid archive (Docker 25+): NR_EINVALID unless manifest.json's entries in scope name
 * exactly the images opened from index.json (configs and layers). */
int nr__check_hybrid(nr_image *img, const char *platform, nr_error *err);

/* ---- archive_unpack.c ------------------------------------------------------------------------ */

int nr__unpack_archive(nr_image *img, nr_error *err);

/* ---- layout_write.c -------------------------------------------------------------------------- */

int nr__locate(nr_image *img, const char *digest, int *dfd, char *path, size_t psize,
	nr_error *err);
int nr__prepare(nr_image *img, json_t **new_index, json_t **tops, nr_error *err);
int nr__write_json_at(int dfd, const char *name, const json_t *j, nr_error *err);
int nr__write_layout(nr_image *img, int dfd, bool same, const char *tag, json_t *new_index,
	json_t **tops, size_t ntops, nr_error *err);

/* ---- image_write.c --------------------------------------------------------------------------- */

/* Everything nr_image_write() checks before it writes (see image_write.c). */
int nr__write_check(const nr_image *img, const char *dest, const nr_image_write_options *opts,
	int *transport, char **dpath, char **dtag, const char **tag, nr_error *err);
/* Write into an OCI layout directory dpath (created if missing), under a lock on it. */
int nr__write_oci(nr_image *img, const char *dest, const char *dpath, const char *tag,
	json_t *new_index, json_t **tops, size_t ntops, nr_error *err);
/* Write an oci-archive or docker-archive at dpath, atomically. */
int nr__write_archive(nr_image *img, const char *dest, int transport, const char *dpath,
	const char *tag, json_t *new_index, json_t **tops, size_t ntops, nr_error *err);
/* After a successful write: record what was written (nothing for a docker archive). */
int nr__record_written(nr_image *img, json_t **tops, size_t ntops, bool docker_archive,
	nr_error *err);

/* ---- tar_write.c ----------------------------------------------------------------------------- */

int nr__clone_tree(int from, int to, const char *rel, nr_error *err);
int nr__tar_tree(int dfd, nr_image *links, const char *path, nr_error *err);

/* ---- docker_write.c -------------------------------------------------------------------------- */

int nr__docker_entry(nr_image *img, int dfd, manifest *m, bool reuse, json_t **out,
	nr_error *err);
/* Update manifest.json (from img->docker) in tree dfd for the edited manifests; tag moves. */
int nr__docker_update_manifest(nr_image *img, int dfd, const char *tag, nr_error *err);
/* A new docker archive's manifest.json in tree dfd (one platform); `dest` names it in errors. */
int nr__docker_new_manifest(nr_image *img, int dfd, const char *dest, const char *tag,
	nr_error *err);

#endif
