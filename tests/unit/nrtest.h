/*
 * nrtest.h: shared CUnit scaffolding for the unit tests.
 */
#ifndef NRTEST_H
#define NRTEST_H

#include <CUnit/CUnit.h>
#include <stddef.h>

#include "nonroot.h"

/* Run the suites in basic mode. @return EXIT_SUCCESS only when no failure record, failed
 * suite (set-up/tear-down) or failed test exists; use as `return nrtest_main(suites);`. */
int nrtest_main(CU_SuiteInfo *suites);

/* Read tests/data/<rel> (NUL-terminated, owned by the caller); CU_FAIL_FATAL when missing. */
char *nrtest_read(const char *rel, size_t *len);
/* Like nrtest_read but returns NULL (no failure) when the file does not exist. */
char *nrtest_read_opt(const char *rel, size_t *len);

/* Call fn(dir_path, case_name, payload) for each sub-directory of tests/data/<rel>, sorted.
 * @return the number of cases visited (a data-driven test asserts it is > 0). */
size_t nrtest_each_case(const char *rel, void (*fn)(const char *dir, const char *name, void *),
	void *payload);

/* A fresh temporary directory (mkdtemp under $TMPDIR); removed by nrtest_rmtree. */
char *nrtest_tmpdir(void);
void nrtest_rmtree(const char *path);

/* Assert an nr_error matches the expected code and that its formatted text contains `needle`. */
#define NRTEST_ASSERT_ERR(errp, expcode, needle) do { \
	char nrtest_buf__[512]; \
	nr_error_format((errp), nrtest_buf__, sizeof(nrtest_buf__)); \
	CU_ASSERT_EQUAL((errp)->code, (expcode)); \
	if (strstr(nrtest_buf__, (needle)) == NULL) { \
		fprintf(stderr, "\n  error text %s lacks %s\n", nrtest_buf__, (needle)); \
		CU_FAIL("error text does not contain the expected words"); \
	} \
} while (0)

#endif
