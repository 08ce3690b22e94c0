/*
 * image_scan.c: the scan entry points of an opened image: nr_image_scan() hands the layers of
 * one manifest (checked against the config's diff_ids) to the layer scan (layers.c), and
 * nr_image_read_file() reads one file through it.
 */
#include "image_model.h"

int nr_image_scan(nr_scan_result **out, nr_image *img, size_t i, const nr_scan_request *req,
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

int nr_image_read_file(char **out, size_t *len, nr_image *img, size_t i, const char *path,
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
	if ((error = nr_image_scan(&res, img, i, &req, err)) < 0)
		return error;
	e = nr_scan_result_at(res, 0);
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
