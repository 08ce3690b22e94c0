/*
 * test_hardening.c: regression tests for bugs found by fuzzing and the hostile-input work
 * (issue #8). Each test names the harness or case that found the bug; the input that found
 * it is also kept in fuzz/corpus/<harness>/ (replayed by the fuzz.replay.* tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrtest.h"
#include "internal.h"

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
	CU_ASSERT_STRING_EQUAL(nr_bindings_get(b, 0)->url, "http://localhost:5000");
	nr_bindings_free(b);
	CU_ASSERT_EQUAL_FATAL(nr_bindings_from_env(&b, urls_only, NULL, &err), 0);
	CU_ASSERT_EQUAL(nr_bindings_source(b), NR_URLS_SOURCE_URLS);
	CU_ASSERT_EQUAL(nr_bindings_get(b, 0)->parsed.port, 80);
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
	CU_ASSERT_EQUAL_FATAL(nr_group_write(gr, &out, &len, &err), 0);
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

static CU_TestInfo regress_tests[] = {
	{ "urls: environment without HTTP_PORTS (fuzz_urls_env)", test_urls_env_without_ports },
	{ "group: add member on a CRLF line (fuzz_group)", test_group_add_member_crlf },
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
