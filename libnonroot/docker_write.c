/*
 * docker_write.c: writing a docker-archive: layers as uncompressed tars, manifest.json (a new
 * archive's, or an archive's own updated for the edited manifests), repository tags and the
 * legacy `repositories` description.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "image_model.h"
#include "fileio.h"

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

/* Write the plain stream of layer `digest` (archive a, reading from io) to fd out (file
 * `name`); *got its sha256. */
static int write_plain(struct archive *a, rawio *io, int out, const char *name,
	const char *digest, char got[NR_DIGEST_SIZE], nr_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	char buf[65536];
	la_ssize_t n;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return nr__error_oom(err);
	}
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		int rc;
		EVP_DigestUpdate(md, buf, (size_t)n);
		if ((rc = nr__write_all(out, buf, (size_t)n)) < 0) {
			EVP_MD_CTX_free(md);
			return nr__error_errno(err, -rc, name, "write");
		}
	}
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_MD_CTX_free(md);
	if (n < 0)
		return io->error ? io->error : nr__error_set(err, NR_EINVALID, digest, 0, 0,
			"cannot decompress layer: %s", archive_error_string(a));
	nr__md_to_digest(h, got);
	return 0;
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
	char tmp[320];
	bool have_tmp = false;

	if ((error = nr__locate(img, l->digest, &sfd, from, sizeof(from), err)) < 0)
		return error;
	snprintf(name, 80, "%s.tar", want_diff + 7);
	if (faccessat(dfd, name, F_OK, 0) == 0)
		return 0;
	if (strstr(l->media_type, "gzip") == NULL && strstr(l->media_type, "zstd") == NULL) {
		/* uncompressed already: its digest is its diff_id */
		if (strcmp(l->digest, want_diff) != 0)
			return nr__error_set(err, NR_EINVALID, l->digest, 0, 0,
				"uncompressed layer digest differs from its diff_id %s", want_diff);
		return nr__file_copy_at(sfd, from, dfd, name, l->digest, err);
	}
	if ((io = nr__calloc(1, sizeof(*io))) == NULL)
		return nr__error_oom(err);
	io->err = err;
	if ((error = nr__blob_stream_open(&io->bs, sfd, from, l->digest, l->size, err)) < 0)
		goto done;
	if ((out = nr__temp_create_at(dfd, name, 0644, false, tmp, sizeof(tmp), name,
			err)) < 0) {
		error = out;
		goto done;
	}
	have_tmp = true;
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
	if ((error = write_plain(a, io, out, name, l->digest, got, err)) < 0)
		goto done;
	if ((error = nr__blob_stream_finish(io->bs, err)) < 0)
		goto done;
	if (strcmp(got, want_diff) != 0) {
		error = nr__error_set(err, NR_EDIGEST, l->digest, 0, 0,
			"uncompressed layer hashes to %s, the config's diff_id is %s", got, want_diff);
		goto done;
	}
	if (fsync(out) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
		error = nr__error_errno(err, errno, name, "write");
	} else {
		have_tmp = false;
		nr__temp_untrack_at(tmp);
	}
done:
	if (a)
		archive_read_free(a);
	if (out >= 0)
		close(out);
	if (have_tmp) {
		unlinkat(dfd, tmp, 0);
		nr__temp_untrack_at(tmp);
	}
	if (io)
		nr__blob_stream_free(io->bs);
	free(io);
	return error;
}

/* manifest.json entry for manifest m written into dfd (config "<hex>.json", "<diff>.tar"). */
int nr__docker_entry(nr_image *img, int dfd, manifest *m, bool reuse, json_t **out,
	nr_error *err)
{
	json_t *cfg = NULL, *diffs, *layers = NULL;
	char cname[80], from[4200];
	size_t j;
	int sfd, error;

	*out = NULL;
	if ((error = nr__json_parse(&cfg, m->config, m->config_len, m->config_digest, err)) < 0)
		return error;
	diffs = nr__jget(nr__jget(cfg, "rootfs"), "diff_ids");
	if (!json_is_array(diffs) || json_array_size(diffs) != m->nlayers) {
		json_decref(cfg);
		return nr__error_set(err, NR_EINVALID, m->config_digest, 0, 0,
			"config rootfs.diff_ids has %zu ids for %zu layers",
			json_array_size(diffs), m->nlayers);
	}
	snprintf(cname, sizeof(cname), "%s.json", m->config_digest + 7);
	if ((error = nr__locate(img, m->config_digest, &sfd, from, sizeof(from), err)) < 0 ||
	    (error = nr__file_copy_at(sfd, from, dfd, cname, m->config_digest, err)) < 0)
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

/* ---- manifest.json ------------------------------------------------------------------------- */

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
	nr__buf b = NR__BUF_INIT;

	if (strchr(tag, ':') || first == NULL || colon == NULL || strchr(colon, '/'))
		nr__buf_puts(&b, tag);
	else
		nr__buf_printf(&b, "%.*s:%s", (int)(colon - first), first, tag);
	return nr__buf_detach(&b, NULL);
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

/* A hybrid archive's manifest.json entry for edited manifest m: the entry of arr whose Config
 * is m's config as opened (*pos; SIZE_MAX and *neu NULL when none is), copied into *neu with
 * Config and Layers naming the OCI blobs. @return 0 or NR_ENOMEM. */
static int hybrid_entry(const manifest *m, json_t *arr, size_t *pos, json_t **neu)
{
	char p[96];
	json_t *ls;
	size_t j, k;

	*pos = SIZE_MAX;
	*neu = NULL;
	for (k = 0; k < json_array_size(arr); k++) {
		const char *c = nr__jstr(json_array_get(arr, k), "Config");
		if (c && m->old_config && strcmp(c, m->old_config) == 0) {
			*pos = k;
			break;
		}
	}
	if (*pos == SIZE_MAX)
		return 0;
	if ((*neu = json_deep_copy(json_array_get(arr, *pos))) == NULL)
		return NR_ENOMEM;
	ls = json_array();
	snprintf(p, sizeof(p), "blobs/sha256/%s", m->config_digest + 7);
	if (ls == NULL || nr__jset_new(*neu, "Config", json_string(p)) < 0 ||
	    nr__jset_new(*neu, "Layers", ls) < 0)
		goto oom;
	for (j = 0; j < m->nlayers; j++) {
		snprintf(p, sizeof(p), "blobs/sha256/%s", m->layers[j].digest + 7);
		if (json_array_append_new(ls, json_string(p)) < 0)
			goto oom;
	}
	return 0;
oom:
	json_decref(*neu);
	*neu = NULL;
	return NR_ENOMEM;
}

/* Entry neu takes tag (a bare TAG named as old's first RepoTag is): its only RepoTag, taken
 * from every other entry of arr; neu is appended to arr and patched (arr's reference is
 * neu's own). */
static int move_tag(json_t *arr, json_t *patched, const json_t *old, json_t *neu,
	const char *tag)
{
	char *t = docker_tag(old, tag);
	json_t *tags = json_array();
	size_t k;
	int error;

	if (t == NULL || tags == NULL) {
		free(t);
		json_decref(tags);
		json_decref(neu);
		return NR_ENOMEM;
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
	if (error < 0 || json_array_append(patched, neu) < 0 || json_array_append_new(arr, neu) < 0)
		return NR_ENOMEM;
	return 0;
}

/* The configs of old_cfgs that no entry of arr names any more (the old image's, User root)
 * are removed from dfd; only names of the form "<64 hex>.json". */
static void drop_unused_configs(int dfd, const json_t *arr, const json_t *old_cfgs)
{
	size_t i, k;

	for (i = 0; i < json_array_size(old_cfgs); i++) {
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
}

/* Update manifest.json (a copy of img->docker) in tree dfd for the edited manifests. */
int nr__docker_update_manifest(nr_image *img, int dfd, const char *tag, nr_error *err)
{
	json_t *arr = json_deep_copy(img->docker), *patched = json_array(), *old_cfgs = json_array();
	size_t i;
	int error = 0;

	if (arr == NULL || patched == NULL || old_cfgs == NULL)
		goto oom;
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		json_t *old = NULL, *neu = NULL;
		size_t pos = SIZE_MAX;
		if (!m->dirty)
			continue;
		if (img->hybrid) {
			if (hybrid_entry(m, arr, &pos, &neu) < 0)
				goto oom;
			if (pos == SIZE_MAX)
				continue;
			old = json_array_get(arr, pos);
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
			if (move_tag(arr, patched, old, neu, tag) < 0)
				goto oom;
		} else if (json_array_append(patched, neu) < 0 ||
			   json_array_set_new(arr, pos, neu) < 0) {
			goto oom;
		}
	}
	if ((error = nr__write_json_at(dfd, "manifest.json", arr, err)) < 0)
		goto done;
	error = drop_legacy_tags(dfd, patched, err);
	if (error == 0 && !img->hybrid)
		drop_unused_configs(dfd, arr, old_cfgs);
	goto done;
oom:
	error = nr__error_oom(err);
done:
	json_decref(old_cfgs);
	json_decref(patched);
	json_decref(arr);
	return error;
}

/* manifest.json of a new docker archive in tree dfd: one entry, for the image's one manifest,
 * tagged tag (if any). `dest` names the destination in errors. */
int nr__docker_new_manifest(nr_image *img, int dfd, const char *dest, const char *tag,
	nr_error *err)
{
	json_t *arr, *entry = NULL;
	int error;

	if (img->nm != 1)
		return nr__error_set(err, NR_EUNSUPPORTED, dest, 0, 0,
			"a docker archive holds one platform; the image has %zu (pick one with "
			"--platform)", img->nm);
	if ((error = nr__docker_entry(img, dfd, &img->m[0], false, &entry, err)) < 0)
		return error;
	if (tag) {
		char *t = docker_tag(NULL, tag);
		if (t == NULL || add_repo_tag(entry, t) < 0) {
			free(t);
			json_decref(entry);
			return nr__error_oom(err);
		}
		free(t);
	}
	if ((arr = json_pack("[o]", entry)) == NULL)
		return nr__error_oom(err);
	error = nr__write_json_at(dfd, "manifest.json", arr, err);
	json_decref(arr);
	return error;
}
