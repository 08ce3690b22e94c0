/*
 * nrtest.c: shared CUnit scaffolding.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nrtest.h"

int nrtest_main(CU_SuiteInfo *suites)
{
	unsigned failures;
	CU_pRunSummary sum;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return EXIT_FAILURE;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "suite registration failed: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return EXIT_FAILURE;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	sum = CU_get_run_summary();
	/* CU_get_number_of_failures() alone misses failed suite set-up and wraps at 256. */
	failures = sum->nSuitesFailed + sum->nTestsFailed + sum->nAssertsFailed;
	if (CU_get_failure_list() != NULL)
		failures++;
	if (sum->nTestsRun == 0) {
		fprintf(stderr, "no test ran\n");
		failures++;
	}
	CU_cleanup_registry();
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *nrtest_read_opt(const char *rel, size_t *len)
{
	char path[4096];
	FILE *f;
	char *buf = NULL;
	long n;

	snprintf(path, sizeof(path), "%s/%s", NR_TEST_DATA, rel);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

char *nrtest_read(const char *rel, size_t *len)
{
	char *buf = nrtest_read_opt(rel, len);

	if (buf == NULL) {
		fprintf(stderr, "missing test data: %s/%s\n", NR_TEST_DATA, rel);
		CU_FAIL_FATAL("missing test data file");
	}
	return buf;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t nrtest_each_case(const char *rel, void (*fn)(const char *, const char *, void *),
	void *payload)
{
	char path[4096], sub[4096];
	char *names[4096];
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", NR_TEST_DATA, rel);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < 4096) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]);
		fn(sub, names[i], payload);
		free(names[i]);
	}
	return n;
}

char *nrtest_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (asprintf(&path, "%s/nrtest-XXXXXX", base && *base ? base : "/tmp") < 0)
		return NULL;
	if (mkdtemp(path) == NULL) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

void nrtest_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}
