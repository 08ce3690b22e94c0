/*
 * test_userspec.c: OCI User resolution. The cases are data: tests/data/userspec/<suite>/
 * holds passwd and group (either may be missing = the image has no such file), defaults
 * ("uid=N gid=N sgids=A,B home=DIR") and cases ("SPEC<TAB>expected" per line, expected being
 * "uid=N gid=N sgids=A,B home=DIR name=NAME" or "error=ECODE message"). The runc-* suites
 * are runc's libcontainer/user/user_test.go cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrtest.h"
#include "buf.h"

typedef struct defaults {
	nr_userspec_options opts;
	uint32_t gids[16];
	char home[256];
} defaults;

static void parse_defaults(defaults *d, char *line)
{
	char *tok, *save = NULL;

	CU_ASSERT_EQUAL(nr_userspec_options_init(&d->opts, NR_USERSPEC_OPTIONS_VERSION), 0);
	line[strcspn(line, "\n")] = '\0';
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, "uid=", 4))
			d->opts.uid = (uint32_t)strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "gid=", 4))
			d->opts.gid = (uint32_t)strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "home=", 5)) {
			snprintf(d->home, sizeof(d->home), "%s", tok + 5);
			d->opts.home = d->home;
		} else if (!strncmp(tok, "sgids=", 6)) {
			char *p = tok + 6;
			while (*p && d->opts.n_additional_gids < 16) {
				d->gids[d->opts.n_additional_gids++] = (uint32_t)strtoul(p, &p, 10);
				if (*p == ',')
					p++;
			}
			d->opts.additional_gids = d->gids;
		}
	}
}

static const char *code_name(int code)
{
	switch (code) {
	case NR_ENOTFOUND: return "ENOTFOUND";
	case NR_ERANGE: return "ERANGE";
	case NR_EINVALID: return "EINVALID";
	default: return "E?";
	}
}

static char *describe(int rc, const nr_exec_user *u, const nr_error *err)
{
	nr__buf b = NR__BUF_INIT;
	size_t i;

	if (rc < 0) {
		nr__buf_printf(&b, "error=%s %s", code_name(rc), err->message);
	} else {
		nr__buf_printf(&b, "uid=%u gid=%u sgids=", u->uid, u->gid);
		for (i = 0; i < u->n_additional_gids; i++)
			nr__buf_printf(&b, "%s%u", i ? "," : "", u->additional_gids[i]);
		nr__buf_printf(&b, " home=%s name=%s", u->home, u->name ? u->name : "");
	}
	return nr__buf_detach(&b, NULL);
}

static size_t ncases;

static void suite_case(const char *dir, const char *name, void *payload)
{
	char rel[512], *pwbuf, *grbuf, *dbuf, *cases, *line, *save = NULL;
	size_t pwlen = 0, grlen = 0;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	defaults d;

	(void)name;
	(void)payload;
	memset(&d, 0, sizeof(d));
	snprintf(rel, sizeof(rel), "%s/passwd", dir);
	if ((pwbuf = nrtest_read_opt(rel, &pwlen)) != NULL)
		CU_ASSERT_EQUAL_FATAL(nr_passwd_parse(&pw, pwbuf, pwlen, rel, NULL), 0);
	snprintf(rel, sizeof(rel), "%s/group", dir);
	if ((grbuf = nrtest_read_opt(rel, &grlen)) != NULL)
		CU_ASSERT_EQUAL_FATAL(nr_group_parse(&gr, grbuf, grlen, rel, NULL), 0);
	snprintf(rel, sizeof(rel), "%s/defaults", dir);
	dbuf = nrtest_read(rel, NULL);
	parse_defaults(&d, dbuf);
	snprintf(rel, sizeof(rel), "%s/cases", dir);
	cases = nrtest_read(rel, NULL);
	for (line = strtok_r(cases, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), *got;
		nr_exec_user u;
		nr_error err = NR_ERROR_INIT;
		int rc;

		CU_ASSERT_PTR_NOT_NULL_FATAL(tab);
		*tab = '\0';
		rc = nr_userspec_resolve(&u, line, pw, gr, &d.opts, &err);
		got = describe(rc, &u, &err);
		if (strcmp(got, tab + 1) != 0) {
			fprintf(stderr, "\n  %s: spec '%s'\n    want %s\n    got  %s\n", dir, line,
				tab + 1, got);
			CU_FAIL("resolution differs");
		}
		if (rc < 0) {
			CU_ASSERT_PTR_NULL(u.home);
			CU_ASSERT_PTR_NULL(u.additional_gids);
		}
		free(got);
		nr_exec_user_dispose(&u);
		ncases++;
	}
	free(cases);
	free(dbuf);
	free(pwbuf);
	free(grbuf);
	nr_group_free(gr);
	nr_passwd_free(pw);
}

static void test_suites(void)
{
	ncases = 0;
	CU_ASSERT(nrtest_each_case("userspec", suite_case, NULL) >= 6);
	CU_ASSERT(ncases >= 40);
}

static void test_defaults_and_args(void)
{
	nr_userspec_options opts;
	nr_exec_user u;
	nr_error err = NR_ERROR_INIT;

	/* NULL options: runc's defaults (0, 0, "/") */
	CU_ASSERT_EQUAL(nr_userspec_resolve(&u, NULL, NULL, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(u.uid, 0);
	CU_ASSERT_EQUAL(u.gid, 0);
	CU_ASSERT_STRING_EQUAL(u.home, "/");
	CU_ASSERT_PTR_NULL(u.name);
	CU_ASSERT_EQUAL(u.n_additional_gids, 0);
	nr_exec_user_dispose(&u);
	nr_exec_user_dispose(NULL);
	CU_ASSERT_EQUAL(nr_userspec_options_init(&opts, 99), NR_EARG);
	CU_ASSERT_EQUAL(nr_userspec_options_init(NULL, NR_USERSPEC_OPTIONS_VERSION), NR_EARG);
	CU_ASSERT_EQUAL(nr_userspec_options_init(&opts, NR_USERSPEC_OPTIONS_VERSION), 0);
	opts.version = 2;
	CU_ASSERT_EQUAL(nr_userspec_resolve(&u, "0", NULL, NULL, &opts, &err), NR_EARG);
	CU_ASSERT_EQUAL(nr_userspec_resolve(NULL, "0", NULL, NULL, NULL, NULL), NR_EARG);
}

static void test_additional_gids(void)
{
	/* runc's TestGetAdditionalGroups */
	static const char grs[] = "\nroot:x:0:root\nadm:x:43:\ngrp:x:1234:root,adm\n"
		"adm:x:4343:root,adm-duplicate\nthis is just some garbage data\n";
	static const struct {
		const char *groups[4];
		size_t n;
		const char *want;
	} cases[] = {
		{ { NULL }, 0, "" },
		{ { "adm" }, 1, "43" },
		{ { "adm", "grp" }, 2, "43,1234" },
		{ { "adm", "grp", "not-exist" }, 3, "error=ENOTFOUND Unable to find group not-exist" },
		{ { "43" }, 1, "43" },
		{ { "adm", "10001" }, 2, "43,10001" },
		{ { "adm", "43" }, 2, "43" },
		{ { "-1" }, 1, "error=ERANGE uids and gids must be in range 0-2147483647" },
		{ { "2147483648" }, 1, "error=ERANGE uids and gids must be in range 0-2147483647" },
	};
	nr_group *gr;
	size_t i, j;

	CU_ASSERT_EQUAL_FATAL(nr_group_parse(&gr, grs, strlen(grs), NULL, NULL), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nr_error err = NR_ERROR_INIT;
		uint32_t *gids = (uint32_t *)1;
		size_t n = 99;
		char got[256] = "";
		int rc = nr_userspec_additional_gids(&gids, &n, gr, cases[i].groups, cases[i].n, &err);
		if (rc < 0) {
			snprintf(got, sizeof(got), "error=%s %s", code_name(rc), err.message);
			CU_ASSERT_PTR_NULL(gids);
		}
		for (j = 0; rc == 0 && j < n; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u", j ? "," : "",
				gids[j]);
		if (strcmp(got, cases[i].want) != 0) {
			fprintf(stderr, "\n  case %zu: want %s got %s\n", i, cases[i].want, got);
			CU_FAIL("additional gids differ");
		}
		nr_free(gids);
	}
	nr_group_free(gr);
	/* runc's TestGetAdditionalGroupsNumeric: no group file */
	{
		const char *num[] = { "1234", "5678" }, *mixed[] = { "1234", "fake" };
		uint32_t *gids;
		size_t n;
		CU_ASSERT_EQUAL(nr_userspec_additional_gids(&gids, &n, NULL, num, 2, NULL), 0);
		CU_ASSERT_EQUAL_FATAL(n, 2);
		CU_ASSERT(gids[0] == 1234 && gids[1] == 5678);
		nr_free(gids);
		CU_ASSERT_EQUAL(nr_userspec_additional_gids(&gids, &n, NULL, mixed, 2, NULL),
			NR_ENOTFOUND);
	}
}

static CU_TestInfo tests[] = {
	{ "data suites (tests/data/userspec/*)", test_suites },
	{ "defaults and arguments", test_defaults_and_args },
	{ "additional gids (runc GetAdditionalGroups)", test_additional_gids },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "userspec", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
