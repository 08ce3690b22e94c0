/*
 * nr-imgtool: a test-only front end over the image API, printing JSON for the e2e tests.
 *
 *   nr-imgtool info REF [--platform P]
 *   nr-imgtool scan REF [--platform P] [--setid] PATH...
 *   nr-imgtool addfile REF DEST PATH CONTENT [--tag T] [--platform P] [--gzip]
 *       append a layer holding one file (owned 0:0, 0644) to every manifest, with the
 *       config's rootfs.diff_ids extended, and write the image to DEST ("-": in place)
 *
 * Exit status: 0 ok, 2 error (the nr_error text on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "nonroot.h"

static int fail(const char *what, const nr_error *err)
{
	char buf[512];

	nr_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "nr-imgtool: %s: %s (%s)\n", what, buf, nr_strerror(err->code));
	return 2;
}

static json_t *desc_json(const nr_descriptor *d)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest,
		"size", (json_int_t)d->size);
}

static const char *type_name(nr_entry_type t)
{
	static const char *const names[] = { "none", "file", "dir", "symlink", "char", "block",
		"fifo" };
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static json_t *entry_json(const nr_scan_entry *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", e->path,
		"resolved", e->resolved ? e->resolved : "", "type", type_name(e->type),
		"mode", (json_int_t)e->mode, "uid", (json_int_t)e->uid, "gid", (json_int_t)e->gid,
		"size", (json_int_t)e->size, "layer", (json_int_t)e->layer);
	if (e->content)
		json_object_set_new(o, "content", json_stringn(e->content, e->content_len));
	if (e->link_target)
		json_object_set_new(o, "link_target", json_string(e->link_target));
	if (e->hardlink)
		json_object_set_new(o, "hardlink", json_string(e->hardlink));
	if (e->flags & NR_SCAN_ENTRY_TOO_BIG)
		json_object_set_new(o, "too_big", json_true());
	if (e->flags & NR_SCAN_ENTRY_LOOP)
		json_object_set_new(o, "loop", json_true());
	if (e->flags & NR_SCAN_ENTRY_NOTDIR)
		json_object_set_new(o, "notdir", json_true());
	return o;
}

static int cmd_info(nr_image *img)
{
	json_t *root = json_object(), *mans = json_array();
	size_t i, j;

	json_object_set_new(root, "transport", json_integer(nr_image_transport_of(img)));
	for (i = 0; i < nr_image_count(img); i++) {
		json_t *m = json_object(), *layers = json_array();
		json_object_set_new(m, "platform", json_string(nr_image_platform_at(img, i)));
		json_object_set_new(m, "mediaType", json_string(nr_image_manifest_media_type(img, i)));
		json_object_set_new(m, "config", desc_json(nr_image_config_descriptor(img, i)));
		for (j = 0; j < nr_image_layer_count(img, i); j++)
			json_array_append_new(layers, desc_json(nr_image_layer_at(img, i, j)));
		json_object_set_new(m, "layers", layers);
		json_array_append_new(mans, m);
	}
	json_object_set_new(root, "manifests", mans);
	json_dumpf(root, stdout, JSON_INDENT(1));
	putchar('\n');
	json_decref(root);
	return 0;
}

static int cmd_scan(nr_image *img, const char **paths, size_t n, unsigned flags)
{
	json_t *root = json_object(), *plats = json_array();
	nr_error err = NR_ERROR_INIT;
	size_t i, k;

	for (i = 0; i < nr_image_count(img); i++) {
		nr_scan_request req = NR_SCAN_REQUEST_INIT;
		nr_scan_result *res = NULL;
		json_t *p = json_object(), *ents = json_object(), *setid = json_array();
		req.paths = paths;
		req.npaths = n;
		req.flags = flags;
		if (nr_image_scan(&res, img, i, &req, &err) < 0) {
			json_decref(root);
			json_decref(p);
			json_decref(ents);
			json_decref(setid);
			json_decref(plats);
			return fail("scan", &err);
		}
		for (k = 0; k < nr_scan_result_count(res); k++) {
			const nr_scan_entry *e = nr_scan_result_at(res, k);
			json_object_set_new(ents, e->path, entry_json(e));
		}
		for (k = 0; k < nr_scan_result_setid_count(res); k++)
			json_array_append_new(setid, entry_json(nr_scan_result_setid_at(res, k)));
		json_object_set_new(p, "platform", json_string(nr_image_platform_at(img, i)));
		json_object_set_new(p, "entries", ents);
		json_object_set_new(p, "setid", setid);
		json_array_append_new(plats, p);
		nr_scan_result_free(res);
	}
	json_object_set_new(root, "platforms", plats);
	json_dumpf(root, stdout, JSON_INDENT(1));
	putchar('\n');
	json_decref(root);
	return 0;
}

/* A one-file layer, made with libarchive into memory. */
static int make_layer(const char *path, const char *content, int gzip, void **out, size_t *len,
	char diff_id[72])
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = 1 << 20, used = 0;
	char *buf = malloc(cap), *tarbuf = malloc(cap);
	unsigned char md[32];
	unsigned int mdlen;
	size_t i, tused = 0;

	/* diff_id: the uncompressed tar */
	struct archive *t = archive_write_new();
	archive_write_set_format_pax_restricted(t);
	archive_write_open_memory(t, tarbuf, cap, &tused);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	archive_entry_set_mtime(e, 0, 0);
	archive_write_header(t, e);
	archive_write_data(t, content, strlen(content));
	archive_write_close(t);
	archive_write_free(t);
	EVP_Digest(tarbuf, tused, md, &mdlen, EVP_sha256(), NULL);
	strcpy(diff_id, "sha256:");
	for (i = 0; i < 32; i++)
		sprintf(diff_id + 7 + 2 * i, "%02x", md[i]);
	if (gzip) {
		archive_write_set_format_raw(a);
		archive_write_add_filter_gzip(a);
		archive_write_set_options(a, "gzip:!timestamp");
		archive_write_open_memory(a, buf, cap, &used);
		archive_entry_clear(e);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_pathname(e, "data");
		archive_write_header(a, e);
		archive_write_data(a, tarbuf, tused);
		archive_write_close(a);
		free(tarbuf);
	} else {
		free(buf);
		buf = tarbuf;
		used = tused;
	}
	archive_write_free(a);
	archive_entry_free(e);
	*out = buf;
	*len = used;
	return 0;
}

static int cmd_addfile(nr_image *img, const char *dest, const char *path, const char *content,
	const char *tag, int gzip)
{
	nr_error err = NR_ERROR_INIT;
	nr_blob_writer *w = NULL;
	nr_image_write_options wo = NR_IMAGE_WRITE_OPTIONS_INIT;
	char digest[72], diff_id[72];
	uint64_t size;
	void *layer;
	size_t len, i;

	make_layer(path, content, gzip, &layer, &len, diff_id);
	if (nr_blob_writer_open(&w, img, &err) < 0 || nr_blob_writer_write(w, layer, len, &err) < 0 ||
	    nr_blob_writer_finish(digest, &size, w, &err) < 0) {
		nr_blob_writer_free(w);
		free(layer);
		return fail("blob", &err);
	}
	nr_blob_writer_free(w);
	free(layer);
	for (i = 0; i < nr_image_count(img); i++) {
		size_t clen;
		const char *cfg = nr_image_config(&clen, img, i);
		json_t *c = json_loadb(cfg, clen, 0, NULL);
		const char *mt = nr_image_layer_at(img, i, 0)->media_type;
		int docker = strstr(mt, "docker") != NULL;
		nr_descriptor d;
		char *text;
		json_array_append_new(json_object_get(json_object_get(c, "rootfs"), "diff_ids"),
			json_string(diff_id));
		text = json_dumps(c, JSON_COMPACT);
		json_decref(c);
		if (nr_image_set_config(img, i, text, strlen(text), &err) < 0) {
			free(text);
			return fail("set config", &err);
		}
		free(text);
		d.media_type = docker ? (gzip ? "application/vnd.docker.image.rootfs.diff.tar.gzip" :
			"application/vnd.docker.image.rootfs.diff.tar") :
			(gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" :
			"application/vnd.oci.image.layer.v1.tar");
		d.digest = digest;
		d.size = size;
		if (nr_image_add_layer(img, i, &d, &err) < 0)
			return fail("add layer", &err);
	}
	wo.tag = tag;
	if (nr_image_write(img, strcmp(dest, "-") == 0 ? NULL : dest, &wo, &err) < 0)
		return fail("write", &err);
	return 0;
}

int main(int argc, char **argv)
{
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	const char *args[64], *tag = NULL;
	size_t nargs = 0;
	unsigned flags = 0;
	int i, rc = 2, gzip = 0;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc)
			oo.platform = argv[++i];
		else if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc)
			tag = argv[++i];
		else if (strcmp(argv[i], "--setid") == 0)
			flags |= NR_SCAN_SETID;
		else if (strcmp(argv[i], "--gzip") == 0)
			gzip = 1;
		else if (nargs < 64)
			args[nargs++] = argv[i];
	}
	if (argc < 3 || nargs < 1) {
		fprintf(stderr, "usage: nr-imgtool info|scan|addfile REF ...\n");
		return 2;
	}
	if (nr_image_open(&img, args[0], &oo, &err) < 0)
		return fail("open", &err);
	if (strcmp(argv[1], "info") == 0)
		rc = cmd_info(img);
	else if (strcmp(argv[1], "scan") == 0)
		rc = cmd_scan(img, args + 1, nargs - 1, flags);
	else if (strcmp(argv[1], "addfile") == 0 && nargs == 4)
		rc = cmd_addfile(img, args[1], args[2], args[3], tag, gzip);
	else
		fprintf(stderr, "nr-imgtool: bad command\n");
	nr_image_free(img);
	return rc;
}
