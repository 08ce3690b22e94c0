/*
 * passwd.c: lossless passwd files (see include/nonroot/passwd.h for which lines are entries).
 */
#include <stdio.h>

#include "internal.h"
#include "acctfile.h"
#include "buf.h"
#include "parse.h"

typedef struct pw_item {
	nr_pwent pub;
	char *storage;      /* NUL-cut fields of an added entry; NULL for parsed ones */
} pw_item;

struct nr_passwd {
	nr__acct a;
	pw_item *items;
	size_t n, alloc;
};

typedef struct pw_scan {
	const char *f[7];
	size_t l[7];
	size_t nf;          /* fields found, at most 7 (the 7th takes the rest) */
	uint32_t uid, gid;
} pw_scan;

/* Is [s, s+len) (leading white space already skipped) an entry? 0 or -1 with *why set. */
static int scan(const char *s, size_t len, pw_scan *sc, char *why, size_t whysize)
{
	int rc;

	sc->nf = nr__split_fields(s, len, ':', sc->f, sc->l, 7);
	if (sc->nf < 4) {
		snprintf(why, whysize, "expected 7 fields, found %zu", nr__count_fields(s, len, ':'));
		return -1;
	}
	if (sc->l[0] == 0) {
		snprintf(why, whysize, "empty user name");
		return -1;
	}
	if ((rc = nr__parse_u32(sc->f[2], sc->l[2], UINT32_MAX, &sc->uid)) < 0) {
		snprintf(why, whysize, "%s uid '%.*s'", rc == NR_ERANGE ? "out of range" : "invalid",
			(int)(sc->l[2] > 32 ? 32 : sc->l[2]), sc->f[2]);
		return -1;
	}
	if ((rc = nr__parse_u32(sc->f[3], sc->l[3], UINT32_MAX, &sc->gid)) < 0) {
		snprintf(why, whysize, "%s gid '%.*s'", rc == NR_ERANGE ? "out of range" : "invalid",
			(int)(sc->l[3] > 32 ? 32 : sc->l[3]), sc->f[3]);
		return -1;
	}
	return 0;
}

/* Strict u32 as nr__parse_u32(..., UINT32_MAX): up to 9 digits cannot overflow, so they take
 * a short loop; longer ones go to nr__parse_u32. */
static inline bool quick_u32(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0)
		return false;
	if (n > 9)
		return nr__parse_u32(s, n, UINT32_MAX, out) == 0;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* scan() for the parser: the same decision without the reason (which the parser drops), one
 * pass over the bytes up to the 6th ':' instead of a memchr call per field. */
#define QS_ONES  0x0101010101010101ull
#define QS_HIGHS 0x8080808080808080ull

/* 0x80 in each byte of x that is ':' (exact: no false positives). */
static inline uint64_t colon_mask(uint64_t x)
{
	uint64_t y = x ^ (QS_ONES * ':');

	return ~(((y & ~QS_HIGHS) + ~QS_HIGHS) | y | ~QS_HIGHS);
}

static inline bool quick_scan(const char *s, size_t len, pw_scan *sc)
{
	size_t n = 0, start = 0, i = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* eight bytes at a time */
	while (n < 6 && i + 8 <= len) {
		uint64_t x, m;
		memcpy(&x, s + i, 8);
		for (m = colon_mask(x); m != 0 && n < 6; m &= m - 1) {
			size_t k = i + (size_t)__builtin_ctzll(m) / 8;
			sc->f[n] = s + start;
			sc->l[n] = k - start;
			n++;
			start = k + 1;
		}
		i += 8;
	}
	if (n == 6)
		i = len;
#endif
	for (; i < len && n < 6; i++) {
		if (s[i] == ':') {
			sc->f[n] = s + start;
			sc->l[n] = i - start;
			n++;
			start = i + 1;
		}
	}
	sc->f[n] = s + start;
	sc->l[n] = len - start;
	sc->nf = n + 1;
	return sc->nf >= 4 && sc->l[0] > 0 && quick_u32(sc->f[2], sc->l[2], &sc->uid) &&
		quick_u32(sc->f[3], sc->l[3], &sc->gid);
}

/* Fill ent from a successful scan over `base_scan`, cutting fields in `base_mut`. */
static void materialize(nr_pwent *ent, const pw_scan *sc, const char *base_scan, char *base_mut)
{
	const char *out[7];
	size_t i;

	for (i = 0; i < 7; i++) {
		if (i < sc->nf) {
			char *p = base_mut + (sc->f[i] - base_scan);
			p[sc->l[i]] = '\0';
			out[i] = p;
		} else {
			out[i] = "";
		}
	}
	ent->name = out[0];
	ent->passwd = out[1];
	ent->uid = sc->uid;
	ent->gid = sc->gid;
	ent->gecos = out[4];
	ent->dir = out[5];
	ent->shell = out[6];
}

int nr_passwd_parse(nr_passwd **out, const char *buf, size_t len, const char *source,
	nr_error *err)
{
	nr_passwd *pw;
	size_t i;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if ((pw = nr__calloc(1, sizeof(*pw))) == NULL)
		return nr__error_oom(err);
	if ((error = nr__acct_load(&pw->a, buf, len, source, "passwd", err)) < 0) {
		free(pw);
		return error;
	}
	/* at most one entry per line: one allocation */
	if (pw->a.nlines && nr__array_grow((void **)&pw->items, &pw->alloc, pw->a.nlines,
			sizeof(*pw->items))) {
		nr_passwd_free(pw);
		return nr__error_oom(err);
	}
	for (i = 0; i < pw->a.nlines; i++) {
		const nr__aline *l = &pw->a.lines[i];
		size_t skip;
		pw_scan sc;

		if (nr__acct_kind(l->text, l->len, &skip) != NR__LINE_DATA)
			continue;
		if (!quick_scan(l->text + skip, l->len - skip, &sc))
			continue;
		memset(&pw->items[pw->n], 0, sizeof(pw->items[pw->n]));
		materialize(&pw->items[pw->n].pub, &sc, pw->a.input, pw->a.fields);
		pw->items[pw->n].pub.line = i + 1;
		pw->n++;
	}
	*out = pw;
	return 0;
}

void nr_passwd_free(nr_passwd *pw)
{
	size_t i;

	if (pw == NULL)
		return;
	for (i = 0; i < pw->n; i++)
		free(pw->items[i].storage);
	free(pw->items);
	nr__acct_dispose(&pw->a);
	free(pw);
}

int nr_passwd_serialize(char **out, size_t *len, const nr_passwd *pw, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(pw, err);
	return nr__acct_write(&pw->a, out, len, err);
}

size_t nr_passwd_count(const nr_passwd *pw)
{
	return pw ? pw->n : 0;
}

const nr_pwent *nr_passwd_at(const nr_passwd *pw, size_t i)
{
	return pw && i < pw->n ? &pw->items[i].pub : NULL;
}

const nr_pwent *nr_passwd_find_name(const nr_passwd *pw, const char *name)
{
	size_t i;

	if (pw == NULL || name == NULL)
		return NULL;
	for (i = 0; i < pw->n; i++) {
		if (strcmp(pw->items[i].pub.name, name) == 0)
			return &pw->items[i].pub;
	}
	return NULL;
}

const nr_pwent *nr_passwd_find_uid(const nr_passwd *pw, uint32_t uid)
{
	size_t i;

	if (pw == NULL)
		return NULL;
	for (i = 0; i < pw->n; i++) {
		if (pw->items[i].pub.uid == uid)
			return &pw->items[i].pub;
	}
	return NULL;
}

static int check_field(const char *val, const char *what, nr_error *err)
{
	if (!nr__field_ok(val))
		return nr__error_set(err, NR_EINVALID, what, 0, 0,
			"invalid %s '%.64s': must not contain ':', a newline or a control character",
			what, val);
	return 0;
}

/* A new entry: a valid name and fields, usable ids, a name and uid not taken (nor the name
 * by a line runc and Docker would read as that user). */
static int check_new_entry(const nr_passwd *pw, const nr_pwent *ent, const char *passwd,
	const char *gecos, const char *dir, const char *shell, nr_error *err)
{
	const nr_pwent *old;
	size_t gl;
	nr__go_line g;
	int error;

	if ((error = nr__check_new_name(ent->name, "name", err)) < 0)
		return error;
	if ((error = check_field(passwd, "passwd", err)) < 0 ||
	    (error = check_field(gecos, "gecos", err)) < 0 ||
	    (error = check_field(dir, "dir", err)) < 0 ||
	    (error = check_field(shell, "shell", err)) < 0)
		return error;
	if (ent->uid == UINT32_MAX)
		return nr__error_set(err, NR_EINVALID, "uid", 0, 0,
			"invalid uid 4294967295: it is (uid_t)-1");
	if (ent->gid == UINT32_MAX)
		return nr__error_set(err, NR_EINVALID, "gid", 0, 0,
			"invalid gid 4294967295: it is (gid_t)-1");
	if ((old = nr_passwd_find_name(pw, ent->name)) != NULL)
		return nr__error_set(err, NR_EEXISTS, pw->a.source, old->line, 0,
			"user '%s' exists already (uid %u)", old->name, old->uid);
	if (nr__passwd_go_hidden_name(pw, ent->name, &gl, &g))
		return nr__error_set(err, NR_EEXISTS, pw->a.source, gl, 0,
			"runc and Docker read this line as user '%s' with uid %lld, but it is not a "
			"valid passwd entry: refused (fix or remove the line)", ent->name,
			(long long)g.id);
	if ((old = nr_passwd_find_uid(pw, ent->uid)) != NULL)
		return nr__error_set(err, NR_ECONFLICT, pw->a.source, old->line, 0,
			"uid %u is already used by user '%s'", old->uid, old->name);
	return 0;
}

int nr_passwd_add(nr_passwd *pw, const nr_pwent *ent, nr_error *err)
{
	const char *passwd, *gecos, *dir, *shell;
	nr__buf b = NR__BUF_INIT;
	char *text = NULL, *storage = NULL, why[64];
	size_t len, at, k, i;
	pw_scan sc;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(pw, err);
	NR_ASSERT_ARG(ent, err);
	passwd = ent->passwd ? ent->passwd : "x";
	gecos = ent->gecos ? ent->gecos : "";
	dir = ent->dir ? ent->dir : "";
	shell = ent->shell ? ent->shell : "";
	if ((error = check_new_entry(pw, ent, passwd, gecos, dir, shell, err)) < 0)
		return error;
	nr__buf_printf(&b, "%s:%s:%u:%u:%s:%s:%s", ent->name, passwd, ent->uid, ent->gid, gecos,
		dir, shell);
	if (b.oom || (text = nr__buf_detach(&b, &len)) == NULL) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	if ((storage = nr__strndup(text, len)) == NULL ||
	    nr__array_grow((void **)&pw->items, &pw->alloc, pw->n + 1, sizeof(*pw->items))) {
		free(text);
		free(storage);
		return nr__error_oom(err);
	}
	if (scan(storage, len, &sc, why, sizeof(why)) < 0) {   /* cannot happen: fields checked */
		free(text);
		free(storage);
		return nr__error_set(err, NR_ERROR, pw->a.source, 0, 0, "internal error: %s", why);
	}
	at = nr__acct_insert_pos(&pw->a);
	if ((error = nr__acct_insert(&pw->a, at, text, len, err)) < 0) {
		free(storage);
		return error;
	}
	/* Entries after the new line move down one line; the new entry goes in file order. */
	for (k = pw->n, i = 0; i < pw->n; i++) {
		if (pw->items[i].pub.line > at) {
			if (k == pw->n)
				k = i;
			pw->items[i].pub.line++;
		}
	}
	memmove(pw->items + k + 1, pw->items + k, (pw->n - k) * sizeof(*pw->items));
	memset(&pw->items[k], 0, sizeof(pw->items[k]));
	materialize(&pw->items[k].pub, &sc, storage, storage);
	pw->items[k].storage = storage;
	pw->items[k].pub.line = at + 1;
	pw->n++;
	return 0;
}

int nr__passwd_check(const nr_passwd *pw, nr__has_id_fn has_gid, const void *ctx,
	nr_error **problems, size_t *count, nr_error *err)
{
	nr__problems p = { 0 };
	nr__name_ref *refs = NULL;
	size_t i, nrefs = 0;
	const char *src;

	NR_ASSERT_ARG(problems, err);
	NR_ASSERT_ARG(count, err);
	*problems = NULL;
	*count = 0;
	NR_ASSERT_ARG(pw, err);
	src = pw->a.source;
	if ((refs = nr__calloc(pw->n + 1, sizeof(*refs))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < pw->a.nlines; i++) {
		const nr__aline *l = &pw->a.lines[i];
		nr_error tmp = NR_ERROR_INIT;
		nr__line_kind kind;
		size_t skip, nf;
		pw_scan sc;
		char why[64], nm[80];

		kind = nr__acct_kind(l->text, l->len, &skip);
		if (l->len > 0 && l->text[l->len - 1] == '\r')
			nr__problem_add(&p, src, i + 1, "line ends with a carriage return");
		if (kind != NR__LINE_DATA)
			continue;
		if (skip > 0)
			nr__problem_add(&p, src, i + 1, "line starts with white space");
		if (scan(l->text + skip, l->len - skip, &sc, why, sizeof(why)) < 0) {
			nr__problem_add(&p, src, i + 1, "not a passwd entry: %s", why);
			continue;
		}
		nf = nr__count_fields(l->text + skip, l->len - skip, ':');
		if (nf != 7)
			nr__problem_add(&p, src, i + 1, "expected 7 fields, found %zu", nf);
		snprintf(nm, sizeof(nm), "%.*s", (int)(sc.l[0] > 64 ? 64 : sc.l[0]), sc.f[0]);
		if (nr_name_check(sc.f[0], sc.l[0], &tmp) < 0)
			nr__problem_add(&p, src, i + 1, "%s", tmp.message);
		if (has_gid && !has_gid(ctx, sc.gid))
			nr__problem_add(&p, src, i + 1, "user '%s': no group %u", nm, sc.gid);
	}
	for (i = 0; i < pw->n; i++) {
		refs[nrefs].name = pw->items[i].pub.name;
		refs[nrefs++].line = pw->items[i].pub.line;
	}
	nr__report_duplicates(&p, src, refs, nrefs, "user name");
	free(refs);
	nr__sort_problems(&p);
	return nr__problems_finish(&p, problems, count, err);
}

const char *nr__passwd_source(const nr_passwd *pw)
{
	return pw->a.source;
}

/* runc's reading of the lines in order, with whether each is one of our entries. */
typedef bool (*go_pw_pred)(const nr__go_line *g, const void *arg);

static int go_first(const nr_passwd *pw, go_pw_pred pred, const void *arg, bool hidden_only,
	size_t *line, nr__go_line *out, bool *is_entry)
{
	size_t i, k = 0;

	if (pw == NULL)
		return 0;
	for (i = 0; i < pw->a.nlines; i++) {
		bool entry;
		nr__go_line g;

		while (k < pw->n && pw->items[k].pub.line < i + 1)
			k++;
		entry = k < pw->n && pw->items[k].pub.line == i + 1;
		if (!nr__go_read_line(&pw->a.lines[i], true, &g) || !pred(&g, arg))
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

typedef struct go_key {
	const char *name;
	size_t nlen;
	const int64_t *id;
} go_key;

static bool go_match(const nr__go_line *g, const void *arg)
{
	const go_key *k = arg;

	if (k->id)
		return g->id == *k->id;
	return g->nlen == k->nlen && memcmp(g->name, k->name, k->nlen) == 0;
}

int nr__passwd_go_first(const nr_passwd *pw, const char *name, size_t nlen, const int64_t *uid,
	size_t *line, nr__go_line *out, bool *is_entry)
{
	go_key k = { name, nlen, uid };

	return go_first(pw, go_match, &k, false, line, out, is_entry);
}

int nr__passwd_go_hidden_name(const nr_passwd *pw, const char *name, size_t *line,
	nr__go_line *out)
{
	go_key k = { name, strlen(name), NULL };

	return go_first(pw, go_match, &k, true, line, out, NULL);
}
