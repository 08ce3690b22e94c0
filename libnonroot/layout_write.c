/*
 * layout_write.c: writing an OCI layout: staged blobs, blob closures copied from the source,
 * new manifests, index.json and tags.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include "image_model.h"
#include "fileio.h"

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
	if (nr__jset_new(d, "digest", json_string(digest)) < 0 ||
	    nr__jset_new(d, "size", json_integer((json_int_t)size)) < 0)
		return NR_ENOMEM;
	return 0;
}

static json_t *new_desc(const char *mt, const char *digest, uint64_t size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest,
		"size", (json_int_t)size);
}

/* Where is the blob with this digest? Staging first, then the model, then the layout. */
int nr__locate(nr_image *img, const char *digest, int *dfd, char *path, size_t psize,
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

	if ((error = nr__locate(img, digest, &sfd, from, sizeof(from), err)) < 0)
		return error;
	snprintf(to, sizeof(to), "blobs/sha256/%s", digest + 7);
	if (sfd == dst && strcmp(from, to) == 0)
		return faccessat(dst, to, F_OK, 0) == 0 ? 0 :
			nr__error_set(err, NR_ENOTFOUND, digest, 0, 0, "blob missing from the layout");
	if ((error = nr__mkdirs_at(dst, "blobs/sha256", err)) < 0)
		return error;
	return nr__file_copy_at(sfd, from, dst, to, digest, err);
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
	const char *mt = nr__jstr(d, "mediaType"), *digest = nr__jstr(d, "digest");
	static const char *const keys[] = { "manifests", "layers" };
	json_t *j = NULL;
	size_t k, n;
	int error = 0;

	if (digest == NULL)
		return nr__error_set(err, NR_EINVALID, "descriptor", 0, 0, "descriptor has no digest");
	/* index.json's entry, NR__NESTED_MAX indexes, the manifest, its config and layers */
	if (depth > NR__NESTED_MAX + 2)
		return nr__error_set(err, NR_EINVALID, digest, 0, 0, "indexes nested too deeply");
	if (depth > 0 && !in_model(img, digest)) {
		/* Blobs that the opened image does not use (other platforms, attestations) may
		 * be absent from a partial layout: nothing to copy then. */
		char path[4200];
		int sfd;
		if (nr__locate(img, digest, &sfd, path, sizeof(path), NULL) == 0 &&
		    faccessat(sfd, path, F_OK, 0) != 0)
			return 0;
	}
	if (nr__is_index_mt(mt) || nr__is_manifest_mt(mt)) {
		char path[4200], *text = NULL;
		size_t len;
		int sfd;
		json_t *sz = nr__jget(d, "size");
		if ((error = nr__locate(img, digest, &sfd, path, sizeof(path), err)) < 0)
			return error;
		if ((error = nr__blob_read(&text, &len, sfd, path, digest,
				json_is_integer(sz) ? (uint64_t)json_integer_value(sz) : UINT64_MAX,
				NR_JSON_BLOB_MAX, err)) < 0)
			return error;
		error = nr__json_parse(&j, text, len, digest, err);
		free(text);
		if (error < 0)
			return error;
		for (k = 0; k < NR_ARRAY_SIZE(keys); k++) {
			json_t *arr = nr__jget(j, keys[k]), *e;
			json_array_foreach(arr, n, e)
				if ((error = copy_closure(img, dst, e, depth + 1, err)) < 0)
					goto done;
		}
		if (json_is_object(nr__jget(j, "config")) &&
		    (error = copy_closure(img, dst, nr__jget(j, "config"), depth + 1,
				err)) < 0)
			goto done;
	}
	error = copy_blob(img, dst, digest, err);
done:
	json_decref(j);
	return error;
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
	uint64_t size = 0;
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
		cfg = nr__jget(mj, "config");
		if (set_desc(cfg, m->config_digest, m->config_size) < 0)
			goto oom;
	} else {
		mj = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
			"config", new_desc(MT_OCI_CONFIG, m->config_digest, m->config_size));
		if (mj == NULL)
			goto oom;
	}
	if ((layers = json_array()) == NULL || nr__jset_new(mj, "layers", layers) < 0)
		goto oom;
	for (j = 0; j < m->nlayers; j++) {
		layer *l = &m->layers[j];
		json_t *ld = l->desc && m->json ? json_incref(l->desc) :
			new_desc(m->json ? l->media_type : nr__layer_media_type_oci(l->media_type), l->digest,
				l->size);
		if (ld == NULL || json_array_append_new(layers, ld) < 0)
			goto oom;
	}
	if ((error = stage_json(img, mj, digest, &size, err)) < 0)
		goto fail;
	memcpy(m->staged_digest, digest, NR_DIGEST_SIZE);
	m->staged_size = size;
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
			nr__jset_new(nr__jget(d, "platform"), "variant",
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
int nr__prepare(nr_image *img, json_t **new_index, json_t **tops, nr_error *err)
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
	mans = nr__jget(idx, "manifests");
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
		arr = m->parent == SIZE_MAX ? mans : nr__jget(nxs[m->parent], "manifests");
		if ((error = manifest_desc(img, m, json_array_get(arr, m->pos), &d, err)) < 0)
			goto done;
		if (json_array_set_new(arr, m->pos, d) < 0)
			goto oom;
		if (m->parent != SIZE_MAX)
			nx_changed[m->parent] = true;
	}
	/* every changed index gets its new digest in its parent, children first (a nested
	 * index always comes after its parent in img->nx), up to index.json */
	for (k = img->nnx; k-- > 0; ) {
		char digest[NR_DIGEST_SIZE];
		uint64_t size = 0;
		size_t up = img->nx[k].parent;
		json_t *arr = up == SIZE_MAX ? mans : nr__jget(nxs[up], "manifests");
		if (!nx_changed[k])
			continue;
		if ((error = stage_json(img, nxs[k], digest, &size, err)) < 0)
			goto done;
		if (set_desc(json_array_get(arr, img->nx[k].pos), digest, size) < 0)
			goto oom;
		if (up != SIZE_MAX)
			nx_changed[up] = true;
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
	json_t *ann = nr__jget(d, "annotations");

	if (!json_is_object(ann)) {
		if ((ann = json_object()) == NULL || nr__jset_new(d, "annotations", ann) < 0)
			return NR_ENOMEM;
	}
	json_object_del(ann, ANN_IMAGE_NAME);
	/* the written key replaces any that folds to it: never two such keys (jsonload.h) */
	return nr__jset_new(ann, ANN_REF_NAME, json_string(tag)) < 0 ? NR_ENOMEM : 0;
}

static const char *ref_name(const json_t *d)
{
	return nr__jmap_str(nr__jget(d, "annotations"), ANN_REF_NAME);
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

/* index.json of layout dfd: *out NULL when there is none; an error when it cannot be read
 * (over 16 MiB, not a regular file, a symlink, not JSON). */
static int read_index(int dfd, json_t **out, nr_error *err)
{
	char *text = NULL;
	size_t len;
	struct stat st;
	int error;

	*out = NULL;
	if (fstatat(dfd, "index.json", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : nr__error_errno(err, errno, "index.json", "stat");
	if ((error = nr__file_read_at(&text, &len, dfd, "index.json", O_NOFOLLOW,
			NR_JSON_BLOB_MAX, "index.json", err)) < 0)
		return error;
	error = nr__json_parse(out, text, len, "index.json", err);
	free(text);
	return error;
}

/*
 * Apply the edit (img->index -> new_index: entries replaced in place) to `cur`, the index as
 * it is now: each changed entry replaces the entry of cur equal to the one it replaced. An
 * entry that is no longer there (another writer changed it meanwhile) is a conflict.
 */
static int merge_index(nr_image *img, json_t *cur, const json_t *new_index, nr_error *err)
{
	json_t *om = nr__jget(img->index, "manifests"),
	       *nm = nr__jget(new_index, "manifests"),
	       *cm = nr__jget(cur, "manifests");
	size_t i, j;

	if (!json_is_array(cm))
		return nr__error_set(err, NR_EINVALID, "index.json", 0, 0,
			"field manifests is not an array");
	if (json_array_size(om) != json_array_size(nm))
		return nr__error_set(err, NR_ERROR, "index.json", 0, 0, "internal: index edit");
	for (i = 0; i < json_array_size(nm); i++) {
		json_t *o = json_array_get(om, i), *n = json_array_get(nm, i);
		if (json_equal(o, n))
			continue;
		for (j = 0; j < json_array_size(cm); j++)
			if (json_equal(json_array_get(cm, j), o))
				break;
		if (j == json_array_size(cm))
			return nr__error_set(err, NR_ECONFLICT, "index.json", 0, 0,
				"another writer changed the image's entry (manifests[%zu]) while it was "
				"being patched: run the patch again", i);
		if (json_array_set(cm, j, n) < 0)
			return nr__error_oom(err);
	}
	return 0;
}

int nr__write_json_at(int dfd, const char *name, const json_t *j, nr_error *err)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int error;

	if (text == NULL)
		return nr__error_oom(err);
	error = nr__file_write_atomic_at(dfd, name, text, strlen(text), 0644, name, err);
	free(text);
	return error;
}

/* The blobs of the tops (and what they name) copied into layout dfd, made durable, and the
 * oci-layout file when it is missing. */
static int write_blobs(nr_image *img, int dfd, json_t **tops, size_t ntops, nr_error *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	size_t k;
	int bfd, error;

	if ((error = nr__mkdirs_at(dfd, "blobs/sha256", err)) < 0)
		return error;
	for (k = 0; k < ntops; k++)
		if ((error = copy_closure(img, dfd, tops[k], 0, err)) < 0)
			return error;
	/* the new blobs' directory entries are durable before index.json names them */
	bfd = openat(dfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd >= 0) {
		fsync(bfd);
		close(bfd);
	}
	if (faccessat(dfd, "oci-layout", F_OK, 0) != 0)
		return nr__file_write_atomic_at(dfd, "oci-layout", layout, sizeof(layout) - 1,
			0644, "oci-layout", err);
	return 0;
}

/* The tops added to index idx under `tag` (which moves to them), or under their own names
 * (NULL; into a new destination, `same` false, whose entries of those names they replace). */
static int add_tops(json_t *idx, bool same, const char *tag, json_t **tops, size_t ntops,
	nr_error *err)
{
	json_t *mans = nr__jget(idx, "manifests");
	size_t k;

	if (!json_is_array(mans))
		return nr__error_set(err, NR_EINVALID, "index.json", 0, 0,
			"field manifests is not an array");
	if (tag)
		drop_tag(mans, tag);
	else
		for (k = 0; k < ntops; k++)
			if (ref_name(tops[k]) && !same)
				drop_tag(mans, ref_name(tops[k]));
	for (k = 0; k < ntops; k++) {
		json_t *d = json_deep_copy(tops[k]);
		if (d == NULL || (tag && set_ref_name(d, tag) < 0) ||
		    json_array_append_new(mans, d) < 0)
			return nr__error_oom(err);
	}
	return 0;
}

/*
 * Write the image into layout `dfd`.
 *   same: dfd holds the source's index.json (in place, or a clone of an unpacked archive):
 *         the edited index replaces it (tag: edited tops added under the tag instead).
 *   else: the tops are added to dfd's index.json (created when missing) under `tag`
 *         (NULL: their current names).
 */
int nr__write_layout(nr_image *img, int dfd, bool same, const char *tag, json_t *new_index,
	json_t **tops, size_t ntops, nr_error *err)
{
	json_t *idx = NULL;
	int error;

	if ((error = write_blobs(img, dfd, tops, ntops, err)) < 0)
		return error;
	/* In place: the index as it is now (read under the caller's lock), not as it was when
	 * the image was opened, so a concurrent writer's entries are kept. Else an existing
	 * index.json is kept and added to, never silently replaced: one that cannot be read
	 * (too big, not a regular file) is an error. */
	if ((error = read_index(dfd, &idx, err)) < 0)
		return error;
	if (same && idx == NULL)
		return nr__error_set(err, NR_ECONFLICT, "index.json", 0, 0,
			"the layout's index.json disappeared while the image was being patched");
	if (idx == NULL && (idx = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
	    "mediaType", MT_OCI_INDEX, "manifests")) == NULL)
		return nr__error_oom(err);
	if (same && tag == NULL)
		error = merge_index(img, idx, new_index, err);
	else
		error = add_tops(idx, same, tag, tops, ntops, err);
	/* index.json last: until it is replaced, the old image is what readers see */
	if (error == 0)
		error = nr__write_json_at(dfd, "index.json", idx, err);
	json_decref(idx);
	return error;
}
