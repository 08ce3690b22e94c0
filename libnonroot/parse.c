/*
 * parse.c: cursor and strict numbers.
 */
#include <stdio.h>

#include "internal.h"
#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

#include "parse.h"

void nr__cursor_init(nr__cursor *c, const char *buf, size_t len)
{
	c->buf = buf;
	c->len = buf ? len : 0;
	c->pos = 0;
	c->line = 1;
}

bool nr__cursor_line(nr__cursor *c, const char **line, size_t *linelen, size_t *eol)
{
	const char *start, *nl;
	size_t rest;

	if (c->pos >= c->len)
		return false;
	start = c->buf + c->pos;
	rest = c->len - c->pos;
	nl = memchr(start, '\n', rest);
	*line = start;
	if (nl) {
		*linelen = (size_t)(nl - start);
		*eol = 1;
	} else {
		*linelen = rest;
		*eol = 0;
	}
	c->pos += *linelen + *eol;
	c->line++;
	return true;
}

size_t nr__split_fields(const char *s, size_t len, char sep, const char **fields,
	size_t *lens, size_t max)
{
	size_t n = 0;
	const char *p;

	while (n + 1 < max && (p = memchr(s, sep, len)) != NULL) {
		fields[n] = s;
		lens[n] = (size_t)(p - s);
		n++;
		len -= (size_t)(p - s) + 1;
		s = p + 1;
	}
	fields[n] = s;
	lens[n] = len;
	return n + 1;
}

int nr__parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return NR_EINVALID;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return NR_EINVALID;
	}
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (v > (max - d) / 10)
			return NR_ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int nr__parse_u32(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int error;

	if ((error = nr__parse_u64(s, len, max, &v)) < 0)
		return error;
	*out = (uint32_t)v;
	return 0;
}

bool nr__span_eq(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return n == len && memcmp(s, lit, n) == 0;
}

bool nr__span_has_ctrl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			return true;
	}
	return false;
}

void nr__hex(char *out, const unsigned char *in, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int nr__random_hex(char *out, size_t n)
{
	unsigned char rnd[32];

	if (n > sizeof(rnd)) {
		errno = EINVAL;
		return -1;
	}
	if (getrandom(rnd, n, 0) != (ssize_t)n)
		return -1;
	nr__hex(out, rnd, n);
	return 0;
}

void nr__span_quote(char *out, size_t size, const char *s, size_t len, size_t max)
{
	size_t i, o = 0;

	if (size == 0)
		return;
	for (i = 0; i < len && i < max && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
