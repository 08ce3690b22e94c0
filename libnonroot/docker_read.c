/*
 * docker_read.c: reading a docker-archive's manifest.json into the model.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_model.h"
#include "fileio.h"
#include "jsonload.h"
#include "parse.h"

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
	nr__buf b = NR__BUF_INIT;
	bool ok = nr__path_clean(&b, p, strlen(p)) == 0 && b.size > 0 && strcmp(b.ptr, p) == 0;

	nr__buf_dispose(&b);
	return ok;
}

/* No entry carries img->tag: NR_ENOTFOUND listing the tags there are. */
static int no_such_tag(const nr_image *img, const json_t *arr, nr_error *err)
{
	nr__taglist tl = { .n = 0 };
	char *hint;
	size_t k, j;
	int error;

	for (k = 0; k < json_array_size(arr); k++) {
		json_t *tags = nr__jget(json_array_get(arr, k), "RepoTags"), *t;
		json_array_foreach(tags, j, t)
			nr__taglist_add(&tl, json_string_value(t));
	}
	if ((hint = nr__taglist_str(&tl)) == NULL)
		return nr__error_oom(err);
	error = nr__error_set(err, NR_ENOTFOUND, "manifest.json", 0, 0,
		"no image tagged %s in the archive%s", img->tag, hint);
	free(hint);
	return error;
}

/* The entry of manifest.json (arr) the reference names: ":@N", ":[NAME:]TAG" (a RepoTag, or
 * its end after a '/'), or the only one. *entry borrowed, img->docker_entry its index. */
static int select_entry(nr_image *img, json_t *arr, json_t **entry, nr_error *err)
{
	size_t k, j;

	*entry = NULL;
	if (img->tag && img->tag[0] == '@') {
		uint64_t idx;
		if (nr__parse_u64(img->tag + 1, strlen(img->tag + 1), SIZE_MAX, &idx) < 0 ||
		    (*entry = json_array_get(arr, (size_t)idx)) == NULL)
			return nr__error_set(err, NR_ENOTFOUND, "manifest.json", 0, 0,
				"no image %s in the archive", img->tag);
		img->docker_entry = (size_t)idx;
		return 0;
	}
	if (img->tag == NULL) {
		if (json_array_size(arr) > 1)
			return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
				"the archive holds %zu images: name one with :NAME:TAG or :@N",
				json_array_size(arr));
		*entry = json_array_get(arr, 0);
		img->docker_entry = 0;
		return 0;
	}
	for (k = 0; k < json_array_size(arr) && !*entry; k++) {
		json_t *tags = nr__jget(json_array_get(arr, k), "RepoTags"), *t;
		json_array_foreach(tags, j, t) {
			const char *s = json_string_value(t);
			size_t sn = s ? strlen(s) : 0, tn = strlen(img->tag);
			if (s && (strcmp(s, img->tag) == 0 || (sn > tn &&
			    s[sn - tn - 1] == '/' && strcmp(s + sn - tn, img->tag) == 0))) {
				*entry = json_array_get(arr, k);
				img->docker_entry = k;
				break;
			}
		}
	}
	return *entry ? 0 : no_such_tag(img, arr, err);
}

/* The entry's Config (*cpath) and Layers (*layers), all plain paths inside the archive. */
static int entry_paths(const nr_image *img, const json_t *entry, const char **cpath,
	json_t **layers, nr_error *err)
{
	json_t *l;
	size_t j;

	*cpath = nr__jstr(entry, "Config");
	*layers = nr__jget(entry, "Layers");
	if (*cpath == NULL || !json_is_array(*layers))
		return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
			"entry %zu lacks Config or Layers", img->docker_entry);
	if (!member_path_ok(*cpath))
		return nr__error_set(err, NR_EESCAPE, "manifest.json", 0, 0,
			"Config path %.100s is not a plain path inside the archive", *cpath);
	json_array_foreach(*layers, j, l) {
		const char *lp = json_string_value(l);
		if (lp == NULL || !member_path_ok(lp))
			return nr__error_set(err, NR_EESCAPE, "manifest.json", 0, 0,
				"Layers[%zu] is not a plain path inside the archive", j);
	}
	return 0;
}

/* m's config from member cpath: verified when its name is its digest, else hashed. */
static int read_config(nr_image *img, manifest *m, const char *cpath, nr_error *err)
{
	char cdigest[NR_DIGEST_SIZE];
	int error;

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
	return 0;
}

/* m's layers: the member files of `layers`, each named by its diff_id in config cfgj. */
static int add_layers(nr_image *img, manifest *m, const char *cpath, const json_t *layers,
	const json_t *cfgj, nr_error *err)
{
	const json_t *diffs = nr__jget(nr__jget(cfgj, "rootfs"), "diff_ids");
	size_t j;

	if (!json_is_array(diffs) || json_array_size(diffs) != json_array_size(layers))
		return nr__error_set(err, NR_EINVALID, cpath, 0, 0,
			"rootfs.diff_ids does not list one id per layer of manifest.json");
	for (j = 0; j < json_array_size(layers); j++) {
		const char *lp = json_string_value(json_array_get(layers, j));
		const char *did = json_string_value(json_array_get(diffs, j));
		struct stat st;
		if (lp == NULL || did == NULL || nr__digest_check(did, NULL, cpath, err) < 0)
			return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
				"layer %zu: bad path or diff_id", j);
		if (fstatat(img->dirfd, lp, &st, 0) < 0)
			return nr__error_set(err, NR_ENOTFOUND, lp, 0, 0,
				"layer listed in manifest.json is missing from the archive");
		/* docker save stores layers uncompressed: the file's digest is its diff_id */
		if (nr__add_layer(m, MT_DOCKER_LAYER, did, (uint64_t)st.st_size, lp, NULL) < 0)
			return nr__error_oom(err);
	}
	return 0;
}

int nr__open_docker(nr_image *img, const char *platform, nr_error *err)
{
	char *text = NULL;
	size_t len;
	json_t *arr, *entry, *cfgj = NULL, *layers;
	const char *cpath;
	manifest *m;
	int error;

	if ((error = nr__file_read_at(&text, &len, img->dirfd, "manifest.json", O_NOFOLLOW,
			NR_JSON_BLOB_MAX, "manifest.json", err)) < 0)
		return error;
	error = nr__json_load(&arr, text, len, "manifest.json", "invalid JSON: ", err);
	free(text);
	if (error < 0)
		return error;
	img->docker = arr;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
			"not a non-empty JSON array");
	if ((error = select_entry(img, arr, &entry, err)) < 0 ||
	    (error = entry_paths(img, entry, &cpath, &layers, err)) < 0)
		return error;
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
	if ((error = read_config(img, m, cpath, err)) < 0 ||
	    (error = nr__json_parse(&cfgj, m->config, m->config_len, cpath, err)) < 0)
		return error;
	if ((error = add_layers(img, m, cpath, layers, cfgj, err)) < 0) {
		json_decref(cfgj);
		return error;
	}
	m->platform = nr__platform_string(nr__jstr(cfgj, "os"), nr__jstr(cfgj, "architecture"),
		nr__jstr(cfgj, "variant"));
	json_decref(cfgj);
	if (m->platform == NULL)
		return nr__error_oom(err);
	nr__refresh_pub(m);
	if (platform && !nr__platform_matches(platform, m->platform))
		return nr__error_set(err, NR_ENOTFOUND, "manifest.json", 0, 0,
			"the image is %s, not %s", m->platform, platform);
	return 0;
}

/* Does manifest.json entry `e` carry the tag `tag` (as nr__open_docker matches it)? */
static bool entry_has_tag(const json_t *e, const char *tag)
{
	json_t *tags = nr__jget(e, "RepoTags"), *t;
	size_t j, tn = strlen(tag);

	json_array_foreach(tags, j, t) {
		const char *s = json_string_value(t);
		size_t sn = s ? strlen(s) : 0;
		if (s && (strcmp(s, tag) == 0 || (sn > tn && s[sn - tn - 1] == '/' &&
		    strcmp(s + sn - tn, tag) == 0)))
			return true;
	}
	return false;
}

/* Is `p` "blobs/sha256/<hex of digest>"? */
static bool is_blob_of(const char *p, const char *digest)
{
	return p && digest && strncmp(p, "blobs/sha256/", 13) == 0 &&
		strncmp(digest, "sha256:", 7) == 0 && strcmp(p + 13, digest + 7) == 0;
}

/*
 * A Docker 25+ archive holds both index.json (read by nonroot, containerd and the containerd
 * image store) and manifest.json (read by `docker load` with the classic store, and skopeo's
 * docker-archive:). Both must describe the same images, else what nonroot audits is not what
 * such a runtime loads. Every manifest.json entry in scope (the tag's, or all) must name the
 * config of an image opened from index.json as its blob and list exactly its layers; an entry
 * for another platform than --platform's is out of scope. Images only index.json names (the
 * other platforms of a multi-platform index) are allowed: docker load does not see them.
 */
int nr__check_hybrid(nr_image *img, const char *platform, nr_error *err)
{
	json_t *arr = img->docker, *e;
	size_t k, i, j;
	int error;

	json_array_foreach(arr, k, e) {
		const char *cpath = nr__jstr(e, "Config");
		json_t *layers = nr__jget(e, "Layers");
		manifest *m = NULL;

		if (img->tag && img->tag[0] != '@' && !entry_has_tag(e, img->tag))
			continue;
		for (i = 0; i < img->nm && m == NULL; i++)
			if (is_blob_of(cpath, img->m[i].config_digest))
				m = &img->m[i];
		if (m == NULL && platform && cpath && strncmp(cpath, "blobs/sha256/", 13) == 0 &&
		    strlen(cpath) == 13 + 64) {
			/* out of scope when its config is verifiably another platform's */
			char d[NR_DIGEST_SIZE];
			json_t *cfg = NULL;
			char *p;
			bool other;
			snprintf(d, sizeof(d), "sha256:%s", cpath + 13);
			if ((error = nr__load_json_blob(&cfg, img, d, UINT64_MAX, err)) < 0)
				return error;
			p = nr__platform_string(nr__jstr(cfg, "os"), nr__jstr(cfg, "architecture"),
				nr__jstr(cfg, "variant"));
			json_decref(cfg);
			if (p == NULL)
				return nr__error_oom(err);
			other = !nr__platform_matches(platform, p);
			free(p);
			if (other)
				continue;
		}
		if (m == NULL)
			return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
				"index.json and manifest.json name different images: manifest.json "
				"entry %zu has Config %.80s, index.json's image has config %.19s "
				"(docker load would read another image)", k, cpath ? cpath : "(none)",
				img->nm ? img->m[0].config_digest : "(none)");
		if (!json_is_array(layers) || json_array_size(layers) != m->nlayers)
			return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
				"index.json and manifest.json disagree on config %.19s: manifest.json "
				"entry %zu lists %zu layers, index.json's manifest %.19s has %zu",
				m->config_digest, k, json_array_size(layers), m->digest ? m->digest : "",
				m->nlayers);
		for (j = 0; j < m->nlayers; j++) {
			const char *lp = json_string_value(json_array_get(layers, j));
			if (!is_blob_of(lp, m->layers[j].digest))
				return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
					"index.json and manifest.json disagree on layer %zu of config "
					"%.19s: manifest.json entry %zu has %.80s, index.json's manifest "
					"has %.19s", j, m->config_digest, k, lp ? lp : "(none)",
					m->layers[j].digest);
		}
	}
	return 0;
}
