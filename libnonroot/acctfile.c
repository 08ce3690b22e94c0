/*
 * acctfile.c: the lossless line store shared by passwd, group, shadow and gshadow.
 */
#include <stdio.h>

#include "internal.h"
#include "acctfile.h"
#include "buf.h"
#include "fileio.h"

int nr__acct_load(nr__acct *a, const char *buf, size_t len, const char *source,
	const char *default_source, nr_error *err)
{
	size_t pos = 0, lineno = 1;
	int error = 0;

	memset(a, 0, sizeof(*a));
	if (buf == NULL && len > 0)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: buf is NULL");
	if (source == NULL)
		source = default_source;
	if ((a->source = nr__strdup(source)) == NULL)
		return nr__error_oom(err);
	if (len > NR_ACCOUNT_FILE_MAX) {
		error = nr__error_set(err, NR_ETOOBIG, source, 0, 0,
			"file is %zu bytes, over the limit of %u", len, NR_ACCOUNT_FILE_MAX);
		goto fail;
	}
	if ((a->input = nr__malloc(len + 1)) == NULL || (a->fields = nr__malloc(len + 1)) == NULL) {
		error = nr__error_oom(err);
		goto fail;
	}
	if (len)
		memcpy(a->input, buf, len);
	a->input[len] = '\0';
	memcpy(a->fields, a->input, len + 1);
	a->len = len;
	/* One vectorised search for a NUL over the whole input instead of one per line. */
	if (len && memchr(a->input, '\0', len) != NULL) {
		const char *nul = memchr(a->input, '\0', len), *start = a->input, *nl;
		while ((nl = memchr(start, '\n', (size_t)(nul - start))) != NULL) {
			start = nl + 1;
			lineno++;
		}
		error = nr__error_set(err, NR_EINVALID, source, lineno,
			(size_t)(nul - start) + 1, "NUL byte in line");
		goto fail;
	}
	while (pos < len) {
		const char *start = a->input + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - start) : len - pos;

		if (a->nlines == a->alines && nr__array_grow((void **)&a->lines, &a->alines,
				a->nlines + (len - pos) / 64 + 1, sizeof(*a->lines))) {
			error = nr__error_oom(err);
			goto fail;
		}
		a->lines[a->nlines].text = start;
		a->lines[a->nlines].len = ll;
		a->lines[a->nlines].eol = nl ? 1 : 0;
		a->lines[a->nlines].owned = NULL;
		a->nlines++;
		pos += ll + (nl ? 1 : 0);
		lineno++;
	}
	return 0;
fail:
	nr__acct_dispose(a);
	return error;
}

void nr__acct_dispose(nr__acct *a)
{
	size_t i;

	for (i = 0; i < a->nlines; i++)
		free(a->lines[i].owned);
	free(a->lines);
	free(a->input);
	free(a->fields);
	free(a->source);
	memset(a, 0, sizeof(*a));
}

int nr__acct_write(const nr__acct *a, char **out, size_t *len, nr_error *err)
{
	nr__buf b = NR__BUF_INIT;
	size_t i, total = 0;
	char *s;

	*out = NULL;
	if (len)
		*len = 0;
	for (i = 0; i < a->nlines; i++)
		total += a->lines[i].len + a->lines[i].eol;
	if (nr__buf_grow(&b, total) < 0)
		return nr__error_oom(err);
	for (i = 0; i < a->nlines; i++) {
		nr__buf_put(&b, a->lines[i].text, a->lines[i].len);
		if (a->lines[i].eol)
			nr__buf_putc(&b, '\n');
	}
	if (b.oom || (s = nr__buf_detach(&b, len)) == NULL) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	*out = s;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

nr__line_kind nr__acct_kind(const char *text, size_t len, size_t *skip)
{
	size_t i = 0;

	while (i < len && is_blank(text[i]))
		i++;
	*skip = i;
	if (i == len)
		return NR__LINE_BLANK;
	if (text[i] == '#')
		return NR__LINE_COMMENT;
	if (text[i] == '+' || text[i] == '-')
		return NR__LINE_NIS;
	return NR__LINE_DATA;
}

size_t nr__acct_insert_pos(const nr__acct *a)
{
	size_t i, skip;

	for (i = 0; i < a->nlines; i++) {
		if (nr__acct_kind(a->lines[i].text, a->lines[i].len, &skip) == NR__LINE_NIS)
			return i;
	}
	return a->nlines;
}

int nr__acct_insert(nr__acct *a, size_t at, char *owned, size_t len, nr_error *err)
{
	if (nr__array_grow((void **)&a->lines, &a->alines, a->nlines + 1, sizeof(*a->lines))) {
		free(owned);
		return nr__error_oom(err);
	}
	if (at > a->nlines)
		at = a->nlines;
	memmove(a->lines + at + 1, a->lines + at, (a->nlines - at) * sizeof(*a->lines));
	a->lines[at].text = owned;
	a->lines[at].len = len;
	a->lines[at].owned = owned;
	a->lines[at].eol = 1;
	a->nlines++;
	if (at > 0)
		a->lines[at - 1].eol = 1;   /* only a last line can lack its newline */
	return 0;
}

void nr__acct_replace(nr__acct *a, size_t at, char *owned, size_t len)
{
	free(a->lines[at].owned);
	a->lines[at].text = owned;
	a->lines[at].len = len;
	a->lines[at].owned = owned;
}

size_t nr__count_fields(const char *s, size_t len, char sep)
{
	size_t n = 1;
	const char *p;

	while ((p = memchr(s, sep, len)) != NULL) {
		n++;
		len -= (size_t)(p - s) + 1;
		s = p + 1;
	}
	return n;
}

bool nr__field_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ':' || c < 0x20 || c == 0x7f)
			return false;
		if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)
			return false;   /* a C1 control (U+0080..U+009F) in UTF-8 */
	}
	return true;
}

void nr__problem_add(nr__problems *p, const char *source, size_t line, const char *fmt, ...)
{
	va_list ap;
	nr_error *e;

	if (p->oom)
		return;
	if (nr__array_grow((void **)&p->v, &p->alloc, p->n + 1, sizeof(*p->v))) {
		p->oom = true;
		return;
	}
	e = &p->v[p->n++];
	memset(e, 0, sizeof(*e));
	va_start(ap, fmt);
	nr__error_setv(e, NR_EINVALID, source, line, 0, fmt, ap);
	va_end(ap);
	e->column = p->n;   /* insertion order, for a stable sort; cleared by nr__sort_problems */
}

int nr__problems_finish(nr__problems *p, nr_error **out, size_t *count, nr_error *err)
{
	*out = NULL;
	*count = 0;
	if (p->oom) {
		free(p->v);
		return nr__error_oom(err);
	}
	if (p->n == 0) {
		free(p->v);
		return 0;
	}
	for (size_t i = 0; i < p->n; i++)
		p->v[i].column = 0;
	*out = p->v;
	*count = p->n;
	return p->n > INT32_MAX ? INT32_MAX : (int)p->n;
}

int nr__check_new_name(const char *name, const char *what, nr_error *err)
{
	nr_error tmp = NR_ERROR_INIT;

	if (name == NULL)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: %s is NULL", what);
	if (nr_name_check(name, strlen(name), &tmp) < 0)
		return nr__error_set(err, tmp.code, what, 0, 0, "%s", tmp.message);
	return 0;
}

static int cmp_name_ref(const void *a, const void *b)
{
	const nr__name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->line < y->line ? -1 : x->line > y->line);
}

void nr__report_duplicates(nr__problems *p, const char *source, nr__name_ref *refs, size_t n,
	const char *what)
{
	size_t i, first = 0;

	if (n == 0)
		return;
	qsort(refs, n, sizeof(*refs), cmp_name_ref);
	for (i = 1; i < n; i++) {
		if (strcmp(refs[i].name, refs[first].name) == 0)
			nr__problem_add(p, source, refs[i].line, "duplicate %s '%.64s' (first on line %zu)",
				what, refs[i].name, refs[first].line);
		else
			first = i;
	}
}

/* Problems carry their insertion order in `column` until sorted, so the sort is stable. */
static int cmp_problem(const void *a, const void *b)
{
	const nr_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->column < y->column ? -1 : x->column > y->column;
}

void nr__sort_problems(nr__problems *p)
{
	size_t i;

	if (p->oom)
		return;
	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), cmp_problem);
	for (i = 0; i < p->n; i++)
		p->v[i].column = 0;
}

int nr__append_list_item(char **out, size_t *outlen, const char *text, size_t len,
	size_t fields, size_t list_field, bool have, const char *item)
{
	nr__buf b = NR__BUF_INIT;
	size_t body = len, i;

	if (body > 0 && text[body - 1] == '\r')
		body--;
	nr__buf_put(&b, text, body);
	if (fields < list_field) {
		for (i = fields; i < list_field; i++)
			nr__buf_putc(&b, ':');
	} else if (have && body > 0 && text[body - 1] != ',') {
		nr__buf_putc(&b, ',');
	}
	nr__buf_puts(&b, item);
	if (body < len)
		nr__buf_putc(&b, ',');   /* keep "\r" out of the new item: glibc skips a blank item */
	nr__buf_put(&b, text + body, len - body);
	if (b.oom || (*out = nr__buf_detach(&b, outlen)) == NULL) {
		nr__buf_dispose(&b);
		return NR_ENOMEM;
	}
	return 0;
}


int nr__nameset_init(nr__nameset *s, size_t n)
{
	s->n = 0;
	s->v = nr__calloc(n + 1, sizeof(*s->v));
	return s->v ? 0 : NR_ENOMEM;
}

void nr__nameset_add(nr__nameset *s, const char *name)
{
	s->v[s->n++] = name;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void nr__nameset_sort(nr__nameset *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
}

bool nr__nameset_has(const nr__nameset *s, const char *name)
{
	return s->n > 0 && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

void nr__nameset_dispose(nr__nameset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* ---- how runc reads these files (libcontainer/user) ------------------------------------------ */

/* Length of the Unicode white space (Go's unicode.IsSpace) that starts [s, s+n), else 0. */
static size_t go_space_at(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return 1;
	if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
		return 2;
	if (n >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)             /* U+1680 */
		return 3;
	if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
	    (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))     /* U+2000-200A, 2028, 2029, 202F */
		return s[2] >= 0x80 ? 3 : 0;
	if (n >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)             /* U+205F */
		return 3;
	if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)             /* U+3000 */
		return 3;
	return 0;
}

/* Length of the Unicode white space that ends [s, s+n), else 0. */
static size_t go_space_before(const unsigned char *s, size_t n)
{
	size_t k;

	for (k = 1; k <= 3 && k <= n; k++) {
		if (go_space_at(s + n - k, k) == k)
			return k;
	}
	return 0;
}

/* strconv.Atoi with the error ignored: a syntax error is 0, a range error the nearest limit. */
static int64_t go_atoi_lenient(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;
	bool neg = false, over = false;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return 0;
	for (; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return 0;
		if (!over && v > (UINT64_MAX - d) / 10)
			over = true;
		else if (!over)
			v = v * 10 + d;
	}
	if (neg)
		return over || v > (uint64_t)INT64_MAX + 1 ? INT64_MIN :
			(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v);
	return over || v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

bool nr__go_read_line(const nr__aline *l, bool passwd, nr__go_line *out)
{
	const char *s = l->text, *f[4];
	size_t n = l->len, fl[4], k, nf = 0, start = 0, i;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (passwd) {
		while (n > 0 && (k = go_space_at((const unsigned char *)s, n)) > 0) {
			s += k;
			n -= k;
		}
		while (n > 0 && (k = go_space_before((const unsigned char *)s, n)) > 0)
			n -= k;
	}
	if (n == 0)
		return false;
	for (i = 0; i <= n && nf < 4; i++) {
		if (i == n || s[i] == ':') {
			f[nf] = s + start;
			fl[nf] = i - start;
			nf++;
			start = i + 1;
		}
	}
	for (k = nf; k < 4; k++) {
		f[k] = s + n;
		fl[k] = 0;
	}
	memset(out, 0, sizeof(*out));
	out->name = f[0];
	out->nlen = fl[0];
	out->id = go_atoi_lenient(f[2], fl[2]);
	if (passwd) {
		out->gid = go_atoi_lenient(f[3], fl[3]);
	} else {
		out->rest = f[3];
		out->rlen = fl[3];
	}
	return true;
}
