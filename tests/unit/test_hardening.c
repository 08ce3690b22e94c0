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

static CU_TestInfo regress_tests[] = {
	{ "urls: environment without HTTP_PORTS (fuzz_urls_env)", test_urls_env_without_ports },
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
