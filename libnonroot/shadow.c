/*
 * shadow.c: lossless shadow and gshadow files (see include/nonroot/shadow.h).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "acctfile.h"
#include "buf.h"
#include "parse.h"

typedef struct sh_item {
	union {
		nr_spent sp;
		nr_sgent sg;
	} pub;
	size_t line;
	char *storage;      /* NUL-cut copy of an added or rewritten line, else NULL */
} sh_item;

/* Shared by both files: shadow has 9 fields, gshadow 4. */
typedef struct sh_db {
	nr__acct a;
	sh_item *items;
	size_t n, alloc;
	size_t nfields;
} sh_db;

struct nr_shadow {
	sh_db db;
};

struct nr_gshadow {
	sh_db db;
};

typedef struct sh_scan {
	const char *f[9];
	size_t l[9];
	size_t nf;
} sh_scan;

static int scan(const sh_db *db, const char *s, size_t len, sh_scan *sc, char *why,
	size_t whysize)
{
	sc->nf = nr__split_fields(s, len, ':', sc->f, sc->l, db->nfields);
	if (sc->nf < 2) {
		snprintf(why, whysize, "expected %zu fields, found %zu", db->nfields, sc->nf);
		return -1;
	}
	if (sc->l[0] == 0) {
		snprintf(why, whysize, "empty name");
		return -1;
	}
	return 0;
}

static void set_line(const sh_db *db, sh_item *it, size_t line)
{
	it->line = line;
	if (db->nfields == 9)
		it->pub.sp.line = line;
	else
		it->pub.sg.line = line;
}

static void materialize(const sh_db *db, sh_item *it, const sh_scan *sc, const char *base_scan,
	char *base_mut)
{
	const char *f[9];
	size_t i;

	for (i = 0; i < db->nfields; i++) {
		if (i < sc->nf) {
			char *p = base_mut + (sc->f[i] - base_scan);
			p[sc->l[i]] = '\0';
			f[i] = p;
		} else {
			f[i] = "";
		}
	}
	if (db->nfields == 9) {
		nr_spent *e = &it->pub.sp;
		e->name = f[0];
		e->passwd = f[1];
		e->lastchg = f[2];
		e->min = f[3];
		e->max = f[4];
		e->warn = f[5];
		e->inact = f[6];
		e->expire = f[7];
		e->flag = f[8];
	} else {
		nr_sgent *e = &it->pub.sg;
		e->name = f[0];
		e->passwd = f[1];
		e->admins = f[2];
		e->members = f[3];
	}
}

static const char *item_name(const sh_item *it, size_t nfields)
{
	return nfields == 9 ? it->pub.sp.name : it->pub.sg.name;
}

static void db_dispose(sh_db *db)
{
	size_t i;

	for (i = 0; i < db->n; i++)
		free(db->items[i].storage);
	free(db->items);
	nr__acct_dispose(&db->a);
}

static int db_parse(sh_db *db, size_t nfields, const char *buf, size_t len, const char *source,
	const char *dflt, nr_error *err)
{
	size_t i;
	int error;

	memset(db, 0, sizeof(*db));
	db->nfields = nfields;
	if ((error = nr__acct_load(&db->a, buf, len, source, dflt, err)) < 0)
		return error;
	for (i = 0; i < db->a.nlines; i++) {
		const nr__aline *l = &db->a.lines[i];
		size_t skip;
		sh_scan sc;
		char why[64];

		if (nr__acct_kind(l->text, l->len, &skip) != NR__LINE_DATA)
			continue;
		if (scan(db, l->text + skip, l->len - skip, &sc, why, sizeof(why)) < 0)
			continue;
		if (nr__array_grow((void **)&db->items, &db->alloc, db->n + 1, sizeof(*db->items))) {
			db_dispose(db);
			return nr__error_oom(err);
		}
		memset(&db->items[db->n], 0, sizeof(db->items[db->n]));
		materialize(db, &db->items[db->n], &sc, db->a.input, db->a.fields);
		set_line(db, &db->items[db->n], i + 1);
		db->n++;
	}
	return 0;
}

static sh_item *db_find(const sh_db *db, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < db->n; i++) {
		if (strcmp(item_name(&db->items[i], db->nfields), name) == 0)
			return &db->items[i];
	}
	return NULL;
}

static int item_from_text(const sh_db *db, sh_item *it, const char *text, size_t len,
	nr_error *err)
{
	char why[64];
	sh_scan sc;
	size_t skip;

	memset(it, 0, sizeof(*it));
	nr__acct_kind(text, len, &skip);
	if ((it->storage = nr__strndup(text, len)) == NULL)
		return nr__error_oom(err);
	if (scan(db, it->storage + skip, len - skip, &sc, why, sizeof(why)) < 0) {
		free(it->storage);
		it->storage = NULL;
		return nr__error_set(err, NR_ERROR, db->a.source, 0, 0, "internal error: %s", why);
	}
	materialize(db, it, &sc, it->storage, it->storage);
	return 0;
}

/* Add an owned line (text) whose name is `name`. */
static int db_add(sh_db *db, const char *name, char *text, size_t len, nr_error *err)
{
	const sh_item *old;
	size_t at, k, i;
	sh_item it;
	int error;

	if ((old = db_find(db, name)) != NULL) {
		free(text);
		return nr__error_set(err, NR_EEXISTS, db->a.source, old->line, 0,
			"'%s' exists already", name);
	}
	if (nr__array_grow((void **)&db->items, &db->alloc, db->n + 1, sizeof(*db->items))) {
		free(text);
		return nr__error_oom(err);
	}
	if ((error = item_from_text(db, &it, text, len, err)) < 0) {
		free(text);
		return error;
	}
	at = nr__acct_insert_pos(&db->a);
	if ((error = nr__acct_insert(&db->a, at, text, len, err)) < 0) {
		free(it.storage);
		return error;
	}
	for (k = db->n, i = 0; i < db->n; i++) {
		if (db->items[i].line > at) {
			if (k == db->n)
				k = i;
			set_line(db, &db->items[i], db->items[i].line + 1);
		}
	}
	memmove(db->items + k + 1, db->items + k, (db->n - k) * sizeof(*db->items));
	db->items[k] = it;
	set_line(db, &db->items[k], at + 1);
	db->n++;
	return 0;
}

static int db_names(nr__nameset *s, const sh_db *db)
{
	size_t i;

	if (nr__nameset_init(s, db->n) < 0)
		return NR_ENOMEM;
	for (i = 0; i < db->n; i++)
		nr__nameset_add(s, item_name(&db->items[i], db->nfields));
	nr__nameset_sort(s);
	return 0;
}

static int db_check(const sh_db *db, nr__problems *p, nr_error *err)
{
	nr__name_ref *refs;
	size_t i, j;
	const char *src = db->a.source;

	if ((refs = nr__calloc(db->n + 1, sizeof(*refs))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < db->a.nlines; i++) {
		const nr__aline *l = &db->a.lines[i];
		size_t skip, nf;
		sh_scan sc;
		char why[64];

		if (l->len > 0 && l->text[l->len - 1] == '\r')
			nr__problem_add(p, src, i + 1, "line ends with a carriage return");
		if (nr__acct_kind(l->text, l->len, &skip) != NR__LINE_DATA)
			continue;
		if (skip > 0)
			nr__problem_add(p, src, i + 1, "line starts with white space");
		if (scan(db, l->text + skip, l->len - skip, &sc, why, sizeof(why)) < 0) {
			nr__problem_add(p, src, i + 1, "not an entry: %s", why);
			continue;
		}
		nf = nr__count_fields(l->text + skip, l->len - skip, ':');
		if (nf != db->nfields)
			nr__problem_add(p, src, i + 1, "expected %zu fields, found %zu", db->nfields, nf);
		if (db->nfields == 9) {
			static const char *const names[] = { "last change", "minimum age",
				"maximum age", "warning period", "inactivity period", "expiration date" };
			for (j = 2; j < 8 && j < sc.nf; j++) {
				uint64_t v;
				if (sc.l[j] > 0 && nr__parse_u64(sc.f[j], sc.l[j], INT64_MAX, &v) < 0)
					nr__problem_add(p, src, i + 1, "invalid %s '%.*s'", names[j - 2],
						(int)(sc.l[j] > 32 ? 32 : sc.l[j]), sc.f[j]);
			}
		}
	}
	for (i = 0; i < db->n; i++) {
		refs[i].name = item_name(&db->items[i], db->nfields);
		refs[i].line = db->items[i].line;
	}
	nr__report_duplicates(p, src, refs, db->n, "name");
	free(refs);
	return 0;
}

/* ---- shadow ------------------------------------------------------------------------------ */

int nr_shadow_days_now(int64_t *days, nr_error *err)
{
	const char *sde;
	uint64_t v;

	nr__error_reset(err);
	NR_ASSERT_ARG(days, err);
	sde = getenv("SOURCE_DATE_EPOCH");
	if (sde != NULL) {
		if (nr__parse_u64(sde, strlen(sde), INT64_MAX, &v) < 0)
			return nr__error_set(err, NR_EINVALID, "SOURCE_DATE_EPOCH", 0, 0,
				"'%.32s' is not a non-negative decimal number of seconds", sde);
		*days = (int64_t)(v / 86400);
		return 0;
	}
	*days = (int64_t)(time(NULL) / 86400);
	return 0;
}

int nr_shadow_parse(nr_shadow **out, const char *buf, size_t len, const char *source,
	nr_error *err)
{
	nr_shadow *sh;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if ((sh = nr__calloc(1, sizeof(*sh))) == NULL)
		return nr__error_oom(err);
	if ((error = db_parse(&sh->db, 9, buf, len, source, "shadow", err)) < 0) {
		free(sh);
		return error;
	}
	*out = sh;
	return 0;
}

void nr_shadow_free(nr_shadow *sh)
{
	if (sh == NULL)
		return;
	db_dispose(&sh->db);
	free(sh);
}

int nr_shadow_serialize(char **out, size_t *len, const nr_shadow *sh, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(sh, err);
	return nr__acct_write(&sh->db.a, out, len, err);
}

size_t nr_shadow_count(const nr_shadow *sh)
{
	return sh ? sh->db.n : 0;
}

const nr_spent *nr_shadow_at(const nr_shadow *sh, size_t i)
{
	return sh && i < sh->db.n ? &sh->db.items[i].pub.sp : NULL;
}

const nr_spent *nr_shadow_find_name(const nr_shadow *sh, const char *name)
{
	const sh_item *it = sh ? db_find(&sh->db, name) : NULL;

	return it ? &it->pub.sp : NULL;
}

int nr_shadow_add(nr_shadow *sh, const char *name, int64_t days, nr_error *err)
{
	nr__buf b = NR__BUF_INIT;
	char *text;
	size_t len;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(sh, err);
	if ((error = nr__check_new_name(name, "name", err)) < 0)
		return error;
	if (days >= 0)
		nr__buf_printf(&b, "%s:!:%lld::::::", name, (long long)days);
	else
		nr__buf_printf(&b, "%s:!:::::::", name);
	if (b.oom || (text = nr__buf_detach(&b, &len)) == NULL) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	return db_add(&sh->db, name, text, len, err);
}

int nr_shadow_check(nr_error **problems, size_t *count, const nr_shadow *sh,
	const nr_passwd *pw, nr_error *err)
{
	nr__problems p = { 0 };
	size_t i;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(problems, err);
	NR_ASSERT_ARG(count, err);
	*problems = NULL;
	*count = 0;
	NR_ASSERT_ARG(sh, err);
	if ((error = db_check(&sh->db, &p, err)) < 0) {
		free(p.v);
		return error;
	}
	if (pw) {
		nr__nameset users, mine;
		if (nr__passwd_names(&users, pw) < 0) {
			free(p.v);
			return nr__error_oom(err);
		}
		if (db_names(&mine, &sh->db) < 0) {
			nr__nameset_dispose(&users);
			free(p.v);
			return nr__error_oom(err);
		}
		for (i = 0; i < sh->db.n; i++) {
			const nr_spent *s = &sh->db.items[i].pub.sp;
			if (!nr__nameset_has(&users, s->name))
				nr__problem_add(&p, sh->db.a.source, s->line,
					"no matching password file entry for '%.64s'", s->name);
		}
		nr__sort_problems(&p);
		for (i = 0; i < nr_passwd_count(pw); i++) {
			const nr_pwent *u = nr_passwd_at(pw, i);
			if (!nr__nameset_has(&mine, u->name))
				nr__problem_add(&p, nr__passwd_source(pw), u->line,
					"user '%.64s' has no shadow entry", u->name);
		}
		nr__nameset_dispose(&users);
		nr__nameset_dispose(&mine);
	} else {
		nr__sort_problems(&p);
	}
	return nr__problems_finish(&p, problems, count, err);
}

/* ---- gshadow ----------------------------------------------------------------------------- */

int nr_gshadow_parse(nr_gshadow **out, const char *buf, size_t len, const char *source,
	nr_error *err)
{
	nr_gshadow *gs;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if ((gs = nr__calloc(1, sizeof(*gs))) == NULL)
		return nr__error_oom(err);
	if ((error = db_parse(&gs->db, 4, buf, len, source, "gshadow", err)) < 0) {
		free(gs);
		return error;
	}
	*out = gs;
	return 0;
}

void nr_gshadow_free(nr_gshadow *gs)
{
	if (gs == NULL)
		return;
	db_dispose(&gs->db);
	free(gs);
}

int nr_gshadow_serialize(char **out, size_t *len, const nr_gshadow *gs, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(gs, err);
	return nr__acct_write(&gs->db.a, out, len, err);
}

size_t nr_gshadow_count(const nr_gshadow *gs)
{
	return gs ? gs->db.n : 0;
}

const nr_sgent *nr_gshadow_at(const nr_gshadow *gs, size_t i)
{
	return gs && i < gs->db.n ? &gs->db.items[i].pub.sg : NULL;
}

const nr_sgent *nr_gshadow_find_name(const nr_gshadow *gs, const char *name)
{
	const sh_item *it = gs ? db_find(&gs->db, name) : NULL;

	return it ? &it->pub.sg : NULL;
}

int nr_gshadow_add(nr_gshadow *gs, const char *name, nr_error *err)
{
	nr__buf b = NR__BUF_INIT;
	char *text;
	size_t len;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(gs, err);
	if ((error = nr__check_new_name(name, "name", err)) < 0)
		return error;
	nr__buf_printf(&b, "%s:!::", name);
	if (b.oom || (text = nr__buf_detach(&b, &len)) == NULL) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	return db_add(&gs->db, name, text, len, err);
}

/* Is item in the comma list s? */
static bool list_has(const char *s, const char *item)
{
	size_t n = strlen(item);

	while (*s) {
		const char *c = strchr(s, ',');
		size_t l = c ? (size_t)(c - s) : strlen(s);
		while (l > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			l--;
		}
		if (l == n && memcmp(s, item, n) == 0)
			return true;
		if (c == NULL)
			break;
		s = c + 1;
	}
	return false;
}

int nr_gshadow_add_member(nr_gshadow *gs, const char *group, const char *member,
	nr_error *err)
{
	const nr__aline *l;
	sh_item *old, it;
	char *text;
	size_t len, skip;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(gs, err);
	NR_ASSERT_ARG(group, err);
	if ((error = nr__check_new_name(member, "member", err)) < 0)
		return error;
	if ((old = db_find(&gs->db, group)) == NULL)
		return nr__error_set(err, NR_ENOTFOUND, gs->db.a.source, 0, 0,
			"no group named '%s'", group);
	if (list_has(old->pub.sg.members, member))
		return 0;
	l = &gs->db.a.lines[old->line - 1];
	nr__acct_kind(l->text, l->len, &skip);
	if (nr__append_list_item(&text, &len, l->text, l->len,
		nr__count_fields(l->text + skip, l->len - skip, ':'), 4,
		old->pub.sg.members[0] != '\0', member) < 0)
		return nr__error_oom(err);
	if ((error = item_from_text(&gs->db, &it, text, len, err)) < 0) {
		free(text);
		return error;
	}
	set_line(&gs->db, &it, old->line);
	nr__acct_replace(&gs->db.a, old->line - 1, text, len);
	free(old->storage);
	*old = it;
	return 0;
}

int nr_gshadow_check(nr_error **problems, size_t *count, const nr_gshadow *gs,
	const nr_group *gr, nr_error *err)
{
	nr__problems p = { 0 };
	size_t i;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(problems, err);
	NR_ASSERT_ARG(count, err);
	*problems = NULL;
	*count = 0;
	NR_ASSERT_ARG(gs, err);
	if ((error = db_check(&gs->db, &p, err)) < 0) {
		free(p.v);
		return error;
	}
	if (gr) {
		nr__nameset groups, mine;
		if (nr__group_names(&groups, gr) < 0) {
			free(p.v);
			return nr__error_oom(err);
		}
		if (db_names(&mine, &gs->db) < 0) {
			nr__nameset_dispose(&groups);
			free(p.v);
			return nr__error_oom(err);
		}
		for (i = 0; i < gs->db.n; i++) {
			const nr_sgent *s = &gs->db.items[i].pub.sg;
			if (!nr__nameset_has(&groups, s->name))
				nr__problem_add(&p, gs->db.a.source, s->line,
					"no matching group file entry for '%.64s'", s->name);
		}
		nr__sort_problems(&p);
		for (i = 0; i < nr_group_count(gr); i++) {
			const nr_grent *g = nr_group_at(gr, i);
			if (!nr__nameset_has(&mine, g->name))
				nr__problem_add(&p, nr__group_source(gr), g->line,
					"group '%.64s' has no gshadow entry", g->name);
		}
		nr__nameset_dispose(&groups);
		nr__nameset_dispose(&mine);
	} else {
		nr__sort_problems(&p);
	}
	return nr__problems_finish(&p, problems, count, err);
}
