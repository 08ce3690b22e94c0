/*
 * procobs.c: parsers for /proc/PID/status and /proc/PID/net/tcp{,6} (see procobs.h).
 * Cursor over (pointer, length), separators found with memchr, numbers parsed strictly.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "procobs.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict hex of exactly n digits (n <= 16). */
static int parse_hex(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 16)
		return -1;
	for (i = 0; i < n; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return -1;
		v = (v << 4) | (uint64_t)h;
	}
	*out = v;
	return 0;
}

static int parse_dec32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Next whitespace-separated field of [*p, end). @return its length, 0 at the end. */
static size_t field(const char **p, const char *end, const char **start)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*start = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*p = s;
	return (size_t)(s - *start);
}

static int ids(const char *p, const char *end, uint32_t out[4])
{
	const char *f;
	size_t k, n;

	for (k = 0; k < 4; k++) {
		if ((n = field(&p, end, &f)) == 0 || parse_dec32(f, n, &out[k]) < 0)
			return -1;
	}
	return 0;
}

static int hexfield(const char *p, const char *end, uint64_t *out)
{
	const char *f;
	size_t n = field(&p, end, &f);

	return parse_hex(f, n, out);
}

int procobs_parse_status(const char *text, size_t len, procobs_status *st)
{
	const char *p = text, *end = text + len;
	int caps = 0;

	memset(st, 0, sizeof(*st));
	st->no_new_privs = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (colon) {
			size_t kn = (size_t)(colon - p);
			const char *v = colon + 1;
#define KEY(k) (kn == sizeof(k) - 1 && memcmp(p, k, kn) == 0)
			if (KEY("Uid")) {
				if (ids(v, le, st->uid) < 0)
					return -1;
				st->have_uid = true;
			} else if (KEY("Gid")) {
				if (ids(v, le, st->gid) < 0)
					return -1;
				st->have_gid = true;
			} else if (KEY("CapInh")) {
				if (hexfield(v, le, &st->cap_inh) < 0)
					return -1;
				caps |= 1;
			} else if (KEY("CapPrm")) {
				if (hexfield(v, le, &st->cap_prm) < 0)
					return -1;
				caps |= 2;
			} else if (KEY("CapEff")) {
				if (hexfield(v, le, &st->cap_eff) < 0)
					return -1;
				caps |= 4;
			} else if (KEY("CapBnd")) {
				if (hexfield(v, le, &st->cap_bnd) < 0)
					return -1;
			} else if (KEY("CapAmb")) {
				if (hexfield(v, le, &st->cap_amb) < 0)
					return -1;
			} else if (KEY("NoNewPrivs")) {
				const char *f;
				size_t n = field(&v, le, &f);
				if (n != 1 || (f[0] != '0' && f[0] != '1'))
					return -1;
				st->no_new_privs = f[0] - '0';
			} else if (KEY("Name")) {
				const char *f;
				size_t n = field(&v, le, &f);
				if (n >= sizeof(st->name))
					n = sizeof(st->name) - 1;
				memcpy(st->name, f, n);
				st->name[n] = '\0';
			}
#undef KEY
		}
		p = nl ? nl + 1 : end;
	}
	st->have_caps = caps == 7;
	return 0;
}

/* "0100007F:1F90" (IPv4, host-order hex words) or 32 hex digits + ":PORT" (IPv6). */
static int parse_addr(const char *f, size_t n, int family, char *out, size_t outlen,
	uint16_t *port)
{
	const char *colon = memchr(f, ':', n);
	size_t an = colon ? (size_t)(colon - f) : 0, i;
	uint64_t pv;
	unsigned char a[16];

	if (colon == NULL || parse_hex(colon + 1, n - an - 1, &pv) < 0 || pv > 65535 ||
	    n - an - 1 != 4)
		return -1;
	*port = (uint16_t)pv;
	if (an != (family == 4 ? 8u : 32u))
		return -1;
	/* the kernel prints each 32-bit word in host order (little endian here) */
	for (i = 0; i < an / 8; i++) {
		uint64_t w;
		uint32_t w32;
		if (parse_hex(f + 8 * i, 8, &w) < 0)
			return -1;
		w32 = (uint32_t)w;
		memcpy(a + 4 * i, &w32, 4);
	}
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)outlen) == NULL)
		return -1;
	return 0;
}

int procobs_parse_tcp(const char *text, size_t len, int family, procobs_listen *out,
	size_t max, size_t *n)
{
	const char *p = text, *end = text + len;
	bool header = true;

	if (family != 4 && family != 6)
		return -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *f;
		size_t fn;
		procobs_listen l;
		uint64_t state;
		const char *q = p;

		p = nl ? nl + 1 : end;
		if (header) {
			header = false;
			continue;
		}
		if (field(&q, le, &f) == 0)
			continue;   /* blank line */
		memset(&l, 0, sizeof(l));
		l.family = family;
		/* sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid */
		if ((fn = field(&q, le, &f)) == 0 ||
		    parse_addr(f, fn, family, l.addr, sizeof(l.addr), &l.port) < 0)
			return -1;
		if (field(&q, le, &f) == 0)
			return -1;
		if ((fn = field(&q, le, &f)) != 2 || parse_hex(f, fn, &state) < 0)
			return -1;
		if (field(&q, le, &f) == 0 || field(&q, le, &f) == 0 || field(&q, le, &f) == 0)
			return -1;
		if ((fn = field(&q, le, &f)) == 0 || parse_dec32(f, fn, &l.uid) < 0)
			return -1;
		if (state != 0x0A)
			continue;
		if (*n < max)
			out[(*n)++] = l;
	}
	return 0;
}
