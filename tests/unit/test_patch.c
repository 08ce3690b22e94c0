/*
 * test_patch.c: nr_image_patch on small OCI layouts built here (a gzip layer made with the
 * newlayer writer, a config, a manifest, index.json): the plan, the written result read back
 * through nr_image_scan, idempotence, determinism, conflicts, reuse, compat mode, dry run,
 * mode/owner of replaced files, the shell choice.
 */
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nrtest.h"
#include "internal.h"
#include "buf.h"
#include "newlayer.h"
#include "patch_internal.h"

static void hexdigest(char out[72], const void *p, size_t n)
{
	unsigned char md[32];
	size_t i;

	SHA256(p, n, md);
	strcpy(out, "sha256:");
	for (i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void put_file(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void put_blob(const char *dir, const void *data, size_t len, char digest[72])
{
	char rel[128];

	hexdigest(digest, data, len);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	put_file(dir, rel, data, len);
}

static int mem_sink(void *ctx, const void *buf, size_t len, nr_error *err)
{
	(void)err;
	return nr__buf_put(ctx, buf, len);
}

/* A layout at dir/ with one layer of `n` entries and the given config "config" object. */
static void make_image(const char *dir, const nr__layer_entry *ents, size_t n,
	const char *config_obj)
{
	nr__buf layer = NR__BUF_INIT, cfg = NR__BUF_INIT, man = NR__BUF_INIT, idx = NR__BUF_INIT;
	nr__layer_result lr;
	char path[1024], ldig[72], cdig[72], mdig[72];

	snprintf(path, sizeof(path), "%s/blobs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	mkdir(path, 0755);
	put_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	CU_ASSERT_EQUAL_FATAL(nr__newlayer_write(ents, n, 1704067200, 1, mem_sink, &layer, &lr,
		NULL), 0);
	put_blob(dir, layer.ptr, layer.size, ldig);
	nr__buf_printf(&cfg, "{\"created\":\"2024-01-01T00:00:00Z\",\"architecture\":\"amd64\","
		"\"os\":\"linux\",\"config\":%s,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},"
		"\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"test\"}]}",
		config_obj, lr.diff_id);
	put_blob(dir, cfg.ptr, cfg.size, cdig);
	nr__buf_printf(&man, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
		"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%zu}]}",
		cdig, cfg.size, ldig, layer.size);
	put_blob(dir, man.ptr, man.size, mdig);
	nr__buf_printf(&idx, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
		mdig, man.size);
	put_file(dir, "index.json", idx.ptr, idx.size);
	nr__buf_dispose(&layer);
	nr__buf_dispose(&cfg);
	nr__buf_dispose(&man);
	nr__buf_dispose(&idx);
}

static const char passwd_root[] = "root:x:0:0:root:/root:/bin/sh\n";
static const char group_root[] = "root:x:0:\n";
static const char shadow_root[] = "root:*:19000:0:99999:7:::\n";
static const char rootful_cfg[] = "{\"Env\":[\"PATH=/bin\",\"ASPNETCORE_URLS=http://+:80\"],"
	"\"ExposedPorts\":{\"80/tcp\":{}},\"Healthcheck\":{\"Test\":[\"CMD\",\"wget\",\"-q\","
	"\"http://localhost/\"]},\"Labels\":{\"keep\":\"me\"}}";

static void base_entries(nr__layer_entry e[5], const char *passwd, const char *group)
{
	memset(e, 0, 5 * sizeof(*e));
	e[0] = (nr__layer_entry){ "etc", NR__LAYER_DIR, 0755, 0, 0, NULL, 0 };
	e[1] = (nr__layer_entry){ "etc/passwd", NR__LAYER_FILE, 0600, 0, 3, passwd, strlen(passwd) };
	e[2] = (nr__layer_entry){ "etc/group", NR__LAYER_FILE, 0644, 0, 0, group, strlen(group) };
	e[3] = (nr__layer_entry){ "etc/shadow", NR__LAYER_FILE, 0640, 0, 42, shadow_root, strlen(shadow_root) };
	e[4] = (nr__layer_entry){ "sbin/nologin", NR__LAYER_FILE, 0755, 0, 0, "#!", 2 };
}

static char *open_ref(const char *dir)
{
	char *ref;
	CU_ASSERT_FATAL(asprintf(&ref, "oci:%s:latest", dir) > 0);
	return ref;
}

static const nr_patch_change *find_change(const nr_patch_report *r, const char *what,
	const char *target)
{
	size_t k;

	for (k = 0; k < nr_patch_report_count(r); k++) {
		const nr_patch_change *c = nr_patch_report_at(r, k);
		if (!strcmp(c->what, what) && !strcmp(c->target, target))
			return c;
	}
	return NULL;
}

static void test_patch_and_again(void)
{
	char *dir = nrtest_tmpdir(), *ref = open_ref(dir);
	nr__layer_entry e[5];
	nr_image *img = NULL;
	nr_patch_report *rep = NULL;
	nr_error err = NR_ERROR_INIT;
	nr_imgconfig *cfg = NULL;
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	const char *paths[] = { "etc/passwd", "etc/group", "etc/shadow", "home/app", "home" };
	const nr_scan_entry *se;
	const nr_patch_change *c;
	const char *cj;
	size_t clen;
	char *hc = NULL;

	base_entries(e, passwd_root, group_root);
	make_image(dir, e, 5, rootful_cfg);
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref, NULL, &err), 0);
	if (nr_image_patch(&rep, img, NULL, &err) < 0)
		fprintf(stderr, "\n  patch: %s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	CU_ASSERT_EQUAL(nr_patch_report_changed(rep), 1);
	CU_ASSERT_EQUAL(nr_patch_report_uid(rep), 1654);
	c = find_change(rep, "env", "ASPNETCORE_URLS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->before, "http://+:80");
	CU_ASSERT_STRING_EQUAL(c->after, "http://+:8080");
	CU_ASSERT_PTR_NOT_NULL(find_change(rep, "file", "etc/shadow"));
	CU_ASSERT_PTR_NULL(find_change(rep, "file", "etc/gshadow"));   /* the image has none */
	CU_ASSERT_PTR_NOT_NULL(find_change(rep, "directory", "home"));
	CU_ASSERT_PTR_NOT_NULL(find_change(rep, "healthcheck", "Healthcheck"));
	CU_ASSERT_EQUAL_FATAL(nr_image_write(img, NULL, NULL, &err), 0);
	nr_patch_report_free(rep);
	rep = NULL;
	nr_image_free(img);
	img = NULL;

	/* Read back. */
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 0), 2);
	CU_ASSERT_STRING_EQUAL(nr_image_layer_at(img, 0, 1)->media_type,
		"application/vnd.oci.image.layer.v1.tar+gzip");
	cj = nr_image_config(&clen, img, 0);
	CU_ASSERT_EQUAL_FATAL(nr_imgconfig_parse(&cfg, cj, clen, &err), 0);
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_user(cfg), "1654:1654");
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_env_get(cfg, "APP_UID"), "1654");
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_env_get(cfg, "ASPNETCORE_URLS"), "http://+:8080");
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_exposed_at(cfg, 0), "8080/tcp");
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_string(cfg, "config.Labels.keep"), "me");
	CU_ASSERT_EQUAL(nr_imgconfig_diff_id_count(cfg), 2);
	CU_ASSERT_EQUAL(nr_imgconfig_history_count(cfg), 2);
	CU_ASSERT_EQUAL(nr_imgconfig_history_in_step(cfg), 1);
	CU_ASSERT_EQUAL(nr_imgconfig_healthcheck(&hc, cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(hc, "wget -q http://localhost:8080/");
	free(hc);
	nr_imgconfig_free(cfg);

	req.paths = paths;
	req.npaths = 5;
	CU_ASSERT_EQUAL_FATAL(nr_image_scan(&res, img, 0, &req, &err), 0);
	se = nr_scan_result_get(res, "etc/passwd");
	CU_ASSERT_STRING_EQUAL(se->content,
		"root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/sbin/nologin\n");
	CU_ASSERT_EQUAL(se->mode, 0600);   /* mode and owner of the replaced file */
	CU_ASSERT_EQUAL(se->gid, 3);
	CU_ASSERT_EQUAL(se->layer, 1);
	se = nr_scan_result_get(res, "etc/shadow");
	CU_ASSERT_STRING_EQUAL(se->content, "root:*:19000:0:99999:7:::\napp:!:19723::::::\n");
	CU_ASSERT_EQUAL(se->gid, 42);
	se = nr_scan_result_get(res, "etc/group");
	CU_ASSERT_STRING_EQUAL(se->content, "root:x:0:\napp:x:1654:\n");
	se = nr_scan_result_get(res, "home/app");
	CU_ASSERT_EQUAL(se->type, NR_ENTRY_DIRECTORY);
	CU_ASSERT_EQUAL(se->uid, 1654);
	CU_ASSERT_EQUAL(se->gid, 1654);
	CU_ASSERT_EQUAL(se->mode, 0755);
	nr_scan_result_free(res);

	/* Patching again changes nothing. */
	CU_ASSERT_EQUAL_FATAL(nr_image_patch(&rep, img, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_patch_report_changed(rep), 0);
	CU_ASSERT_EQUAL(nr_patch_report_count(rep), 0);
	CU_ASSERT_EQUAL(nr_image_layer_count(img, 0), 2);
	nr_patch_report_free(rep);
	nr_image_free(img);
	nrtest_rmtree(dir);
	free(dir);
	free(ref);
}

/* Two copies of the same image give the same layer and config digests. */
static void test_deterministic(void)
{
	char *d1 = nrtest_tmpdir(), *d2 = nrtest_tmpdir(), *r1 = open_ref(d1), *r2 = open_ref(d2);
	char dig[2][72], cfgdig[2][72];
	nr__layer_entry e[5];
	nr_error err = NR_ERROR_INIT;
	int k;

	base_entries(e, passwd_root, group_root);
	make_image(d1, e, 5, rootful_cfg);
	make_image(d2, e, 5, rootful_cfg);
	for (k = 0; k < 2; k++) {
		nr_image *img = NULL;
		nr_patch_report *rep = NULL;
		CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, k ? r2 : r1, NULL, &err), 0);
		CU_ASSERT_EQUAL_FATAL(nr_image_patch(&rep, img, NULL, &err), 0);
		CU_ASSERT_EQUAL_FATAL(nr_image_write(img, NULL, NULL, &err), 0);
		nr_image_free(img);
		CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, k ? r2 : r1, NULL, &err), 0);
		strcpy(dig[k], nr_image_layer_at(img, 0, 1)->digest);
		strcpy(cfgdig[k], nr_image_config_descriptor(img, 0)->digest);
		nr_image_free(img);
		nr_patch_report_free(rep);
	}
	CU_ASSERT_STRING_EQUAL(dig[0], dig[1]);
	CU_ASSERT_STRING_EQUAL(cfgdig[0], cfgdig[1]);
	nrtest_rmtree(d1);
	nrtest_rmtree(d2);
	free(d1);
	free(d2);
	free(r1);
	free(r2);
}

static int patch_expect(const char *passwd, const char *group, const nr_patch_options *o,
	nr_patch_report **rep, nr_error *err)
{
	char *dir = nrtest_tmpdir(), *ref = open_ref(dir);
	nr__layer_entry e[5];
	nr_image *img = NULL;
	int rc;

	base_entries(e, passwd, group);
	make_image(dir, e, 5, rootful_cfg);
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref, NULL, err), 0);
	rc = nr_image_patch(rep, img, o, err);
	nr_image_free(img);
	nrtest_rmtree(dir);
	free(dir);
	free(ref);
	return rc;
}

static void test_conflicts(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_patch_report *rep = NULL;
	nr_patch_options o = NR_PATCH_OPTIONS_INIT;

	CU_ASSERT_EQUAL(patch_expect("root:x:0:0::/root:/bin/sh\nother:x:1654:1654::/:/bin/sh\n",
		group_root, NULL, &rep, &err), NR_ECONFLICT);
	NRTEST_ASSERT_ERR(&err, NR_ECONFLICT, "etc/passwd:2: uid 1654 is taken by user 'other'");
	CU_ASSERT_PTR_NULL(rep);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(patch_expect("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
		group_root, NULL, &rep, &err), NR_ECONFLICT);
	NRTEST_ASSERT_ERR(&err, NR_ECONFLICT, "user 'app' exists with uid 1000, not 1654: use --uid 1000");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(patch_expect(passwd_root, "root:x:0:\nstaff:x:1654:\n", NULL, &rep, &err),
		NR_ECONFLICT);
	NRTEST_ASSERT_ERR(&err, NR_ECONFLICT, "etc/group:2: gid 1654 is taken by group 'staff'");
	nr_error_clear(&err);
	o.uid = 0;
	CU_ASSERT_EQUAL(patch_expect(passwd_root, group_root, &o, &rep, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "refusing uid/gid 0");
	nr_error_clear(&err);
	o.uid = -1;
	o.user = "-bad";
	CU_ASSERT_EQUAL(patch_expect(passwd_root, group_root, &o, &rep, &err), NR_EINVALID);
	nr_error_clear(&err);
	o.user = NULL;
	o.home = "relative";
	CU_ASSERT_EQUAL(patch_expect(passwd_root, group_root, &o, &rep, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "absolute path");
}

static void test_reuse_compat_dry(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_patch_report *rep = NULL;
	nr_patch_options o = NR_PATCH_OPTIONS_INIT;
	const nr_patch_change *c;

	/* A matching user and group are reused: only home and config change. */
	o.dry_run = 1;
	CU_ASSERT_EQUAL_FATAL(patch_expect("root:x:0:0::/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/sh\n",
		"root:x:0:\napp:x:1654:\n", &o, &rep, &err), 0);
	CU_ASSERT_PTR_NULL(find_change(rep, "file", "etc/passwd"));
	CU_ASSERT_PTR_NULL(find_change(rep, "file", "etc/group"));
	CU_ASSERT_PTR_NOT_NULL(find_change(rep, "directory", "home/app"));
	CU_ASSERT_STRING_EQUAL(nr_patch_report_at(rep, nr_patch_report_count(rep) - 1)->what,
		"layer");
	nr_patch_report_free(rep);
	rep = NULL;

	/* Compat: the user is added, the bindings are added beside the old ones, User kept. */
	o.mode = NR_PATCH_COMPAT;
	CU_ASSERT_EQUAL_FATAL(patch_expect(passwd_root, group_root, &o, &rep, &err), 0);
	CU_ASSERT_PTR_NULL(find_change(rep, "config", "User"));
	c = find_change(rep, "env", "ASPNETCORE_URLS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->after, "http://+:80;http://+:8080");
	c = find_change(rep, "exposed-port", "ExposedPorts");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->after, "80/tcp 8080/tcp");
	CU_ASSERT_PTR_NULL(find_change(rep, "healthcheck", "Healthcheck"));
	c = find_change(rep, "file", "etc/passwd");
	CU_ASSERT_STRING_EQUAL(c->after, "app:x:1654:1654::/home/app:/sbin/nologin");
	nr_patch_report_free(rep);
	rep = NULL;
	CU_ASSERT_TRUE(nr__urls_compat_done("ASPNETCORE_URLS", "http://+:80;http://+:8080",
		&(nr_portmap){ .count = 1, .entries = { { 80, 8080 } } }));
	CU_ASSERT_FALSE(nr__urls_compat_done("ASPNETCORE_URLS", "http://+:80",
		&(nr_portmap){ .count = 1, .entries = { { 80, 8080 } } }));

	/* Options: another user, ids, shell, no home. */
	o.mode = NR_PATCH_NONROOT;
	o.user = "web";
	o.uid = 2000;
	o.gid = 3000;
	o.shell = "/bin/sh";
	o.no_home = 1;
	CU_ASSERT_EQUAL_FATAL(patch_expect(passwd_root, group_root, &o, &rep, &err), 0);
	c = find_change(rep, "file", "etc/passwd");
	CU_ASSERT_STRING_EQUAL(c->after, "web:x:2000:3000::/home/web:/bin/sh");
	c = find_change(rep, "config", "User");
	CU_ASSERT_STRING_EQUAL(c->after, "2000:3000");
	CU_ASSERT_PTR_NULL(find_change(rep, "directory", "home/web"));
	nr_patch_report_free(rep);
}

/* FROM scratch: no /etc at all. passwd/group are created (with root), /etc is defined. */
static void test_scratch(void)
{
	char *dir = nrtest_tmpdir(), *ref = open_ref(dir);
	nr__layer_entry e[1] = { { "server", NR__LAYER_FILE, 0755, 0, 0, "#!", 2 } };
	nr_image *img = NULL;
	nr_patch_report *rep = NULL;
	nr_error err = NR_ERROR_INIT;
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	const char *paths[] = { "etc", "etc/passwd", "etc/group" };
	const nr_scan_entry *se;

	make_image(dir, e, 1, "{\"Env\":[\"ASPNETCORE_HTTP_PORTS=80\"]}");
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref, NULL, &err), 0);
	if (nr_image_patch(&rep, img, NULL, &err) < 0)
		fprintf(stderr, "\n  patch: %s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	CU_ASSERT_PTR_NOT_NULL(find_change(rep, "directory", "etc"));
	CU_ASSERT_STRING_EQUAL(find_change(rep, "env", "ASPNETCORE_HTTP_PORTS")->after, "8080");
	CU_ASSERT_EQUAL_FATAL(nr_image_write(img, NULL, NULL, &err), 0);
	nr_image_free(img);
	CU_ASSERT_EQUAL_FATAL(nr_image_open(&img, ref, NULL, &err), 0);
	req.paths = paths;
	req.npaths = 3;
	CU_ASSERT_EQUAL_FATAL(nr_image_scan(&res, img, 0, &req, &err), 0);
	se = nr_scan_result_get(res, "etc");
	CU_ASSERT_EQUAL(se->type, NR_ENTRY_DIRECTORY);
	CU_ASSERT_EQUAL(se->mode, 0755);
	se = nr_scan_result_get(res, "etc/passwd");
	CU_ASSERT_STRING_EQUAL(se->content, "root:x:0:0:root:/root:/bin/false\n"
		"app:x:1654:1654::/home/app:/bin/false\n");
	CU_ASSERT_EQUAL(se->mode, 0644);
	se = nr_scan_result_get(res, "etc/group");
	CU_ASSERT_STRING_EQUAL(se->content, "root:x:0:\napp:x:1654:\n");
	nr_scan_result_free(res);
	nr_patch_report_free(rep);
	nr_image_free(img);
	nrtest_rmtree(dir);
	free(dir);
	free(ref);
}

static void test_helpers(void)
{
	int64_t t = 0;
	char buf[32];
	nr__buf b = NR__BUF_INIT;

	CU_ASSERT_EQUAL(nr__parse_time("2024-01-01T00:00:00Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1704067200);
	CU_ASSERT_EQUAL(nr__parse_time("2024-01-01T02:00:00.999999999+02:00", &t), 0);
	CU_ASSERT_EQUAL(t, 1704067200);
	CU_ASSERT_EQUAL(nr__parse_time("2024-01-01", &t), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_time("2024-13-01T00:00:00Z", &t), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_time("2024-01-01T00:00:00Zjunk", &t), NR_EINVALID);
	nr__format_time(buf, sizeof(buf), 1704067200);
	CU_ASSERT_STRING_EQUAL(buf, "2024-01-01T00:00:00Z");
	CU_ASSERT_EQUAL(nr__path_relative(&b, "/home//app/../app/", NULL), 0);
	CU_ASSERT_STRING_EQUAL(b.ptr, "home/app");
	nr__buf_dispose(&b);
	setenv("SOURCE_DATE_EPOCH", "12x", 1);
	CU_ASSERT_EQUAL(nr__source_date_epoch(&t, NULL), NR_EINVALID);
	setenv("SOURCE_DATE_EPOCH", "86400", 1);
	CU_ASSERT_EQUAL(nr__source_date_epoch(&t, NULL), 0);
	CU_ASSERT_EQUAL(t, 86400);
	unsetenv("SOURCE_DATE_EPOCH");
	CU_ASSERT_EQUAL(nr__source_date_epoch(&t, NULL), 0);
	CU_ASSERT_EQUAL(t, -1);
}

static CU_TestInfo patch_tests[] = {
	{ "patch, read back, patch again", test_patch_and_again },
	{ "deterministic digests", test_deterministic },
	{ "conflicts and bad options", test_conflicts },
	{ "reuse, compat, dry run, options", test_reuse_compat_dry },
	{ "FROM scratch", test_scratch },
	{ "time and path helpers", test_helpers },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "patch", NULL, NULL, NULL, NULL, patch_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	unsetenv("SOURCE_DATE_EPOCH");
	return nrtest_main(suites);
}
