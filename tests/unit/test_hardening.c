/*
 * test_hardening.c: regression tests for bugs found by fuzzing and the hostile-input work
 * (issue #8). Each test names the harness or case that found the bug; the input that found
 * it is also kept in fuzz/corpus/<harness>/ (replayed by the fuzz.replay.* tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "nrtest.h"
#include "internal.h"
#include "buf.h"
#include "newlayer.h"

/* fuzz_urls_env, empty input: an environment without HTTP(S)_PORTS made expand_ports()
 * compute NULL + 0 (undefined behaviour, clang's UBSan aborts). */
static void test_urls_env_without_ports(void)
{
	const char *const empty[] = { NULL };
	const char *const urls_only[] = { "ASPNETCORE_URLS=http://+:80", NULL };
	nr_error err = NR_ERROR_INIT;
	nr_bindings *b = NULL;

	CU_ASSERT_EQUAL_FATAL(nr_bindings_from_env(&b, empty, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_bindings_source(b), NR_URLS_SOURCE_DEFAULT);
	CU_ASSERT_EQUAL_FATAL(nr_bindings_count(b), 1);
	CU_ASSERT_STRING_EQUAL(nr_bindings_at(b, 0)->url, "http://localhost:5000");
	nr_bindings_free(b);
	CU_ASSERT_EQUAL_FATAL(nr_bindings_from_env(&b, urls_only, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_bindings_source(b), NR_URLS_SOURCE_URLS);
	CU_ASSERT_EQUAL(nr_bindings_at(b, 0)->parsed.port, 80);
	nr_bindings_free(b);
}

/* fuzz_group, tests/data/group/valid/comments-nis-crlf: adding a member to a CRLF line wrote
 * "root:x:0:app\r", whose member glibc reads as "app\r": the user was not in the group. */
static void test_group_add_member_crlf(void)
{
	static const char text[] = "root:x:0:\r\nstaff:x:50:bob\r\n";
	nr_group *gr = NULL, *again = NULL;
	nr_error err = NR_ERROR_INIT;
	char *out = NULL;
	size_t len = 0;
	const nr_grent *g;

	CU_ASSERT_EQUAL_FATAL(nr_group_parse(&gr, text, strlen(text), NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_group_add_member(gr, "root", "app", &err), 0);
	CU_ASSERT_EQUAL(nr_group_add_member(gr, "staff", "app", &err), 0);
	CU_ASSERT_EQUAL_FATAL(nr_group_serialize(&out, &len, gr, &err), 0);
	CU_ASSERT_STRING_EQUAL(out, "root:x:0:app,\r\nstaff:x:50:bob,app,\r\n");
	CU_ASSERT_EQUAL_FATAL(nr_group_parse(&again, out, len, NULL, &err), 0);
	g = nr_group_find_name(again, "root");
	CU_ASSERT_EQUAL_FATAL(g->nmembers, 1);
	CU_ASSERT_STRING_EQUAL(g->members[0], "app");
	g = nr_group_find_name(again, "staff");
	CU_ASSERT_EQUAL_FATAL(g->nmembers, 2);
	CU_ASSERT_STRING_EQUAL(g->members[1], "app");
	nr_free(out);
	nr_group_free(again);
	nr_group_free(gr);
}

/* tests/hostile patch-user-c1 / patch-home-c1: a C1 control (U+0085 NEL in UTF-8) passed
 * the name and field checks, which only knew C0 and DEL. */
static void test_c1_controls(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_passwd *pw = NULL;
	nr_pwent ent;

	CU_ASSERT_EQUAL(nr_name_check("a\xc2\x85", 3, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "contains a control character");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_name_check("\xc2\x9f", 2, &err), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_name_check("\xc3\xa9l\xc3\xa8ve", 7, NULL), 0);   /* UTF-8 is fine */
	CU_ASSERT_EQUAL(nr_name_check("a\xc2\xa0", 3, NULL), 0);               /* U+00A0 too */
	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, "", 0, NULL, NULL), 0);
	memset(&ent, 0, sizeof(ent));
	ent.name = "app";
	ent.uid = ent.gid = 1654;
	ent.dir = "/home/a\xc2\x85" "b";
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &ent, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "dir: invalid dir");
	ent.dir = "/home/\xc3\xa9";
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &ent, NULL), 0);
	nr_passwd_free(pw);
}

static int to_buf(void *ctx, const void *buf, size_t len, nr_error *err)
{
	(void)err;
	return nr__buf_put(ctx, buf, len);
}

/* tests/hostile patch-user-utf8: a UTF-8 user name (accepted by nr_name_check) made the new
 * layer fail: "Can't translate pathname 'home/élève/' to UTF-8" in the C locale. */
static void test_newlayer_utf8_path(void)
{
	const nr__layer_entry ents[] = {
		{ "home", NR__LAYER_DIR, 0755, 0, 0, NULL, 0 },
		{ "home/\xc3\xa9l\xc3\xa8ve", NR__LAYER_DIR, 0755, 1654, 1654, NULL, 0 },
	};
	nr__buf out = NR__BUF_INIT;
	nr__layer_result res;
	nr_error err = NR_ERROR_INIT;
	struct archive *a;
	struct archive_entry *e;
	int found = 0;

	CU_ASSERT_EQUAL_FATAL(nr__newlayer_write(ents, 2, 0, 0, to_buf, &out, &res, &err), 0);
	a = archive_read_new();
	archive_read_support_format_tar(a);
	CU_ASSERT_EQUAL_FATAL(archive_read_open_memory(a, out.ptr, out.size), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK)
		found |= strcmp(archive_entry_pathname(e), "home/\xc3\xa9l\xc3\xa8ve/") == 0 ||
			strcmp(archive_entry_pathname(e), "home/\xc3\xa9l\xc3\xa8ve") == 0;
	CU_ASSERT(found);
	archive_read_free(a);
	nr__buf_dispose(&out);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* tests/e2e/kill_passwd.sh: a passwd add killed after etc/shadow was replaced but before
 * etc/passwd left "app" in shadow only, and the same add then failed for ever with
 * "etc/shadow:2: 'app' exists already". */
static void test_adduser_after_kill(void)
{
	char *dir = nrtest_tmpdir(), path[4096];
	nr_adduser_options o = NR_ADDUSER_OPTIONS_INIT;
	nr_adduser_result r;
	nr_error err = NR_ERROR_INIT;
	nr_rootfs *rfs = NULL;
	char *text = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/etc", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
	put(dir, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	put(dir, "etc/group", "root:x:0:\napp:x:1654:\n");          /* group was written */
	put(dir, "etc/gshadow", "root:*::\napp:!::\n");
	put(dir, "etc/shadow", "root:*:19000:0:99999:7:::\napp:!:19000::::::\n");
	CU_ASSERT_EQUAL_FATAL(nr_rootfs_open(&rfs, dir, &err), 0);
	o.name = "app";
	o.uid = 1654;
	o.shadow_days = 19000;
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), 0);
	if (err.code)
		fprintf(stderr, "\n  %s\n", err.message);
	CU_ASSERT_EQUAL(nr_rootfs_read_file(&text, &len, rfs, "etc/passwd", 1 << 20, &err), 0);
	CU_ASSERT_TRUE(text != NULL && strstr(text, "app:x:1654:1654:") != NULL);
	nr_free(text);
	text = NULL;
	CU_ASSERT_EQUAL(nr_rootfs_read_file(&text, &len, rfs, "etc/shadow", 1 << 20, &err), 0);
	CU_ASSERT_STRING_EQUAL(text, "root:*:19000:0:99999:7:::\napp:!:19000::::::\n");   /* once */
	nr_free(text);
	/* A user that really exists is still refused. */
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_rootfs_add_user(NULL, rfs, &o, &err), NR_EEXISTS);
	nr_rootfs_free(rfs);
	nrtest_rmtree(dir);
	free(dir);
}

static CU_TestInfo regress_tests[] = {
	{ "urls: environment without HTTP_PORTS (fuzz_urls_env)", test_urls_env_without_ports },
	{ "group: add member on a CRLF line (fuzz_group)", test_group_add_member_crlf },
	{ "names/passwd fields: C1 controls (hostile)", test_c1_controls },
	{ "newlayer: UTF-8 path in the C locale (hostile)", test_newlayer_utf8_path },
	{ "rootfs: add a user again after a killed add (kill_passwd)", test_adduser_after_kill },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "hardening regressions", NULL, NULL, NULL, NULL, regress_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
