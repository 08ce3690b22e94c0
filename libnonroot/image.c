/*
 * image.c: the in-memory model of an opened image (index -> manifests -> config and layers),
 * its public accessors, edits and scan entry points, and the two entry points nr_image_open()
 * and nr_image_write() that dispatch to the transports:
 *   reference.c      image references (transport:path[:tag])
 *   layout_read.c    OCI layouts and OCI archives (index.json, nested indexes, manifests)
 *   docker_read.c    docker-archive manifest.json
 *   archive_unpack.c archives unpacked into a private directory
 *   layout_write.c   writing an OCI layout (staged blobs, new manifests and index)
 *   tar_write.c      writing a directory tree back as an archive
 *   docker_write.c   writing a docker-archive
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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_model.h"
#include "fileio.h"
#include "jsonload.h"
#include "registry.h"

/* ---- model -------------------------------------------------------------------------------- */

static void layer_dispose(layer *l)
{
	free(l->media_type);
	free(l->digest);
	free(l->relpath);
	json_decref(l->desc);
}

void nr__manifest_dispose(manifest *m)
{
	size_t j;

	free(m->platform);
	free(m->media_type);
	free(m->digest);
	json_decref(m->json);
	free(m->config);
	free(m->config_mt);
	free(m->config_digest);
	free(m->written_mt);
	free(m->config_relpath);
	free(m->old_config);
	for (j = 0; j < m->nlayers; j++)
		layer_dispose(&m->layers[j]);
	free(m->layers);
}

void nr__refresh_pub(manifest *m)
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

int nr__add_layer(manifest *m, const char *mt, const char *digest, uint64_t size,
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
	nr__refresh_pub(m);
	return 0;
}

void nr_image_free(nr_image *img)
{
	size_t i;

	if (img == NULL)
		return;
	for (i = 0; i < img->nm; i++)
		nr__manifest_dispose(&img->m[i]);
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
	free(img->written_mt);
	if (img->dirfd >= 0)
		close(img->dirfd);
	if (img->unpack)
		nr__rmtree(img->unpack);
	free(img->unpack);
	nr__staging_dispose(&img->staging);
	nr__registry_free(img->reg);
	nr__reg_conf_dispose(&img->reg_conf);
	nr__reg_ref_dispose(&img->rref);
	free(img->path);
	free(img->tag);
	free(img->tmpdir);
	free(img);
}

nr__staging *nr__image_staging(nr_image *img)
{
	return &img->staging;
}

int nr_image_open_options_init(nr_image_open_options *opts, unsigned int version)
{
	static const nr_image_open_options def = NR_IMAGE_OPEN_OPTIONS_INIT;

	if (opts == NULL || (version != NR_IMAGE_OPEN_OPTIONS_VERSION && version != 1))
		return NR_EARG;
	if (version == 1) {
		/* a version-1 struct ends after tmpdir */
		opts->version = 1;
		opts->platform = NULL;
		opts->tmpdir = NULL;
		return 0;
	}
	*opts = def;
	return 0;
}

int nr_image_open(nr_image **out, const char *ref, const nr_image_open_options *opts,
	nr_error *err)
{
	nr_image *img = NULL;
	const char *platform = NULL;
	struct stat st;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(ref, err);
	if (opts && (error = nr__check_version(err, "nr_image_open_options", opts->version,
	    NR_IMAGE_OPEN_OPTIONS_VERSION)) < 0)
		return error;
	if (opts && opts->platform) {
		if ((error = nr__check_platform(opts->platform, err)) < 0)
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
	img->reg_conf.insecure = opts && opts->version >= 2 && !opts->tls_verify;
	if (opts && opts->version >= 2 &&
	    ((opts->creds && (img->reg_conf.creds = nr__strdup(opts->creds)) == NULL) ||
	     (opts->authfile && (img->reg_conf.authfile = nr__strdup(opts->authfile)) == NULL) ||
	     (opts->cert_dir && (img->reg_conf.cert_dir = nr__strdup(opts->cert_dir)) == NULL)))
		goto oom;
	if ((error = nr__ref_parse(ref, &img->transport, &img->path, &img->tag, err)) < 0)
		goto fail;
	if (img->transport == NR_TRANSPORT_DOCKER) {
		if ((error = nr__reg_ref_parse(&img->rref, img->path, err)) < 0)
			goto fail;
		error = nr__open_registry(img, platform, err);
	} else if (img->transport == NR_TRANSPORT_OCI) {
		img->dirfd = open(img->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (img->dirfd < 0) {
			error = errno == ENOENT ?
				nr__error_set(err, NR_ENOTFOUND, img->path, 0, 0, "no such directory") :
				errno == ENOTDIR && stat(img->path, &st) == 0 && S_ISREG(st.st_mode) ?
				nr__error_set(err, NR_EINVALID, img->path, 0, 0, "oci: wants an OCI "
					"layout directory, this is a file: did you mean oci-archive:%s%s%s?",
					img->path, img->tag ? ":" : "", img->tag ? img->tag : "") :
				nr__error_errno(err, errno, img->path, "open");
			goto fail;
		}
		if (fstatat(img->dirfd, "oci-layout", &st, 0) < 0) {
			error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"not an OCI image layout (no oci-layout file)");
			goto fail;
		}
		error = nr__open_layout(img, platform, err);
	} else {
		bool has_index, has_docker;
		if (img->transport != -1 && stat(img->path, &st) == 0 && S_ISDIR(st.st_mode)) {
			error = nr__error_set(err, NR_EINVALID, img->path, 0, 0, "%s: wants an "
				"archive file, this is a directory: did you mean oci:%s%s%s?",
				img->transport == NR_TRANSPORT_OCI_ARCHIVE ? "oci-archive" :
				"docker-archive", img->path, img->tag ? ":" : "",
				img->tag ? img->tag : "");
			goto fail;
		}
		if ((error = nr__unpack_archive(img, err)) < 0)
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
			error = nr__open_layout(img, platform, err);
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
				char *text = NULL;
				size_t len;
				if ((error = nr__file_read_at(&text, &len, img->dirfd, "manifest.json",
						O_NOFOLLOW, NR_JSON_BLOB_MAX, "manifest.json", err)) < 0)
					goto fail;
				error = nr__json_load(&img->docker, text, len, "manifest.json",
					"invalid JSON: ", err);
				free(text);
				if (error < 0)
					goto fail;
				if (!json_is_array(img->docker)) {
					error = nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0,
						"not a JSON array");
					goto fail;
				}
				if (tag && tag[0] == '@')
					img->tag = NULL;
				error = nr__open_layout(img, platform, err);
				img->tag = tag;
				if (error == 0)
					error = nr__check_hybrid(img, platform, err);
			} else {
				error = nr__open_docker(img, platform, err);
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
	json_t *cfg = NULL, *diffs;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(req, err);
	if ((error = nr__check_version(err, "nr_scan_request", req->version,
	    NR_SCAN_REQUEST_VERSION)) < 0)
		return error;
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu (the image has %zu)",
			i, img->nm);
	m = &img->m[i];
	if ((refs = nr__calloc(m->nlayers + 1, sizeof(*refs))) == NULL ||
	    (names = nr__calloc(m->nlayers + 1, 65)) == NULL) {
		free(refs);
		return nr__error_oom(err);
	}
	/* Each layer's plain stream is checked against its diff_id, as containerd checks it. */
	if ((error = nr__json_parse(&cfg, m->config, m->config_len, "config", err)) < 0)
		goto done;
	diffs = nr__jget(nr__jget(cfg, "rootfs"), "diff_ids");
	if (json_array_size(diffs) != m->nlayers) {
		error = nr__error_set(err, NR_EINVALID, m->config_digest, 0, 0,
			"config rootfs.diff_ids lists %zu ids for %zu layers (containerd refuses "
			"such an image)", json_array_size(diffs), m->nlayers);
		goto done;
	}
	for (j = 0; j < m->nlayers; j++) {
		layer *l = &m->layers[j];
		refs[j].digest = l->digest;
		refs[j].media_type = l->media_type;
		refs[j].diff_id = json_string_value(json_array_get(diffs, j));
		if (refs[j].diff_id == NULL ||
		    nr__digest_check(refs[j].diff_id, NULL, NULL, NULL) < 0) {
			error = nr__error_set(err, NR_EINVALID, m->config_digest, 0, 0,
				"config rootfs.diff_ids[%zu] is not a sha256 digest", j);
			goto done;
		}
		refs[j].size = l->size;   /* docker-archive: the file's size when opened */
		if (l->relpath) {
			refs[j].dirfd = img->dirfd;
			refs[j].relpath = l->relpath;
			if (img->reg) {
				refs[j].fetch = nr__registry_layer_fetch;
				refs[j].fetch_ctx = img;
			}
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
	json_decref(cfg);
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

	nr__error_reset(err);
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

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(json, err);
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu", i);
	if ((error = nr__json_parse(&j, json, len, "config", err)) < 0)
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
	nr__refresh_pub(m);
	return 0;
}

int nr_image_add_layer(nr_image *img, size_t i, const nr_descriptor *desc, nr_error *err)
{
	uint64_t have;
	char path[96];
	struct stat st;
	int error;

	nr__error_reset(err);
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
	if (nr__add_layer(&img->m[i], desc->media_type, desc->digest, desc->size,
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

/* ---- nr_image_write ---------------------------------------------------------------------- */

static int add_repo_tag(json_t *entry, const char *tag)
{
	json_t *tags = nr__jget(entry, "RepoTags"), *t;
	size_t k;

	if (!json_is_array(tags)) {
		if ((tags = json_array()) == NULL || nr__jset_new(entry, "RepoTags", tags) < 0)
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
	const char *first = json_string_value(json_array_get(nr__jget(old_entry,
		"RepoTags"), 0));
	const char *colon = first ? strrchr(first, ':') : NULL;
	nr_buf b = NR_BUF_INIT;

	if (strchr(tag, ':') || first == NULL || colon == NULL || strchr(colon, '/'))
		nr_buf_puts(&b, tag);
	else
		nr_buf_printf(&b, "%.*s:%s", (int)(colon - first), first, tag);
	return nr_buf_detach(&b, NULL);
}

/*
 * The legacy (Docker 1.9) description of a docker-archive, `repositories` ({"repo": {"tag":
 * "<v1 id>"}}) and each top layer's "<v1 id>/json" (its image config): a tag that now names a
 * patched entry no longer maps to the old image's id, and the "<id>/json" and "<id>/VERSION" of
 * an id no tag maps to any more go, so that nothing in the archive still describes the old
 * image under that tag (loaders since Docker 1.10 and skopeo read manifest.json alone; the
 * patched image has no v1 id). `repositories` left empty is removed.
 */
static int drop_legacy_tags(int dfd, const json_t *patched, nr_error *err)
{
	json_t *repos = NULL, *gone = NULL, *e, *tags, *t, *m, *id;
	char *text = NULL, path[200];
	const char *rt, *colon, *repo, *tag, *idv;
	size_t len = 0, i, q;
	struct stat st;
	int error;
	bool changed = false;

	if (fstatat(dfd, "repositories", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return 0;
	if ((error = nr__file_read_at(&text, &len, dfd, "repositories", O_NOFOLLOW, 1u << 20,
			"repositories", err)) < 0)
		return error;
	error = nr__json_load(&repos, text, len, "repositories", "invalid JSON: ", err);
	free(text);
	if (error < 0)
		return error;
	if (!json_is_object(repos) || (gone = json_array()) == NULL) {
		error = json_is_object(repos) ? nr__error_oom(err) :
			nr__error_set(err, NR_EINVALID, "repositories", 0, 0, "not a JSON object");
		goto done;
	}
	json_array_foreach(patched, i, e) {
		tags = nr__jget(e, "RepoTags");
		json_array_foreach(tags, q, t) {
			if ((rt = json_string_value(t)) == NULL || (colon = strrchr(rt, ':')) == NULL ||
			    strchr(colon, '/'))
				continue;
			{
				char *r = strndup(rt, (size_t)(colon - rt));
				if (r == NULL) {
					error = nr__error_oom(err);
					goto done;
				}
				m = json_object_get(repos, r);
				id = json_object_get(m, colon + 1);
				if (json_is_string(id)) {
					json_array_append(gone, id);
					json_object_del(m, colon + 1);
					changed = true;
					if (json_object_size(m) == 0)
						json_object_del(repos, r);
				}
				free(r);
			}
		}
	}
	if (!changed)
		goto done;
	/* the ids no tag maps to any more */
	json_array_foreach(gone, i, id) {
		bool used = false;
		idv = json_string_value(id);
		json_object_foreach(repos, repo, m) {
			json_t *v;
			json_object_foreach(m, tag, v)
				if (json_string_value(v) && strcmp(json_string_value(v), idv) == 0)
					used = true;
		}
		if (used || strlen(idv) != 64 || strspn(idv, "0123456789abcdef") != 64)
			continue;
		snprintf(path, sizeof(path), "%s/json", idv);
		unlinkat(dfd, path, 0);
		snprintf(path, sizeof(path), "%s/VERSION", idv);
		unlinkat(dfd, path, 0);
		/* "<id>/layer.tar" stays: a layer (docker save) or a link to one (skopeo) that
		 * the patched image still has; it says nothing about the old config */
	}
	if (json_object_size(repos) == 0) {
		if (unlinkat(dfd, "repositories", 0) < 0 && errno != ENOENT)
			error = nr__error_errno(err, errno, "repositories", "remove");
	} else {
		error = nr__write_json_at(dfd, "repositories", repos, err);
	}
done:
	json_decref(gone);
	json_decref(repos);
	return error;
}

/* Update manifest.json (a copy of img->docker) in tree dfd for the edited manifests. */
static int update_docker_manifest(nr_image *img, int dfd, const char *tag, nr_error *err)
{
	json_t *arr = json_deep_copy(img->docker), *patched = json_array(), *old_cfgs = json_array();
	size_t i, k;
	int error = 0;

	if (arr == NULL || patched == NULL || old_cfgs == NULL) {
		json_decref(arr);
		json_decref(patched);
		json_decref(old_cfgs);
		return nr__error_oom(err);
	}
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		json_t *old = NULL, *neu = NULL;
		size_t pos = SIZE_MAX;
		if (!m->dirty)
			continue;
		if (img->hybrid) {
			/* the entry whose Config is this manifest's opened config */
			for (k = 0; k < json_array_size(arr); k++) {
				const char *c = nr__jstr(json_array_get(arr, k), "Config");
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
				if (ls == NULL || nr__jset_new(neu, "Config", json_string(p)) < 0 ||
				    nr__jset_new(neu, "Layers", ls) < 0)
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
			if (nr__jstr(old, "Config") &&
			    json_array_append_new(old_cfgs, json_string(nr__jstr(old, "Config"))) < 0)
				goto oom;
			if ((error = nr__docker_entry(img, dfd, m, true, &neu, err)) < 0)
				goto done;
			nr__jset(neu, "RepoTags", nr__jget(old, "RepoTags"));
		}
		if (tag) {
			char *t = docker_tag(old, tag);
			json_t *tags = json_array();
			if (t == NULL || tags == NULL) {
				free(t);
				json_decref(tags);
				goto oom;
			}
			nr__jset_new(neu, "RepoTags", tags);
			error = add_repo_tag(neu, t);
			/* the tag moves: drop it from other entries */
			for (k = 0; k < json_array_size(arr); k++) {
				json_t *ts = nr__jget(json_array_get(arr, k), "RepoTags"), *x;
				size_t q;
				json_array_foreach(ts, q, x)
					if (json_string_value(x) && strcmp(json_string_value(x), t) == 0) {
						json_array_remove(ts, q);
						break;
					}
			}
			free(t);
			if (error < 0 || json_array_append(patched, neu) < 0 ||
			    json_array_append_new(arr, neu) < 0)
				goto oom;
		} else if (json_array_append(patched, neu) < 0 ||
			   json_array_set_new(arr, pos, neu) < 0) {
			goto oom;
		}
	}
	if ((error = nr__write_json_at(dfd, "manifest.json", arr, err)) < 0)
		goto done;
	error = drop_legacy_tags(dfd, patched, err);
	/* the old configs no entry names any more (the old image's, User root) */
	for (i = 0; error == 0 && !img->hybrid && i < json_array_size(old_cfgs); i++) {
		const char *c = json_string_value(json_array_get(old_cfgs, i));
		bool used = false;
		for (k = 0; k < json_array_size(arr); k++) {
			const char *u = nr__jstr(json_array_get(arr, k), "Config");
			if (u && strcmp(u, c) == 0)
				used = true;
		}
		if (!used && strlen(c) == 69 && strspn(c, "0123456789abcdef") == 64 &&
		    strcmp(c + 64, ".json") == 0)
			unlinkat(dfd, c, 0);
	}
	goto done;
oom:
	error = nr__error_oom(err);
done:
	json_decref(old_cfgs);
	json_decref(patched);
	json_decref(arr);
	return error;
}

/* Take an exclusive flock on fd, waiting for another nonroot that holds it. */
static int lock_fd(int fd, const char *what, nr_error *err)
{
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return nr__error_errno(err, errno, what, "lock");
	}
	return 0;
}

static bool tag_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A tag every consumer takes: the OCI distribution grammar [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
 * AND the image-spec grammar of org.opencontainers.image.ref.name that skopeo's oci:
 * transport enforces: alphanumerics with single separators ('.', '_', '-' or "--") between
 * them ("UPPER..x", "_x", "x-" and "a:b" are refused). */
static bool tag_ok(const char *t, size_t n)
{
	size_t k = 0;

	if (n == 0 || n > 128)
		return false;
	for (;;) {
		if (k >= n || !tag_alnum(t[k]))
			return false;
		while (k < n && tag_alnum(t[k]))
			k++;
		if (k == n)
			return true;
		if (t[k] == '-' && k + 1 < n && t[k + 1] == '-')
			k += 2;
		else if (t[k] == '.' || t[k] == '_' || t[k] == '-')
			k++;
		else
			return false;
	}
}

static int bad_tag(nr_error *err, const char *where, const char *tag)
{
	return nr__error_set(err, NR_EARG, where, 0, 0, "invalid tag '%s': a tag is 1 to 128 "
		"letters and digits with single separators ('.', '_', '-' or '--') between them "
		"(the OCI distribution grammar, and ref.name as skopeo reads it)", tag);
}

/* Everything nr_image_write() checks before it writes: options, the tag grammar, the
 * destination reference, one tag at most, a docker archive's single platform. On success
 * *transport, *dpath, *dtag (owned) and *tag (borrowed from opts or *dtag) are set. */
static int write_check(const nr_image *img, const char *dest, const nr_image_write_options *opts,
	int *transport, char **dpath, char **dtag, const char **tag, nr_error *err)
{
	int error;

	*dpath = *dtag = NULL;
	*tag = opts ? opts->tag : NULL;
	if (opts && (error = nr__check_version(err, "nr_image_write_options", opts->version,
	    NR_IMAGE_WRITE_OPTIONS_VERSION)) < 0)
		return error;
	if (*tag && !tag_ok(*tag, strlen(*tag)))
		return bad_tag(err, "--tag", *tag);
	if ((dest == NULL && img->transport == NR_TRANSPORT_DOCKER) ||
	    (dest && strncmp(dest, "docker://", 9) == 0)) {
		*transport = NR_TRANSPORT_DOCKER;   /* the registry code reads the reference */
		return 0;
	}
	if (dest == NULL) {
		*transport = img->transport;
		if ((*dpath = nr__strdup(img->path)) == NULL)
			return nr__error_oom(err);
		return 0;
	}
	if ((error = nr__ref_parse(dest, transport, dpath, dtag, NULL)) < 0 && *transport <= 0) {
		error = nr__error_set(err, NR_EINVALID, dest, 0, 0,
			"destination must be oci:DIR[:TAG], oci-archive:FILE[:TAG], "
			"docker-archive:FILE[:NAME:TAG] or docker://HOST/REPO[:TAG]");
		goto fail;
	}
	if (*transport == -1) {
		error = nr__error_set(err, NR_EINVALID, dest, 0, 0,
			"destination exists and is not a directory: name its transport "
			"(oci-archive: or docker-archive:)");
		goto fail;
	}
	if (*dtag) {
		/* docker-archive:FILE:NAME:TAG: the tag is what follows the name */
		const char *t = *dtag, *slash = strrchr(t, '/'), *colon;
		if (*transport == NR_TRANSPORT_DOCKER_ARCHIVE) {
			colon = strrchr(slash ? slash : t, ':');
			t = colon ? colon + 1 : NULL;
		}
		if (t && !tag_ok(t, strlen(t))) {
			error = bad_tag(err, dest, t);
			goto fail;
		}
		if (*tag && strcmp(*tag, t ? t : *dtag) != 0 && strcmp(*tag, *dtag) != 0) {
			error = nr__error_set(err, NR_EARG, "--tag", 0, 0, "two tags: the destination "
				"%s names '%s' and --tag names '%s': give one (the destination's tag, or "
				"--tag with a destination without one)", dest, *dtag, *tag);
			goto fail;
		}
		*tag = *dtag;
	}
	if (*transport == NR_TRANSPORT_DOCKER_ARCHIVE && img->nm != 1 &&
	    !(dest == NULL || (img->path && strcmp(*dpath, img->path) == 0))) {
		error = nr__error_set(err, NR_EUNSUPPORTED, dest, 0, 0,
			"a docker archive holds one platform; the image has %zu (pick one with "
			"--platform)", img->nm);
		goto fail;
	}
	return 0;
fail:
	free(*dpath);
	free(*dtag);
	*dpath = *dtag = NULL;
	return error;
}

int nr_image_write_check(const nr_image *img, const char *dest,
	const nr_image_write_options *opts, nr_error *err)
{
	char *dpath = NULL, *dtag = NULL;
	const char *tag;
	int transport, error;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	error = write_check(img, dest, opts, &transport, &dpath, &dtag, &tag, err);
	free(dpath);
	free(dtag);
	return error;
}

/* After a successful write: what was written (nr_image_written(), nr_image_written_manifest()).
 * A docker-archive holds no manifest: nothing is recorded. */
static int record_written(nr_image *img, json_t **tops, size_t ntops, bool docker_archive,
	nr_error *err)
{
	size_t i;

	img->written = false;
	for (i = 0; i < img->nm; i++)
		img->m[i].written = false;
	if (docker_archive)
		return 0;
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		bool staged = m->dirty || m->json == NULL;
		const char *mt = m->json ? m->media_type : MT_OCI_MANIFEST;
		if (!staged && m->digest == NULL)
			continue;
		free(m->written_mt);
		if ((m->written_mt = nr__strdup(mt ? mt : MT_OCI_MANIFEST)) == NULL)
			return nr__error_oom(err);
		snprintf(m->written_digest, sizeof(m->written_digest), "%s",
			staged ? m->staged_digest : m->digest);
		m->written_pub.media_type = m->written_mt;
		m->written_pub.digest = m->written_digest;
		m->written_pub.size = staged ? m->staged_size : m->size;
		m->written = true;
	}
	if (ntops == 1 && tops[0]) {
		const char *mt = nr__jstr(tops[0], "mediaType"), *digest = nr__jstr(tops[0], "digest");
		const json_t *size = nr__jget(tops[0], "size");
		if (digest == NULL || !json_is_integer(size) || json_integer_value(size) < 0)
			return 0;
		free(img->written_mt);
		if ((img->written_mt = nr__strdup(mt ? mt : MT_OCI_MANIFEST)) == NULL)
			return nr__error_oom(err);
		snprintf(img->written_digest, sizeof(img->written_digest), "%s", digest);
		img->written_pub.media_type = img->written_mt;
		img->written_pub.digest = img->written_digest;
		img->written_pub.size = (uint64_t)json_integer_value(size);
		img->written = true;
	}
	return 0;
}

const nr_descriptor *nr_image_written(const nr_image *img)
{
	return img && img->written ? &img->written_pub : NULL;
}

const nr_descriptor *nr_image_written_manifest(const nr_image *img, size_t i)
{
	return img && i < img->nm && img->m[i].written ? &img->m[i].written_pub : NULL;
}

int nr_image_write(nr_image *img, const char *dest, const nr_image_write_options *opts,
	nr_error *err)
{
	int transport = 0, error, dfd = -1, afd = -1;
	char *dpath = NULL, *dtag = NULL, *tree = NULL;
	const char *tag;
	json_t *new_index = NULL, **tops = NULL;
	size_t ntops = 0, k;
	bool same, record = false;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	if ((dest == NULL && img->transport == NR_TRANSPORT_DOCKER) ||
	    (dest && strncmp(dest, "docker://", 9) == 0)) {
		/* a registry: the edited top descriptor(s), then push */
		if ((error = write_check(img, dest, opts, &transport, &dpath, &dtag, &tag, err)) < 0)
			goto done;
		ntops = img->index ? img->ntop : 1;
		if ((tops = nr__calloc(ntops + 1, sizeof(*tops))) == NULL)
			goto oom;
		if ((error = nr__prepare(img, &new_index, tops, err)) < 0)
			goto done;
		error = nr__write_registry(img, dest ? dest + 9 : NULL, tag, tops, ntops, err);
		if (error == 0)
			error = record_written(img, tops, ntops, false, err);
		goto done;
	}
	if (img->reg && (error = nr__registry_fetch_all(img, err)) < 0)
		return error;
	if ((error = write_check(img, dest, opts, &transport, &dpath, &dtag, &tag, err)) < 0)
		return error;
	ntops = img->index ? img->ntop : 1;
	if ((tops = nr__calloc(ntops + 1, sizeof(*tops))) == NULL)
		goto oom;
	if ((error = nr__prepare(img, &new_index, tops, err)) < 0)
		goto done;
	record = true;
	/* Writing into the layout or archive the image came from? Only then are its other
	 * entries kept (a clone of the unpacked archive); a new destination holds only this
	 * image, under the requested tag (issue 12). */
	same = transport == img->transport && (dest == NULL || (dpath && img->path &&
		strcmp(dpath, img->path) == 0));
	if (!same && transport == img->transport) {
		struct stat a, b;
		if (transport == NR_TRANSPORT_OCI) {
			if (stat(dpath, &a) == 0 && fstat(img->dirfd, &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
				same = true;
		} else if (img->path && stat(dpath, &a) == 0 && stat(img->path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			same = true;
		}
	}
	if (transport == NR_TRANSPORT_OCI) {
		if (same) {
			/* Writers of one layout take turns (flock on its directory); the index is
			 * re-read under the lock, so concurrent patches both land. */
			if ((error = lock_fd(img->dirfd, img->path, err)) < 0)
				goto done;
			error = nr__write_layout(img, img->dirfd, true, tag, new_index, tops, ntops, err);
			flock(img->dirfd, LOCK_UN);
			goto done;
		}
		/* A directory made here is opened without following a link (one planted in
		 * its place is refused); an existing one is the user's to name. */
		if (mkdir(dpath, 0755) == 0)
			dfd = open(dpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		else if (errno == EEXIST)
			dfd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else {
			error = nr__error_errno(err, errno, dpath, "mkdir");
			goto done;
		}
		if (dfd < 0) {
			error = nr__error_errno(err, errno, dpath, "open");
			goto done;
		}
		if ((error = lock_fd(dfd, dpath, err)) < 0)
			goto done;
		error = nr__write_layout(img, dfd, false, tag, NULL, tops, ntops, err);
		goto done;   /* the lock goes with dfd */
	}
	/* Archives: build a tree in a temp dir, then tar it over the destination atomically. */
	if ((error = nr__mkdtemp(&tree, img->tmpdir, "out", err)) < 0)
		goto done;
	if ((dfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = nr__error_errno(err, errno, tree, "open");
		goto done;
	}
	if (same && (error = nr__clone_tree(img->dirfd, dfd, "", err)) < 0)
		goto done;
	if (transport == NR_TRANSPORT_OCI_ARCHIVE) {
		error = nr__write_layout(img, dfd, same, tag, new_index, tops, ntops, err);
	} else if (same) {
		if (img->hybrid &&
		    (error = nr__write_layout(img, dfd, true, tag, new_index, tops, ntops, err)) < 0)
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
		if ((error = nr__docker_entry(img, dfd, &img->m[0], false, &entry, err)) < 0)
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
		error = nr__write_json_at(dfd, "manifest.json", arr, err);
		json_decref(arr);
	}
	if (error < 0)
		goto done;
	if (same && img->have_src_st && img->path && strcmp(dpath, img->path) == 0) {
		/* Writing the archive back: under a lock on it, and only if it is still the file
		 * that was read (else another writer's result would be lost). */
		struct stat now;
		if ((afd = open(dpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
			error = nr__error_errno(err, errno, dpath, "open");
			goto done;
		}
		if ((error = lock_fd(afd, dpath, err)) < 0)
			goto done;
		if (stat(dpath, &now) < 0 || now.st_dev != img->src_st.st_dev ||
		    now.st_ino != img->src_st.st_ino || now.st_size != img->src_st.st_size ||
		    now.st_mtim.tv_sec != img->src_st.st_mtim.tv_sec ||
		    now.st_mtim.tv_nsec != img->src_st.st_mtim.tv_nsec) {
			error = nr__error_set(err, NR_ECONFLICT, dpath, 0, 0,
				"the archive changed while it was being patched (another writer?): "
				"run the patch again");
			goto done;
		}
	}
	error = nr__tar_tree(dfd, same ? img : NULL, dpath, err);
	goto done;
oom:
	error = nr__error_oom(err);
done:
	if (dfd >= 0)
		close(dfd);
	if (afd >= 0)
		close(afd);
	if (tree)
		nr__rmtree(tree);
	free(tree);
	if (error == 0 && record)
		error = record_written(img, tops, ntops, transport == NR_TRANSPORT_DOCKER_ARCHIVE, err);
	for (k = 0; tops && k < ntops; k++)
		json_decref(tops[k]);
	free(tops);
	json_decref(new_index);
	free(dpath);
	free(dtag);
	return error;
}
