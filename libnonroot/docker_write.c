/*
 * docker_write.c: writing a docker-archive: layers as uncompressed tars, manifest.json,
 * repository tags.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
	{
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char h[EVP_MAX_MD_SIZE];
		unsigned int hl = 0;
		char buf[65536];
		la_ssize_t n;
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
		nr__md_to_digest(h, got);
	}
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
