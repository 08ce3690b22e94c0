/*
 * test_shadow.c: shadow and gshadow (data-driven: tests/data/{shadow,gshadow}/valid/<case>/),
 * round trips, add, SOURCE_DATE_EPOCH and pwck/grpck-style cross checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nrtest.h"
#include "buf.h"

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

static void shadow_case(const char *dir, const char *name, void *payload)
{
	char rel[512], *input, *want, *got, *out;
	size_t len, outlen, n, i;
	nr_shadow *sh = NULL;
	nr_error err = NR_ERROR_INIT, *problems = NULL;
	nr__buf b = NR__BUF_INIT;

	(void)name;
	(void)payload;
	snprintf(rel, sizeof(rel), "%s/input", dir);
	input = nrtest_read(rel, &len);
	CU_ASSERT_EQUAL_FATAL(nr_shadow_parse(&sh, input, len, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_shadow_serialize(&out, &outlen, sh, &err), 0);
	CU_ASSERT(outlen == len && memcmp(out, input, len) == 0);
	nr_free(out);
	nr__buf_puts(&b, "");
	for (i = 0; i < nr_shadow_count(sh); i++) {
		const nr_spent *e = nr_shadow_at(sh, i);
		nr__buf_printf(&b, "%zu:%s:%s:%s:%s:%s:%s:%s:%s:%s\n", e->line, e->name, e->passwd,
			e->lastchg, e->min, e->max, e->warn, e->inact, e->expire, e->flag);
	}
	got = nr__buf_detach(&b, NULL);
	snprintf(rel, sizeof(rel), "%s/entries", dir);
	want = nrtest_read(rel, NULL);
	expect_text("entries", dir, got, want);
	free(want);
	free(got);
	snprintf(rel, sizeof(rel), "%s/problems", dir);
	want = nrtest_read(rel, NULL);
	CU_ASSERT_EQUAL(nr_shadow_check(&problems, &n, sh, NULL, &err), (int)n);
	got = dump_problems(problems, n);
	expect_text("problems", dir, got, want);
	free(want);
	free(got);
	nr_free(problems);
	nr_shadow_free(sh);
	free(input);
}

static void gshadow_case(const char *dir, const char *name, void *payload)
{
	char rel[512], *input, *want, *got, *out;
	size_t len, outlen, n, i;
	nr_gshadow *gs = NULL;
	nr_error err = NR_ERROR_INIT, *problems = NULL;
	nr__buf b = NR__BUF_INIT;

	(void)name;
	(void)payload;
	snprintf(rel, sizeof(rel), "%s/input", dir);
	input = nrtest_read(rel, &len);
	CU_ASSERT_EQUAL_FATAL(nr_gshadow_parse(&gs, input, len, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_gshadow_serialize(&out, &outlen, gs, &err), 0);
	CU_ASSERT(outlen == len && memcmp(out, input, len) == 0);
	nr_free(out);
	nr__buf_puts(&b, "");
	for (i = 0; i < nr_gshadow_count(gs); i++) {
		const nr_sgent *e = nr_gshadow_at(gs, i);
		nr__buf_printf(&b, "%zu:%s:%s:%s:%s\n", e->line, e->name, e->passwd, e->admins,
			e->members);
	}
	got = nr__buf_detach(&b, NULL);
	snprintf(rel, sizeof(rel), "%s/entries", dir);
	want = nrtest_read(rel, NULL);
	expect_text("entries", dir, got, want);
	free(want);
	free(got);
	snprintf(rel, sizeof(rel), "%s/problems", dir);
	want = nrtest_read(rel, NULL);
	CU_ASSERT_EQUAL(nr_gshadow_check(&problems, &n, gs, NULL, &err), (int)n);
	got = dump_problems(problems, n);
	expect_text("problems", dir, got, want);
	free(want);
	free(got);
	nr_free(problems);
	nr_gshadow_free(gs);
	free(input);
}

static void test_shadow_cases(void)
{
	CU_ASSERT(nrtest_each_case("shadow/valid", shadow_case, NULL) >= 2);
}

static void test_gshadow_cases(void)
{
	CU_ASSERT(nrtest_each_case("gshadow/valid", gshadow_case, NULL) >= 1);
}

static void test_days(void)
{
	nr_error err = NR_ERROR_INIT;
	int64_t days = -1;
	char *old = getenv("SOURCE_DATE_EPOCH") ? strdup(getenv("SOURCE_DATE_EPOCH")) : NULL;

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CU_ASSERT_EQUAL(nr_shadow_days_now(&days, &err), 0);
	CU_ASSERT_EQUAL(days, 19675);
	setenv("SOURCE_DATE_EPOCH", "17e8", 1);
	CU_ASSERT_EQUAL(nr_shadow_days_now(&days, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "SOURCE_DATE_EPOCH: '17e8' is not");
	unsetenv("SOURCE_DATE_EPOCH");
	CU_ASSERT_EQUAL(nr_shadow_days_now(&days, NULL), 0);
	CU_ASSERT(days >= (int64_t)(time(NULL) / 86400) - 1 && days <= (int64_t)(time(NULL) / 86400));
	if (old) {
		setenv("SOURCE_DATE_EPOCH", old, 1);
		free(old);
	}
}

static void test_shadow_add(void)
{
	static const char base[] = "root:*:19000:0:99999:7:::\n+::::::::";
	nr_error err = NR_ERROR_INIT;
	nr_shadow *sh;
	char *out;

	CU_ASSERT_EQUAL_FATAL(nr_shadow_parse(&sh, base, strlen(base), "etc/shadow", NULL), 0);
	CU_ASSERT_EQUAL(nr_shadow_add(sh, "app", 19675, &err), 0);
	CU_ASSERT_EQUAL(nr_shadow_add(sh, "nodays", -1, &err), 0);
	CU_ASSERT_EQUAL(nr_shadow_serialize(&out, NULL, sh, NULL), 0);
	CU_ASSERT_STRING_EQUAL(out, "root:*:19000:0:99999:7:::\napp:!:19675::::::\n"
		"nodays:!:::::::\n+::::::::");
	nr_free(out);
	CU_ASSERT_STRING_EQUAL(nr_shadow_find_name(sh, "app")->lastchg, "19675");
	CU_ASSERT_STRING_EQUAL(nr_shadow_find_name(sh, "app")->flag, "");
	CU_ASSERT_EQUAL(nr_shadow_find_name(sh, "nodays")->line, 3);
	CU_ASSERT_EQUAL(nr_shadow_add(sh, "app", 1, &err), NR_EEXISTS);
	NRTEST_ASSERT_ERR(&err, NR_EEXISTS, "etc/shadow:2: 'app' exists already");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_shadow_add(sh, "a:b", 1, &err), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_shadow_count(sh), 3);
	nr_shadow_free(sh);
}

static void test_gshadow_add(void)
{
	static const char base[] = "root:*::\nsudo:*::alice\nx:!:";
	nr_gshadow *gs;
	char *out;

	CU_ASSERT_EQUAL_FATAL(nr_gshadow_parse(&gs, base, strlen(base), NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_gshadow_add(gs, "app", NULL), 0);
	CU_ASSERT_EQUAL(nr_gshadow_add_member(gs, "sudo", "app", NULL), 0);
	CU_ASSERT_EQUAL(nr_gshadow_add_member(gs, "sudo", "alice", NULL), 0);
	CU_ASSERT_EQUAL(nr_gshadow_add_member(gs, "root", "app", NULL), 0);
	CU_ASSERT_EQUAL(nr_gshadow_add_member(gs, "x", "app", NULL), 0);
	CU_ASSERT_EQUAL(nr_gshadow_add_member(gs, "nope", "app", NULL), NR_ENOTFOUND);
	CU_ASSERT_EQUAL(nr_gshadow_serialize(&out, NULL, gs, NULL), 0);
	CU_ASSERT_STRING_EQUAL(out, "root:*::app\nsudo:*::alice,app\nx:!::app\napp:!::\n");
	nr_free(out);
	CU_ASSERT_STRING_EQUAL(nr_gshadow_find_name(gs, "sudo")->members, "alice,app");
	CU_ASSERT_EQUAL(nr_gshadow_find_name(gs, "app")->line, 4);
	nr_gshadow_free(gs);
}

static void test_cross_checks(void)
{
	static const char pws[] = "root:x:0:0:::\napp:x:1:1:::\n";
	static const char shs[] = "root:*:1:0:99999:7:::\nghost:*:1::::::\n";
	static const char grs[] = "root:x:0:\napp:x:1:\n";
	static const char gss[] = "root:*::\n";
	nr_passwd *pw;
	nr_shadow *sh;
	nr_group *gr;
	nr_gshadow *gs;
	nr_error *p;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, pws, strlen(pws), "etc/passwd", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nr_shadow_parse(&sh, shs, strlen(shs), "etc/shadow", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nr_group_parse(&gr, grs, strlen(grs), "etc/group", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nr_gshadow_parse(&gs, gss, strlen(gss), "etc/gshadow", NULL), 0);
	CU_ASSERT_EQUAL(nr_shadow_check(&p, &n, sh, pw, NULL), 2);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(p[0].source, "etc/shadow");
	CU_ASSERT_EQUAL(p[0].line, 2);
	CU_ASSERT_STRING_EQUAL(p[0].message, "no matching password file entry for 'ghost'");
	CU_ASSERT_STRING_EQUAL(p[1].source, "etc/passwd");
	CU_ASSERT_EQUAL(p[1].line, 2);
	CU_ASSERT_STRING_EQUAL(p[1].message, "user 'app' has no shadow entry");
	CU_ASSERT_EQUAL(p[1].column, 0);
	nr_free(p);
	CU_ASSERT_EQUAL(nr_gshadow_check(&p, &n, gs, gr, NULL), 1);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(p[0].source, "etc/group");
	CU_ASSERT_STRING_EQUAL(p[0].message, "group 'app' has no gshadow entry");
	nr_free(p);
	nr_gshadow_free(gs);
	nr_group_free(gr);
	nr_shadow_free(sh);
	nr_passwd_free(pw);
	nr_shadow_free(NULL);
	nr_gshadow_free(NULL);
}

static CU_TestInfo tests[] = {
	{ "shadow cases (tests/data/shadow/valid)", test_shadow_cases },
	{ "gshadow cases (tests/data/gshadow/valid)", test_gshadow_cases },
	{ "days from SOURCE_DATE_EPOCH", test_days },
	{ "shadow add", test_shadow_add },
	{ "gshadow add and add member", test_gshadow_add },
	{ "cross checks with passwd and group", test_cross_checks },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "shadow", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
