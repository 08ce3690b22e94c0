/*
 * image.c: open images in every transport, the in-memory model (index → manifests → config
 * and layers), edits (config, new layers) and the public accessors. Writing is in
 * the second half of this file.
 *
 * Model: every image is read through an OCI-style tree in a directory (`dirfd`): the layout
 * directory itself for `oci:`, or the archive unpacked into a private temp dir for
 * `oci-archive:` and `docker-archive:`. A docker-archive's manifest.json entry is turned into
 * a manifest with Docker schema2 media types whose blobs are found by their member paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image_internal.h"
#include "fileio.h"
#include "parse.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_IMAGE_NAME "io.containerd.image.name"

#include "image_model.h"

/* ---- small JSON helpers ------------------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *nr__json_str(const json_t *o, const char *key)
{
	return jstr(o, key);
}

static int json_parse(json_t **out, const char *text, size_t len, const char *source,
	nr_error *err)
{
	json_error_t je;

	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL)
		return nr__error_set(err, NR_EINVALID, source, (size_t)(je.line > 0 ? je.line : 0),
			(size_t)(je.column > 0 ? je.column : 0), "invalid JSON: %s", je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return nr__error_set(err, NR_EINVALID, source, 0, 0, "not a JSON object");
	}
	return 0;
}

/* Read and parse a descriptor's JSON blob (verified). */
static int load_json_blob(json_t **out, nr_image *img, const char *digest, uint64_t size,
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
	error = json_parse(out, text, len, digest, err);
	free(text);
	return error;
}

/* A descriptor object: mediaType, digest, size checked. */
static int desc_fields(const json_t *d, const char **mt, const char **digest, uint64_t *size,
	const char *source, nr_error *err)
{
	json_t *sz;
	int error;

	if (!json_is_object(d))
		return nr__error_set(err, NR_EINVALID, source, 0, 0, "descriptor is not an object");
	*mt = jstr(d, "mediaType");
	*digest = jstr(d, "digest");
	sz = json_object_get(d, "size");
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

static char *platform_string(const char *os, const char *arch, const char *variant)
{
	nr_buf b = NR_BUF_INIT;

	nr_buf_printf(&b, "%s/%s", os && *os ? os : "unknown", arch && *arch ? arch : "unknown");
	if (variant && *variant)
		nr_buf_printf(&b, "/%s", variant);
	return nr_buf_detach(&b, NULL);
}

static bool platform_matches(const char *want, const char *have)
{
	size_t n = strlen(want);

	if (strcmp(want, have) == 0)
		return true;
	/* "linux/arm64" matches "linux/arm64/v8" */
	return strncmp(want, have, n) == 0 && have[n] == '/' &&
		memchr(want, '/', n) != NULL && strchr(strchr(want, '/') + 1, '/') == NULL;
}

/* ---- model -------------------------------------------------------------------------------- */

static void layer_dispose(layer *l)
{
	free(l->media_type);
	free(l->digest);
	free(l->relpath);
	json_decref(l->desc);
}

static void manifest_dispose(manifest *m)
{
	size_t j;

	free(m->platform);
	free(m->media_type);
	free(m->digest);
	json_decref(m->json);
	free(m->config);
	free(m->config_mt);
	free(m->config_digest);
	free(m->config_relpath);
	for (j = 0; j < m->nlayers; j++)
		layer_dispose(&m->layers[j]);
	free(m->layers);
}

static void refresh_pub(manifest *m)
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

static int add_layer(manifest *m, const char *mt, const char *digest, uint64_t size,
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
	refresh_pub(m);
	return 0;
}

void nr_image_free(nr_image *img)
{
	size_t i;

	if (img == NULL)
		return;
	for (i = 0; i < img->nm; i++)
		manifest_dispose(&img->m[i]);
	free(img->m);
	for (i = 0; i < img->nnx; i++) {
		json_decref(img->nx[i].json);
		free(img->nx[i].digest);
	}
	free(img->nx);
	for (i = 0; i < img->nmembers; i++) {
		free(img->members[i].name);
		free(img->members[i].link);
	}
	free(img->members);
	free(img->top);
	json_decref(img->index);
	json_decref(img->docker);
	if (img->dirfd >= 0)
		close(img->dirfd);
	if (img->unpack)
		nr__rmtree(img->unpack);
	free(img->unpack);
	nr__staging_dispose(&img->staging);
	free(img->path);
	free(img->tag);
	free(img->tmpdir);
	free(img);
}

nr__staging *nr__image_staging(nr_image *img)
{
	return &img->staging;
}

/* ---- OCI layout --------------------------------------------------------------------------- */

static bool is_index_mt(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

static bool is_manifest_mt(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

/* Load manifest `digest` (from descriptor d in parent `parent`) into the model. */
static int load_manifest(nr_image *img, json_t *d, size_t parent, size_t pos,
	const char *platform_filter, nr_error *err)
{
	const char *mt, *digest, *cmt, *cdigest;
	uint64_t size, csize;
	json_t *mj = NULL, *cfg, *layers, *l, *plat;
	manifest *m = NULL;
	char cpath[96], *platform = NULL;
	size_t j;
	int error;

	if ((error = desc_fields(d, &mt, &digest, &size, "index.json", err)) < 0)
		return error;
	if ((error = load_json_blob(&mj, img, digest, size, err)) < 0)
		return error;
	if (mt == NULL)
		mt = jstr(mj, "mediaType");
	if (jstr(mj, "mediaType") && mt && strcmp(jstr(mj, "mediaType"), mt) != 0) {
		error = nr__error_set(err, NR_EINVALID, digest, 0, 0,
			"manifest mediaType %s differs from its descriptor's %s",
			jstr(mj, "mediaType"), mt);
		goto done;
	}
	if (json_integer_value(json_object_get(mj, "schemaVersion")) != 2) {
		error = nr__error_set(err, NR_EUNSUPPORTED, digest, 0, 0,
			"manifest schemaVersion is not 2 (schema1 manifests are not supported)");
		goto done;
	}
	cfg = json_object_get(mj, "config");
	layers = json_object_get(mj, "layers");
	if ((error = desc_fields(cfg, &cmt, &cdigest, &csize, digest, err)) < 0)
		goto done;
	if (!json_is_array(layers)) {
		error = nr__error_set(err, NR_EINVALID, digest, 0, 0, "manifest has no layers array");
		goto done;
	}
	if (nr__array_grow((void **)&img->m, &img->am, img->nm + 1, sizeof(*m)) < 0)
		goto oom;
	m = &img->m[img->nm];
	memset(m, 0, sizeof(*m));
	img->nm++;
	m->parent = parent;
	m->pos = pos;
	m->json = mj;
	mj = NULL;
	if ((m->media_type = nr__strdup(mt ? mt : MT_OCI_MANIFEST)) == NULL ||
	    (m->digest = nr__strdup(digest)) == NULL ||
	    (m->config_mt = nr__strdup(cmt ? cmt : MT_OCI_CONFIG)) == NULL ||
	    (m->config_digest = nr__strdup(cdigest)) == NULL)
		goto oom;
	m->size = size;
	m->config_size = csize;
	if ((error = nr__blob_path(cdigest, cpath, err)) < 0)
		goto done;
	if ((m->config_relpath = nr__strdup(cpath)) == NULL)
		goto oom;
	if ((error = nr__blob_read(&m->config, &m->config_len, img->dirfd, cpath, cdigest, csize,
			NR_JSON_BLOB_MAX, err)) < 0)
		goto done;
	json_array_foreach(layers, j, l) {
		const char *lmt, *ld;
		uint64_t ls;
		char lpath[96];
		if ((error = desc_fields(l, &lmt, &ld, &ls, digest, err)) < 0)
			goto done;
		if ((error = nr__blob_path(ld, lpath, err)) < 0)
			goto done;
		if (add_layer(m, lmt, ld, ls, lpath, l) < 0)
			goto oom;
	}
	plat = json_object_get(d, "platform");
	if (json_is_object(plat)) {
		platform = platform_string(jstr(plat, "os"), jstr(plat, "architecture"),
			jstr(plat, "variant"));
	} else {
		json_t *c = NULL;
		if (json_parse(&c, m->config, m->config_len, cdigest, err) < 0) {
			error = NR_EINVALID;
			goto done;
		}
		platform = platform_string(jstr(c, "os"), jstr(c, "architecture"),
			jstr(c, "variant"));
		json_decref(c);
	}
	if (platform == NULL)
		goto oom;
	m->platform = platform;
	refresh_pub(m);
	if (platform_filter && !platform_matches(platform_filter, platform)) {
		manifest_dispose(m);
		img->nm--;
	}
	error = 0;
	goto done;
oom:
	error = nr__error_oom(err);
done:
	json_decref(mj);
	return error;
}

static bool is_attestation(const json_t *d)
{
	json_t *ann = json_object_get(d, "annotations");
	const char *t = jstr(ann, "vnd.docker.reference.type");
	return t && strcmp(t, "attestation-manifest") == 0;
}

/* Load a top-level index.json entry (manifest, or nested index). */
static int load_top(nr_image *img, size_t k, const char *platform, nr_error *err)
{
	json_t *d = json_array_get(json_object_get(img->index, "manifests"), k);
	const char *mt = jstr(d, "mediaType"), *digest;
	uint64_t size;
	int error;

	if (is_index_mt(mt)) {
		nested *nx;
		json_t *ij = NULL, *mans, *e;
		size_t j;
		if ((error = desc_fields(d, &mt, &digest, &size, "index.json", err)) < 0)
			return error;
		if ((error = load_json_blob(&ij, img, digest, size, err)) < 0)
			return error;
		if (nr__array_grow((void **)&img->nx, &img->anx, img->nnx + 1, sizeof(*nx)) < 0) {
			json_decref(ij);
			return nr__error_oom(err);
		}
		nx = &img->nx[img->nnx++];
		memset(nx, 0, sizeof(*nx));
		nx->json = ij;
		nx->top = k;
		if ((nx->digest = nr__strdup(digest)) == NULL)
			return nr__error_oom(err);
		mans = json_object_get(ij, "manifests");
		if (!json_is_array(mans))
			return nr__error_set(err, NR_EINVALID, digest, 0, 0,
				"image index has no manifests array");
		json_array_foreach(mans, j, e) {
			const char *emt = jstr(e, "mediaType");
			if (is_attestation(e) || (emt && !is_manifest_mt(emt)))
				continue;   /* attestations, nested-nested indexes: kept, not read */
			if ((error = load_manifest(img, e, img->nnx - 1, j, platform, err)) < 0)
				return error;
		}
		return 0;
	}
	if (mt && !is_manifest_mt(mt))
		return nr__error_set(err, NR_EUNSUPPORTED, "index.json", 0, 0,
			"manifest media type not supported: %s", mt);
	return load_manifest(img, d, SIZE_MAX, k, platform, err);
}

static bool tag_matches(const json_t *d, const char *tag)
{
	json_t *ann = json_object_get(d, "annotations");
	const char *ref = jstr(ann, ANN_REF_NAME), *name = jstr(ann, ANN_IMAGE_NAME);
	size_t tn = strlen(tag), nn;

	if (ref && strcmp(ref, tag) == 0)
		return true;
	if (name == NULL)
		return false;
	nn = strlen(name);
	return strcmp(name, tag) == 0 || (nn > tn && name[nn - tn - 1] == '/' &&
		strcmp(name + nn - tn, tag) == 0);
}

static int open_layout(nr_image *img, const char *platform, nr_error *err)
{
	char *text = NULL;
	size_t len, k, n;
	json_t *mans;
	int error;

	if ((error = nr__file_read_at(&text, &len, img->dirfd, "index.json", O_NOFOLLOW,
			NR_JSON_BLOB_MAX, "index.json", err)) < 0)
		return error == NR_EIO && errno == ENOENT ? NR_ENOTFOUND : error;
	error = json_parse(&img->index, text, len, "index.json", err);
	free(text);
	if (error < 0)
		return error;
	mans = json_object_get(img->index, "manifests");
	if (!json_is_array(mans))
		return nr__error_set(err, NR_EINVALID, "index.json", 0, 0,
			"field manifests is not an array");
	n = json_array_size(mans);
	if ((img->top = nr__calloc(n + 1, sizeof(size_t))) == NULL)
		return nr__error_oom(err);
	for (k = 0; k < n; k++) {
		json_t *d = json_array_get(mans, k);
		if (img->tag ? tag_matches(d, img->tag) : true)
			img->top[img->ntop++] = k;
	}
	if (img->ntop == 0)
		return img->tag ?
			nr__error_set(err, NR_ENOTFOUND, "index.json", 0, 0,
				"no image tagged %s in the layout", img->tag) :
			nr__error_set(err, NR_ENOTFOUND, "index.json", 0, 0, "the layout has no image");
	if (img->tag == NULL && img->ntop > 1) {
		/* Several entries: the platforms of one image when their names agree. */
		const char *first = jstr(json_object_get(json_array_get(mans, img->top[0]),
			"annotations"), ANN_REF_NAME);
		for (k = 1; k < img->ntop; k++) {
			const char *r = jstr(json_object_get(json_array_get(mans, img->top[k]),
				"annotations"), ANN_REF_NAME);
			if ((first == NULL) != (r == NULL) || (first && strcmp(first, r) != 0))
				return nr__error_set(err, NR_EINVALID, "index.json", 0, 0,
					"the layout holds several images (%s, %s, ...): name one with :TAG",
					first ? first : "(untagged)", r ? r : "(untagged)");
		}
	}
	for (k = 0; k < img->ntop; k++)
		if ((error = load_top(img, img->top[k], platform, err)) < 0)
			return error;
	if (img->nm == 0)
		return nr__error_set(err, NR_ENOTFOUND, "index.json", 0, 0,
			platform ? "no manifest for platform %s" : "no image manifest found%s",
			platform ? platform : "");
	return 0;
}

/* ---- docker-archive (manifest.json) ------------------------------------------------------- */

/* Is `rel` (a member path) "<64hex>.json" or "blobs/sha256/<64hex>"? Returns the digest. */
static bool digest_from_member(const char *rel, char out[NR_DIGEST_SIZE])
{
	const char *b = rel;
	size_t n;
	char d[NR_DIGEST_SIZE];

	if (strncmp(b, "blobs/sha256/", 13) == 0)
		b += 13, n = strlen(b);
	else {
		const char *dot = strrchr(b, '.');
		n = dot && strchr(b, '/') == NULL ? (size_t)(dot - b) : 0;
	}
	if (n != 64)
		return false;
	snprintf(d, sizeof(d), "sha256:%.64s", b);
	if (nr__digest_check(d, NULL, NULL, NULL) < 0)
		return false;
	memcpy(out, d, NR_DIGEST_SIZE);
	return true;
}

static int open_docker(nr_image *img, const char *platform, nr_error *err)
{
	char *text = NULL;
	size_t len, k, j;
	json_t *arr, *entry = NULL, *cfgj = NULL, *diffs, *layers;
	json_error_t je;
	const char *cpath;
	manifest *m;
	char cdigest[NR_DIGEST_SIZE];
	int error;

	if ((error = nr__file_read_at(&text, &len, img->dirfd, "manifest.json", O_NOFOLLOW,
			NR_JSON_BLOB_MAX, "manifest.json", err)) < 0)
		return error;
	arr = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (arr == NULL)
		return nr__error_set(err, NR_EINVALID, "manifest.json", (size_t)je.line,
			(size_t)je.column, "invalid JSON: %s", je.text);
	img->docker = arr;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
			"not a non-empty JSON array");
	if (img->tag && img->tag[0] == '@') {
		uint64_t idx;
		if (nr_parse_u64(img->tag + 1, strlen(img->tag + 1), SIZE_MAX, &idx) < 0 ||
		    (entry = json_array_get(arr, (size_t)idx)) == NULL)
			return nr__error_set(err, NR_ENOTFOUND, "manifest.json", 0, 0,
				"no image %s in the archive", img->tag);
		img->docker_entry = (size_t)idx;
	} else if (img->tag) {
		for (k = 0; k < json_array_size(arr) && !entry; k++) {
			json_t *tags = json_object_get(json_array_get(arr, k), "RepoTags"), *t;
			json_array_foreach(tags, j, t) {
				const char *s = json_string_value(t);
				size_t sn = s ? strlen(s) : 0, tn = strlen(img->tag);
				if (s && (strcmp(s, img->tag) == 0 || (sn > tn &&
				    s[sn - tn - 1] == '/' && strcmp(s + sn - tn, img->tag) == 0))) {
					entry = json_array_get(arr, k);
					img->docker_entry = k;
					break;
				}
			}
		}
		if (entry == NULL)
			return nr__error_set(err, NR_ENOTFOUND, "manifest.json", 0, 0,
				"no image tagged %s in the archive", img->tag);
	} else {
		if (json_array_size(arr) > 1)
			return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
				"the archive holds %zu images: name one with :NAME:TAG or :@N",
				json_array_size(arr));
		entry = json_array_get(arr, 0);
		img->docker_entry = 0;
	}
	cpath = jstr(entry, "Config");
	layers = json_object_get(entry, "Layers");
	if (cpath == NULL || !json_is_array(layers))
		return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
			"entry %zu lacks Config or Layers", img->docker_entry);
	if (nr__array_grow((void **)&img->m, &img->am, 1, sizeof(*m)) < 0)
		return nr__error_oom(err);
	m = &img->m[0];
	memset(m, 0, sizeof(*m));
	img->nm = 1;
	m->parent = SIZE_MAX;
	if ((m->media_type = nr__strdup(MT_DOCKER_MANIFEST)) == NULL ||
	    (m->config_mt = nr__strdup(MT_DOCKER_CONFIG)) == NULL ||
	    (m->config_relpath = nr__strdup(cpath)) == NULL)
		return nr__error_oom(err);
	if (digest_from_member(cpath, cdigest)) {
		error = nr__blob_read(&m->config, &m->config_len, img->dirfd, cpath, cdigest,
			UINT64_MAX, NR_JSON_BLOB_MAX, err);
	} else {
		error = nr__file_read_at(&m->config, &m->config_len, img->dirfd, cpath, 0,
			NR_JSON_BLOB_MAX, cpath, err);
		if (error == 0)
			error = nr__digest_of(m->config, m->config_len, cdigest, err);
	}
	if (error < 0)
		return error;
	if ((m->config_digest = nr__strdup(cdigest)) == NULL)
		return nr__error_oom(err);
	m->config_size = m->config_len;
	if ((error = json_parse(&cfgj, m->config, m->config_len, cpath, err)) < 0)
		return error;
	diffs = json_object_get(json_object_get(cfgj, "rootfs"), "diff_ids");
	if (!json_is_array(diffs) || json_array_size(diffs) != json_array_size(layers)) {
		json_decref(cfgj);
		return nr__error_set(err, NR_EINVALID, cpath, 0, 0,
			"rootfs.diff_ids does not list one id per layer of manifest.json");
	}
	for (j = 0; j < json_array_size(layers); j++) {
		const char *lp = json_string_value(json_array_get(layers, j));
		const char *did = json_string_value(json_array_get(diffs, j));
		struct stat st;
		if (lp == NULL || did == NULL || nr__digest_check(did, NULL, cpath, err) < 0) {
			json_decref(cfgj);
			return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
				"layer %zu: bad path or diff_id", j);
		}
		if (fstatat(img->dirfd, lp, &st, 0) < 0) {
			json_decref(cfgj);
			return nr__error_set(err, NR_ENOTFOUND, lp, 0, 0,
				"layer listed in manifest.json is missing from the archive");
		}
		/* docker save stores layers uncompressed: the file's digest is its diff_id */
		if (add_layer(m, MT_DOCKER_LAYER, did, (uint64_t)st.st_size, lp, NULL) < 0) {
			json_decref(cfgj);
			return nr__error_oom(err);
		}
	}
	m->platform = platform_string(jstr(cfgj, "os"), jstr(cfgj, "architecture"),
		jstr(cfgj, "variant"));
	json_decref(cfgj);
	if (m->platform == NULL)
		return nr__error_oom(err);
	refresh_pub(m);
	if (platform && !platform_matches(platform, m->platform))
		return nr__error_set(err, NR_ENOTFOUND, "manifest.json", 0, 0,
			"the image is %s, not %s", m->platform, platform);
	return 0;
}

/* ---- archives: unpack ------------------------------------------------------------------- */

static int add_member(nr_image *img, const char *name, int type, const char *link)
{
	member *mb;

	if (nr__array_grow((void **)&img->members, &img->amembers, img->nmembers + 1,
			sizeof(*mb)) < 0)
		return NR_ENOMEM;
	mb = &img->members[img->nmembers];
	mb->name = nr__strdup(name);
	mb->link = link ? nr__strdup(link) : NULL;
	mb->type = type;
	if (mb->name == NULL || (link && mb->link == NULL)) {
		free(mb->name);
		free(mb->link);
		return NR_ENOMEM;
	}
	img->nmembers++;
	return 0;
}

static int unpack_archive(nr_image *img, nr_error *err)
{
	struct archive *a;
	struct archive_entry *e;
	nr_buf name = NR_BUF_INIT, target = NR_BUF_INIT;
	char buf[65536];
	int error = 0, r, pass;
	size_t i;

	if ((error = nr__mkdtemp(&img->unpack, img->tmpdir, "archive", err)) < 0)
		return error;
	if ((img->dirfd = open(img->unpack, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, img->unpack, "open");
	if ((a = archive_read_new()) == NULL)
		return nr__error_oom(err);
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, img->path, 65536) != ARCHIVE_OK) {
		error = nr__error_set(err, archive_errno(a) == ENOENT ? NR_ENOTFOUND : NR_EINVALID,
			img->path, 0, 0, "cannot read the archive: %s", archive_error_string(a));
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *pn = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
		mode_t ft = archive_entry_filetype(e);
		if (r < ARCHIVE_WARN) {
			error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"cannot read the archive: %s", archive_error_string(a));
			goto done;
		}
		if (nr__path_clean(&name, pn ? pn : "", pn ? strlen(pn) : 0) < 0)
			goto oom;
		if (name.size == 0)
			continue;
		if (hl || ft == AE_IFLNK) {
			const char *l = hl ? hl : archive_entry_symlink(e);
			if (add_member(img, name.ptr, hl ? 'h' : 'l', l ? l : "") < 0)
				goto oom;
			continue;
		}
		if (ft == AE_IFDIR) {
			if ((error = nr__mkdirs_at(img->dirfd, name.ptr, err)) < 0)
				goto done;
			continue;
		}
		if (ft != AE_IFREG)
			continue;
		if (add_member(img, name.ptr, 'f', NULL) < 0)
			goto oom;
		{
			char *slash = strrchr(name.ptr, '/');
			int fd;
			if (slash) {
				*slash = '\0';
				error = nr__mkdirs_at(img->dirfd, name.ptr, err);
				*slash = '/';
				if (error < 0)
					goto done;
			}
			fd = openat(img->dirfd, name.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
				O_NOFOLLOW, 0644);
			if (fd < 0) {
				error = nr__error_errno(err, errno, name.ptr, "unpack");
				goto done;
			}
			for (;;) {
				la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
				int rc;
				if (n < 0) {
					close(fd);
					error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
						"member %s: %s", name.ptr, archive_error_string(a));
					goto done;
				}
				if (n == 0)
					break;
				if ((rc = nr__write_all(fd, buf, (size_t)n)) < 0) {
					close(fd);
					error = nr__error_errno(err, -rc, name.ptr, "unpack");
					goto done;
				}
			}
			close(fd);
		}
	}
	/* Links become hard links inside the unpack dir (chains resolved in a few rounds). */
	for (pass = 0; pass < 8; pass++) {
		bool progress = false, left = false;
		for (i = 0; i < img->nmembers; i++) {
			member *mb = &img->members[i];
			struct stat st;
			if (mb->type == 'f' || mb->done)
				continue;
			if (mb->type == 'h') {
				if (nr__path_clean(&target, mb->link, strlen(mb->link)) < 0)
					goto oom;
			} else {
				const char *slash = strrchr(mb->name, '/');
				nr_buf_truncate(&name, 0);
				if (mb->link[0] != '/' && slash)
					nr_buf_put(&name, mb->name, (size_t)(slash - mb->name));
				nr_buf_putc(&name, '/');
				nr_buf_puts(&name, mb->link);
				if (name.oom || nr__path_clean(&target, name.ptr, name.size) < 0)
					goto oom;
			}
			if (fstatat(img->dirfd, target.ptr, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode)) {
				left = true;
				continue;
			}
			{
				char *slash = strrchr(mb->name, '/');
				if (slash) {
					*slash = '\0';
					error = nr__mkdirs_at(img->dirfd, mb->name, err);
					*slash = '/';
					if (error < 0)
						goto done;
				}
			}
			unlinkat(img->dirfd, mb->name, 0);
			if (linkat(img->dirfd, target.ptr, img->dirfd, mb->name, 0) < 0) {
				error = nr__error_errno(err, errno, mb->name, "link");
				goto done;
			}
			mb->done = true;
			progress = true;
		}
		if (!left || !progress)
			break;
	}
	goto done;
oom:
	error = nr__error_oom(err);
done:
	archive_read_free(a);
	nr_buf_dispose(&name);
	nr_buf_dispose(&target);
	return error;
}

/* ---- references --------------------------------------------------------------------------- */

int nr__ref_parse(const char *ref, int *transport, char **path, char **tag, nr_error *err)
{
	const char *rest, *colon;
	struct stat st;

	*path = *tag = NULL;
	*transport = 0;
	if (strncmp(ref, "oci:", 4) == 0)
		*transport = NR_TRANSPORT_OCI, rest = ref + 4;
	else if (strncmp(ref, "oci-archive:", 12) == 0)
		*transport = NR_TRANSPORT_OCI_ARCHIVE, rest = ref + 12;
	else if (strncmp(ref, "docker-archive:", 15) == 0)
		*transport = NR_TRANSPORT_DOCKER_ARCHIVE, rest = ref + 15;
	else
		rest = ref;
	if (*transport == 0) {
		/* A bare path: never split at ':' (paths may hold one). */
		if ((*path = nr__strdup(rest)) == NULL)
			return nr__error_oom(err);
		if (stat(rest, &st) < 0)
			return nr__error_errno(err, errno, rest, "stat");
		if (S_ISDIR(st.st_mode)) {
			*transport = NR_TRANSPORT_OCI;
			return 0;
		}
		*transport = -1;   /* an archive: sniffed after unpacking */
		return 0;
	}
	colon = strchr(rest, ':');
	if (*rest == '\0' || colon == rest)
		return nr__error_set(err, NR_EINVALID, ref, 0, 0, "reference has no path");
	if ((*path = nr__strndup(rest, colon ? (size_t)(colon - rest) : strlen(rest))) == NULL)
		return nr__error_oom(err);
	if (colon) {
		if (colon[1] == '\0')
			return nr__error_set(err, NR_EINVALID, ref, 0, 0, "empty tag after ':'");
		if ((*tag = nr__strdup(colon + 1)) == NULL)
			return nr__error_oom(err);
	}
	return 0;
}

int nr_image_open_options_init(nr_image_open_options *opts, unsigned int version)
{
	static const nr_image_open_options def = NR_IMAGE_OPEN_OPTIONS_INIT;

	if (opts == NULL || version != NR_IMAGE_OPEN_OPTIONS_VERSION)
		return NR_EARG;
	*opts = def;
	return 0;
}

static int check_platform(const char *p, nr_error *err)
{
	size_t n = strlen(p), slashes = 0, i;

	for (i = 0; i < n; i++) {
		if (p[i] == '/') {
			if (i == 0 || p[i - 1] == '/' || i == n - 1)
				slashes = 99;
			slashes++;
		} else if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
			p[i] == '_' || p[i] == '-' || p[i] == '.')) {
			slashes = 99;
		}
	}
	if (slashes < 1 || slashes > 2)
		return nr__error_set(err, NR_EARG, "--platform", 0, 0,
			"invalid platform '%s' (want os/arch[/variant])", p);
	return 0;
}

int nr_image_open(nr_image **out, const char *ref, const nr_image_open_options *opts,
	nr_error *err)
{
	nr_image *img = NULL;
	const char *platform = NULL;
	struct stat st;
	int error;

	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(ref, err);
	if (opts && opts->version != NR_IMAGE_OPEN_OPTIONS_VERSION)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "unknown options version %u",
			opts->version);
	if (opts && opts->platform) {
		if ((error = check_platform(opts->platform, err)) < 0)
			return error;
		platform = opts->platform;
	}
	if ((img = nr__calloc(1, sizeof(*img))) == NULL)
		return nr__error_oom(err);
	img->dirfd = -1;
	img->staging.dirfd = -1;
	if (opts && opts->tmpdir && (img->tmpdir = nr__strdup(opts->tmpdir)) == NULL)
		goto oom;
	img->staging.tmpdir = img->tmpdir;
	if ((error = nr__ref_parse(ref, &img->transport, &img->path, &img->tag, err)) < 0)
		goto fail;
	if (img->transport == NR_TRANSPORT_OCI) {
		img->dirfd = open(img->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (img->dirfd < 0) {
			error = errno == ENOENT ?
				nr__error_set(err, NR_ENOTFOUND, img->path, 0, 0, "no such directory") :
				nr__error_errno(err, errno, img->path, "open");
			goto fail;
		}
		if (fstatat(img->dirfd, "oci-layout", &st, 0) < 0) {
			error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"not an OCI image layout (no oci-layout file)");
			goto fail;
		}
		error = open_layout(img, platform, err);
	} else {
		bool has_index, has_docker;
		if ((error = unpack_archive(img, err)) < 0)
			goto fail;
		has_index = fstatat(img->dirfd, "index.json", &st, 0) == 0;
		has_docker = fstatat(img->dirfd, "manifest.json", &st, 0) == 0;
		if (img->transport == -1)
			img->transport = has_index ? NR_TRANSPORT_OCI_ARCHIVE :
				has_docker ? NR_TRANSPORT_DOCKER_ARCHIVE : 0;
		if (img->transport == NR_TRANSPORT_OCI_ARCHIVE) {
			if (!has_index) {
				error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
					"not an OCI archive (no index.json)");
				goto fail;
			}
			error = open_layout(img, platform, err);
		} else if (img->transport == NR_TRANSPORT_DOCKER_ARCHIVE) {
			img->hybrid = has_index && has_docker;
			if (!has_docker) {
				error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
					"not a docker archive (no manifest.json)");
				goto fail;
			}
			if (img->hybrid) {
				/* Docker 25+: read the OCI side, keep manifest.json in step. */
				char *tag = img->tag;
				json_error_t je;
				char *text = NULL;
				size_t len;
				if ((error = nr__file_read_at(&text, &len, img->dirfd, "manifest.json",
						O_NOFOLLOW, NR_JSON_BLOB_MAX, "manifest.json", err)) < 0)
					goto fail;
				img->docker = json_loadb(text, len, 0, &je);
				free(text);
				if (!json_is_array(img->docker)) {
					error = nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
						"not a JSON array");
					goto fail;
				}
				if (tag && tag[0] == '@')
					img->tag = NULL;
				error = open_layout(img, platform, err);
				img->tag = tag;
			} else {
				error = open_docker(img, platform, err);
			}
		} else {
			error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"not an image archive (neither index.json nor manifest.json)");
		}
	}
	if (error < 0)
		goto fail;
	*out = img;
	return 0;
oom:
	error = nr__error_oom(err);
fail:
	nr_image_free(img);
	return error;
}

/* ---- accessors ------------------------------------------------------------------------------ */

int nr_image_transport_of(const nr_image *img)
{
	return img ? img->transport : 0;
}

size_t nr_image_count(const nr_image *img)
{
	return img ? img->nm : 0;
}

const char *nr_image_platform(const nr_image *img, size_t i)
{
	return img && i < img->nm ? img->m[i].platform : NULL;
}

const char *nr_image_manifest_media_type(const nr_image *img, size_t i)
{
	return img && i < img->nm ? img->m[i].media_type : NULL;
}

const char *nr_image_config(const nr_image *img, size_t i, size_t *len)
{
	if (img == NULL || i >= img->nm)
		return NULL;
	if (len)
		*len = img->m[i].config_len;
	return img->m[i].config;
}

const nr_descriptor *nr_image_config_descriptor(const nr_image *img, size_t i)
{
	return img && i < img->nm ? &img->m[i].config_pub : NULL;
}

size_t nr_image_layer_count(const nr_image *img, size_t i)
{
	return img && i < img->nm ? img->m[i].nlayers : 0;
}

const nr_descriptor *nr_image_layer(const nr_image *img, size_t i, size_t j)
{
	if (img == NULL || i >= img->nm || j >= img->m[i].nlayers)
		return NULL;
	return &img->m[i].layers[j].pub;
}

/* ---- scan ------------------------------------------------------------------------------ */

int nr_image_scan(nr_image *img, size_t i, const nr_scan_request *req, nr_scan_result **out,
	nr_error *err)
{
	nr__layer_ref *refs = NULL;
	manifest *m;
	size_t j;
	int error, sfd = -1;
	char *names = NULL;

	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(req, err);
	if (req->version != NR_SCAN_REQUEST_VERSION)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "unknown scan request version %u",
			req->version);
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu (the image has %zu)",
			i, img->nm);
	m = &img->m[i];
	if ((refs = nr__calloc(m->nlayers + 1, sizeof(*refs))) == NULL ||
	    (names = nr__calloc(m->nlayers + 1, 65)) == NULL) {
		free(refs);
		return nr__error_oom(err);
	}
	for (j = 0; j < m->nlayers; j++) {
		layer *l = &m->layers[j];
		refs[j].digest = l->digest;
		refs[j].media_type = l->media_type;
		refs[j].size = img->transport == NR_TRANSPORT_DOCKER_ARCHIVE && !img->hybrid &&
			l->relpath ? UINT64_MAX : l->size;
		if (l->relpath) {
			refs[j].dirfd = img->dirfd;
			refs[j].relpath = l->relpath;
		} else {
			if (sfd < 0 && (sfd = nr__staging_fd(&img->staging, err)) < 0) {
				error = sfd;
				goto done;
			}
			refs[j].dirfd = sfd;
			memcpy(names + 65 * j, l->digest + 7, 64);
			refs[j].relpath = names + 65 * j;
		}
	}
	error = nr__scan_layers(refs, m->nlayers, req, out, err);
done:
	free(refs);
	free(names);
	return error;
}

int nr_image_read_file(nr_image *img, size_t i, const char *path, char **out, size_t *len,
	nr_error *err)
{
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	const nr_scan_entry *e;
	int error;

	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if (len)
		*len = 0;
	NR_ASSERT_ARG(path, err);
	req.paths = &path;
	req.npaths = 1;
	if ((error = nr_image_scan(img, i, &req, &res, err)) < 0)
		return error;
	e = nr_scan_result_entry(res, 0);
	if (e->type == NR_ENTRY_NONE)
		error = nr__error_set(err, NR_ENOTFOUND, path, 0, 0, "no such file in the image%s",
			e->flags & NR_SCAN_ENTRY_LOOP ? " (too many levels of symbolic links)" : "");
	else if (e->type != NR_ENTRY_REGULAR)
		error = nr__error_set(err, NR_EINVALID, path, 0, 0, "not a regular file");
	else if (e->content == NULL)
		error = nr__error_set(err, NR_ETOOBIG, path, 0, 0,
			"file is %llu bytes, over the limit of 10 MiB", (unsigned long long)e->size);
	else if ((*out = nr__malloc(e->content_len + 1)) == NULL)
		error = nr__error_oom(err);
	else {
		memcpy(*out, e->content, e->content_len + 1);
		if (len)
			*len = e->content_len;
	}
	nr_scan_result_free(res);
	return error;
}

/* ---- edits ----------------------------------------------------------------------------- */

int nr_image_set_config(nr_image *img, size_t i, const char *json, size_t len, nr_error *err)
{
	char digest[NR_DIGEST_SIZE], *copy, *dg;
	json_t *j = NULL;
	manifest *m;
	int error;

	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(json, err);
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu", i);
	if ((error = json_parse(&j, json, len, "config", err)) < 0)
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
	refresh_pub(m);
	return 0;
}

int nr_image_add_layer(nr_image *img, size_t i, const nr_descriptor *desc, nr_error *err)
{
	uint64_t have;
	char path[96];
	struct stat st;
	int error;

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
	if (add_layer(&img->m[i], desc->media_type, desc->digest, desc->size,
			path[0] ? path : NULL, NULL) < 0)
		return nr__error_oom(err);
	img->m[i].dirty = true;
	return 0;
}


int nr_image_write_options_init(nr_image_write_options *opts, unsigned int version)
{
	static const nr_image_write_options def = NR_IMAGE_WRITE_OPTIONS_INIT;

	if (opts == NULL || version != NR_IMAGE_WRITE_OPTIONS_VERSION)
		return NR_EARG;
	*opts = def;
	return 0;
}

int nr_image_write(nr_image *img, const char *dest, const nr_image_write_options *opts,
	nr_error *err)
{
	NR_ASSERT_ARG(img, err);
	(void)dest;
	(void)opts;
	return nr__error_set(err, NR_EUNSUPPORTED, NULL, 0, 0, "nr_image_write: not implemented yet");
}
