/*
 * registry_write.c: pushing the (edited) image to docker://HOST/REPO:TAG.
 *
 * Children before parents: every blob the destination lacks (HEAD) is mounted from the
 * source repository when both are on one registry, else uploaded (monolithic POST + PUT);
 * a manifest the destination already holds (HEAD by digest) is skipped with everything
 * below it; platform manifests are PUT by digest before the index, and the tag is PUT last,
 * so a failure at any point leaves the tag on the old image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "image_model.h"

typedef struct push {
	nr_image *img;
	nr__registry *dst;
	const char *mount_from;   /* source repository on the same registry, or NULL */
} push;

/* Make sure the blob's bytes are here (fetching from the source registry); where out. */
static int local_blob(push *p, const char *digest, uint64_t size, int *dfd, char *path,
	size_t psize, nr_error *err)
{
	int error;

	if ((error = nr__locate(p->img, digest, dfd, path, psize, err)) < 0)
		return error;
	if (faccessat(*dfd, path, F_OK, 0) == 0)
		return 0;
	if (p->img->reg == NULL)
		return nr__error_set(err, NR_ENOTFOUND, digest, 0, 0, "blob missing from the image");
	if (*dfd != p->img->dirfd)
		return nr__error_set(err, NR_ENOTFOUND, digest, 0, 0, "staged blob missing");
	return nr__registry_fetch_blob(p->img->reg, digest, size, *dfd, path, err);
}

static int push_blob(push *p, const char *digest, uint64_t size, nr_error *err)
{
	char path[4200], *session = NULL;
	bool has;
	int dfd, error;

	if ((error = nr__registry_has_blob(p->dst, digest, &has, err)) < 0 || has)
		return error;
	/* a blob of the source repository (not one made in this run): mount it */
	if (p->mount_from && !nr__staging_has(&p->img->staging, digest, NULL)) {
		if ((error = nr__registry_mount_blob(p->dst, digest, p->mount_from, &session,
				err)) < 0 || session == NULL)
			return error;
	}
	if ((error = local_blob(p, digest, size, &dfd, path, sizeof(path), err)) == 0)
		error = nr__registry_upload_blob(p->dst, digest, size, dfd, path, session, err);
	free(session);
	return error;
}

static int push_desc(push *p, const json_t *d, const char *tag, int depth, nr_error *err);

/* Push what a manifest or index references, then PUT it under ref. */
static int push_json(push *p, const char *text, size_t len, const char *mt, const char *digest,
	const char *ref, int depth, nr_error *err)
{
	static const char *const keys[] = { "manifests", "layers" };
	json_t *j = NULL, *arr, *e;
	size_t k, n;
	int error;

	if ((error = nr__json_parse(&j, text, len, digest, err)) < 0)
		return error;
	if (mt == NULL)
		mt = nr__jstr(j, "mediaType") ? nr__jstr(j, "mediaType") :
			nr__jget(j, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	if (json_is_object(nr__jget(j, "config")) &&
	    (error = push_desc(p, nr__jget(j, "config"), NULL, depth + 1, err)) < 0)
		goto done;
	for (k = 0; k < NR_ARRAY_SIZE(keys); k++) {
		arr = nr__jget(j, keys[k]);
		json_array_foreach(arr, n, e)
			if ((error = push_desc(p, e, NULL, depth + 1, err)) < 0)
				goto done;
	}
	error = nr__registry_put_manifest(p->dst, ref, mt, text, len, err);
done:
	json_decref(j);
	return error;
}

static int push_desc(push *p, const json_t *d, const char *tag, int depth, nr_error *err)
{
	const char *mt, *digest;
	uint64_t size;
	char path[4200], *text = NULL, *rmt = NULL, got[NR_DIGEST_SIZE];
	size_t len;
	bool has;
	int dfd, error;

	if ((error = nr__desc_fields(d, &mt, &digest, &size, "descriptor", err)) < 0)
		return error;
	if (depth > NR__NESTED_MAX + 2)
		return nr__error_set(err, NR_EINVALID, digest, 0, 0, "indexes nested too deeply");
	if (!nr__is_index_mt(mt) && !nr__is_manifest_mt(mt) &&
	    !(depth == 0 && mt == NULL))
		return push_blob(p, digest, size, err);
	if (tag == NULL) {
		if ((error = nr__registry_has_manifest(p->dst, digest, &has, err)) < 0 || has)
			return error;
	}
	if ((error = nr__locate(p->img, digest, &dfd, path, sizeof(path), err)) < 0)
		return error;
	if (faccessat(dfd, path, F_OK, 0) == 0) {
		error = nr__blob_read(&text, &len, dfd, path, digest, size, NR_JSON_BLOB_MAX, err);
	} else if (p->img->reg) {
		/* a manifest the image does not use (a nested index's): from the source */
		error = nr__registry_get_manifest(p->img->reg, digest, &text, &len, &rmt, got, err);
	} else {
		error = nr__error_set(err, NR_ENOTFOUND, digest, 0, 0,
			"manifest missing from the image");
	}
	if (error == 0)
		error = push_json(p, text, len, mt, digest, tag ? tag : digest, depth, err);
	free(text);
	free(rmt);
	return error;
}

int nr__write_registry(nr_image *img, const char *dest, const char *tag, json_t **tops,
	size_t ntops, nr_error *err)
{
	nr__reg_ref ref;
	push p;
	int error;
	size_t k;

	memset(&ref, 0, sizeof(ref));
	memset(&p, 0, sizeof(p));
	p.img = img;
	if (dest) {
		if ((error = nr__reg_ref_parse(&ref, dest, err)) < 0)
			return error;
	} else if ((ref.host = nr__strdup(img->rref.host)) == NULL ||
		   (ref.repo = nr__strdup(img->rref.repo)) == NULL ||
		   (img->rref.tag && (ref.tag = nr__strdup(img->rref.tag)) == NULL)) {
		error = nr__error_oom(err);
		goto done;
	}
	if (tag == NULL) {
		tag = ref.tag;
	} else if (!nr__reg_tag_ok(tag, strlen(tag))) {
		/* --tag goes into the manifest URL: held to the registry's grammar (not echoed) */
		error = nr__error_set(err, NR_EARG, "--tag", 0, 0, "invalid tag for a registry "
			"(want [A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters)");
		goto done;
	}
	if (tag == NULL) {
		error = nr__error_set(err, NR_EARG, dest ? dest : img->path, 0, 0,
			"pushing to a registry needs a tag (the image was named by digest): use "
			"--tag TAG or -o docker://HOST/REPO:TAG");
		goto done;
	}
	if (img->reg && strcmp(nr__registry_host(img->reg), ref.host) == 0 &&
	    strcmp(nr__registry_repo(img->reg), ref.repo) != 0)
		p.mount_from = nr__registry_repo(img->reg);
	if ((error = nr__registry_new(&p.dst, ref.host, ref.repo, &img->reg_conf, true,
			p.mount_from, err)) < 0)
		goto done;
	if (ntops == 1) {
		error = push_desc(&p, tops[0], tag, 0, err);
	} else {
		/* several top entries (an OCI layout's platforms): one index for the tag */
		json_t *idx = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
			MT_OCI_INDEX, "manifests");
		char *text = NULL, digest[NR_DIGEST_SIZE];
		for (k = 0; idx && k < ntops; k++) {
			json_t *d = json_deep_copy(tops[k]);
			if (d)
				nr__jdel(d, "annotations");
			if (d == NULL || json_array_append_new(json_object_get(idx, "manifests"), d) < 0) {
				json_decref(idx);
				idx = NULL;
			}
		}
		if (idx == NULL || (text = json_dumps(idx, JSON_COMPACT)) == NULL)
			error = nr__error_oom(err);
		else if ((error = nr__digest_of(text, strlen(text), digest, err)) == 0)
			error = push_json(&p, text, strlen(text), MT_OCI_INDEX, digest, tag, 0, err);
		free(text);
		json_decref(idx);
	}
done:
	nr__registry_free(p.dst);
	nr__reg_ref_dispose(&ref);
	return error;
}
