/*
 * test_image.c: opening OCI layouts made in the test (tags, platforms, nested indexes,
 * tampered blobs, bad references), editing and writing them (in place, with a tag, to other
 * transports) with unknown fields kept.
 */
#include <jansson.h>

#include "imgtest.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

/* Put bytes into dir's blob store; digest out. */
static void put_blob(const char *dir, const char *data, size_t len, char digest[72])
{
	char path[4096];

	CU_ASSERT_FATAL(nr__digest_of(data, len, digest, NULL) == 0);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
	write_abs(path, data, len);
}

static void put_json_blob(const char *dir, json_t *j, char digest[72], size_t *len)
{
	char *text = json_dumps(j, JSON_COMPACT);

	put_blob(dir, text, strlen(text), digest);
	*len = strlen(text);
	free(text);
	json_decref(j);
}

/* A manifest with one layer holding etc/passwd = passwd; returns its descriptor (new ref). */
static json_t *make_manifest(const char *dir, const char *arch, const char *passwd)
{
	tent l0[] = { { 'd', "etc", NULL, 0, 0, 0 }, { 'f', "etc/passwd", passwd, 0, 0, 0 } };
	char ld[72], cd[72], md[72], path[4096];
	uint64_t lsize;
	size_t clen, mlen;

	snprintf(path, sizeof(path), "%s/blobs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	mkdir(path, 0755);
	mklayer(dir, "tmp-layer", l0, 2, TAR_PLAIN, ld, &lsize);
	{
		char from[4096], to[4096];
		snprintf(from, sizeof(from), "%s/tmp-layer", dir);
		snprintf(to, sizeof(to), "%s/blobs/sha256/%s", dir, ld + 7);
		rename(from, to);
	}
	put_json_blob(dir, json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:[s]}, s:i}", "architecture",
		arch, "os", "linux", "config", "User", "root", "rootfs", "type", "layers", "diff_ids",
		ld, "x-unknown", 7), cd, &clen);
	put_json_blob(dir, json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I, s:{s:s}}],"
		" s:{s:s}}", "schemaVersion", 2, "mediaType", MT_MANIFEST,
		"config", "mediaType", MT_CONFIG, "digest", cd, "size", (json_int_t)clen,
		"layers", "mediaType", MT_LAYER, "digest", ld, "size", (json_int_t)lsize,
		"annotations", "keep", "me", "annotations", "m", "n"), md, &mlen);
	return json_pack("{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType", MT_MANIFEST, "digest", md,
		"size", (json_int_t)mlen, "platform", "os", "linux", "architecture", arch);
}

static void write_index(const char *dir, json_t *manifests)
{
	char path[4096];
	json_t *idx = json_pack("{s:i, s:o, s:b}", "schemaVersion", 2, "manifests", manifests,
		"x-extra", 1);
	char *text = json_dumps(idx, JSON_COMPACT);

	snprintf(path, sizeof(path), "%s/index.json", dir);
	write_abs(path, text, strlen(text));
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	write_abs(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	free(text);
	json_decref(idx);
}

static void tag(json_t *d, const char *name)
{
	json_object_set_new(d, "annotations", json_pack("{s:s}",
		"org.opencontainers.image.ref.name", name));
}

/* A layout with one image tagged v1. */
static char *simple_layout(void)
{
	char *dir = nrtest_tmpdir();
	json_t *d = make_manifest(dir, "amd64", "root:x:0:0::/root:/bin/sh\n");

	tag(d, "v1");
	write_index(dir, json_pack("[o]", d));
	return dir;
}

static char *ref(const char *transport, const char *dir, const char *suffix)
{
	static char buf[8][4200];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, 4200, "%s%s%s", transport, dir, suffix);
	return b;
}

static void test_open_simple(void)
{
	char *dir = simple_layout();
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	const nr_descriptor *d;
	const char *cfg;
	size_t len;
	char *content = NULL;

	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref("oci:", dir, ""), NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_transport_of(img), NR_TRANSPORT_OCI);
	CU_ASSERT_EQUAL(nr_image_count(img), 1);
	CU_ASSERT_STRING_EQUAL(nr_image_platform_at(img, 0), "linux/amd64");
	CU_ASSERT_STRING_EQUAL(nr_image_manifest_media_type(img, 0), MT_MANIFEST);
	cfg = nr_image_config(&len, img, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(strlen(cfg), len);
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg, "\"x-unknown\":7"));
	d = nr_image_config_descriptor(img, 0);
	CU_ASSERT_STRING_EQUAL(d->media_type, MT_CONFIG);
	CU_ASSERT_EQUAL(d->size, len);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 0), 1);
	d = nr_image_layer_at(img, 0, 0);
	CU_ASSERT_STRING_EQUAL(d->media_type, MT_LAYER);
	CU_ASSERT_PTR_NULL(nr_image_layer_at(img, 0, 1));
	CU_ASSERT_PTR_NULL(nr_image_layer_at(img, 1, 0));
	CU_ASSERT_PTR_NULL(nr_image_platform_at(img, 1));
	CU_ASSERT_EQUAL(nr_image_read_file(&content, &len, img, 0, "/etc/passwd", &err), 0);
	CU_ASSERT_STRING_EQUAL(content, "root:x:0:0::/root:/bin/sh\n");
	free(content);
	CU_ASSERT_EQUAL(nr_image_read_file(&content, &len, img, 0, "etc/shadow", &err),
		NR_ENOTFOUND);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_read_file(&content, &len, img, 0, "etc", &err), NR_EINVALID);
	nr_image_free(img);
	img = NULL;
	/* bare path, tag */
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, NULL, &err), 0);
	nr_image_free(img);
	img = NULL;
	CU_ASSERT_EQUAL(nr_image_open(&img, ref("oci:", dir, ":v1"), NULL, &err), 0);
	nr_image_free(img);
	nr_image_free(NULL);
	nrtest_rmtree(dir);
	free(dir);
}

static void test_open_errors(void)
{
	char *dir = simple_layout();
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = (nr_image *)&err;

	CU_ASSERT_EQUAL(nr_image_open(&img, ref("oci:", dir, ":v2"), NULL, &err), NR_ENOTFOUND);
	CU_ASSERT_PTR_NULL(img);
	NRTEST_ASSERT_ERR(&err, NR_ENOTFOUND, "v2");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_open(&img, "oci:", NULL, &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_open(&img, ref("oci:", dir, ":"), NULL, &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_open(&img, "oci:/nonexistent/x", NULL, &err), NR_ENOTFOUND);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_open(&img, "oci-archive:/nonexistent/x.tar", NULL, &err),
		NR_ENOTFOUND);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_open(&img, "/tmp", NULL, &err), NR_EINVALID);  /* no oci-layout */
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_open(&img, NULL, NULL, &err), NR_EARG);
	nr_error_clear(&err);
	oo.platform = "linux";
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, &oo, &err), NR_EARG);
	nr_error_clear(&err);
	oo.platform = "linux/arm64";
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, &oo, &err), NR_ENOTFOUND);
	NRTEST_ASSERT_ERR(&err, NR_ENOTFOUND, "linux/arm64");
	nr_error_clear(&err);
	oo.version = 99;
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, &oo, &err), NR_EARG);
	CU_ASSERT_EQUAL(nr_image_open_options_init(&oo, NR_IMAGE_OPEN_OPTIONS_VERSION), 0);
	CU_ASSERT_PTR_NULL(oo.platform);
	CU_ASSERT_EQUAL(nr_image_open_options_init(&oo, 7), NR_EARG);
	nrtest_rmtree(dir);
	free(dir);
}

static void test_tampered(void)
{
	char *dir = simple_layout(), path[4200];
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	const nr_descriptor *cd;
	char *buf, digest[72], *p;
	size_t len;
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	const char *paths[] = { "etc/passwd" };

	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	cd = nr_image_config_descriptor(img, 0);
	snprintf(digest, sizeof(digest), "%s", cd->digest);
	/* a layer changed on disk after open: the scan refuses it, naming the layer */
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, nr_image_layer_at(img, 0, 0)->digest + 7);
	buf = read_abs(path, &len);
	p = memmem(buf, len, "root:x:0", 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p[0] = 'R';
	write_abs(path, buf, len);
	free(buf);
	req.paths = paths;
	req.npaths = 1;
	CU_ASSERT_EQUAL(nr_image_scan(&res, img, 0, &req, &err), NR_EDIGEST);
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, nr_image_layer_at(img, 0, 0)->digest);
	nr_image_free(img);
	img = NULL;
	/* a tampered config: refused at open, naming the config */
	nr_error_clear(&err);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
	buf = read_abs(path, &len);
	buf[len - 2] = '8';   /* "x-unknown":7 -> 8 */
	write_abs(path, buf, len);
	free(buf);
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, NULL, &err), NR_EDIGEST);
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, digest);
	nrtest_rmtree(dir);
	free(dir);
}

static void test_platforms(void)
{
	char *dir = nrtest_tmpdir(), nd[72];
	json_t *a = make_manifest(dir, "amd64", "amd\n"), *b = make_manifest(dir, "arm64", "arm\n");
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	char *content = NULL;
	size_t len, nlen;
	json_t *att = json_pack("{s:s, s:s, s:i, s:{s:s}}", "mediaType", MT_MANIFEST,
		"digest", "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"size", 1, "annotations", "vnd.docker.reference.type", "attestation-manifest");

	/* a nested index (as skopeo copy --all writes), with an attestation entry skipped */
	put_json_blob(dir, json_pack("{s:i, s:s, s:[O, O, o]}", "schemaVersion", 2, "mediaType",
		MT_INDEX, "manifests", a, b, att), nd, &nlen);
	write_index(dir, json_pack("[{s:s, s:s, s:I, s:{s:s}}]", "mediaType", MT_INDEX,
		"digest", nd, "size", (json_int_t)nlen, "annotations",
		"org.opencontainers.image.ref.name", "multi"));
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_count(img), 2);
	CU_ASSERT_STRING_EQUAL(nr_image_platform_at(img, 1), "linux/arm64");
	CU_ASSERT_EQUAL(nr_image_read_file(&content, &len, img, 1, "etc/passwd", &err), 0);
	CU_ASSERT_STRING_EQUAL(content, "arm\n");
	free(content);
	nr_image_free(img);
	img = NULL;
	oo.platform = "linux/arm64";
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, &oo, &err), 0);
	CU_ASSERT_EQUAL(nr_image_count(img), 1);
	CU_ASSERT_STRING_EQUAL(nr_image_platform_at(img, 0), "linux/arm64");
	nr_image_free(img);
	img = NULL;
	/* normalized as containerd does: arm64/v8 = arm64, aarch64 = arm64, amd64/v1 = amd64 */
	oo.platform = "linux/arm64/v8";
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, &oo, &err), 0);
	CU_ASSERT_EQUAL(nr_image_count(img), 1);
	CU_ASSERT_STRING_EQUAL(nr_image_platform_at(img, 0), "linux/arm64");
	nr_image_free(img);
	img = NULL;
	oo.platform = "linux/aarch64";
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, &oo, &err), 0);
	CU_ASSERT_STRING_EQUAL(nr_image_platform_at(img, 0), "linux/arm64");
	nr_image_free(img);
	img = NULL;
	oo.platform = "linux/amd64/v1";
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, &oo, &err), 0);
	CU_ASSERT_STRING_EQUAL(nr_image_platform_at(img, 0), "linux/amd64");
	nr_image_free(img);
	img = NULL;
	oo.platform = "linux/arm64/v9";
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, &oo, &err), NR_ENOTFOUND);
	nr_error_clear(&err);
	oo.platform = "linux/arm";	/* = arm/v7: not arm64 */
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, &oo, &err), NR_ENOTFOUND);
	nr_error_clear(&err);
	/* top-level entries with platforms, untagged: the platforms of one image */
	write_index(dir, json_pack("[o, o]", a, b));
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_count(img), 2);
	nr_image_free(img);
	img = NULL;
	/* two differently tagged images: a tag must be named */
	write_index(dir, json_pack("[{s:s, s:s, s:i, s:{s:s}}, {s:s, s:s, s:i, s:{s:s}}]",
		"mediaType", MT_INDEX, "digest", nd, "size", (int)nlen, "annotations",
		"org.opencontainers.image.ref.name", "one",
		"mediaType", MT_INDEX, "digest", nd, "size", (int)nlen, "annotations",
		"org.opencontainers.image.ref.name", "two"));
	CU_ASSERT_EQUAL(nr_image_open(&img, dir, NULL, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, ":TAG");
	CU_ASSERT_EQUAL(nr_image_open(&img, ref("oci:", dir, ":two"), NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_image_count(img), 2);
	nr_image_free(img);
	nrtest_rmtree(dir);
	free(dir);
}

/* Append a layer with etc/passwd = text to every manifest (config diff_ids extended). */
static void add_passwd_layer(nr_image *img, const char *text)
{
	tent l[] = { { 'f', "etc/passwd", text, 0, 0, 0 } };
	char *dir = nrtest_tmpdir(), path[4200], digest[72], ld[72], diff_id[72], *buf;
	nr_blob_writer *w = NULL;
	nr_error err = NR_ERROR_INIT;
	uint64_t size, lsize;
	size_t len, i;

	mklayer(dir, "plain", l, 1, TAR_PLAIN, diff_id, &lsize);
	mklayer(dir, "l", l, 1, TAR_GZIP, ld, &lsize);
	snprintf(path, sizeof(path), "%s/l", dir);
	buf = read_abs(path, &len);
	CU_ASSERT_EQUAL_FATAL(nr_blob_writer_open(&w, img, &err), 0);
	CU_ASSERT_EQUAL(nr_blob_writer_write(w, buf, len / 2, &err), 0);
	CU_ASSERT_EQUAL(nr_blob_writer_write(w, buf + len / 2, len - len / 2, &err), 0);
	CU_ASSERT_EQUAL(nr_blob_writer_finish(digest, &size, w, &err), 0);
	CU_ASSERT_STRING_EQUAL(digest, ld);
	CU_ASSERT_EQUAL(size, len);
	CU_ASSERT_EQUAL(nr_blob_writer_finish(digest, &size, w, &err), NR_EARG);
	CU_ASSERT_EQUAL(nr_blob_writer_write(w, "x", 1, NULL), NR_EARG);
	nr_blob_writer_free(w);
	free(buf);
	for (i = 0; i < nr_image_count(img); i++) {
		nr_descriptor d = { .media_type = "application/vnd.oci.image.layer.v1.tar+gzip",
			.digest = digest, .size = size };
		size_t clen = 0;
		const char *cfg = nr_image_config(&clen, img, i);
		json_t *c = json_loadb(cfg, clen, 0, NULL);
		char *ct;
		json_array_append_new(json_object_get(json_object_get(c, "rootfs"), "diff_ids"),
			json_string(diff_id));
		ct = json_dumps(c, JSON_COMPACT);
		CU_ASSERT_EQUAL(nr_image_set_config(img, i, ct, strlen(ct), &err), 0);
		CU_ASSERT_EQUAL(nr_image_add_layer(img, i, &d, &err), 0);
		free(ct);
		json_decref(c);
	}
	nrtest_rmtree(dir);
	free(dir);
}

static char *layout_file(const char *dir, const char *name)
{
	char path[4200];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_abs(path, &len);
}

static void check_passwd(const char *r, size_t nlayers, const char *want)
{
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	char *content = NULL;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, r, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 0), nlayers);
	CU_ASSERT_EQUAL(nr_image_read_file(&content, &len, img, 0, "etc/passwd", &err), 0);
	if (content && strcmp(content, want) != 0)
		fprintf(stderr, "\n%s: passwd is %s\n", r, content);
	CU_ASSERT_STRING_EQUAL(content, want);
	free(content);
	nr_image_free(img);
}

static void test_write_in_place(void)
{
	char *dir = simple_layout(), *idx;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	nr_image_write_options wo = NR_IMAGE_WRITE_OPTIONS_INIT;
	nr_descriptor bogus = { .media_type = "application/vnd.oci.image.layer.v1.tar+gzip",
		.digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		.size = 1 };

	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_add_layer(img, 0, &bogus, &err), NR_ENOTFOUND);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_set_config(img, 0, "[1]", 3, &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_set_config(img, 3, "{}", 2, &err), NR_EARG);
	nr_error_clear(&err);
	add_passwd_layer(img, "new\n");
	/* the edited model is scanned from staging before anything is written */
	{
		char *c = NULL;
		size_t len;
		CU_ASSERT_EQUAL(nr_image_read_file(&c, &len, img, 0, "etc/passwd", &err), 0);
		CU_ASSERT_STRING_EQUAL(c, "new\n");
		free(c);
	}
	wo.tag = "bad/tag";
	CU_ASSERT_EQUAL(nr_image_write(img, NULL, &wo, &err), NR_EARG);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_write(img, NULL, NULL, &err), 0);
	nr_image_free(img);
	check_passwd(dir, 2, "new\n");
	check_passwd(ref("oci:", dir, ":v1"), 2, "new\n");
	/* unknown fields kept: index.json x-extra, manifest and layer annotations */
	idx = layout_file(dir, "index.json");
	CU_ASSERT_PTR_NOT_NULL(strstr(idx, "\"x-extra\":true"));
	CU_ASSERT_PTR_NOT_NULL(strstr(idx, "\"org.opencontainers.image.ref.name\":\"v1\""));
	free(idx);
	{
		json_t *ij, *mj;
		const char *md;
		char path[4200];
		ij = json_load_file(ref("", dir, "/index.json"), 0, NULL);
		md = json_string_value(json_object_get(json_array_get(json_object_get(ij,
			"manifests"), 0), "digest"));
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, md + 7);
		mj = json_load_file(path, 0, NULL);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(mj,
			"annotations"), "m")), "n");
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(
			json_array_get(json_object_get(mj, "layers"), 0), "annotations"), "keep")), "me");
		CU_ASSERT_EQUAL(json_array_size(json_object_get(mj, "layers")), 2);
		json_decref(mj);
		json_decref(ij);
	}
	/* --tag: a new tag, the old one kept */
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref("oci:", dir, ":v1"), NULL, &err), 0);
	add_passwd_layer(img, "newer\n");
	wo.tag = "v2";
	CU_ASSERT_EQUAL(nr_image_write(img, NULL, &wo, &err), 0);
	nr_image_free(img);
	check_passwd(ref("oci:", dir, ":v1"), 2, "new\n");
	check_passwd(ref("oci:", dir, ":v2"), 3, "newer\n");
	/* the same layout named by another path: still one entry per tag */
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref("oci:", dir, ":v2"), NULL, &err), 0);
	add_passwd_layer(img, "newest\n");
	CU_ASSERT_EQUAL(nr_image_write(img, ref("oci:", dir, "/."), NULL, &err), 0);
	nr_image_free(img);
	check_passwd(ref("oci:", dir, ":v2"), 4, "newest\n");
	check_passwd(ref("oci:", dir, ":v1"), 2, "new\n");
	{
		json_t *ij = json_load_file(ref("", dir, "/index.json"), 0, NULL);
		CU_ASSERT_EQUAL(json_array_size(json_object_get(ij, "manifests")), 2);
		json_decref(ij);
	}
	nrtest_rmtree(dir);
	free(dir);
}

static void test_write_transports(void)
{
	char *dir = simple_layout(), *out = nrtest_tmpdir();
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	char *idx;

	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	add_passwd_layer(img, "moved\n");
	CU_ASSERT_EQUAL(nr_image_write(img, ref("oci:", out, "/o:t"), NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_write(img, ref("oci-archive:", out, "/a.tar:t"), NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_write(img, ref("docker-archive:", out, "/d.tar:ex/img:t"), NULL,
		&err), 0);
	CU_ASSERT_EQUAL(nr_image_write(img, ref("", out, "/a.tar"), NULL, &err), NR_EINVALID);
	nr_error_clear(&err);
	nr_image_free(img);
	/* the source is unchanged */
	check_passwd(dir, 1, "root:x:0:0::/root:/bin/sh\n");
	check_passwd(ref("oci:", out, "/o:t"), 2, "moved\n");
	check_passwd(ref("oci-archive:", out, "/a.tar:t"), 2, "moved\n");
	check_passwd(ref("docker-archive:", out, "/d.tar:ex/img:t"), 2, "moved\n");
	check_passwd(ref("", out, "/d.tar"), 2, "moved\n");
	/* docker-archive → oci keeps working (layers uncompressed there) */
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref("", out, "/d.tar"), NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_transport_of(img), NR_TRANSPORT_DOCKER_ARCHIVE);
	CU_ASSERT_STRING_EQUAL(nr_image_layer_at(img, 0, 1)->media_type,
		"application/vnd.docker.image.rootfs.diff.tar");
	CU_ASSERT_EQUAL(nr_image_write(img, ref("oci:", out, "/o:fromdocker"), NULL, &err), 0);
	nr_image_free(img);
	check_passwd(ref("oci:", out, "/o:fromdocker"), 2, "moved\n");
	check_passwd(ref("oci:", out, "/o:t"), 2, "moved\n");
	idx = layout_file(out, "o/index.json");
	CU_ASSERT_PTR_NOT_NULL(strstr(idx, "fromdocker"));
	free(idx);
	nrtest_rmtree(out);
	nrtest_rmtree(dir);
	free(out);
	free(dir);
}

static void test_write_multi(void)
{
	char *dir = nrtest_tmpdir(), *out = nrtest_tmpdir(), nd[72];
	json_t *a = make_manifest(dir, "amd64", "amd\n"), *b = make_manifest(dir, "arm64", "arm\n");
	json_t *att = json_pack("{s:s, s:s, s:i, s:{s:s}}", "mediaType", MT_MANIFEST,
		"digest", "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		"size", 1, "annotations", "vnd.docker.reference.type", "attestation-manifest");
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	size_t nlen;
	char *text;

	put_json_blob(dir, json_pack("{s:i, s:s, s:[o, o, o]}", "schemaVersion", 2, "mediaType",
		MT_INDEX, "manifests", a, b, att), nd, &nlen);
	write_index(dir, json_pack("[{s:s, s:s, s:I, s:{s:s}}]", "mediaType", MT_INDEX,
		"digest", nd, "size", (json_int_t)nlen, "annotations",
		"org.opencontainers.image.ref.name", "multi"));
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	add_passwd_layer(img, "both\n");
	/* a docker archive holds one platform */
	CU_ASSERT_EQUAL(nr_image_write(img, ref("docker-archive:", out, "/d.tar"), NULL, &err),
		NR_EUNSUPPORTED);
	NRTEST_ASSERT_ERR(&err, NR_EUNSUPPORTED, "--platform");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_write(img, NULL, NULL, &err), 0);
	nr_image_free(img);
	img = NULL;
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_count(img), 2);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 0), 2);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 1), 2);
	nr_image_free(img);
	img = NULL;
	/* the nested index was rewritten, the attestation entry kept */
	text = layout_file(dir, "index.json");
	CU_ASSERT_PTR_NULL(strstr(text, nd));
	free(text);
	{
		json_t *ij = json_load_file(ref("", dir, "/index.json"), 0, NULL), *nj;
		const char *d = json_string_value(json_object_get(json_array_get(json_object_get(ij,
			"manifests"), 0), "digest"));
		char path[4200];
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, d + 7);
		nj = json_load_file(path, 0, NULL);
		CU_ASSERT_EQUAL(json_array_size(json_object_get(nj, "manifests")), 3);
		json_decref(nj);
		json_decref(ij);
	}
	/* one platform only: the other stays as it was */
	oo.platform = "linux/arm64";
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, &oo, &err), 0);
	add_passwd_layer(img, "arm only\n");
	CU_ASSERT_EQUAL(nr_image_write(img, ref("docker-archive:", out, "/d.tar:ex/arm:1"), NULL,
		&err), 0);
	CU_ASSERT_EQUAL(nr_image_write(img, NULL, NULL, &err), 0);
	nr_image_free(img);
	check_passwd(ref("docker-archive:", out, "/d.tar:ex/arm:1"), 3, "arm only\n");
	img = NULL;
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, dir, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 0), 2);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 1), 3);
	nr_image_free(img);
	nrtest_rmtree(dir);
	nrtest_rmtree(out);
	free(dir);
	free(out);
}

static void test_docker_hostile(void)
{
	char *dir = nrtest_tmpdir(), d[72], path[4200];
	tent bad[] = { { 'f', "manifest.json",
		"[{\"Config\":\"c.json\",\"RepoTags\":[\"x:y\"],\"Layers\":[\"../../../etc/passwd\"]}]", 0, 0, 0 },
		{ 'f', "c.json", "{\"rootfs\":{\"diff_ids\":[]}}", 0, 0, 0 } };
	tent bad2[] = { { 'f', "manifest.json", "[{\"Config\":\"/etc/passwd\",\"Layers\":[]}]", 0, 0, 0 } };
	tent none[] = { { 'f', "hello", "x", 0, 0, 0 } };
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	uint64_t size;

	mklayer(dir, "bad.tar", bad, 2, TAR_PLAIN, d, &size);
	snprintf(path, sizeof(path), "docker-archive:%s/bad.tar", dir);
	CU_ASSERT_EQUAL(nr_image_open(&img, path, NULL, &err), NR_EESCAPE);
	NRTEST_ASSERT_ERR(&err, NR_EESCAPE, "Layers[0]");
	nr_error_clear(&err);
	mklayer(dir, "bad2.tar", bad2, 1, TAR_PLAIN, d, &size);
	snprintf(path, sizeof(path), "%s/bad2.tar", dir);
	CU_ASSERT_EQUAL(nr_image_open(&img, path, NULL, &err), NR_EESCAPE);
	nr_error_clear(&err);
	mklayer(dir, "none.tar", none, 1, TAR_PLAIN, d, &size);
	snprintf(path, sizeof(path), "%s/none.tar", dir);
	CU_ASSERT_EQUAL(nr_image_open(&img, path, NULL, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "neither index.json nor manifest.json");
	CU_ASSERT_PTR_NULL(img);
	nrtest_rmtree(dir);
	free(dir);
}

static CU_TestInfo tests[] = {
	{ "hostile docker archives", test_docker_hostile },
	{ "write a multi-platform image", test_write_multi },
	{ "open an OCI layout", test_open_simple },
	{ "open errors", test_open_errors },
	{ "tampered blobs", test_tampered },
	{ "platforms and nested indexes", test_platforms },
	{ "write in place, --tag", test_write_in_place },
	{ "write to other transports", test_write_transports },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "image", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
