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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

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
	free(m->old_config);
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
	if ((m->config_relpath = nr__strdup(cpath)) == NULL ||
	    (m->old_config = nr__strdup(cpath)) == NULL)
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

/* A member path from manifest.json: relative, clean (no "..", no "//"), not empty. */
static bool member_path_ok(const char *p)
{
	nr_buf b = NR_BUF_INIT;
	bool ok = nr__path_clean(&b, p, strlen(p)) == 0 && b.size > 0 && strcmp(b.ptr, p) == 0;

	nr_buf_dispose(&b);
	return ok;
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
	if (!member_path_ok(cpath))
		return nr__error_set(err, NR_EESCAPE, "manifest.json", 0, 0,
			"Config path %.100s is not a plain path inside the archive", cpath);
	json_array_foreach(layers, j, cfgj) {
		const char *lp = json_string_value(cfgj);
		if (lp == NULL || !member_path_ok(lp))
			return nr__error_set(err, NR_EESCAPE, "manifest.json", 0, 0,
				"Layers[%zu] is not a plain path inside the archive", j);
	}
	cfgj = NULL;
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
	mb->done = false;
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
	int error = 0, r, pass, rawfd = -1;
	size_t i;

	if ((error = nr__mkdtemp(&img->unpack, img->tmpdir, "archive", err)) < 0)
		return error;
	if ((img->dirfd = open(img->unpack, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, img->unpack, "open");
	if ((a = archive_read_new()) == NULL)
		return nr__error_oom(err);
	NR__ARCHIVE_READ_FILTERS(a);
	archive_read_support_format_tar(a);
	rawfd = open(img->path, O_RDONLY | O_CLOEXEC);
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
			if (rawfd >= 0 && archive_filter_count(a) == 1 &&
			    archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE &&
			    archive_entry_sparse_count(e) == 0 && archive_entry_size_is_set(e)) {
				/* An uncompressed archive: copy the member's bytes in the kernel
				 * (reflinked where the file system can), then skip them. */
				off_t off = (off_t)archive_filter_bytes(a, 0);
				int64_t left = archive_entry_size(e);
				while (left > 0) {
					ssize_t n = copy_file_range(rawfd, &off, fd, NULL, (size_t)left, 0);
					if (n < 0 && errno == EINTR)
						continue;
					if (n <= 0)
						break;
					left -= n;
				}
				if (left == 0) {
					if (archive_read_data_skip(a) < ARCHIVE_WARN) {
						close(fd);
						error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
							"member %s: %s", name.ptr, archive_error_string(a));
						goto done;
					}
					close(fd);
					continue;
				}
				/* fall back to reading through libarchive from the start */
				if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
					close(fd);
					error = nr__error_errno(err, errno, name.ptr, "unpack");
					goto done;
				}
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
	if (rawfd >= 0)
		close(rawfd);
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
		refs[j].size = l->size;   /* docker-archive: the file's size when opened */
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

/* ---- writing: helpers ------------------------------------------------------------------- */

/* Serialise and stage a JSON document; digest and size out. */
static int stage_json(nr_image *img, const json_t *j, char digest[NR_DIGEST_SIZE],
	uint64_t *size, nr_error *err)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int error;

	if (text == NULL)
		return nr__error_oom(err);
	error = nr__staging_put(&img->staging, text, strlen(text), digest, err);
	*size = strlen(text);
	free(text);
	return error;
}

static int set_desc(json_t *d, const char *digest, uint64_t size)
{
	if (json_object_set_new(d, "digest", json_string(digest)) < 0 ||
	    json_object_set_new(d, "size", json_integer((json_int_t)size)) < 0)
		return NR_ENOMEM;
	return 0;
}

static json_t *new_desc(const char *mt, const char *digest, uint64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest,
		"size", (json_int_t)size);
}

/* Where is the blob with this digest? Staging first, then the model, then the layout. */
static int locate(nr_image *img, const char *digest, int *dfd, char *path, size_t psize,
	nr_error *err)
{
	size_t i, j;
	int error;

	if ((error = nr__digest_check(digest, NULL, digest, err)) < 0)
		return error;
	if (nr__staging_has(&img->staging, digest, NULL)) {
		*dfd = img->staging.dirfd;
		snprintf(path, psize, "%s", digest + 7);
		return 0;
	}
	*dfd = img->dirfd;
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		if (m->config_relpath && strcmp(m->config_digest, digest) == 0) {
			snprintf(path, psize, "%s", m->config_relpath);
			return 0;
		}
		for (j = 0; j < m->nlayers; j++)
			if (m->layers[j].relpath && strcmp(m->layers[j].digest, digest) == 0) {
				snprintf(path, psize, "%s", m->layers[j].relpath);
				return 0;
			}
	}
	snprintf(path, psize, "blobs/sha256/%s", digest + 7);
	return 0;
}

static int copy_blob(nr_image *img, int dst, const char *digest, nr_error *err)
{
	char from[4200], to[96];
	int sfd, error;

	if ((error = locate(img, digest, &sfd, from, sizeof(from), err)) < 0)
		return error;
	snprintf(to, sizeof(to), "blobs/sha256/%s", digest + 7);
	if (sfd == dst && strcmp(from, to) == 0)
		return faccessat(dst, to, F_OK, 0) == 0 ? 0 :
			nr__error_set(err, NR_ENOTFOUND, digest, 0, 0, "blob missing from the layout");
	if ((error = nr__mkdirs_at(dst, "blobs/sha256", err)) < 0)
		return error;
	return nr__file_copy_at(sfd, from, dst, to, err);
}

/* Is this blob used by a manifest of the opened image (or staged)? */
static bool in_model(nr_image *img, const char *digest)
{
	size_t i, j;

	if (nr__staging_has(&img->staging, digest, NULL))
		return true;
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		if ((m->digest && strcmp(m->digest, digest) == 0) ||
		    strcmp(m->config_digest, digest) == 0)
			return true;
		for (j = 0; j < m->nlayers; j++)
			if (strcmp(m->layers[j].digest, digest) == 0)
				return true;
	}
	return false;
}

/* Copy a descriptor's blob and everything it references into layout `dst` (children first). */
static int copy_closure(nr_image *img, int dst, const json_t *d, int depth, nr_error *err)
{
	const char *mt = jstr(d, "mediaType"), *digest = jstr(d, "digest");
	static const char *const keys[] = { "manifests", "layers" };
	json_t *j = NULL;
	size_t k, n;
	int error = 0;

	if (digest == NULL)
		return nr__error_set(err, NR_EINVALID, "descriptor", 0, 0, "descriptor has no digest");
	if (depth > 8)
		return nr__error_set(err, NR_EINVALID, digest, 0, 0, "indexes nested too deeply");
	if (depth > 0 && !in_model(img, digest)) {
		/* Blobs that the opened image does not use (other platforms, attestations) may
		 * be absent from a partial layout: nothing to copy then. */
		char path[4200];
		int sfd;
		if (locate(img, digest, &sfd, path, sizeof(path), NULL) == 0 &&
		    faccessat(sfd, path, F_OK, 0) != 0)
			return 0;
	}
	if (is_index_mt(mt) || is_manifest_mt(mt)) {
		char path[4200], *text = NULL;
		size_t len;
		int sfd;
		json_t *sz = json_object_get(d, "size");
		if ((error = locate(img, digest, &sfd, path, sizeof(path), err)) < 0)
			return error;
		if ((error = nr__blob_read(&text, &len, sfd, path, digest,
				json_is_integer(sz) ? (uint64_t)json_integer_value(sz) : UINT64_MAX,
				NR_JSON_BLOB_MAX, err)) < 0)
			return error;
		error = json_parse(&j, text, len, digest, err);
		free(text);
		if (error < 0)
			return error;
		for (k = 0; k < NR_ARRAY_SIZE(keys); k++) {
			json_t *arr = json_object_get(j, keys[k]), *e;
			json_array_foreach(arr, n, e)
				if ((error = copy_closure(img, dst, e, depth + 1, err)) < 0)
					goto done;
		}
		if (json_is_object(json_object_get(j, "config")) &&
		    (error = copy_closure(img, dst, json_object_get(j, "config"), depth + 1,
				err)) < 0)
			goto done;
	}
	error = copy_blob(img, dst, digest, err);
done:
	json_decref(j);
	return error;
}

static const char *oci_layer_mt(const char *mt)
{
	if (strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar") == 0)
		return "application/vnd.oci.image.layer.v1.tar";
	if (strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar.gzip") == 0)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar.zstd") == 0)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	if (strcmp(mt, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") == 0)
		return "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
	return mt;
}

/*
 * The new manifest descriptor of m (staged). For a docker-archive entry, an OCI manifest is
 * made. *changed tells whether it differs from the opened one.
 */
static int manifest_desc(nr_image *img, manifest *m, const json_t *old, json_t **out,
	nr_error *err)
{
	json_t *mj = NULL, *d = NULL, *layers, *cfg;
	char digest[NR_DIGEST_SIZE];
	uint64_t size;
	size_t j;
	int error;

	*out = NULL;
	if (m->json && !m->dirty) {
		*out = json_deep_copy(old);
		return *out ? 0 : nr__error_oom(err);
	}
	if (m->json) {
		if ((mj = json_deep_copy(m->json)) == NULL)
			goto oom;
		cfg = json_object_get(mj, "config");
		if (set_desc(cfg, m->config_digest, m->config_size) < 0)
			goto oom;
	} else {
		mj = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
			"config", new_desc(MT_OCI_CONFIG, m->config_digest, m->config_size));
		if (mj == NULL)
			goto oom;
	}
	if ((layers = json_array()) == NULL || json_object_set_new(mj, "layers", layers) < 0)
		goto oom;
	for (j = 0; j < m->nlayers; j++) {
		layer *l = &m->layers[j];
		json_t *ld = l->desc && m->json ? json_incref(l->desc) :
			new_desc(m->json ? l->media_type : oci_layer_mt(l->media_type), l->digest,
				l->size);
		if (ld == NULL || json_array_append_new(layers, ld) < 0)
			goto oom;
	}
	if ((error = stage_json(img, mj, digest, &size, err)) < 0)
		goto fail;
	if (old)
		d = json_deep_copy(old);
	else {
		const char *slash = strchr(m->platform, '/'), *v;
		char os[64], arch[64];
		snprintf(os, sizeof(os), "%.*s", (int)(slash - m->platform), m->platform);
		v = strchr(slash + 1, '/');
		snprintf(arch, sizeof(arch), "%.*s", v ? (int)(v - slash - 1) : 63, slash + 1);
		d = json_pack("{s:s, s:o}", "mediaType", MT_OCI_MANIFEST, "platform",
			json_pack("{s:s, s:s}", "os", os, "architecture", arch));
		if (d && v)
			json_object_set_new(json_object_get(d, "platform"), "variant",
				json_string(v + 1));
	}
	if (d == NULL || set_desc(d, digest, size) < 0)
		goto oom;
	json_decref(mj);
	*out = d;
	return 0;
oom:
	error = nr__error_oom(err);
fail:
	json_decref(mj);
	json_decref(d);
	return error;
}

/*
 * Compute the edited index.json (a copy) and the descriptors of the image's top entries.
 * tops[k] corresponds to img->top[k] (OCI) or is the one synthesized manifest (docker).
 * Everything new is staged.
 */
static int prepare(nr_image *img, json_t **new_index, json_t **tops, nr_error *err)
{
	json_t *idx = NULL, *mans = NULL, **nxs = NULL;
	bool *nx_changed = NULL;
	size_t i, k;
	int error = 0;

	if (img->index == NULL) {
		/* docker-archive: one synthesized OCI manifest */
		return manifest_desc(img, &img->m[0], NULL, &tops[0], err);
	}
	if ((idx = json_deep_copy(img->index)) == NULL)
		goto oom;
	mans = json_object_get(idx, "manifests");
	if ((nxs = nr__calloc(img->nnx + 1, sizeof(*nxs))) == NULL ||
	    (nx_changed = nr__calloc(img->nnx + 1, sizeof(bool))) == NULL)
		goto oom;
	for (k = 0; k < img->nnx; k++)
		if ((nxs[k] = json_deep_copy(img->nx[k].json)) == NULL)
			goto oom;
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		json_t *arr, *d = NULL;
		if (!m->dirty)
			continue;
		arr = m->parent == SIZE_MAX ? mans : json_object_get(nxs[m->parent], "manifests");
		if ((error = manifest_desc(img, m, json_array_get(arr, m->pos), &d, err)) < 0)
			goto done;
		if (json_array_set_new(arr, m->pos, d) < 0)
			goto oom;
		if (m->parent != SIZE_MAX)
			nx_changed[m->parent] = true;
	}
	for (k = 0; k < img->nnx; k++) {
		char digest[NR_DIGEST_SIZE];
		uint64_t size;
		if (!nx_changed[k])
			continue;
		if ((error = stage_json(img, nxs[k], digest, &size, err)) < 0)
			goto done;
		if (set_desc(json_array_get(mans, img->nx[k].top), digest, size) < 0)
			goto oom;
	}
	for (k = 0; k < img->ntop; k++)
		if ((tops[k] = json_deep_copy(json_array_get(mans, img->top[k]))) == NULL)
			goto oom;
	*new_index = idx;
	idx = NULL;
	goto done;
oom:
	error = nr__error_oom(err);
done:
	json_decref(idx);
	for (k = 0; nxs && k < img->nnx; k++)
		json_decref(nxs[k]);
	free(nxs);
	free(nx_changed);
	return error;
}

static int set_ref_name(json_t *d, const char *tag)
{
	json_t *ann = json_object_get(d, "annotations");

	if (!json_is_object(ann)) {
		if ((ann = json_object()) == NULL || json_object_set_new(d, "annotations", ann) < 0)
			return NR_ENOMEM;
	}
	json_object_del(ann, ANN_IMAGE_NAME);
	return json_object_set_new(ann, ANN_REF_NAME, json_string(tag)) < 0 ? NR_ENOMEM : 0;
}

static const char *ref_name(const json_t *d)
{
	return jstr(json_object_get(d, "annotations"), ANN_REF_NAME);
}

/* Remove index entries named `tag`. */
static void drop_tag(json_t *mans, const char *tag)
{
	size_t k;

	for (k = json_array_size(mans); k-- > 0; ) {
		const char *r = ref_name(json_array_get(mans, k));
		if (r && strcmp(r, tag) == 0)
			json_array_remove(mans, k);
	}
}

static int write_json_at(int dfd, const char *name, const json_t *j, nr_error *err)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int error;

	if (text == NULL)
		return nr__error_oom(err);
	error = nr__file_write_atomic_at(dfd, name, text, strlen(text), 0644, name, err);
	free(text);
	return error;
}

/*
 * Write the image into layout `dfd`.
 *   same: dfd holds the source's index.json (in place, or a clone of an unpacked archive):
 *         the edited index replaces it (tag: edited tops added under the tag instead).
 *   else: the tops are added to dfd's index.json (created when missing) under `tag`
 *         (NULL: their current names).
 */
static int write_layout(nr_image *img, int dfd, bool same, const char *tag, json_t *new_index,
	json_t **tops, size_t ntops, nr_error *err)
{
	json_t *idx = NULL, *mans;
	size_t k;
	int error = 0;

	if ((error = nr__mkdirs_at(dfd, "blobs/sha256", err)) < 0)
		return error;
	for (k = 0; k < ntops; k++)
		if ((error = copy_closure(img, dfd, tops[k], 0, err)) < 0)
			return error;
	{
		/* the new blobs' directory entries are durable before index.json names them */
		int bfd = openat(dfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (bfd >= 0) {
			fsync(bfd);
			close(bfd);
		}
	}
	if (faccessat(dfd, "oci-layout", F_OK, 0) != 0) {
		static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		if ((error = nr__file_write_atomic_at(dfd, "oci-layout", layout, sizeof(layout) - 1,
				0644, "oci-layout", err)) < 0)
			return error;
	}
	if (same && tag == NULL) {
		idx = json_incref(new_index);
	} else {
		if (same) {
			idx = json_deep_copy(img->index);
		} else {
			char *text = NULL;
			size_t len;
			nr_error e2 = NR_ERROR_INIT;
			if (nr__file_read_at(&text, &len, dfd, "index.json", O_NOFOLLOW,
					NR_JSON_BLOB_MAX, "index.json", &e2) == 0) {
				error = json_parse(&idx, text, len, "index.json", err);
				free(text);
				if (error < 0)
					return error;
			} else {
				idx = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
					"mediaType", MT_OCI_INDEX, "manifests");
			}
		}
		if (idx == NULL)
			return nr__error_oom(err);
		mans = json_object_get(idx, "manifests");
		if (!json_is_array(mans)) {
			json_decref(idx);
			return nr__error_set(err, NR_EINVALID, "index.json", 0, 0,
				"field manifests is not an array");
		}
		if (tag)
			drop_tag(mans, tag);
		else
			for (k = 0; k < ntops; k++)
				if (ref_name(tops[k]) && !same)
					drop_tag(mans, ref_name(tops[k]));
		for (k = 0; k < ntops; k++) {
			json_t *d = json_deep_copy(tops[k]);
			if (d == NULL || (tag && set_ref_name(d, tag) < 0) ||
			    json_array_append_new(mans, d) < 0) {
				json_decref(idx);
				return nr__error_oom(err);
			}
		}
	}
	/* index.json last: until it is replaced, the old image is what readers see */
	error = write_json_at(dfd, "index.json", idx, err);
	json_decref(idx);
	return error;
}

/* ---- trees and tars --------------------------------------------------------------------- */

/* Clone the unpacked tree into dir `to` with hard links (no symlinks exist in it). */
static int clone_tree(int from, int to, const char *rel, nr_error *err)
{
	DIR *d;
	struct dirent *de;
	int fd, error = 0;
	char sub[4096];

	fd = openat(from, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return nr__error_errno(err, errno, rel, "open directory");
	}
	while ((de = readdir(d)) != NULL && error == 0) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (fstatat(from, sub, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, sub, 0755) < 0 && errno != EEXIST)
				error = nr__error_errno(err, errno, sub, "mkdir");
			else
				error = clone_tree(from, to, sub, err);
		} else if (S_ISREG(st.st_mode)) {
			error = nr__file_copy_at(from, sub, to, sub, err);
		}
	}
	closedir(d);
	return error;
}

typedef struct tarw {
	struct archive *a;
	int dfd;
	nr_image *img;     /* members written back as links; NULL: none */
	nr_error *err;
} tarw;

static const member *find_member(const nr_image *img, const char *name)
{
	size_t i;

	for (i = 0; img && i < img->nmembers; i++)
		if (img->members[i].type != 'f' && strcmp(img->members[i].name, name) == 0)
			return &img->members[i];
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tar_dir(tarw *t, const char *rel)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, sub[4096];
	size_t n = 0, an = 0, i;
	int fd, error = 0;

	fd = openat(t->dfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return nr__error_errno(t->err, errno, rel, "open directory");
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, ".nr-tmp-", 8) == 0 || strstr(de->d_name, ".nr-tmp-"))
			continue;
		if (nr__array_grow((void **)&names, &an, n + 1, sizeof(char *)) < 0 ||
		    (names[n] = nr__strdup(de->d_name)) == NULL) {
			error = nr__error_oom(t->err);
			break;
		}
		n++;
	}
	closedir(d);
	if (error == 0)
		qsort(names, n, sizeof(char *), cmp_names);
	for (i = 0; i < n && error == 0; i++) {
		struct stat st;
		struct archive_entry *e;
		const member *mb;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		if (fstatat(t->dfd, sub, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((mb = find_member(t->img, sub)) != NULL)
			continue;   /* written as a link at the end */
		if ((e = archive_entry_new()) == NULL) {
			error = nr__error_oom(t->err);
			break;
		}
		archive_entry_set_pathname(e, sub);
		archive_entry_set_mtime(e, st.st_mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (S_ISDIR(st.st_mode)) {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			if (archive_write_header(t->a, e) != ARCHIVE_OK)
				error = nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
					archive_error_string(t->a));
			archive_entry_free(e);
			if (error == 0)
				error = tar_dir(t, sub);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			archive_entry_free(e);
			continue;
		}
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, st.st_size);
		if (archive_write_header(t->a, e) != ARCHIVE_OK) {
			error = nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
				archive_error_string(t->a));
		} else {
			int in = openat(t->dfd, sub, O_RDONLY | O_CLOEXEC);
			char buf[65536];
			ssize_t r;
			if (in < 0)
				error = nr__error_errno(t->err, errno, sub, "open");
			while (in >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
				if (archive_write_data(t->a, buf, (size_t)r) != r) {
					error = nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
						archive_error_string(t->a));
					break;
				}
			if (in >= 0)
				close(in);
		}
		archive_entry_free(e);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

/* Tar directory `dfd` into `path` (temp file + rename). Members of `img` that were links in
 * the source archive are written back as links. */
static int tar_tree(int dfd, nr_image *links, const char *path, nr_error *err)
{
	tarw t;
	nr_buf tmp = NR_BUF_INIT;
	size_t i;
	int error = 0, fd = -1;

	memset(&t, 0, sizeof(t));
	t.dfd = dfd;
	t.img = links;
	t.err = err;
	if (nr_buf_printf(&tmp, "%s.nr-tmp-%ld", path, (long)getpid()) < 0)
		return nr__error_oom(err);
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		error = nr__error_errno(err, errno, path, "create");
		goto done;
	}
	if ((t.a = archive_write_new()) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	archive_write_set_format_pax_restricted(t.a);
	archive_write_set_bytes_in_last_block(t.a, 1);
	if (archive_write_open_fd(t.a, fd) != ARCHIVE_OK) {
		error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s", archive_error_string(t.a));
		goto done;
	}
	if ((error = tar_dir(&t, "")) < 0)
		goto done;
	for (i = 0; links && i < links->nmembers; i++) {
		member *mb = &links->members[i];
		struct archive_entry *e;
		if (mb->type == 'f' || !mb->done)
			continue;
		if ((e = archive_entry_new()) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		archive_entry_set_pathname(e, mb->name);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (mb->type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, mb->link);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, mb->link);
		}
		if (archive_write_header(t.a, e) != ARCHIVE_OK)
			error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s",
				archive_error_string(t.a));
		archive_entry_free(e);
		if (error < 0)
			goto done;
	}
	if (archive_write_close(t.a) != ARCHIVE_OK) {
		error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s", archive_error_string(t.a));
		goto done;
	}
	if (fsync(fd) < 0) {
		error = nr__error_errno(err, errno, path, "fsync");
		goto done;
	}
	if (rename(tmp.ptr, path) < 0)
		error = nr__error_errno(err, errno, path, "rename");
done:
	if (t.a)
		archive_write_free(t.a);
	if (fd >= 0)
		close(fd);
	if (error < 0)
		unlink(tmp.ptr);
	nr_buf_dispose(&tmp);
	return error;
}

/* ---- docker-archive output -------------------------------------------------------------- */

typedef struct rawio {
	nr__blob_stream *bs;
	char buf[65536];
	nr_error *err;
	int error;
} rawio;

static la_ssize_t raw_read(struct archive *a, void *data, const void **buf)
{
	rawio *io = data;
	ssize_t r = nr__blob_stream_read(io->bs, io->buf, sizeof(io->buf), io->err);

	if (r < 0) {
		io->error = (int)r;
		archive_set_error(a, EIO, "read error");
		return -1;
	}
	*buf = io->buf;
	return r;
}

/* Write layer l uncompressed as "<diffid hex>.tar" in dfd; check it hashes to want_diff. */
static int write_docker_layer(nr_image *img, int dfd, const layer *l, const char *want_diff,
	char name[80], nr_error *err)
{
	char from[4200], got[NR_DIGEST_SIZE];
	int sfd, error, out = -1;
	rawio *io = NULL;
	struct archive *a = NULL;
	struct archive_entry *e;
	nr_buf tmpname = NR_BUF_INIT;

	if ((error = locate(img, l->digest, &sfd, from, sizeof(from), err)) < 0)
		return error;
	snprintf(name, 80, "%s.tar", want_diff + 7);
	if (faccessat(dfd, name, F_OK, 0) == 0)
		return 0;
	if (strstr(l->media_type, "gzip") == NULL && strstr(l->media_type, "zstd") == NULL) {
		/* uncompressed already: its digest is its diff_id */
		if (strcmp(l->digest, want_diff) != 0)
			return nr__error_set(err, NR_EINVALID, l->digest, 0, 0,
				"uncompressed layer digest differs from its diff_id %s", want_diff);
		return nr__file_copy_at(sfd, from, dfd, name, err);
	}
	if ((io = nr__calloc(1, sizeof(*io))) == NULL)
		return nr__error_oom(err);
	io->err = err;
	if ((error = nr__blob_stream_open(&io->bs, sfd, from, l->digest, l->size, err)) < 0)
		goto done;
	nr_buf_printf(&tmpname, "%s.nr-tmp", name);
	if ((out = openat(dfd, tmpname.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		error = nr__error_errno(err, errno, name, "create");
		goto done;
	}
	if ((a = archive_read_new()) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	NR__ARCHIVE_READ_FILTERS(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, io, NULL, raw_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		error = io->error ? io->error : nr__error_set(err, NR_EINVALID, l->digest, 0, 0,
			"cannot decompress layer: %s", archive_error_string(a));
		goto done;
	}
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char h[EVP_MAX_MD_SIZE];
		unsigned int hl = 0;
		char buf[65536];
		la_ssize_t n;
		static const char hx[] = "0123456789abcdef";
		size_t i;
		if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(md);
			error = nr__error_oom(err);
			goto done;
		}
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
			int rc;
			EVP_DigestUpdate(md, buf, (size_t)n);
			if ((rc = nr__write_all(out, buf, (size_t)n)) < 0) {
				EVP_MD_CTX_free(md);
				error = nr__error_errno(err, -rc, name, "write");
				goto done;
			}
		}
		EVP_DigestFinal_ex(md, h, &hl);
		EVP_MD_CTX_free(md);
		if (n < 0) {
			error = io->error ? io->error : nr__error_set(err, NR_EINVALID, l->digest, 0,
				0, "cannot decompress layer: %s", archive_error_string(a));
			goto done;
		}
		memcpy(got, "sha256:", 7);
		for (i = 0; i < 32; i++) {
			got[7 + 2 * i] = hx[h[i] >> 4];
			got[8 + 2 * i] = hx[h[i] & 15];
		}
		got[71] = '\0';
	}
	if ((error = nr__blob_stream_finish(io->bs, err)) < 0)
		goto done;
	if (strcmp(got, want_diff) != 0) {
		error = nr__error_set(err, NR_EDIGEST, l->digest, 0, 0,
			"uncompressed layer hashes to %s, the config's diff_id is %s", got, want_diff);
		goto done;
	}
	if (fsync(out) < 0 || renameat(dfd, tmpname.ptr, dfd, name) < 0)
		error = nr__error_errno(err, errno, name, "write");
done:
	if (a)
		archive_read_free(a);
	if (out >= 0)
		close(out);
	if (error < 0 && tmpname.ptr)
		unlinkat(dfd, tmpname.ptr, 0);
	if (io)
		nr__blob_stream_free(io->bs);
	free(io);
	nr_buf_dispose(&tmpname);
	return error;
}

/* manifest.json entry for manifest m written into dfd (config "<hex>.json", "<diff>.tar"). */
static int docker_entry(nr_image *img, int dfd, manifest *m, bool reuse, json_t **out,
	nr_error *err)
{
	json_t *cfg = NULL, *diffs, *layers = NULL;
	char cname[80], from[4200];
	size_t j;
	int sfd, error;

	*out = NULL;
	if ((error = json_parse(&cfg, m->config, m->config_len, m->config_digest, err)) < 0)
		return error;
	diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (!json_is_array(diffs) || json_array_size(diffs) != m->nlayers) {
		json_decref(cfg);
		return nr__error_set(err, NR_EINVALID, m->config_digest, 0, 0,
			"config rootfs.diff_ids has %zu ids for %zu layers",
			json_array_size(diffs), m->nlayers);
	}
	snprintf(cname, sizeof(cname), "%s.json", m->config_digest + 7);
	if ((error = locate(img, m->config_digest, &sfd, from, sizeof(from), err)) < 0 ||
	    (error = nr__file_copy_at(sfd, from, dfd, cname, err)) < 0)
		goto done;
	if ((layers = json_array()) == NULL)
		goto oom;
	for (j = 0; j < m->nlayers; j++) {
		char lname[4096];
		const char *did = json_string_value(json_array_get(diffs, j));
		if (did == NULL || (error = nr__digest_check(did, NULL, "rootfs.diff_ids", err)) < 0) {
			error = error < 0 ? error : nr__error_set(err, NR_EINVALID, m->config_digest,
				0, 0, "rootfs.diff_ids[%zu] is not a digest", j);
			goto done;
		}
		if (reuse && m->layers[j].relpath)
			snprintf(lname, sizeof(lname), "%s", m->layers[j].relpath);
		else if ((error = write_docker_layer(img, dfd, &m->layers[j], did, lname, err)) < 0)
			goto done;
		if (json_array_append_new(layers, json_string(lname)) < 0)
			goto oom;
	}
	*out = json_pack("{s:s, s:[], s:O}", "Config", cname, "RepoTags", "Layers", layers);
	if (*out == NULL)
		goto oom;
	goto done;
oom:
	error = nr__error_oom(err);
done:
	json_decref(layers);
	json_decref(cfg);
	return error;
}

/* ---- nr_image_write ---------------------------------------------------------------------- */

static int add_repo_tag(json_t *entry, const char *tag)
{
	json_t *tags = json_object_get(entry, "RepoTags"), *t;
	size_t k;

	if (!json_is_array(tags)) {
		if ((tags = json_array()) == NULL || json_object_set_new(entry, "RepoTags", tags) < 0)
			return NR_ENOMEM;
	}
	json_array_foreach(tags, k, t)
		if (json_string_value(t) && strcmp(json_string_value(t), tag) == 0)
			return 0;
	return json_array_append_new(tags, json_string(tag)) < 0 ? NR_ENOMEM : 0;
}

/* Docker tags need a name: a bare "TAG" becomes "NAME:TAG" with the first RepoTag's name. */
static char *docker_tag(const json_t *old_entry, const char *tag)
{
	const char *first = json_string_value(json_array_get(json_object_get(old_entry,
		"RepoTags"), 0));
	const char *colon = first ? strrchr(first, ':') : NULL;
	nr_buf b = NR_BUF_INIT;

	if (strchr(tag, ':') || first == NULL || colon == NULL || strchr(colon, '/'))
		nr_buf_puts(&b, tag);
	else
		nr_buf_printf(&b, "%.*s:%s", (int)(colon - first), first, tag);
	return nr_buf_detach(&b, NULL);
}

/* Update manifest.json (a copy of img->docker) in tree dfd for the edited manifests. */
static int update_docker_manifest(nr_image *img, int dfd, const char *tag, nr_error *err)
{
	json_t *arr = json_deep_copy(img->docker);
	size_t i, k;
	int error = 0;

	if (arr == NULL)
		return nr__error_oom(err);
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		json_t *old = NULL, *neu = NULL;
		size_t pos = SIZE_MAX;
		if (!m->dirty)
			continue;
		if (img->hybrid) {
			/* the entry whose Config is this manifest's opened config */
			for (k = 0; k < json_array_size(arr); k++) {
				const char *c = jstr(json_array_get(arr, k), "Config");
				if (c && m->old_config && strcmp(c, m->old_config) == 0) {
					pos = k;
					break;
				}
			}
			if (pos == SIZE_MAX)
				continue;
			old = json_array_get(arr, pos);
			if ((neu = json_deep_copy(old)) == NULL)
				goto oom;
			{
				char p[96];
				json_t *ls = json_array();
				size_t j;
				snprintf(p, sizeof(p), "blobs/sha256/%s", m->config_digest + 7);
				if (ls == NULL || json_object_set_new(neu, "Config", json_string(p)) < 0 ||
				    json_object_set_new(neu, "Layers", ls) < 0)
					goto oom;
				for (j = 0; j < m->nlayers; j++) {
					snprintf(p, sizeof(p), "blobs/sha256/%s", m->layers[j].digest + 7);
					if (json_array_append_new(ls, json_string(p)) < 0)
						goto oom;
				}
			}
		} else {
			pos = img->docker_entry;
			old = json_array_get(arr, pos);
			if ((error = docker_entry(img, dfd, m, true, &neu, err)) < 0)
				goto done;
			json_object_set(neu, "RepoTags", json_object_get(old, "RepoTags"));
		}
		if (tag) {
			char *t = docker_tag(old, tag);
			json_t *tags = json_array();
			if (t == NULL || tags == NULL) {
				free(t);
				json_decref(tags);
				goto oom;
			}
			json_object_set_new(neu, "RepoTags", tags);
			error = add_repo_tag(neu, t);
			/* the tag moves: drop it from other entries */
			for (k = 0; k < json_array_size(arr); k++) {
				json_t *ts = json_object_get(json_array_get(arr, k), "RepoTags"), *x;
				size_t q;
				json_array_foreach(ts, q, x)
					if (json_string_value(x) && strcmp(json_string_value(x), t) == 0) {
						json_array_remove(ts, q);
						break;
					}
			}
			free(t);
			if (error < 0 || json_array_append_new(arr, neu) < 0)
				goto oom;
		} else if (json_array_set_new(arr, pos, neu) < 0) {
			goto oom;
		}
	}
	error = write_json_at(dfd, "manifest.json", arr, err);
	goto done;
oom:
	error = nr__error_oom(err);
done:
	json_decref(arr);
	return error;
}

int nr_image_write(nr_image *img, const char *dest, const nr_image_write_options *opts,
	nr_error *err)
{
	int transport, error, dfd = -1;
	char *dpath = NULL, *dtag = NULL, *tree = NULL;
	const char *tag = opts ? opts->tag : NULL;
	json_t *new_index = NULL, **tops = NULL;
	size_t ntops, k;
	bool same;

	NR_ASSERT_ARG(img, err);
	if (opts && opts->version != NR_IMAGE_WRITE_OPTIONS_VERSION)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "unknown options version %u",
			opts->version);
	if (tag && (*tag == '\0' || strpbrk(tag, " \t\n/") != NULL))
		return nr__error_set(err, NR_EARG, "--tag", 0, 0, "invalid tag '%s'", tag);
	if (dest == NULL) {
		transport = img->transport;
		if ((dpath = nr__strdup(img->path)) == NULL)
			return nr__error_oom(err);
	} else {
		if ((error = nr__ref_parse(dest, &transport, &dpath, &dtag, NULL)) < 0 &&
		    transport <= 0) {
			free(dpath);
			free(dtag);
			return nr__error_set(err, NR_EINVALID, dest, 0, 0,
				"destination must be oci:DIR[:TAG], oci-archive:FILE[:TAG] or "
				"docker-archive:FILE[:NAME:TAG]");
		}
		if (transport == -1) {
			free(dpath);
			free(dtag);
			return nr__error_set(err, NR_EINVALID, dest, 0, 0,
				"destination exists and is not a directory: name its transport "
				"(oci-archive: or docker-archive:)");
		}
		if (dtag)
			tag = dtag;
	}
	ntops = img->index ? img->ntop : 1;
	if ((tops = nr__calloc(ntops + 1, sizeof(*tops))) == NULL)
		goto oom;
	if ((error = prepare(img, &new_index, tops, err)) < 0)
		goto done;
	/* Writing into the layout the image came from (or a clone of the unpacked archive)? */
	same = transport == img->transport && (dest == NULL || (dpath && img->path &&
		strcmp(dpath, img->path) == 0) || transport != NR_TRANSPORT_OCI);
	if (transport == NR_TRANSPORT_OCI && !same && img->transport == NR_TRANSPORT_OCI) {
		struct stat a, b;
		if (stat(dpath, &a) == 0 && fstat(img->dirfd, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			same = true;
	}
	if (transport == NR_TRANSPORT_OCI) {
		if (same) {
			error = write_layout(img, img->dirfd, true, tag, new_index, tops, ntops, err);
			goto done;
		}
		if (mkdir(dpath, 0755) < 0 && errno != EEXIST) {
			error = nr__error_errno(err, errno, dpath, "mkdir");
			goto done;
		}
		if ((dfd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			error = nr__error_errno(err, errno, dpath, "open");
			goto done;
		}
		error = write_layout(img, dfd, false, tag, NULL, tops, ntops, err);
		goto done;
	}
	/* Archives: build a tree in a temp dir, then tar it over the destination atomically. */
	if ((error = nr__mkdtemp(&tree, img->tmpdir, "out", err)) < 0)
		goto done;
	if ((dfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = nr__error_errno(err, errno, tree, "open");
		goto done;
	}
	if (same && (error = clone_tree(img->dirfd, dfd, "", err)) < 0)
		goto done;
	if (transport == NR_TRANSPORT_OCI_ARCHIVE) {
		error = write_layout(img, dfd, same, tag, new_index, tops, ntops, err);
	} else if (same) {
		if (img->hybrid &&
		    (error = write_layout(img, dfd, true, tag, new_index, tops, ntops, err)) < 0)
			goto done;
		error = update_docker_manifest(img, dfd, tag, err);
	} else {
		json_t *arr, *entry = NULL;
		if (img->nm != 1) {
			error = nr__error_set(err, NR_EUNSUPPORTED, dest, 0, 0,
				"a docker archive holds one platform; the image has %zu (pick one with "
				"--platform)", img->nm);
			goto done;
		}
		if ((error = docker_entry(img, dfd, &img->m[0], false, &entry, err)) < 0)
			goto done;
		if (tag) {
			char *t = docker_tag(NULL, tag);
			if (t == NULL || add_repo_tag(entry, t) < 0) {
				free(t);
				json_decref(entry);
				goto oom;
			}
			free(t);
		}
		arr = json_pack("[o]", entry);
		if (arr == NULL)
			goto oom;
		error = write_json_at(dfd, "manifest.json", arr, err);
		json_decref(arr);
	}
	if (error < 0)
		goto done;
	error = tar_tree(dfd, same ? img : NULL, dpath, err);
	goto done;
oom:
	error = nr__error_oom(err);
done:
	if (dfd >= 0)
		close(dfd);
	if (tree)
		nr__rmtree(tree);
	free(tree);
	for (k = 0; tops && k < ntops; k++)
		json_decref(tops[k]);
	free(tops);
	json_decref(new_index);
	free(dpath);
	free(dtag);
	return error;
}
