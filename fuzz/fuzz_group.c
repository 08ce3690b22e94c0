/*
 * fuzz_group: /etc/group text through nr_group_parse(). Properties: lossless write; entries
 * without ':'/newline in name and passwd, members without ',' or newline and non-empty;
 * lookups agree; grpck-style check terminates; adding group app (gid 1654) and member app to
 * the first group yields a file that parses back with both and writes as a fixed point.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nr_error err = NR_ERROR_INIT, *problems = NULL;
	nr_group *gr = NULL, *gr2 = NULL;
	nr_grent ent;
	char *out = NULL, *out2 = NULL, *first = NULL;
	size_t len = 0, len2 = 0, i, k, n, nprob = 0;
	uint32_t gid;
	int rc;

	rc = nr_group_parse(&gr, (const char *)data, size, "etc/group", &err);
	fuzz_check_error(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(gr == NULL, "object on failure");
		return 0;
	}
	FUZZ_ASSERT(nr_group_serialize(&out, &len, gr, &err) == 0, "write");
	FUZZ_ASSERT(len == size && memcmp(out, data, size) == 0, "not lossless");
	nr_free(out);

	n = nr_group_count(gr);
	for (i = 0; i < n; i++) {
		const nr_grent *e = nr_group_at(gr, i), *f;
		FUZZ_ASSERT(e && e->name[0], "entry %zu", i);
		FUZZ_ASSERT(!strpbrk(e->name, ":\n") && !strpbrk(e->passwd, ":\n"), "separator in field");
		FUZZ_ASSERT(e->members != NULL && e->members[e->nmembers] == NULL, "members array");
		for (k = 0; k < e->nmembers; k++)
			FUZZ_ASSERT(e->members[k][0] && !strpbrk(e->members[k], ",\n"), "member '%s'",
				e->members[k]);
		f = nr_group_find_name(gr, e->name);
		FUZZ_ASSERT(f && f->line <= e->line, "find_name");
		f = nr_group_find_gid(gr, e->gid);
		FUZZ_ASSERT(f && f->gid == e->gid && f->line <= e->line, "find_gid");
	}
	rc = nr_group_check(&problems, &nprob, gr, NULL, &err);
	FUZZ_ASSERT(rc >= 0 && (size_t)rc == nprob, "check");
	nr_free(problems);
	if (nr_group_next_free_gid(&gid, gr, 999, 100, &err) == 0)
		FUZZ_ASSERT(nr_group_find_gid(gr, gid) == NULL, "free gid taken");

	if (n > 0 && (first = strdup(nr_group_at(gr, 0)->name)) == NULL)
		abort();
	memset(&ent, 0, sizeof(ent));
	ent.name = "app";
	ent.gid = 1654;
	nr_error_clear(&err);
	rc = nr_group_add(gr, &ent, &err);
	fuzz_check_error(rc, &err);
	if (rc == 0) {
		FUZZ_ASSERT(nr_group_count(gr) == n + 1, "count after add");
	} else {
		FUZZ_ASSERT(nr_group_count(gr) == n, "failed add changed the count");
	}
	if (first) {
		nr_error_clear(&err);
		rc = nr_group_add_member(gr, first, "app", &err);
		fuzz_check_error(rc, &err);
	}
	FUZZ_ASSERT(nr_group_serialize(&out, &len, gr, &err) == 0, "write after add");
	FUZZ_ASSERT(nr_group_parse(&gr2, out, len, NULL, &err) == 0, "reparse: %s", err.message);
	FUZZ_ASSERT(nr_group_count(gr2) == nr_group_count(gr), "reparsed count %zu != %zu",
		nr_group_count(gr2), nr_group_count(gr));
	FUZZ_ASSERT(nr_group_serialize(&out2, &len2, gr2, &err) == 0, "write 2");
	FUZZ_ASSERT(len2 == len && memcmp(out, out2, len) == 0, "not a fixed point");
	if (first && rc == 0) {
		const nr_grent *g = nr_group_find_name(gr2, first);
		int found = 0;
		FUZZ_ASSERT(g != NULL, "group %s lost", first);
		for (k = 0; k < g->nmembers; k++)
			found |= strcmp(g->members[k], "app") == 0;
		FUZZ_ASSERT(found, "member app not in %s after add_member", first);
	}
	nr_free(out);
	nr_free(out2);
	free(first);
	nr_group_free(gr2);
	nr_group_free(gr);
	return 0;
}
