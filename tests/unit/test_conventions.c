/*
 * test_conventions.c: the API conventions of docs/library.md ("Conventions"): the version
 * number and its check, the unprivileged port constant, every public entry point resetting
 * the caller's nr_error, and the one version check of the options structs (1..current, an
 * error naming the struct).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrtest.h"

#if !NR_VERSION_CHECK(0, 0, 0)
# error "NR_VERSION_CHECK(0, 0, 0) must hold in the preprocessor"
#endif
#if NR_VERSION_CHECK(NR_VERSION_MAJOR + 1, 0, 0)
# error "NR_VERSION_CHECK of a later major version must not hold"
#endif

static void test_version_number(void)
{
	char text[32];

	CU_ASSERT_EQUAL(NR_VERSION_NUMBER,
		NR_VERSION_MAJOR * 10000 + NR_VERSION_MINOR * 100 + NR_VERSION_PATCH);
	CU_ASSERT_EQUAL(nr_version_number(), (unsigned)NR_VERSION_NUMBER);
	snprintf(text, sizeof(text), "%u.%u.%u", nr_version_number() / 10000,
		nr_version_number() / 100 % 100, nr_version_number() % 100);
	CU_ASSERT_STRING_EQUAL(text, nr_version());
	CU_ASSERT_TRUE(NR_VERSION_CHECK(NR_VERSION_MAJOR, NR_VERSION_MINOR, NR_VERSION_PATCH));
	CU_ASSERT_FALSE(NR_VERSION_CHECK(NR_VERSION_MAJOR, NR_VERSION_MINOR, NR_VERSION_PATCH + 1));
	CU_ASSERT_FALSE(NR_VERSION_CHECK(NR_VERSION_MAJOR, NR_VERSION_MINOR + 1, 0));
	CU_ASSERT_TRUE(NR_VERSION_CHECK(0, 0, 99) || NR_VERSION_NUMBER < 99);
}

static void test_unprivileged_port(void)
{
	nr_urls_options uo = NR_URLS_OPTIONS_INIT;
	nr_audit_options ao = NR_AUDIT_OPTIONS_INIT;
	nr_url u;
	nr_error err = NR_ERROR_INIT;

	CU_ASSERT_EQUAL(NR_UNPRIVILEGED_PORT_START, 1024);
	CU_ASSERT_EQUAL(uo.threshold, NR_UNPRIVILEGED_PORT_START);
	CU_ASSERT_EQUAL(ao.threshold, NR_UNPRIVILEGED_PORT_START);
	CU_ASSERT_EQUAL(nr_urls_options_init(&uo, NR_URLS_OPTIONS_VERSION), 0);
	CU_ASSERT_EQUAL(uo.threshold, NR_UNPRIVILEGED_PORT_START);
	CU_ASSERT_EQUAL(nr_audit_options_init(&ao, NR_AUDIT_OPTIONS_VERSION), 0);
	CU_ASSERT_EQUAL(ao.threshold, NR_UNPRIVILEGED_PORT_START);
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://+:1023", 13, &err), 0);
	CU_ASSERT_TRUE(nr_url_is_privileged(&u, NR_UNPRIVILEGED_PORT_START));
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://+:1024", 13, &err), 0);
	CU_ASSERT_FALSE(nr_url_is_privileged(&u, NR_UNPRIVILEGED_PORT_START));
}

/* err holds exactly "no error" (every byte as nr_error_clear() leaves it) */
static int err_is_clear(const nr_error *err)
{
	nr_error zero;

	memset(&zero, 0, sizeof(zero));
	return memcmp(err, &zero, sizeof(zero)) == 0;
}

/* One nr_error reused across calls: a failure fills it; a success afterwards leaves it clear
 * (no stale message); a second, different failure reports itself, not the first. */
/* release: frees what the successful call made, before the next call overwrites it */
#define REUSE_R(fail1, succeed, release, fail2, needle2) do { \
	CU_ASSERT_TRUE((fail1) < 0); \
	CU_ASSERT_NOT_EQUAL(err.code, 0); \
	CU_ASSERT_TRUE((succeed) >= 0); \
	if (!err_is_clear(&err)) { \
		fprintf(stderr, "\n  stale error after %s: %s\n", #succeed, err.message); \
		CU_FAIL("a success left the previous error in the reused nr_error"); \
	} \
	release; \
	CU_ASSERT_TRUE((fail1) < 0); \
	CU_ASSERT_TRUE((fail2) < 0); \
	NRTEST_ASSERT_ERR(&err, err.code, needle2); \
} while (0)
#define REUSE(fail1, succeed, fail2, needle2) REUSE_R(fail1, succeed, (void)0, fail2, needle2)

static void test_error_reset(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_shadow *sh = NULL;
	nr_imgconfig *cfg = NULL;
	nr_bindings *b = NULL;
	nr_audit_config *ac = NULL;
	nr_exec_user eu;
	nr_url u;
	nr_portmap map;
	uint16_t port;
	char *out = NULL;
	size_t len;
	const char *bad_env[] = { "ASPNETCORE_URLS=http://+:99999", NULL };
	const char *good_env[] = { "ASPNETCORE_URLS=http://+:8080", NULL };

	/* a NUL byte is an error naming its line (malformed lines are kept, not errors) */
	REUSE_R(nr_passwd_parse(&pw, "a\0\n", 3, "etc/passwd", &err),
	      nr_passwd_parse(&pw, "a:x:1:1::/:/bin/sh\n", 19, "etc/passwd", &err),
	      (nr_passwd_free(pw), pw = NULL),
	      nr_passwd_parse(&pw, "a:x:1:1::/:/bin/sh\nb\0\n", 22, "p2", &err), "p2:2");
	nr_passwd_free(pw);
	pw = NULL;
	REUSE_R(nr_group_parse(&gr, "g\0\n", 3, "etc/group", &err),
	      nr_group_parse(&gr, "g:x:5:\n", 7, "etc/group", &err),
	      (nr_group_free(gr), gr = NULL),
	      nr_group_parse(&gr, "g:x:5:\nh\0\n", 10, "g2", &err), "g2:2");
	nr_group_free(gr);
	gr = NULL;
	REUSE_R(nr_shadow_parse(&sh, "s\0\n", 3, "etc/shadow", &err),
	      nr_shadow_parse(&sh, "s:!:1::::::\n", 12, "etc/shadow", &err),
	      (nr_shadow_free(sh), sh = NULL),
	      nr_shadow_parse(&sh, "s:!:1::::::\nt\0\n", 15, "s2", &err), "s2:2");
	nr_shadow_free(sh);
	sh = NULL;
	REUSE(nr_url_parse(&u, "http://", 7, &err),
	      nr_url_parse(&u, "http://+:80", 11, &err),
	      nr_url_parse(&u, "http://a\001:1", 11, &err), "control character");
	REUSE(nr_name_check("-bad", 4, &err),
	      nr_name_check("app", 3, &err),
	      nr_name_check("a:b", 3, &err), "a:b");
	REUSE_R(nr_imgconfig_parse(&cfg, "{", 1, &err),
	      nr_imgconfig_parse(&cfg, "{\"config\":{}}", 13, &err),
	      (nr_imgconfig_free(cfg), cfg = NULL),
	      nr_imgconfig_parse(&cfg, "[]", 2, &err), "object");
	nr_imgconfig_free(cfg);
	cfg = NULL;
	REUSE_R(nr_bindings_from_env(&b, bad_env, NULL, &err),
	      nr_bindings_from_env(&b, good_env, NULL, &err),
	      (nr_bindings_free(b), b = NULL),
	      nr_bindings_to_json(&out, &len, NULL, &err), "b is NULL");
	nr_bindings_free(b);
	b = NULL;
	REUSE(nr_portmap_parse(&map, "80", 2, &err),
	      nr_portmap_parse(&map, "80:8080", 7, &err),
	      nr_portmap_parse(&map, "80:0", 4, &err), "0");
	REUSE(nr_imgconfig_parse_port_key(&port, NULL, "x/tcp", &err),
	      nr_imgconfig_parse_port_key(&port, NULL, "80/tcp", &err),
	      nr_imgconfig_parse_port_key(&port, NULL, "70000/tcp", &err), "70000");
	REUSE_R(nr_userspec_resolve(&eu, "nobody", NULL, NULL, NULL, &err),
	      nr_userspec_resolve(&eu, "1000:1000", NULL, NULL, NULL, &err),
	      nr_exec_user_dispose(&eu),
	      nr_userspec_resolve(&eu, "app:wheel", NULL, NULL, NULL, &err), "app");
	CU_ASSERT_EQUAL(nr_audit_config_new(&ac, &err), 0);
	REUSE(nr_audit_config_ignore(ac, "NR999", &err),
	      nr_audit_config_ignore(ac, "NR008", &err),
	      nr_audit_config_ignore(ac, "XY1", &err), "XY1");
	nr_audit_config_free(ac);
}

static void check_version_error(int rc, const nr_error *err, const char *type)
{
	char want[96];

	CU_ASSERT_EQUAL(rc, NR_EARG);
	snprintf(want, sizeof(want), "%s version", type);
	NRTEST_ASSERT_ERR(err, NR_EARG, want);
	NRTEST_ASSERT_ERR(err, NR_EARG, "versions 1 to");
}

static void test_options_version(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_urls_options uo = NR_URLS_OPTIONS_INIT;
	nr_userspec_options so = NR_USERSPEC_OPTIONS_INIT;
	nr_rootfs_options ro = NR_ROOTFS_OPTIONS_INIT;
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_bundle_harden_options ho = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_bindings *b = NULL;
	nr_exec_user eu;
	nr_rootfs *rfs = NULL;
	nr_image *img = NULL;
	nr_bundle *bundle = NULL;
	const char *env[] = { "ASPNETCORE_URLS=http://+:8080", NULL };
	const char *bundle_json = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
		"\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"cwd\":\"/\",\"args\":[\"/x\"]}}";
	unsigned bad[] = { 0, 99 };
	size_t k;

	for (k = 0; k < 2; k++) {
		uo.version = bad[k];
		check_version_error(nr_bindings_from_env(&b, env, &uo, &err), &err, "nr_urls_options");
		so.version = bad[k];
		check_version_error(nr_userspec_resolve(&eu, "0", NULL, NULL, &so, &err), &err,
			"nr_userspec_options");
		ro.version = bad[k];
		check_version_error(nr_rootfs_open_ext(&rfs, "/", &ro, &err), &err,
			"nr_rootfs_options");
		oo.version = bad[k];
		check_version_error(nr_image_open(&img, "/nonexistent", &oo, &err), &err,
			"nr_image_open_options");
		ho.version = bad[k];
		CU_ASSERT_EQUAL(nr_bundle_parse(&bundle, bundle_json, strlen(bundle_json), NULL, &err),
			0);
		check_version_error(nr_bundle_harden(NULL, bundle, &ho, &err), &err,
			"nr_bundle_harden_options");
		nr_bundle_free(bundle);
		bundle = NULL;
	}
	/* every version from 1 to the current one is accepted */
	uo.version = NR_URLS_OPTIONS_VERSION;
	CU_ASSERT_EQUAL(nr_bindings_from_env(&b, env, &uo, &err), 0);
	nr_bindings_free(b);
	for (k = 1; k <= NR_IMAGE_OPEN_OPTIONS_VERSION; k++) {
		CU_ASSERT_EQUAL(nr_image_open_options_init(&oo, NR_IMAGE_OPEN_OPTIONS_VERSION), 0);
		oo.version = (unsigned)k;
		CU_ASSERT_TRUE(nr_image_open(&img, "/nonexistent", &oo, &err) < 0);
		CU_ASSERT_NOT_EQUAL(err.code, NR_EARG);   /* the version passed; the path did not */
	}
	CU_ASSERT_EQUAL(nr_rootfs_options_init(&ro, NR_ROOTFS_OPTIONS_VERSION), 0);
	CU_ASSERT_EQUAL(nr_rootfs_open_ext(&rfs, "/", &ro, &err), 0);
	nr_rootfs_free(rfs);
}

static CU_TestInfo conventions_tests[] = {
	{ "version number", test_version_number },
	{ "unprivileged port", test_unprivileged_port },
	{ "error reset", test_error_reset },
	{ "options version", test_options_version },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "conventions", NULL, NULL, NULL, NULL, conventions_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
