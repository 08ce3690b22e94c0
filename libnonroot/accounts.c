/*
 * accounts.c: what needs passwd and group together: the cross-file checks (a user's primary
 * group exists, a group's members are users) and free ids across both files. passwd.c and
 * group.c check their own file and never call each other; this file sits above both.
 */
#include "internal.h"
#include "acctfile.h"
#include "nonroot/group.h"
#include "nonroot/passwd.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int nr__passwd_names(nr__nameset *s, const struct nr_passwd *pw)
{
	size_t i, n = nr_passwd_count(pw);

	if (nr__nameset_init(s, n) < 0)
		return NR_ENOMEM;
	for (i = 0; i < n; i++)
		nr__nameset_add(s, nr_passwd_at(pw, i)->name);
	nr__nameset_sort(s);
	return 0;
}

int nr__group_names(nr__nameset *s, const struct nr_group *gr)
{
	size_t i, n = nr_group_count(gr);

	if (nr__nameset_init(s, n) < 0)
		return NR_ENOMEM;
	for (i = 0; i < n; i++)
		nr__nameset_add(s, nr_group_at(gr, i)->name);
	nr__nameset_sort(s);
	return 0;
}

typedef struct gidset {
	uint32_t *v;
	size_t n;
} gidset;

static bool gidset_has(const void *ctx, uint32_t gid)
{
	const gidset *s = ctx;

	return bsearch(&gid, s->v, s->n, sizeof(*s->v), cmp_u32) != NULL;
}

static bool nameset_has(const void *ctx, const char *name)
{
	return nr__nameset_has(ctx, name);
}

int nr_passwd_check(nr_error **problems, size_t *count, const nr_passwd *pw,
	const nr_group *gr, nr_error *err)
{
	gidset gids = { NULL, 0 };
	size_t i;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(problems, err);
	NR_ASSERT_ARG(count, err);
	*problems = NULL;
	*count = 0;
	NR_ASSERT_ARG(pw, err);
	if (gr == NULL)
		return nr__passwd_check(pw, NULL, NULL, problems, count, err);
	if ((gids.v = nr__calloc(nr_group_count(gr) + 1, sizeof(*gids.v))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < nr_group_count(gr); i++)
		gids.v[gids.n++] = nr_group_at(gr, i)->gid;
	qsort(gids.v, gids.n, sizeof(*gids.v), cmp_u32);
	error = nr__passwd_check(pw, gidset_has, &gids, problems, count, err);
	free(gids.v);
	return error;
}

int nr_group_check(nr_error **problems, size_t *count, const nr_group *gr,
	const nr_passwd *pw, nr_error *err)
{
	nr__nameset users = { NULL, 0 };
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(problems, err);
	NR_ASSERT_ARG(count, err);
	*problems = NULL;
	*count = 0;
	NR_ASSERT_ARG(gr, err);
	if (pw == NULL)
		return nr__group_check(gr, NULL, NULL, problems, count, err);
	if (nr__passwd_names(&users, pw) < 0)
		return nr__error_oom(err);
	error = nr__group_check(gr, nameset_has, &users, problems, count, err);
	nr__nameset_dispose(&users);
	return error;
}

int nr_passwd_next_free_id(uint32_t *id, const nr_passwd *pw, const nr_group *gr,
	uint32_t first, uint32_t last, nr_error *err)
{
	size_t npw = nr_passwd_count(pw), ngr = nr_group_count(gr), n = 0, i;
	uint32_t *used, cand;

	nr__error_reset(err);
	NR_ASSERT_ARG(id, err);
	if ((used = nr__calloc(npw + ngr + 1, sizeof(*used))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < npw; i++)
		used[n++] = nr_passwd_at(pw, i)->uid;
	for (i = 0; i < ngr; i++)
		used[n++] = nr_group_at(gr, i)->gid;
	qsort(used, n, sizeof(*used), cmp_u32);
	for (cand = first;; cand = first <= last ? cand + 1 : cand - 1) {
		if (cand != UINT32_MAX && bsearch(&cand, used, n, sizeof(*used), cmp_u32) == NULL) {
			free(used);
			*id = cand;
			return 0;
		}
		if (cand == last)
			break;
	}
	free(used);
	return nr__error_set(err, NR_ENOTFOUND, pw ? nr__passwd_source(pw) : NULL, 0, 0,
		"no free id in %u-%u", first <= last ? first : last, first <= last ? last : first);
}

int nr_group_next_free_gid(uint32_t *gid, const nr_group *gr, uint32_t first, uint32_t last,
	nr_error *err)
{
	return nr_passwd_next_free_id(gid, NULL, gr, first, last, err);
}
