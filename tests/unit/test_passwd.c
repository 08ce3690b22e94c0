/*
 * test_passwd.c: passwd parsing (data-driven: tests/data/passwd/{valid,invalid}/<case>/),
 * byte-for-byte round trips, lookups, add, next free id and pwck-style checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrtest.h"
#include "buf.h"

/* Dump entries as "LINE:name:passwd:uid:gid:gecos:dir:shell\n". */
static char *dump(const nr_passwd *pw)
{
	nr__buf b = NR__BUF_INIT;
	size_t i;

	nr__buf_puts(&b, "");
	for (i = 0; i < nr_passwd_count(pw); i++) {
		const nr_pwent *e = nr_passwd_at(pw, i);
		nr__buf_printf(&b, "%zu:%s:%s:%u:%u:%s:%s:%s\n", e->line, e->name, e->passwd, e->uid,
			e->gid, e->gecos, e->dir, e->shell);
	}
	return nr__buf_detach(&b, NULL);
}

static char *dump_problems(const nr_error *p, size_t n)
{
	nr__buf b = NR__BUF_INIT;
	size_t i;

	nr__buf_puts(&b, "");
	for (i = 0; i < n; i++)
		nr__buf_printf(&b, "%zu: %s\n", p[i].line, p[i].message);
	return nr__buf_detach(&b, NULL);
}

static void expect_text(const char *what, const char *dir, const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\n%s: %s differs\n--- want\n%s--- got\n%s---\n", dir, what, want, got);
		CU_FAIL("output differs from the expected file");
	}
}

static void valid_case(const char *dir, const char *name, void *payload)
{
	char rel[512], *input, *want, *got, *out;
	size_t len, outlen, n;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_error err = NR_ERROR_INIT, *problems = NULL;
	int rc;

	(void)name;
	(void)payload;
	snprintf(rel, sizeof(rel), "%s/input", dir);
	input = nrtest_read(rel, &len);
	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, input, len, NULL, &err), 0);
	/* byte-for-byte round trip */
	CU_ASSERT_EQUAL(nr_passwd_serialize(&out, &outlen, pw, &err), 0);
	CU_ASSERT_EQUAL(outlen, len);
	CU_ASSERT(outlen == len && memcmp(out, input, len) == 0);
	nr_free(out);
	snprintf(rel, sizeof(rel), "%s/entries", dir);
	want = nrtest_read(rel, NULL);
	got = dump(pw);
	expect_text("entries", dir, got, want);
	free(want);
	free(got);
	snprintf(rel, sizeof(rel), "%s/group", dir);
	if ((want = nrtest_read_opt(rel, &len)) != NULL) {
		CU_ASSERT_EQUAL_FATAL(nr_group_parse(&gr, want, len, NULL, &err), 0);
		free(want);
	}
	snprintf(rel, sizeof(rel), "%s/problems", dir);
	want = nrtest_read(rel, NULL);
	rc = nr_passwd_check(&problems, &n, pw, gr, &err);
	CU_ASSERT_EQUAL(rc, (int)n);
	got = dump_problems(problems, n);
	expect_text("problems", dir, got, want);
	if (n > 0)
		CU_ASSERT_STRING_EQUAL(problems[0].source, "passwd");
	free(want);
	free(got);
	nr_free(problems);
	nr_group_free(gr);
	nr_passwd_free(pw);
	free(input);
}

static void invalid_case(const char *dir, const char *name, void *payload)
{
	char rel[512], *input, *want, text[512];
	size_t len;
	nr_passwd *pw = (nr_passwd *)1;
	nr_error err = NR_ERROR_INIT;

	(void)name;
	(void)payload;
	snprintf(rel, sizeof(rel), "%s/input", dir);
	input = nrtest_read(rel, &len);
	snprintf(rel, sizeof(rel), "%s/error", dir);
	want = nrtest_read(rel, NULL);
	want[strcspn(want, "\n")] = '\0';
	CU_ASSERT(nr_passwd_parse(&pw, input, len, NULL, &err) < 0);
	CU_ASSERT_PTR_NULL(pw);
	nr_error_format(&err, text, sizeof(text));
	expect_text("error", dir, text, want);
	free(want);
	free(input);
}

static void test_valid_cases(void)
{
	CU_ASSERT(nrtest_each_case("passwd/valid", valid_case, NULL) >= 10);
}

static void test_invalid_cases(void)
{
	CU_ASSERT(nrtest_each_case("passwd/invalid", invalid_case, NULL) >= 2);
}

static const char base[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"daemon:x:1:1::/:/usr/sbin/nologin\n"
	"#comment\n"
	"app:x:1654:1654::/home/app:/sbin/nologin\n";

static void test_lookups(void)
{
	nr_passwd *pw;
	const nr_pwent *e;

	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, base, strlen(base), "etc/passwd", NULL), 0);
	CU_ASSERT_EQUAL(nr_passwd_count(pw), 3);
	e = nr_passwd_find_name(pw, "app");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->uid, 1654);
	CU_ASSERT_EQUAL(e->line, 4);
	CU_ASSERT_STRING_EQUAL(e->dir, "/home/app");
	CU_ASSERT_PTR_EQUAL(nr_passwd_find_uid(pw, 1), nr_passwd_at(pw, 1));
	CU_ASSERT_PTR_NULL(nr_passwd_find_uid(pw, 2));
	CU_ASSERT_PTR_NULL(nr_passwd_find_name(pw, "#comment"));
	CU_ASSERT_PTR_NULL(nr_passwd_find_name(pw, NULL));
	CU_ASSERT_PTR_NULL(nr_passwd_at(pw, 3));
	CU_ASSERT_PTR_NULL(nr_passwd_find_name(NULL, "app"));
	CU_ASSERT_EQUAL(nr_passwd_count(NULL), 0);
	nr_passwd_free(pw);
	nr_passwd_free(NULL);
}

static char *write_str(const nr_passwd *pw)
{
	char *out = NULL;
	size_t len;

	CU_ASSERT_EQUAL(nr_passwd_serialize(&out, &len, pw, NULL), 0);
	CU_ASSERT_EQUAL(strlen(out), len);
	return out;
}

static void test_add(void)
{
	nr_passwd *pw;
	nr_pwent e = { "svc", NULL, 1000, 1000, "Service", "/srv", "/bin/false", 0 };
	nr_error err = NR_ERROR_INIT;
	char *out;

	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, base, strlen(base), "etc/passwd", NULL), 0);
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), 0);
	out = write_str(pw);
	CU_ASSERT_STRING_EQUAL(out + strlen(base), "svc:x:1000:1000:Service:/srv:/bin/false\n");
	CU_ASSERT(strncmp(out, base, strlen(base)) == 0);
	nr_free(out);
	CU_ASSERT_EQUAL(nr_passwd_find_name(pw, "svc")->line, 5);
	CU_ASSERT_EQUAL(nr_passwd_count(pw), 4);

	/* duplicate name */
	e.uid = 2000;
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), NR_EEXISTS);
	NRTEST_ASSERT_ERR(&err, NR_EEXISTS, "etc/passwd:5: user 'svc' exists already (uid 1000)");
	/* uid taken */
	nr_error_clear(&err);
	e.name = "other";
	e.uid = 1654;
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), NR_ECONFLICT);
	NRTEST_ASSERT_ERR(&err, NR_ECONFLICT, "etc/passwd:4: uid 1654 is already used by user 'app'");
	/* bad fields */
	e.uid = 3000;
	nr_error_clear(&err);
	e.shell = "/bin/sh:x";
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "shell: invalid shell '/bin/sh:x'");
	nr_error_clear(&err);
	e.shell = "/bin/sh";
	e.gecos = "new\nline";
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "gecos: invalid gecos");
	nr_error_clear(&err);
	e.gecos = NULL;
	e.name = "-bad";
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "name: invalid name '-bad': must not start with '-'");
	nr_error_clear(&err);
	e.name = "ok";
	e.uid = UINT32_MAX;
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "uid: invalid uid 4294967295");
	nr_error_clear(&err);
	e.name = NULL;
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, &err), NR_EARG);
	CU_ASSERT_EQUAL(nr_passwd_count(pw), 4);
	nr_passwd_free(pw);
}

static void test_add_edges(void)
{
	static const char nis[] = "root:x:0:0:::\n+@ops::::::\nlate:x:9:9:::\n+::::::";
	static const char nonl[] = "root:x:0:0:::";
	nr_pwent e = { "app", "x", 1654, 1654, "", "/home/app", "/sbin/nologin", 0 };
	nr_passwd *pw;
	char *out;

	/* before the first NIS line; later entries move down one line */
	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, nis, strlen(nis), NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, NULL), 0);
	out = write_str(pw);
	CU_ASSERT_STRING_EQUAL(out, "root:x:0:0:::\napp:x:1654:1654::/home/app:/sbin/nologin\n"
		"+@ops::::::\nlate:x:9:9:::\n+::::::");
	nr_free(out);
	CU_ASSERT_EQUAL(nr_passwd_find_name(pw, "app")->line, 2);
	CU_ASSERT_EQUAL(nr_passwd_find_name(pw, "late")->line, 4);
	CU_ASSERT_STRING_EQUAL(nr_passwd_at(pw, 1)->name, "app");   /* file order */
	CU_ASSERT_STRING_EQUAL(nr_passwd_at(pw, 2)->name, "late");
	nr_passwd_free(pw);

	/* no final newline: one is added before the new line */
	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, nonl, strlen(nonl), NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, NULL), 0);
	out = write_str(pw);
	CU_ASSERT_STRING_EQUAL(out, "root:x:0:0:::\napp:x:1654:1654::/home/app:/sbin/nologin\n");
	nr_free(out);
	nr_passwd_free(pw);

	/* empty file */
	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, NULL, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_passwd_add(pw, &e, NULL), 0);
	out = write_str(pw);
	CU_ASSERT_STRING_EQUAL(out, "app:x:1654:1654::/home/app:/sbin/nologin\n");
	nr_free(out);
	nr_passwd_free(pw);
}

static void test_next_free_id(void)
{
	static const char pws[] = "a:x:100:100:::\nb:x:101:101:::\nc:x:999:999:::\n";
	static const char grs[] = "g:x:102:\n";
	nr_passwd *pw;
	nr_group *gr;
	nr_error err = NR_ERROR_INIT;
	uint32_t id = 0;

	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, pws, strlen(pws), NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nr_group_parse(&gr, grs, strlen(grs), NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_passwd_next_free_id(&id, pw, NULL, 100, 999, NULL), 0);
	CU_ASSERT_EQUAL(id, 102);
	CU_ASSERT_EQUAL(nr_passwd_next_free_id(&id, pw, gr, 100, 999, NULL), 0);
	CU_ASSERT_EQUAL(id, 103);
	CU_ASSERT_EQUAL(nr_passwd_next_free_id(&id, pw, gr, NR_SYS_ID_MAX, NR_SYS_ID_MIN, NULL), 0);
	CU_ASSERT_EQUAL(id, 998);   /* downward, like useradd -r */
	CU_ASSERT_EQUAL(nr_passwd_next_free_id(&id, NULL, NULL, 5, 5, NULL), 0);
	CU_ASSERT_EQUAL(id, 5);
	CU_ASSERT_EQUAL(nr_passwd_next_free_id(&id, pw, gr, 100, 102, &err), NR_ENOTFOUND);
	NRTEST_ASSERT_ERR(&err, NR_ENOTFOUND, "no free id in 100-102");
	/* the top of the range: (uid_t)-1 is never handed out, and the loop ends */
	CU_ASSERT_EQUAL(nr_passwd_next_free_id(&id, NULL, NULL, UINT32_MAX, UINT32_MAX, NULL),
		NR_ENOTFOUND);
	CU_ASSERT_EQUAL(nr_passwd_next_free_id(&id, NULL, NULL, UINT32_MAX - 1, UINT32_MAX, NULL), 0);
	CU_ASSERT_EQUAL(id, UINT32_MAX - 1);
	CU_ASSERT_EQUAL(nr_group_next_free_gid(&id, gr, 102, 110, NULL), 0);
	CU_ASSERT_EQUAL(id, 103);
	nr_group_free(gr);
	nr_passwd_free(pw);
}

static void test_check_with_group(void)
{
	static const char pws[] = "root:x:0:0:::\napp:x:1654:1654:::\n";
	static const char grs[] = "root:x:0:\n";
	nr_passwd *pw;
	nr_group *gr;
	nr_error *p = NULL;
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, pws, strlen(pws), "etc/passwd", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nr_group_parse(&gr, grs, strlen(grs), NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_passwd_check(&p, &n, pw, gr, NULL), 1);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(p[0].line, 2);
	CU_ASSERT_EQUAL(p[0].code, NR_EINVALID);
	CU_ASSERT_EQUAL(p[0].column, 0);
	CU_ASSERT_STRING_EQUAL(p[0].source, "etc/passwd");
	CU_ASSERT_STRING_EQUAL(p[0].message, "user 'app': no group 1654");
	nr_free(p);
	CU_ASSERT_EQUAL(nr_passwd_check(&p, &n, pw, NULL, NULL), 0);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(n, 0);
	nr_group_free(gr);
	nr_passwd_free(pw);
}

static void test_args(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_passwd *pw = NULL;
	char *big;

	CU_ASSERT_EQUAL(nr_passwd_parse(NULL, "", 0, NULL, &err), NR_EARG);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_passwd_parse(&pw, NULL, 5, NULL, &err), NR_EARG);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_passwd_serialize(&big, NULL, NULL, &err), NR_EARG);
	/* over the 10 MiB cap */
	big = calloc(1, 10u * 1024 * 1024 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, '\n', 10u * 1024 * 1024 + 1);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_passwd_parse(&pw, big, 10u * 1024 * 1024 + 1, "etc/passwd", &err),
		NR_ETOOBIG);
	NRTEST_ASSERT_ERR(&err, NR_ETOOBIG, "etc/passwd: file is 10485761 bytes, over the limit");
	CU_ASSERT_PTR_NULL(pw);
	free(big);
}

static CU_TestInfo tests[] = {
	{ "valid cases (tests/data/passwd/valid)", test_valid_cases },
	{ "invalid cases (tests/data/passwd/invalid)", test_invalid_cases },
	{ "lookups", test_lookups },
	{ "add", test_add },
	{ "add: NIS, no final newline, empty file", test_add_edges },
	{ "next free id", test_next_free_id },
	{ "check against group", test_check_with_group },
	{ "arguments and size cap", test_args },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "passwd", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
