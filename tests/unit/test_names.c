/*
 * test_names.c: shadow-utils name rules (cases from shadow's tests/unit/test_chkname.c
 * and the rules of lib/chkname.c), data-driven from tests/data/names/{valid,invalid}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrtest.h"

/* tests/data/names/valid*: one name per line; invalid*: "name<TAB>expected words".
 * valid-strict and invalid come from shadow's tests/unit/test_chkname.c plus our own;
 * valid holds names that only the strict pattern rejects. */
static size_t check_valid(const char *file, unsigned flags)
{
	size_t len, n = 0;
	char *buf = nrtest_read(file, &len), *p = buf, *nl;

	for (; (nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL; p = nl + 1) {
		nr_error err = NR_ERROR_INIT;
		if (nr_name_check_flags(p, (size_t)(nl - p), flags, &err) != 0) {
			fprintf(stderr, "\n  %s: '%.*s' rejected: %s\n", file, (int)(nl - p), p,
				err.message);
			CU_FAIL("a valid name was rejected");
		}
		n++;
	}
	free(buf);
	return n;
}

static size_t check_invalid(const char *file, unsigned flags)
{
	size_t len, n = 0;
	char *buf = nrtest_read(file, &len), *p = buf, *nl;

	for (; (nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL; p = nl + 1) {
		nr_error err = NR_ERROR_INIT;
		char *tab = memchr(p, '\t', (size_t)(nl - p)), want[256];
		CU_ASSERT_PTR_NOT_NULL_FATAL(tab);
		snprintf(want, sizeof(want), "%.*s", (int)(nl - tab - 1), tab + 1);
		CU_ASSERT_EQUAL(nr_name_check_flags(p, (size_t)(tab - p), flags, &err), NR_EINVALID);
		CU_ASSERT_STRING_EQUAL(err.source, "name");
		if (strstr(err.message, want) == NULL) {
			fprintf(stderr, "\n  '%.*s': message '%s' lacks '%s'\n", (int)(tab - p), p,
				err.message, want);
			CU_FAIL("wrong reason for an invalid name");
		}
		n++;
	}
	free(buf);
	return n;
}

static void test_valid_lists(void)
{
	CU_ASSERT(check_valid("names/valid-strict", NR_NAME_STRICT) >= 20);
	CU_ASSERT(check_valid("names/valid-strict", 0) >= 20);
	CU_ASSERT(check_valid("names/valid", 0) >= 10);
}

static void test_invalid_lists(void)
{
	CU_ASSERT(check_invalid("names/invalid", 0) >= 20);
	CU_ASSERT(check_invalid("names/invalid", NR_NAME_STRICT) >= 20);
	CU_ASSERT(check_invalid("names/invalid-strict", NR_NAME_STRICT) >= 5);
}

static void test_special(void)
{
	nr_error err = NR_ERROR_INIT;
	char longname[NR_NAME_MAX + 2];

	CU_ASSERT_EQUAL(nr_name_check("", 0, &err), NR_EINVALID);
	CU_ASSERT_STRING_EQUAL(err.message, "invalid name '': empty");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_name_check("a\0b", 3, &err), NR_EINVALID);
	CU_ASSERT_STRING_EQUAL(err.message, "invalid name 'a?b': contains a NUL byte");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_name_check("a\tb", 3, &err), NR_EINVALID);
	CU_ASSERT_STRING_EQUAL(err.message, "invalid name 'a?b': contains a control character");
	CU_ASSERT_EQUAL(nr_name_check("a\x7f", 2, NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_name_check("app", 2, NULL), 0);     /* length-bounded: "ap" */
	CU_ASSERT_EQUAL(nr_name_check("123x", 3, NULL), NR_EINVALID);
	memset(longname, 'a', sizeof(longname));
	CU_ASSERT_EQUAL(nr_name_check(longname, NR_NAME_MAX, NULL), 0);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_name_check(longname, NR_NAME_MAX + 1, &err), NR_EINVALID);
	CU_ASSERT(strstr(err.message, "longer than 255 bytes") != NULL);
	CU_ASSERT_EQUAL(nr_name_check(NULL, 0, NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_name_check_flags("app", 3, 0x80, NULL), NR_EARG);
}

static CU_TestInfo tests[] = {
	{ "valid names (tests/data/names/valid*)", test_valid_lists },
	{ "invalid names (tests/data/names/invalid*)", test_invalid_lists },
	{ "empty, NUL, control characters, length", test_special },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "names", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
