/*
 * test_bundle.c: OCI runtime bundles: config.json round trip, hardening, reports, errors.
 *
 * Data-driven cases: tests/data/bundle/valid/<case>/{config.json, args?, expected.json,
 * report.txt?} and tests/data/bundle/invalid/<case>/{config.json, args?, error}. `args` holds
 * harden options, one a line: user=SPEC, allow_low_ports, unprivileged_port_start=N,
 * allow_root. A case directory is itself the bundle (root.path is relative to it).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nrtest.h"
#include "internal.h"
#include "fileio.h"

static char user_spec[256];

static void read_args(const char *dir, nr_bundle_harden_options *opts)
{
	char path[4096], line[512];
	FILE *f;

	nr_bundle_harden_options_init(opts, NR_BUNDLE_HARDEN_OPTIONS_VERSION);
	snprintf(path, sizeof(path), "%s/%s/args", NR_TEST_DATA, dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "user=", 5)) {
			snprintf(user_spec, sizeof(user_spec), "%s", line + 5);
			opts->user = user_spec;
		} else if (!strcmp(line, "allow_low_ports")) {
			opts->allow_low_ports = 1;
		} else if (!strncmp(line, "unprivileged_port_start=", 24)) {
			opts->unprivileged_port_start = atoi(line + 24);
		} else if (!strcmp(line, "allow_root")) {
			opts->allow_root = 1;
		} else if (line[0] != '\0') {
			fprintf(stderr, "\n  %s: unknown option line '%s'\n", path, line);
			CU_FAIL("unknown line in args");
		}
	}
	fclose(f);
}

/* A file of a case directory (dir is relative to tests/data). */
static char *case_file(const char *dir, const char *file, size_t *len, int optional)
{
	char rel[4096];

	snprintf(rel, sizeof(rel), "%s/%s", dir, file);
	return optional ? nrtest_read_opt(rel, len) : nrtest_read(rel, len);
}

static const char *full_path(const char *dir)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", NR_TEST_DATA, dir);
	return path;
}

static void valid_case(const char *dir, const char *name, void *payload)
{
	nr_bundle_harden_options opts;
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = NULL;
	nr_bundle_report *r = NULL;
	char *expected, *want_report, *out = NULL, *text = NULL, *json = NULL;
	size_t len, outlen;
	json_t *doc;
	json_error_t jerr;

	(void)payload;
	read_args(dir, &opts);
	expected = case_file(dir, "expected.json", &len, 0);
	CU_ASSERT_EQUAL_FATAL(nr_bundle_open(&b, full_path(dir), &err), 0);
	if (nr_bundle_harden(&r, b, &opts, &err) != 0) {
		char t[512];
		nr_error_format(&err, t, sizeof(t));
		fprintf(stderr, "\n  %s: %s\n", name, t);
		CU_FAIL("harden failed on a valid case");
		goto done;
	}
	CU_ASSERT_EQUAL(nr_bundle_serialize(&out, &outlen, b, &err), 0);
	CU_ASSERT_EQUAL(outlen, strlen(out));
	if (strcmp(out, expected) != 0) {
		fprintf(stderr, "\n  %s: config.json differs from expected.json:\n%s\n", name, out);
		CU_FAIL("hardened config.json differs from expected.json");
	}
	/* Hardening is idempotent: a second pass changes nothing. */
	{
		nr_bundle_report *r2 = NULL;
		CU_ASSERT_EQUAL(nr_bundle_harden(&r2, b, &opts, &err), 0);
		CU_ASSERT_EQUAL(nr_bundle_report_changes(r2), 0);
		nr_bundle_report_free(r2);
	}
	/* The JSON report parses and its change count agrees. */
	CU_ASSERT_EQUAL(nr_bundle_report_to_json(&json, NULL, r, &err), 0);
	doc = json_loads(json, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL(doc);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(doc, "changes")),
		nr_bundle_report_changes(r));
	CU_ASSERT_TRUE(json_is_false(json_object_get(doc, "written")));
	json_decref(doc);
	/* The text report, from its second line (the first names the bundle's path). */
	CU_ASSERT_EQUAL(nr_bundle_report_to_text(&text, NULL, r, &err), 0);
	want_report = case_file(dir, "report.txt", &len, 1);
	if (want_report && text && strcmp(strchr(text, '\n') + 1, want_report) != 0) {
		fprintf(stderr, "\n  %s: report differs from report.txt:\n%s\n", name, text);
		CU_FAIL("text report differs from report.txt");
	}
	free(want_report);
done:
	free(expected);
	nr_free(out);
	nr_free(text);
	nr_free(json);
	nr_bundle_report_free(r);
	nr_bundle_free(b);
}

static void invalid_case(const char *dir, const char *name, void *payload)
{
	nr_bundle_harden_options opts;
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = NULL;
	nr_bundle_report *r = (nr_bundle_report *)1;
	char *want, *before = NULL, *after = NULL, text[512];
	size_t len;
	int rc;

	(void)payload;
	read_args(dir, &opts);
	want = case_file(dir, "error", &len, 0);
	want[strcspn(want, "\n")] = '\0';
	rc = nr_bundle_open(&b, full_path(dir), &err);
	if (rc == 0) {
		CU_ASSERT_EQUAL(nr_bundle_serialize(&before, NULL, b, NULL), 0);
		rc = nr_bundle_harden(&r, b, &opts, &err);
		CU_ASSERT_PTR_NULL(r);
		/* A failed harden leaves the bundle as it was. */
		CU_ASSERT_EQUAL(nr_bundle_serialize(&after, NULL, b, NULL), 0);
		if (before && after)
			CU_ASSERT_STRING_EQUAL(before, after);
	} else {
		CU_ASSERT_PTR_NULL(b);
	}
	CU_ASSERT(rc < 0);
	CU_ASSERT_EQUAL(rc, err.code);
	nr_error_format(&err, text, sizeof(text));
	if (strcmp(text, want) != 0) {
		fprintf(stderr, "\n  %s: error\n    got  %s\n    want %s\n", name, text, want);
		CU_FAIL("error text differs from the case's error file");
	}
	free(want);
	nr_free(before);
	nr_free(after);
	nr_bundle_free(b);
}

static void test_valid_cases(void)
{
	CU_ASSERT(nrtest_each_case("bundle/valid", valid_case, NULL) >= 8);
}

static void test_invalid_cases(void)
{
	CU_ASSERT(nrtest_each_case("bundle/invalid", invalid_case, NULL) >= 15);
}

static void test_options(void)
{
	nr_bundle_harden_options o = NR_BUNDLE_HARDEN_OPTIONS_INIT, p;
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = NULL;
	const char cfg[] = "{\"process\":{\"user\":{\"uid\":1,\"gid\":1}}}";

	memset(&p, 0x5a, sizeof(p));
	CU_ASSERT_EQUAL(nr_bundle_harden_options_init(&p, NR_BUNDLE_HARDEN_OPTIONS_VERSION), 0);
	CU_ASSERT_EQUAL(p.version, NR_BUNDLE_HARDEN_OPTIONS_VERSION);
	CU_ASSERT_PTR_NULL(p.user);
	CU_ASSERT_EQUAL(p.allow_low_ports, 0);
	CU_ASSERT_EQUAL(p.unprivileged_port_start, -1);
	CU_ASSERT_EQUAL(p.allow_root, 0);
	CU_ASSERT_EQUAL(p.dry_run, 0);
	CU_ASSERT_EQUAL(o.unprivileged_port_start, -1);
	CU_ASSERT_PTR_NULL(o.user);
	CU_ASSERT_EQUAL(nr_bundle_harden_options_init(&p, 99), NR_EARG);
	CU_ASSERT_EQUAL(nr_bundle_harden_options_init(NULL, NR_BUNDLE_HARDEN_OPTIONS_VERSION),
		NR_EARG);

	CU_ASSERT_EQUAL_FATAL(nr_bundle_parse(&b, cfg, strlen(cfg), NULL, &err), 0);
	o.version = 7;
	CU_ASSERT_EQUAL(nr_bundle_harden(NULL, b, &o, &err), NR_EARG);
	NRTEST_ASSERT_ERR(&err, NR_EARG, "options version 7");
	nr_error_clear(&err);
	o.version = NR_BUNDLE_HARDEN_OPTIONS_VERSION;
	o.unprivileged_port_start = 65536;
	CU_ASSERT_EQUAL(nr_bundle_harden(NULL, b, &o, &err), NR_EARG);
	NRTEST_ASSERT_ERR(&err, NR_EARG, "65536 is out of range (0-65535)");
	nr_error_clear(&err);
	o.unprivileged_port_start = -2;
	CU_ASSERT_EQUAL(nr_bundle_harden(NULL, b, &o, &err), NR_EARG);
	/* NULL options: the defaults. */
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_bundle_harden(NULL, b, NULL, &err), 0);
	/* A user spec needs a directory to resolve in. */
	o.unprivileged_port_start = -1;
	o.user = "app";
	CU_ASSERT_EQUAL(nr_bundle_harden(NULL, b, &o, &err), NR_EARG);
	NRTEST_ASSERT_ERR(&err, NR_EARG, "config.json: cannot resolve user 'app': the bundle has "
		"no directory");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_bundle_write(b, &err), NR_EARG);
	NRTEST_ASSERT_ERR(&err, NR_EARG, "no directory to save to");
	nr_bundle_free(b);
}

static void test_null_args(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = (nr_bundle *)1;
	nr_bundle_report *r = (nr_bundle_report *)1;
	char *s = (char *)1;

	CU_ASSERT_EQUAL(nr_bundle_open(&b, NULL, &err), NR_EARG);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_EQUAL(nr_bundle_open(NULL, "x", NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_bundle_parse(&b, NULL, 0, NULL, NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_bundle_harden(&r, NULL, NULL, NULL), NR_EARG);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(nr_bundle_harden_dir(NULL, NULL, NULL, NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_bundle_serialize(&s, NULL, NULL, NULL), NR_EARG);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(nr_bundle_report_to_json(&s, NULL, NULL, NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_bundle_report_to_text(&s, NULL, NULL, NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_bundle_write(NULL, NULL), NR_EARG);
	CU_ASSERT_PTR_NULL(nr_bundle_root_path(NULL));
	CU_ASSERT_EQUAL(nr_bundle_report_changes(NULL), 0);
	CU_ASSERT_EQUAL(nr_bundle_report_written(NULL), 0);
	nr_bundle_free(NULL);
	nr_bundle_report_free(NULL);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_bundle_open(&b, "/nonexistent/bundle", &err), NR_EIO);
	NRTEST_ASSERT_ERR(&err, NR_EIO, "/nonexistent/bundle: open bundle directory: No such file");
}

static void test_parse_errors(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = NULL;
	const char nul[] = "{\"process\":\0{}}";

	CU_ASSERT_EQUAL(nr_bundle_parse(&b, nul, sizeof(nul) - 1, NULL, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "config.json: embedded NUL byte at offset 11");
	CU_ASSERT_PTR_NULL(b);
	/* Only len bytes are read: a prefix that is a whole document parses. */
	nr_error_clear(&err);
	CU_ASSERT_EQUAL_FATAL(nr_bundle_parse(&b, "{\"root\":{\"path\":\"r\"}}garbage",
		strlen("{\"root\":{\"path\":\"r\"}}"), NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(nr_bundle_root_path(b), "r");
	nr_bundle_free(b);
	/* root.path not a string: NULL. */
	CU_ASSERT_EQUAL_FATAL(nr_bundle_parse(&b, "{\"root\":{\"path\":1}}",
		strlen("{\"root\":{\"path\":1}}"), NULL, &err), 0);
	CU_ASSERT_PTR_NULL(nr_bundle_root_path(b));
	nr_bundle_free(b);
}

/* Copy a data case into a fresh temporary bundle directory. */
static char *temp_bundle(const char *rel_config)
{
	char *dir = nrtest_tmpdir(), path[4096], *buf;
	size_t len;
	nr_error err = NR_ERROR_INIT;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	buf = nrtest_read(rel_config, &len);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	CU_ASSERT_EQUAL(nr__file_write_atomic(path, buf, len, 0640, &err), 0);
	free(buf);
	return dir;
}

static char *read_path(const char *dir, const char *name)
{
	char *buf = NULL;
	size_t len;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	CU_ASSERT_FATAL(dfd >= 0);
	CU_ASSERT_EQUAL(nr__file_read_at(&buf, &len, dfd, name, 0, 1 << 24, NULL, NULL), 0);
	close(dfd);
	return buf;
}

static void test_harden_dir(void)
{
	nr_bundle_harden_options o = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_bundle_report *r = NULL;
	char *dir = temp_bundle("bundle/valid/umoci-nonroot/config.json");
	char *orig = read_path(dir, "config.json"), *now, *want, path[4096];
	struct stat st1, st2;
	size_t len;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	/* Dry run: reported, not written. */
	o.dry_run = 1;
	CU_ASSERT_EQUAL(nr_bundle_harden_dir(&r, dir, &o, &err), 0);
	CU_ASSERT(nr_bundle_report_changes(r) > 0);
	CU_ASSERT_FALSE(nr_bundle_report_written(r));
	nr_bundle_report_free(r);
	now = read_path(dir, "config.json");
	CU_ASSERT_STRING_EQUAL(now, orig);
	free(now);
	/* For real: written atomically, mode kept, content as expected.json. */
	o.dry_run = 0;
	CU_ASSERT_EQUAL(nr_bundle_harden_dir(&r, dir, &o, &err), 0);
	CU_ASSERT_TRUE(nr_bundle_report_written(r));
	nr_bundle_report_free(r);
	CU_ASSERT_EQUAL(stat(path, &st1), 0);
	CU_ASSERT_EQUAL(st1.st_mode & 07777, 0640);
	now = read_path(dir, "config.json");
	want = nrtest_read("bundle/valid/umoci-nonroot/expected.json", &len);
	CU_ASSERT_STRING_EQUAL(now, want);
	free(now);
	free(want);
	/* Again: nothing to change, so the file is not rewritten (same inode). */
	CU_ASSERT_EQUAL(nr_bundle_harden_dir(&r, dir, &o, &err), 0);
	CU_ASSERT_EQUAL(nr_bundle_report_changes(r), 0);
	CU_ASSERT_FALSE(nr_bundle_report_written(r));
	nr_bundle_report_free(r);
	CU_ASSERT_EQUAL(stat(path, &st2), 0);
	CU_ASSERT_EQUAL(st1.st_ino, st2.st_ino);
	/* A failure writes nothing. */
	o.allow_low_ports = 1;
	o.unprivileged_port_start = 0;
	{
		char *cfg;
		nr_error e2 = NR_ERROR_INIT;
		const char bad[] = "{\"process\":{\"user\":{\"uid\":1,\"gid\":1}}}\n";
		CU_ASSERT_EQUAL(nr__file_write_atomic(path, bad, strlen(bad), 0640, &e2), 0);
		CU_ASSERT_EQUAL(nr_bundle_harden_dir(&r, dir, &o, &err), NR_EINVALID);
		CU_ASSERT_PTR_NULL(r);
		cfg = read_path(dir, "config.json");
		CU_ASSERT_STRING_EQUAL(cfg, bad);
		free(cfg);
	}
	nrtest_rmtree(dir);
	free(dir);
	free(orig);
}

static void test_report_shape(void)
{
	nr_bundle_harden_options o = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = NULL;
	nr_bundle_report *r = NULL;
	char *json = NULL;
	json_t *doc, *grants, *c0;
	const char cfg[] = "{\"process\":{\"user\":{\"uid\":1654,\"gid\":1654},"
		"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]}},"
		"\"linux\":{\"namespaces\":[{\"type\":\"network\"}]}}";

	CU_ASSERT_EQUAL_FATAL(nr_bundle_parse(&b, cfg, strlen(cfg), NULL, &err), 0);
	o.allow_low_ports = 1;
	o.unprivileged_port_start = 1000;
	CU_ASSERT_EQUAL_FATAL(nr_bundle_harden(&r, b, &o, &err), 0);
	CU_ASSERT_EQUAL(nr_bundle_report_changes(r), 7);
	CU_ASSERT_EQUAL_FATAL(nr_bundle_report_to_json(&json, NULL, r, &err), 0);
	doc = json_loads(json, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_TRUE(json_is_null(json_object_get(doc, "bundle")));
	CU_ASSERT_TRUE(json_is_false(json_object_get(doc, "dry_run")));
	c0 = json_array_get(json_object_get(doc, "changes"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c0, "field")),
		"process.capabilities.bounding");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(c0, "old")), 2);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(c0, "new")), 1);
	c0 = json_array_get(json_object_get(doc, "changes"), 1);   /* effective was absent */
	CU_ASSERT_TRUE(json_is_null(json_object_get(c0, "old")));
	grants = json_object_get(doc, "grants");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(grants, "uid")), 1654);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(grants, "unprivileged_port_start")),
		1000);
	CU_ASSERT_TRUE(json_is_true(json_object_get(grants, "no_new_privileges")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(grants, "low_ports")), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(grants,
		"low_ports"), 1)), "net.ipv4.ip_unprivileged_port_start=1000");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(json_object_get(
		grants, "capabilities"), "ambient"), 0)), "CAP_NET_BIND_SERVICE");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(doc, "user"), "uid")),
		1654);
	json_decref(doc);
	nr_free(json);
	nr_bundle_report_free(r);
	nr_bundle_free(b);
}

/* root.path may be absolute: the user is resolved in that directory. */
static void test_absolute_root_path(void)
{
	nr_bundle_harden_options o = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = NULL;
	nr_bundle_report *r = NULL;
	char *bdir = nrtest_tmpdir(), *rdir = nrtest_tmpdir(), path[4096], cfg[4600], *json = NULL;
	json_t *doc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(bdir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rdir);
	snprintf(path, sizeof(path), "%s/etc", rdir);
	CU_ASSERT_EQUAL(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/passwd", rdir);
	CU_ASSERT_EQUAL(nr__file_write_atomic(path, "web:x:33:33::/var/www:/bin/false\n", 33,
		0644, &err), 0);
	snprintf(cfg, sizeof(cfg), "{\"process\":{\"user\":{\"uid\":0,\"gid\":0}},"
		"\"root\":{\"path\":\"%s\"}}", rdir);
	CU_ASSERT_EQUAL_FATAL(nr_bundle_parse(&b, cfg, strlen(cfg), bdir, &err), 0);
	CU_ASSERT_STRING_EQUAL(nr_bundle_root_path(b), rdir);
	o.user = "web";
	CU_ASSERT_EQUAL_FATAL(nr_bundle_harden(&r, b, &o, &err), 0);
	CU_ASSERT_EQUAL(nr_bundle_report_to_json(&json, NULL, r, &err), 0);
	doc = json_loads(json, 0, NULL);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(doc, "user"), "uid")), 33);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(doc, "user"),
		"home")), "/var/www");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(doc, "user"),
		"name")), "web");
	json_decref(doc);
	nr_free(json);
	nr_bundle_report_free(r);
	/* Saved into the bundle directory, not next to the root filesystem. */
	CU_ASSERT_EQUAL(nr_bundle_write(b, &err), 0);
	nr_bundle_free(b);
	b = NULL;
	CU_ASSERT_EQUAL_FATAL(nr_bundle_open(&b, bdir, &err), 0);
	CU_ASSERT_EQUAL(nr_bundle_harden(&r, b, &o, &err), 0);
	CU_ASSERT_EQUAL(nr_bundle_report_changes(r), 0);
	nr_bundle_report_free(r);
	nr_bundle_free(b);
	nrtest_rmtree(bdir);
	nrtest_rmtree(rdir);
	free(bdir);
	free(rdir);
}

static CU_TestInfo bundle_tests[] = {
	{ "absolute root.path", test_absolute_root_path },
	{ "valid cases", test_valid_cases },
	{ "invalid cases", test_invalid_cases },
	{ "options", test_options },
	{ "NULL arguments", test_null_args },
	{ "parse errors", test_parse_errors },
	{ "harden a directory", test_harden_dir },
	{ "report shape", test_report_shape },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "bundle", NULL, NULL, NULL, NULL, bundle_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
