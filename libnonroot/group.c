/*
 * group.c: lossless group files (see include/nonroot/group.h for which lines are entries).
 */
#include <stdio.h>

#include "internal.h"
#include "acctfile.h"
#include "buf.h"
#include "parse.h"

typedef struct gr_item {
	nr_grent pub;
	char *storage;          /* NUL-cut fields of an added or rewritten entry, else NULL */
	const char **members;   /* allocated member list, NULL when there are none */
} gr_item;

struct nr_group {
	nr__acct a;
	gr_item *items;
	size_t n, alloc;
};

typedef struct gr_scan {
	const char *f[4];
	size_t l[4];
	size_t nf;
	uint32_t gid;
} gr_scan;

static const char *const no_members[] = { NULL };

static int scan(const char *s, size_t len, gr_scan *sc, char *why, size_t whysize)
{
	int rc;

	sc->nf = nr__split_fields(s, len, ':', sc->f, sc->l, 4);
	if (sc->nf < 3) {
		snprintf(why, whysize, "expected 4 fields, found %zu", sc->nf);
		return -1;
	}
	if (sc->l[0] == 0) {
		snprintf(why, whysize, "empty group name");
		return -1;
	}
	if ((rc = nr__parse_u32(sc->f[2], sc->l[2], UINT32_MAX, &sc->gid)) < 0) {
		snprintf(why, whysize, "%s gid '%.*s'", rc == NR_ERANGE ? "out of range" : "invalid",
			(int)(sc->l[2] > 32 ? 32 : sc->l[2]), sc->f[2]);
		return -1;
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n';
}

/* Cut the comma list [p, p+len) (mutable) into NUL-terminated items, as glibc does: leading
 * white space of an item is skipped, empty items are dropped. */
static int cut_members(gr_item *it, char *p, size_t len)
{
	size_t i, n = 0, k = 0;
	const char **v;

	for (i = 0; i <= len; i++) {
		size_t start;
		while (i < len && is_space(p[i]))
			i++;
		start = i;
		while (i < len && p[i] != ',')
			i++;
		if (i > start)
			n++;
	}
	if (n == 0) {
		it->pub.members = no_members;
		it->pub.nmembers = 0;
		if (len)
			p[len] = '\0';
		return 0;
	}
	if ((v = nr__calloc(n + 1, sizeof(*v))) == NULL)
		return NR_ENOMEM;
	for (i = 0; i <= len; i++) {
		size_t start;
		while (i < len && is_space(p[i]))
			i++;
		start = i;
		while (i < len && p[i] != ',')
			i++;
		if (i > start)
			v[k++] = p + start;
		p[i] = '\0';   /* the ',' or the end of the field */
	}
	v[k] = NULL;
	it->members = v;
	it->pub.members = v;
	it->pub.nmembers = k;
	return 0;
}

static int materialize(gr_item *it, const gr_scan *sc, const char *base_scan, char *base_mut)
{
	char *f[3];
	size_t i;

	for (i = 0; i < 3; i++) {
		f[i] = base_mut + (sc->f[i] - base_scan);
		f[i][sc->l[i]] = '\0';
	}
	it->pub.name = f[0];
	it->pub.passwd = f[1];
	it->pub.gid = sc->gid;
	if (sc->nf < 4) {
		it->pub.members = no_members;
		it->pub.nmembers = 0;
		return 0;
	}
	return cut_members(it, base_mut + (sc->f[3] - base_scan), sc->l[3]);
}

static void item_dispose(gr_item *it)
{
	free(it->storage);
	free(it->members);
}

int nr_group_parse(nr_group **out, const char *buf, size_t len, const char *source,
	nr_error *err)
{
	nr_group *gr;
	size_t i;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if ((gr = nr__calloc(1, sizeof(*gr))) == NULL)
		return nr__error_oom(err);
	if ((error = nr__acct_load(&gr->a, buf, len, source, "group", err)) < 0) {
		free(gr);
		return error;
	}
	for (i = 0; i < gr->a.nlines; i++) {
		const nr__aline *l = &gr->a.lines[i];
		size_t skip;
		gr_scan sc;
		char why[64];
		gr_item *it;

		if (nr__acct_kind(l->text, l->len, &skip) != NR__LINE_DATA)
			continue;
		if (scan(l->text + skip, l->len - skip, &sc, why, sizeof(why)) < 0)
			continue;
		if (nr__array_grow((void **)&gr->items, &gr->alloc, gr->n + 1, sizeof(*gr->items)))
			goto oom;
		it = &gr->items[gr->n];
		memset(it, 0, sizeof(*it));
		if (materialize(it, &sc, gr->a.input, gr->a.fields) < 0)
			goto oom;
		it->pub.line = i + 1;
		gr->n++;
	}
	*out = gr;
	return 0;
oom:
	nr_group_free(gr);
	return nr__error_oom(err);
}

void nr_group_free(nr_group *gr)
{
	size_t i;

	if (gr == NULL)
		return;
	for (i = 0; i < gr->n; i++)
		item_dispose(&gr->items[i]);
	free(gr->items);
	nr__acct_dispose(&gr->a);
	free(gr);
}

int nr_group_serialize(char **out, size_t *len, const nr_group *gr, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(gr, err);
	return nr__acct_write(&gr->a, out, len, err);
}

size_t nr_group_count(const nr_group *gr)
{
	return gr ? gr->n : 0;
}

const nr_grent *nr_group_at(const nr_group *gr, size_t i)
{
	return gr && i < gr->n ? &gr->items[i].pub : NULL;
}

static gr_item *find_name(const nr_group *gr, const char *name)
{
	size_t i;

	if (gr == NULL || name == NULL)
		return NULL;
	for (i = 0; i < gr->n; i++) {
		if (strcmp(gr->items[i].pub.name, name) == 0)
			return &gr->items[i];
	}
	return NULL;
}

const nr_grent *nr_group_find_name(const nr_group *gr, const char *name)
{
	gr_item *it = find_name(gr, name);

	return it ? &it->pub : NULL;
}

const nr_grent *nr_group_find_gid(const nr_group *gr, uint32_t gid)
{
	size_t i;

	if (gr == NULL)
		return NULL;
	for (i = 0; i < gr->n; i++) {
		if (gr->items[i].pub.gid == gid)
			return &gr->items[i].pub;
	}
	return NULL;
}

static int check_member(const char *m, nr_error *err)
{
	return nr__check_new_name(m, "member", err);
}

/* Scan owned line text into a fresh item (storage is a cut copy of text). */
static int item_from_text(gr_item *it, const char *text, size_t len, const char *source,
	nr_error *err)
{
	char why[64];
	gr_scan sc;
	size_t skip;

	memset(it, 0, sizeof(*it));
	nr__acct_kind(text, len, &skip);
	if ((it->storage = nr__strndup(text, len)) == NULL)
		return nr__error_oom(err);
	if (scan(it->storage + skip, len - skip, &sc, why, sizeof(why)) < 0) {
		item_dispose(it);
		return nr__error_set(err, NR_ERROR, source, 0, 0, "internal error: %s", why);
	}
	if (materialize(it, &sc, it->storage, it->storage) < 0) {
		item_dispose(it);
		return nr__error_oom(err);
	}
	return 0;
}

int nr_group_add(nr_group *gr, const nr_grent *ent, nr_error *err)
{
	const char *passwd;
	const nr_grent *old;
	nr__buf b = NR__BUF_INIT;
	char *text = NULL;
	size_t len, at, k, i;
	gr_item it;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(gr, err);
	NR_ASSERT_ARG(ent, err);
	passwd = ent->passwd ? ent->passwd : "x";
	if ((error = nr__check_new_name(ent->name, "name", err)) < 0)
		return error;
	if (!nr__field_ok(passwd))
		return nr__error_set(err, NR_EINVALID, "passwd", 0, 0,
			"invalid passwd '%.64s': must not contain ':', a newline or a control character",
			passwd);
	if (ent->nmembers > 0 && ent->members == NULL)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: members is NULL");
	for (i = 0; i < ent->nmembers; i++) {
		if ((error = check_member(ent->members[i], err)) < 0)
			return error;
	}
	if (ent->gid == UINT32_MAX)
		return nr__error_set(err, NR_EINVALID, "gid", 0, 0,
			"invalid gid 4294967295: it is (gid_t)-1");
	if ((old = nr_group_find_name(gr, ent->name)) != NULL)
		return nr__error_set(err, NR_EEXISTS, gr->a.source, old->line, 0,
			"group '%s' exists already (gid %u)", old->name, old->gid);
	if ((old = nr_group_find_gid(gr, ent->gid)) != NULL)
		return nr__error_set(err, NR_ECONFLICT, gr->a.source, old->line, 0,
			"gid %u is already used by group '%s'", old->gid, old->name);

	nr__buf_printf(&b, "%s:%s:%u:", ent->name, passwd, ent->gid);
	for (i = 0; i < ent->nmembers; i++) {
		if (i)
			nr__buf_putc(&b, ',');
		nr__buf_puts(&b, ent->members[i]);
	}
	if (b.oom || (text = nr__buf_detach(&b, &len)) == NULL) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	if (nr__array_grow((void **)&gr->items, &gr->alloc, gr->n + 1, sizeof(*gr->items))) {
		free(text);
		return nr__error_oom(err);
	}
	if ((error = item_from_text(&it, text, len, gr->a.source, err)) < 0) {
		free(text);
		return error;
	}
	at = nr__acct_insert_pos(&gr->a);
	if ((error = nr__acct_insert(&gr->a, at, text, len, err)) < 0) {
		item_dispose(&it);
		return error;
	}
	for (k = gr->n, i = 0; i < gr->n; i++) {
		if (gr->items[i].pub.line > at) {
			if (k == gr->n)
				k = i;
			gr->items[i].pub.line++;
		}
	}
	memmove(gr->items + k + 1, gr->items + k, (gr->n - k) * sizeof(*gr->items));
	gr->items[k] = it;
	gr->items[k].pub.line = at + 1;
	gr->n++;
	return 0;
}

int nr_group_add_member(nr_group *gr, const char *group, const char *member, nr_error *err)
{
	const nr__aline *l;
	gr_item *old, it;
	char *text;
	size_t len, i, skip;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(gr, err);
	NR_ASSERT_ARG(group, err);
	if ((error = check_member(member, err)) < 0)
		return error;
	if ((old = find_name(gr, group)) == NULL)
		return nr__error_set(err, NR_ENOTFOUND, gr->a.source, 0, 0,
			"no group named '%s'", group);
	for (i = 0; i < old->pub.nmembers; i++) {
		if (strcmp(old->pub.members[i], member) == 0)
			return 0;
	}
	l = &gr->a.lines[old->pub.line - 1];
	nr__acct_kind(l->text, l->len, &skip);
	if (nr__append_list_item(&text, &len, l->text, l->len,
		nr__count_fields(l->text + skip, l->len - skip, ':'), 4, old->pub.nmembers > 0,
		member) < 0)
		return nr__error_oom(err);
	if ((error = item_from_text(&it, text, len, gr->a.source, err)) < 0) {
		free(text);
		return error;
	}
	it.pub.line = old->pub.line;
	nr__acct_replace(&gr->a, old->pub.line - 1, text, len);
	item_dispose(old);
	*old = it;
	return 0;
}

int nr__group_check(const nr_group *gr, nr__has_name_fn has_user, const void *ctx,
	nr_error **problems, size_t *count, nr_error *err)
{
	nr__problems p = { 0 };
	nr__name_ref *refs = NULL;
	size_t i, j;
	const char *src;

	NR_ASSERT_ARG(problems, err);
	NR_ASSERT_ARG(count, err);
	*problems = NULL;
	*count = 0;
	NR_ASSERT_ARG(gr, err);
	src = gr->a.source;
	if ((refs = nr__calloc(gr->n + 1, sizeof(*refs))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < gr->a.nlines; i++) {
		const nr__aline *l = &gr->a.lines[i];
		nr_error tmp = NR_ERROR_INIT;
		size_t skip, nf;
		gr_scan sc;
		char why[64];

		if (l->len > 0 && l->text[l->len - 1] == '\r')
			nr__problem_add(&p, src, i + 1, "line ends with a carriage return");
		if (nr__acct_kind(l->text, l->len, &skip) != NR__LINE_DATA)
			continue;
		if (skip > 0)
			nr__problem_add(&p, src, i + 1, "line starts with white space");
		if (scan(l->text + skip, l->len - skip, &sc, why, sizeof(why)) < 0) {
			nr__problem_add(&p, src, i + 1, "not a group entry: %s", why);
			continue;
		}
		nf = nr__count_fields(l->text + skip, l->len - skip, ':');
		if (nf != 4)
			nr__problem_add(&p, src, i + 1, "expected 4 fields, found %zu", nf);
		if (nr_name_check(sc.f[0], sc.l[0], &tmp) < 0)
			nr__problem_add(&p, src, i + 1, "%s", tmp.message);
	}
	for (i = 0; i < gr->n; i++) {
		const nr_grent *g = &gr->items[i].pub;
		refs[i].name = g->name;
		refs[i].line = g->line;
		for (j = 0; j < g->nmembers; j++) {
			nr_error tmp = NR_ERROR_INIT;
			if (nr_name_check(g->members[j], strlen(g->members[j]), &tmp) < 0)
				nr__problem_add(&p, src, g->line, "group '%.64s': member %s", g->name,
					tmp.message);
			else if (has_user && !has_user(ctx, g->members[j]))
				nr__problem_add(&p, src, g->line, "group '%.64s': no user '%.64s'", g->name,
					g->members[j]);
		}
	}
	nr__report_duplicates(&p, src, refs, gr->n, "group name");
	free(refs);
	nr__sort_problems(&p);
	return nr__problems_finish(&p, problems, count, err);
}

const char *nr__group_source(const nr_group *gr)
{
	return gr->a.source;
}

/* runc's reading of the lines in order (see acctfile.h), with whether each is an entry. */
typedef struct go_gkey {
	const char *name;
	size_t nlen;
	const int64_t *id;
	bool member;        /* match lines whose member list has name */
} go_gkey;

static bool go_gmatch(const nr__go_line *g, const go_gkey *k)
{
	if (k->member) {
		const char *p = g->rest, *end = g->rest + g->rlen;
		while (g->rlen > 0 && p <= end) {
			const char *c = memchr(p, ',', (size_t)(end - p));
			size_t n = c ? (size_t)(c - p) : (size_t)(end - p);
			if (n == k->nlen && memcmp(p, k->name, n) == 0)
				return true;
			if (c == NULL)
				break;
			p = c + 1;
		}
		return false;
	}
	if (k->id)
		return g->id == *k->id;
	return g->nlen == k->nlen && memcmp(g->name, k->name, k->nlen) == 0;
}

static int go_gfirst(const nr_group *gr, const go_gkey *key, bool hidden_only, size_t from,
	size_t *line, nr__go_line *out, bool *is_entry)
{
	size_t i, k = 0;

	if (gr == NULL)
		return 0;
	for (i = from; i < gr->a.nlines; i++) {
		bool entry;
		nr__go_line g;

		while (k < gr->n && gr->items[k].pub.line < i + 1)
			k++;
		entry = k < gr->n && gr->items[k].pub.line == i + 1;
		if (!nr__go_read_line(&gr->a.lines[i], false, &g) || !go_gmatch(&g, key))
			continue;
		if (hidden_only && entry)
			continue;
		*line = i + 1;
		*out = g;
		if (is_entry)
			*is_entry = entry;
		return 1;
	}
	return 0;
}

int nr__group_go_first(const nr_group *gr, const char *name, size_t nlen, const int64_t *gid,
	size_t *line, nr__go_line *out, bool *is_entry)
{
	go_gkey k = { name, nlen, gid, false };

	return go_gfirst(gr, &k, false, 0, line, out, is_entry);
}

int nr__group_go_hidden_member(const nr_group *gr, const char *name, size_t from,
	size_t *line, nr__go_line *out)
{
	go_gkey k = { name, strlen(name), NULL, true };

	return go_gfirst(gr, &k, true, from, line, out, NULL);
}
