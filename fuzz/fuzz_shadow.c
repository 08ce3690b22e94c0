/*
 * fuzz_shadow: shadow (first byte even) or gshadow (odd) text: lossless write, entries
 * without separators, adding "app" round-trips and writes as a fixed point.
 */
#include "fuzz.h"

static void run_shadow(const char *buf, size_t size)
{
	nr_error err = NR_ERROR_INIT, *problems = NULL;
	nr_shadow *sh = NULL, *sh2 = NULL;
	char *out = NULL, *out2 = NULL;
	size_t len, len2, i, n, nprob;
	int rc = nr_shadow_parse(&sh, buf, size, "etc/shadow", &err);

	fuzz_check_error(rc, &err);
	if (rc < 0)
		return;
	FUZZ_ASSERT(nr_shadow_serialize(&out, &len, sh, &err) == 0, "write");
	FUZZ_ASSERT(len == size && memcmp(out, buf, size) == 0, "not lossless");
	nr_free(out);
	n = nr_shadow_count(sh);
	for (i = 0; i < n; i++) {
		const nr_spent *e = nr_shadow_at(sh, i);
		FUZZ_ASSERT(e && e->name[0] && !strpbrk(e->name, ":\n") && !strpbrk(e->passwd, ":\n"),
			"entry %zu", i);
		FUZZ_ASSERT(!strpbrk(e->lastchg, ":\n") && !strpbrk(e->expire, ":\n") &&
			!strchr(e->flag, '\n'), "day fields");
		FUZZ_ASSERT(nr_shadow_find_name(sh, e->name)->line <= e->line, "find_name");
	}
	rc = nr_shadow_check(&problems, &nprob, sh, NULL, &err);
	FUZZ_ASSERT(rc >= 0, "check");
	nr_free(problems);
	nr_error_clear(&err);
	rc = nr_shadow_add(sh, "app", 19000, &err);
	fuzz_check_error(rc, &err);
	FUZZ_ASSERT(nr_shadow_serialize(&out, &len, sh, &err) == 0, "write after add");
	FUZZ_ASSERT(nr_shadow_parse(&sh2, out, len, NULL, &err) == 0, "reparse");
	FUZZ_ASSERT(nr_shadow_count(sh2) == nr_shadow_count(sh), "reparsed count");
	if (rc == 0)
		FUZZ_ASSERT(nr_shadow_find_name(sh2, "app") != NULL, "added entry lost");
	FUZZ_ASSERT(nr_shadow_serialize(&out2, &len2, sh2, &err) == 0, "write 2");
	FUZZ_ASSERT(len2 == len && memcmp(out, out2, len) == 0, "not a fixed point");
	nr_free(out);
	nr_free(out2);
	nr_shadow_free(sh2);
	nr_shadow_free(sh);
}

static void run_gshadow(const char *buf, size_t size)
{
	nr_error err = NR_ERROR_INIT, *problems = NULL;
	nr_gshadow *gs = NULL, *gs2 = NULL;
	char *out = NULL, *out2 = NULL, *first = NULL;
	size_t len, len2, i, n, nprob;
	int rc = nr_gshadow_parse(&gs, buf, size, "etc/gshadow", &err);

	fuzz_check_error(rc, &err);
	if (rc < 0)
		return;
	FUZZ_ASSERT(nr_gshadow_serialize(&out, &len, gs, &err) == 0, "write");
	FUZZ_ASSERT(len == size && memcmp(out, buf, size) == 0, "not lossless");
	nr_free(out);
	n = nr_gshadow_count(gs);
	for (i = 0; i < n; i++) {
		const nr_sgent *e = nr_gshadow_at(gs, i);
		FUZZ_ASSERT(e && e->name[0] && !strpbrk(e->name, ":\n") && !strpbrk(e->admins, ":\n") &&
			!strchr(e->members, '\n'), "entry %zu", i);
	}
	if (n > 0 && (first = strdup(nr_gshadow_at(gs, 0)->name)) == NULL)
		abort();
	rc = nr_gshadow_check(&problems, &nprob, gs, NULL, &err);
	FUZZ_ASSERT(rc >= 0, "check");
	nr_free(problems);
	nr_error_clear(&err);
	fuzz_check_error(nr_gshadow_add(gs, "app", &err), &err);
	if (first) {
		nr_error_clear(&err);
		fuzz_check_error(nr_gshadow_add_member(gs, first, "app", &err), &err);
	}
	FUZZ_ASSERT(nr_gshadow_serialize(&out, &len, gs, &err) == 0, "write after add");
	FUZZ_ASSERT(nr_gshadow_parse(&gs2, out, len, NULL, &err) == 0, "reparse");
	FUZZ_ASSERT(nr_gshadow_count(gs2) == nr_gshadow_count(gs), "reparsed count");
	FUZZ_ASSERT(nr_gshadow_serialize(&out2, &len2, gs2, &err) == 0, "write 2");
	FUZZ_ASSERT(len2 == len && memcmp(out, out2, len) == 0, "not a fixed point");
	free(first);
	nr_free(out);
	nr_free(out2);
	nr_gshadow_free(gs2);
	nr_gshadow_free(gs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		run_gshadow((const char *)data + 1, size - 1);
	else
		run_shadow((const char *)data + 1, size - 1);
	return 0;
}
