/*
 * layout_read.c: reading an OCI image layout (index.json, nested indexes, manifests,
 * configs and layers) into the model; also the OCI side of archives.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "image_model.h"
#include "fileio.h"

/* Manifest mj (`digest`, descriptor media type mt) is one we read: media types agree,
 * schemaVersion 2. */
static int check_manifest(const json_t *mj, const char *mt, const char *digest, nr_error *err)
{
	if (nr__jstr(mj, "mediaType") && mt && strcmp(nr__jstr(mj, "mediaType"), mt) != 0)
		return nr__error_set(err, NR_EINVALID, digest, 0, 0,
			"manifest mediaType %s differs from its descriptor's %s",
			nr__jstr(mj, "mediaType"), mt);
	if (json_integer_value(nr__jget(mj, "schemaVersion")) != 2)
		return nr__error_set(err, NR_EUNSUPPORTED, digest, 0, 0,
			"manifest schemaVersion is not 2 (schema1 manifests are not supported)");
	return 0;
}

/* m's config blob (m->config_digest, m->config_size): its path, and its bytes, verified. */
static int read_config(nr_image *img, manifest *m, nr_error *err)
{
	char cpath[96];
	int error;

	if ((error = nr__blob_path(m->config_digest, cpath, err)) < 0)
		return error;
	if ((m->config_relpath = nr__strdup(cpath)) == NULL ||
	    (m->old_config = nr__strdup(cpath)) == NULL)
		return nr__error_oom(err);
	return nr__blob_read(&m->config, &m->config_len, img->dirfd, cpath, m->config_digest,
		m->config_size, NR_JSON_BLOB_MAX, err);
}

/* m's layers from the manifest's layers array (manifest `digest`). */
static int add_layers(manifest *m, const json_t *layers, const char *digest, nr_error *err)
{
	json_t *l;
	size_t j;
	int error;

	json_array_foreach(layers, j, l) {
		const char *lmt, *ld;
		uint64_t ls;
		char lpath[96];
		if ((error = nr__desc_fields(l, &lmt, &ld, &ls, digest, err)) < 0)
			return error;
		if ((error = nr__blob_path(ld, lpath, err)) < 0)
			return error;
		if (nr__add_layer(m, lmt, ld, ls, lpath, l) < 0)
			return nr__error_oom(err);
	}
	return 0;
}

/* m's platform: from its descriptor d, else from its config. */
static int set_platform(manifest *m, const json_t *d, nr_error *err)
{
	const json_t *plat = nr__jget(d, "platform");

	if (json_is_object(plat)) {
		m->platform = nr__platform_string(nr__jstr(plat, "os"),
			nr__jstr(plat, "architecture"), nr__jstr(plat, "variant"));
	} else {
		json_t *c = NULL;
		if (nr__json_parse(&c, m->config, m->config_len, m->config_digest, err) < 0)
			return NR_EINVALID;
		m->platform = nr__platform_string(nr__jstr(c, "os"), nr__jstr(c, "architecture"),
			nr__jstr(c, "variant"));
		json_decref(c);
	}
	return m->platform ? 0 : nr__error_oom(err);
}

/* Load manifest `digest` (from descriptor d in parent `parent`) into the model. */
static int load_manifest(nr_image *img, json_t *d, size_t parent, size_t pos,
	const char *platform_filter, nr_error *err)
{
	const char *mt, *digest, *cmt, *cdigest;
	uint64_t size, csize;
	json_t *mj = NULL, *cfg, *layers;
	manifest *m = NULL;
	int error;

	if ((error = nr__desc_fields(d, &mt, &digest, &size, "index.json", err)) < 0)
		return error;
	if ((error = nr__load_json_blob(&mj, img, digest, size, err)) < 0)
		return error;
	if (mt == NULL)
		mt = nr__jstr(mj, "mediaType");
	if ((error = check_manifest(mj, mt, digest, err)) < 0)
		goto done;
	cfg = nr__jget(mj, "config");
	layers = nr__jget(mj, "layers");
	if ((error = nr__desc_fields(cfg, &cmt, &cdigest, &csize, digest, err)) < 0)
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
	if ((error = read_config(img, m, err)) < 0 ||
	    (error = add_layers(m, layers, digest, err)) < 0 ||
	    (error = set_platform(m, d, err)) < 0)
		goto done;
	nr__refresh_pub(m);
	if (platform_filter && !nr__platform_matches(platform_filter, m->platform)) {
		nr__manifest_dispose(m);
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

/* An attestation as BuildKit writes it: the annotation AND the platform unknown/unknown (or no
 * platform). The runtimes pick an index entry by its platform alone, so an "attestation" that
 * claims a real platform is an image they may run: it is read and audited like any other. */
static bool is_attestation(const json_t *d)
{
	json_t *ann = nr__jget(d, "annotations"), *pf = nr__jget(d, "platform");
	const char *t = nr__jmap_str(ann, "vnd.docker.reference.type");
	const char *os = nr__jstr(pf, "os"), *arch = nr__jstr(pf, "architecture");

	return t && strcmp(t, "attestation-manifest") == 0 && (pf == NULL || (os && arch &&
		strcmp(os, "unknown") == 0 && strcmp(arch, "unknown") == 0));
}

/*
 * Load the nested index of descriptor d (in index.json when parent is SIZE_MAX, else in
 * img->nx[parent], at position pos) and, recursively, the manifests it lists: an entry that
 * is itself an index is followed too, as the runtimes do (containerd's and Docker's platform
 * matchers walk down to the image manifest), up to NR__NESTED_MAX levels and
 * NR__NESTED_TOTAL indexes in all. An index listing one of the indexes above it (only
 * possible with a broken hash, since each index is verified against its digest) is refused.
 */
static int load_index(nr_image *img, json_t *d, size_t parent, size_t pos, size_t depth,
	const char *platform, nr_error *err)
{
	const char *mt, *digest;
	uint64_t size;
	nested *nx;
	json_t *ij = NULL, *mans, *e;
	size_t j, self, up;
	int error;

	if ((error = nr__desc_fields(d, &mt, &digest, &size, parent == SIZE_MAX ? "index.json" :
			img->nx[parent].digest, err)) < 0)
		return error;
	if (depth >= NR__NESTED_MAX)
		return nr__error_set(err, NR_EUNSUPPORTED, digest, 0, 0,
			"image index nested more than %d levels deep: refused", NR__NESTED_MAX);
	for (up = parent; up != SIZE_MAX; up = img->nx[up].parent)
		if (strcmp(img->nx[up].digest, digest) == 0)
			return nr__error_set(err, NR_EINVALID, digest, 0, 0,
				"image index lists itself (a cycle): refused");
	if (img->nnx >= NR__NESTED_TOTAL)
		return nr__error_set(err, NR_EUNSUPPORTED, digest, 0, 0,
			"image index beyond the first %d nested indexes of the image: refused",
			NR__NESTED_TOTAL);
	if ((error = nr__load_json_blob(&ij, img, digest, size, err)) < 0)
		return error;
	if (nr__array_grow((void **)&img->nx, &img->anx, img->nnx + 1, sizeof(*nx)) < 0) {
		json_decref(ij);
		return nr__error_oom(err);
	}
	self = img->nnx++;
	nx = &img->nx[self];
	memset(nx, 0, sizeof(*nx));
	nx->json = ij;
	nx->parent = parent;
	nx->pos = pos;
	if ((nx->digest = nr__strdup(digest)) == NULL)
		return nr__error_oom(err);
	mans = nr__jget(ij, "manifests");
	if (!json_is_array(mans))
		return nr__error_set(err, NR_EINVALID, digest, 0, 0,
			"image index has no manifests array");
	json_array_foreach(mans, j, e) {
		const char *emt = nr__jstr(e, "mediaType");
		if (is_attestation(e))
			continue;   /* attestations: kept, not read */
		if (nr__is_index_mt(emt)) {
			if ((error = load_index(img, e, self, j, depth + 1, platform, err)) < 0)
				return error;
			continue;
		}
		if (emt && !nr__is_manifest_mt(emt))
			continue;   /* other artifacts: kept, not read */
		if ((error = load_manifest(img, e, self, j, platform, err)) < 0)
			return error;
	}
	return 0;
}

/* Load a top-level index.json entry (manifest, or nested index). */
static int load_top(nr_image *img, size_t k, const char *platform, nr_error *err)
{
	json_t *d = json_array_get(nr__jget(img->index, "manifests"), k);
	const char *mt = nr__jstr(d, "mediaType");

	if (nr__is_index_mt(mt))
		return load_index(img, d, SIZE_MAX, k, 0, platform, err);
	if (mt && !nr__is_manifest_mt(mt))
		return nr__error_set(err, NR_EUNSUPPORTED, "index.json", 0, 0,
			"manifest media type not supported: %s", mt);
	return load_manifest(img, d, SIZE_MAX, k, platform, err);
}

static bool tag_matches(const json_t *d, const char *tag)
{
	json_t *ann = nr__jget(d, "annotations");
	const char *ref = nr__jmap_str(ann, ANN_REF_NAME), *name = nr__jmap_str(ann, ANN_IMAGE_NAME);
	size_t tn = strlen(tag), nn;

	if (ref && strcmp(ref, tag) == 0)
		return true;
	if (name == NULL)
		return false;
	nn = strlen(name);
	return strcmp(name, tag) == 0 || (nn > tn && name[nn - tn - 1] == '/' &&
		strcmp(name + nn - tn, tag) == 0);
}

int nr__open_layout(nr_image *img, const char *platform, nr_error *err)
{
	char *text = NULL;
	size_t len, k, n;
	json_t *mans;
	int error;

	if ((error = nr__file_read_at(&text, &len, img->dirfd, "index.json", O_NOFOLLOW,
			NR_JSON_BLOB_MAX, "index.json", err)) < 0)
		return error == NR_EIO && errno == ENOENT ? NR_ENOTFOUND : error;
	error = nr__json_parse(&img->index, text, len, "index.json", err);
	free(text);
	if (error < 0)
		return error;
	mans = nr__jget(img->index, "manifests");
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
	if (img->ntop == 0 && img->tag) {
		nr__taglist tl = { .n = 0 };
		char *hint;
		for (k = 0; k < n; k++)
			nr__taglist_add(&tl, nr__jmap_str(nr__jget(json_array_get(mans, k),
				"annotations"), ANN_REF_NAME));
		if ((hint = nr__taglist_str(&tl)) == NULL)
			return nr__error_oom(err);
		error = nr__error_set(err, NR_ENOTFOUND, "index.json", 0, 0,
			"no image tagged %s in the layout%s", img->tag, hint);
		free(hint);
		return error;
	}
	if (img->ntop == 0)
		return nr__error_set(err, NR_ENOTFOUND, "index.json", 0, 0, "the layout has no image");
	if (img->tag == NULL && img->ntop > 1) {
		/* Several entries: the platforms of one image when their names agree. */
		const char *first = nr__jmap_str(nr__jget(json_array_get(mans, img->top[0]),
			"annotations"), ANN_REF_NAME);
		for (k = 1; k < img->ntop; k++) {
			const char *r = nr__jmap_str(nr__jget(json_array_get(mans, img->top[k]),
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
