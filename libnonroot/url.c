/*
 * url.c: one Kestrel server address (a URL of ASPNETCORE_URLS) parsed and checked as ASP.NET
 * Core does; the variables and the effective bindings are in urls.c, port maps in portmap.c.
 *
 * The parser follows dotnet/aspnetcore src/Http/Http/src/BindingAddress.cs (Parse), the checks
 * follow src/Servers/Kestrel/Core/src/Internal/AddressBinder.cs (ParseAddress) and the variable
 * precedence follows src/Hosting/Hosting/src/GenericHost/GenericWebHostService.cs (StartAsync).
 * Differences on purpose (see docs/urls.md):
 *  - a control character (C0 or DEL) anywhere in a URL is an error; .NET would keep it in the
 *    host ("http://+:80\n" would even parse its port, since int.TryParse allows trailing
 *    white space);
 *  - a port that is not a number parses as in .NET 8 (it becomes part of the host and the
 *    default port is used) but is flagged NR_URL_PORT_FALLBACK and warned about; .NET 10
 *    throws "Invalid port" instead (dotnet/aspnetcore#24384, #63135);
 *  - only Linux semantics: "unix:/c:/x" is not a Windows drive path.
 */
#include <stdio.h>
#include <strings.h>

#include "internal.h"
#include "buf.h"
#include "urls_internal.h"

#define SPAN_END(sp) ((sp).off + (sp).len)

static const char k_invalid_url[] = "Invalid url: '%.*s'";

bool nr__url_ieq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char a = (unsigned char)s[i], b = (unsigned char)lit[i];
		if (b == '\0')
			return false;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return lit[n] == '\0';
}

/* Like nr__span_has_ctrl, but tells where. */
static bool find_ctrl(const char *s, size_t n, size_t *at)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			*at = i;
			return true;
		}
	}
	return false;
}

/* Quote a URL for a message: control characters as \xNN, everything else as is. */
static void quote_into(char *dst, size_t size, const char *s, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

/*
 * .NET int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture): optional white
 * space (0x09-0x0D, 0x20), an optional '+' or '-' directly before ASCII digits, optional white
 * space; the value must fit in an Int32. tok, toklen: the sign and digits.
 */
bool nr__dotnet_int_parse(const char *s, size_t n, int32_t *out, size_t *tok, size_t *toklen)
{
	size_t i = 0, start;
	bool neg = false;
	int64_t v = 0;

#define NR_WS(c) ((c) == ' ' || ((unsigned char)(c) >= 0x09 && (unsigned char)(c) <= 0x0d))
	while (i < n && NR_WS(s[i]))
		i++;
	start = i;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		i++;
	}
	if (i >= n || s[i] < '0' || s[i] > '9')
		return false;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (s[i] - '0');
		if (v > (int64_t)INT32_MAX + 1)
			return false;
	}
	*tok = start;
	*toklen = i - start;
	while (i < n && NR_WS(s[i]))
		i++;
#undef NR_WS
	if (i != n)
		return false;
	if (neg)
		v = -v;
	if (v > INT32_MAX || v < INT32_MIN)
		return false;
	*out = (int32_t)v;
	return true;
}

/*
 * IPv4 as .NET's IPAddress.TryParse accepts it (IPv4AddressHelper.ParseNonCanonical): one to
 * four parts, each decimal, octal (leading 0) or hex (0x); the last part fills the remaining
 * bytes ("127.1", "0x7f000001", "2130706433"). The whole text must be consumed.
 */
static bool parse_ipv4_any(const char *s, size_t n, unsigned char out[4]);

static __attribute__((noinline)) bool parse_ipv4(const char *s, size_t n, unsigned char out[4])
{
	/* Fast path: canonical dotted decimal without leading zeros ("10.1.2.3"). */
	uint32_t part = 0;
	size_t i, nd = 0, np = 0;

	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d <= 9) {
			if ((nd > 0 && part == 0) || ++nd > 3)
				return parse_ipv4_any(s, n, out);
			part = part * 10 + d;
		} else if (s[i] == '.' && nd > 0 && np < 3 && part <= 255) {
			out[np++] = (unsigned char)part;
			part = 0;
			nd = 0;
		} else {
			return parse_ipv4_any(s, n, out);
		}
	}
	if (np != 3 || nd == 0 || part > 255)
		return parse_ipv4_any(s, n, out);
	out[3] = (unsigned char)part;
	return true;
}

static __attribute__((noinline)) bool parse_ipv4_any(const char *s, size_t n, unsigned char out[4])
{
	uint64_t parts[4];
	size_t i = 0, nparts = 0;
	uint32_t v;

	while (1) {
		uint64_t num = 0;
		unsigned base = 10;
		bool digit = false;

		if (i < n && s[i] == '0') {
			base = 8;
			digit = true;
			i++;
			if (i < n && (s[i] == 'x' || s[i] == 'X')) {
				base = 16;
				digit = false;
				i++;
			}
		}
		for (; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			unsigned d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (base == 16 && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (base == 16 && c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				break;
			if (d >= base)
				return false;
			num = num * base + d;
			if (num > 0xffffffffu)
				return false;
			digit = true;
		}
		if (!digit)
			return false;
		parts[nparts++] = num;
		if (i == n)
			break;
		if (s[i] != '.' || nparts == 4 || num > 0xff)
			return false;
		i++;
	}
	switch (nparts) {
	case 1:
		v = (uint32_t)parts[0];
		break;
	case 2:
		if (parts[1] > 0xffffff)
			return false;
		v = (uint32_t)(parts[0] << 24 | parts[1]);
		break;
	case 3:
		if (parts[2] > 0xffff)
			return false;
		v = (uint32_t)(parts[0] << 24 | parts[1] << 16 | parts[2]);
		break;
	default:
		if (parts[3] > 0xff)
			return false;
		v = (uint32_t)(parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]);
		break;
	}
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
	return true;
}

/*
 * IPv6 as IPAddress.TryParse accepts it: optionally in brackets, then optionally ":port"
 * (ignored, as .NET does), and an optional "%scope" after the address.
 */
/* Dotted decimal as inet_pton(AF_INET) takes it: four parts 0..255, no leading zeros. */
static bool inet4_strict(const char *s, size_t n, unsigned char out[4])
{
	size_t i, np = 0, nd = 0;
	unsigned v = 0;

	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d <= 9) {
			if (nd > 0 && v == 0)
				return false;
			v = v * 10 + d;
			if (v > 255 || ++nd > 3)
				return false;
		} else if (s[i] == '.' && nd > 0 && np < 3) {
			out[np++] = (unsigned char)v;
			v = 0;
			nd = 0;
		} else {
			return false;
		}
	}
	if (np != 3 || nd == 0)
		return false;
	out[3] = (unsigned char)v;
	return true;
}

/* IPv6 text as inet_pton(AF_INET6) takes it (RFC 4291 2.2), without allocation or copying. */
static bool inet6_text(const char *s, size_t n, unsigned char out[16])
{
	unsigned char tmp[16];
	size_t i = 0, tp = 0, curtok, colonp = SIZE_MAX, nx = 0;
	unsigned val = 0;

	if (n == 0)
		return false;
	if (s[0] == ':') {
		if (n < 2 || s[1] != ':')
			return false;
		i = 1;
	}
	curtok = i;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned d = c - '0';
		if (d > 9) {
			d = (unsigned)(c | 0x20) - 'a';
			d = d <= 5 ? d + 10 : 99;
		}
		if (d < 16) {
			if (++nx > 4)
				return false;
			val = val << 4 | d;
			continue;
		}
		if (c == ':') {
			curtok = i + 1;
			if (nx == 0) {
				if (colonp != SIZE_MAX)
					return false;
				colonp = tp;
				continue;
			}
			if (i + 1 >= n || tp + 2 > 16)
				return false;
			tmp[tp++] = (unsigned char)(val >> 8);
			tmp[tp++] = (unsigned char)val;
			nx = 0;
			val = 0;
			continue;
		}
		if (c == '.' && tp + 4 <= 16 && inet4_strict(s + curtok, n - curtok, tmp + tp)) {
			tp += 4;
			nx = 0;
			break;
		}
		return false;
	}
	if (nx > 0) {
		if (tp + 2 > 16)
			return false;
		tmp[tp++] = (unsigned char)(val >> 8);
		tmp[tp++] = (unsigned char)val;
	}
	if (colonp != SIZE_MAX) {
		size_t moved = tp - colonp;
		if (tp == 16)
			return false;
		memmove(tmp + 16 - moved, tmp + colonp, moved);
		memset(tmp + colonp, 0, 16 - moved - colonp);
		tp = 16;
	}
	if (tp != 16)
		return false;
	memcpy(out, tmp, 16);
	return true;
}

static __attribute__((noinline)) bool parse_ipv6(const char *s, size_t n, unsigned char out[16])
{
	const char *pct;
	size_t alen;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		size_t rest, i;
		if (rb == NULL)
			return false;
		rest = n - (size_t)(rb + 1 - s);
		if (rest > 0) {
			const char *p = rb + 1;
			if (p[0] != ':' || rest < 2)
				return false;
			for (i = 1; i < rest; i++)
				if (p[i] < '0' || p[i] > '9')
					return false;
		}
		s++;
		n = (size_t)(rb - s);
	}
	if (n == 0 || memchr(s, ':', n) == NULL)
		return false;
	alen = n;
	if ((pct = memchr(s, '%', n)) != NULL) {
		alen = (size_t)(pct - s);
		if (alen + 1 == n)
			return false;   /* an empty scope */
	}
	return inet6_text(s, alen, out);
}

/* Does the 8-byte word hold a C0 control character or DEL? (exact as an existence test) */
static inline bool word_has_ctrl(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t y = x ^ (ones * 0x7f);

	return (((x - ones * 0x20) & ~x & highs) | ((y - ones) & ~y & highs)) != 0;
}

/* Any C0 control character or DEL in [s, s+n)? Eight bytes at a time (the hot path). */
static inline __attribute__((always_inline)) bool has_ctrl(const char *s, size_t n)
{
	uint64_t x;
	size_t i;

	if (n >= 8 && n <= 16) {   /* most URLs: two (overlapping) words */
		uint64_t y;
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		return word_has_ctrl(x) || word_has_ctrl(y);
	}
	if (n < 8) {
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7f)
				return true;
		}
		return false;
	}
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		if (word_has_ctrl(x))
			return true;
	}
	if (i < n) {   /* the last, overlapping word */
		memcpy(&x, s + n - 8, 8);
		return word_has_ctrl(x);
	}
	return false;
}

/* NR_URL_HTTP / NR_URL_HTTPS for a scheme, compared without regard to case. */
static unsigned scheme_flags(const char *s, size_t n)
{
	static const char http[4] = { 'h', 't', 't', 'p' };
	uint32_t w, h;

	if (n != 4 && n != 5)
		return 0;
	memcpy(&w, s, 4);
	memcpy(&h, http, 4);
	if ((w | 0x20202020u) != h)   /* exact: only 'H'/'h', 'T'/'t', 'P'/'p' map onto them */
		return 0;
	if (n == 4)
		return NR_URL_HTTP;
	return (s[4] | 0x20) == 's' ? NR_URL_HTTPS : 0;
}

/* "localhost" in any case, 9 bytes at h. */
static inline bool is_localhost(const char *h)
{
	static const char lo[8] = { 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's' };
	uint64_t w, l;

	memcpy(&w, h, 8);
	memcpy(&l, lo, 8);
	/* exact: only the two cases of each letter map onto the lower-case letter */
	return (w | 0x2020202020202020ull) == l && (h[8] | 0x20) == 't';
}

static inline __attribute__((always_inline)) void classify(nr_url *u, const char *s, bool host_has_colon)
{
	const char *h = s + u->host.off;
	size_t n = u->host.len;
	static const unsigned char zero[16];

	/* The kinds are disjoint, so the cheap tests go first; Kestrel tests localhost, then
	 * IPAddress.TryParse, then falls back to any. */
	if (n == 1 && (h[0] == '*' || h[0] == '+')) {
		u->kind = NR_URL_ANY;
	} else if (!host_has_colon && h[0] >= '0' && h[0] <= '9' && parse_ipv4(h, n, u->addr)) {
		u->family = 4;
		u->kind = memcmp(u->addr, zero, 4) == 0 ? NR_URL_ANY : NR_URL_IP;
	} else if (host_has_colon && parse_ipv6(h, n, u->addr)) {
		u->family = 6;
		u->kind = memcmp(u->addr, zero, 16) == 0 ? NR_URL_ANY : NR_URL_IP;
	} else if (n == 9 && is_localhost(h)) {
		u->kind = NR_URL_LOCALHOST;
	} else {
		u->kind = NR_URL_HOST;
	}
}

#define NR_ONES  0x0101010101010101ull
#define NR_HIGHS 0x8080808080808080ull

/* 0x80 in each byte of x that equals c, 0 elsewhere (exact, no carries between bytes). */
static inline uint64_t eq_mask(uint64_t x, unsigned char c)
{
	uint64_t y = x ^ (NR_ONES * c);

	return ~(((y & ~NR_HIGHS) + ~NR_HIGHS) | y | ~NR_HIGHS);
}

/* 0x80 in each byte of x that is a C0 control character or DEL. */
static inline uint64_t ctrl_mask(uint64_t x)
{
	return (~(((x & ~NR_HIGHS) + NR_ONES * 0x60) | x) & NR_HIGHS) | eq_mask(x, 0x7f);
}

/*
 * Find the end of the authority (the first '/' at or after se, or len) and its first and last
 * ':', checking for control characters on the way. *checked: bytes before it are checked.
 * @return false when a control character was seen
 */
static inline __attribute__((always_inline)) bool scan_authority(const char *s, size_t len,
	size_t se, size_t *ps, size_t *first, size_t *last, size_t *checked, uint32_t *port,
	bool *port_ok)
{
	size_t i, nd = 0;
	uint32_t v = 0;
	bool other = false;

	*port_ok = false;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (len - se >= 8) {   /* shorter authorities ("+:80") are cheaper byte by byte */
		size_t pos = se;
		while (pos < len) {
			/* the next eight bytes, or the last eight with the seen ones masked off */
			size_t base = len - pos >= 8 ? pos : len - 8;
			uint64_t x, keep, sl, co;
			memcpy(&x, s + base, 8);
			keep = ~0ull << (8 * (pos - base));
			if (ctrl_mask(x) & keep)
				return false;
			sl = eq_mask(x, '/') & keep;
			co = eq_mask(x, ':') & keep;
			if (sl)
				co &= (sl & -sl) - 1;   /* only the colons before the slash */
			if (co) {
				if (*first == SIZE_MAX)
					*first = base + (size_t)__builtin_ctzll(co) / 8;
				*last = base + (size_t)(63 - __builtin_clzll(co)) / 8;
			}
			*checked = base + 8;
			if (sl) {
				*ps = base + (size_t)__builtin_ctzll(sl) / 8;
				return true;
			}
			pos = base + 8;
		}
		*ps = len;
		return true;
	}
#endif
	/* Byte by byte, reading the digits after the last ':' on the way (the usual port). */
	size_t fc = SIZE_MAX, lc = SIZE_MAX;
	for (i = se; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned d = (unsigned)c - '0';
		if (d <= 9) {
			v = v * 10 + d;
			nd++;
			continue;
		}
		if (c == ':') {
			if (fc == SIZE_MAX)
				fc = i;
			lc = i;
			v = 0;
			nd = 0;
			other = false;
			continue;
		}
		if (c == '/')
			break;
		if (c < 0x20 || c == 0x7f)
			return false;
		other = true;
	}
	*first = fc;
	*last = lc;
	*ps = i;
	*checked = i;
	*port = v;
	*port_ok = lc != SIZE_MAX && !other && nd > 0 && nd <= 9;
	return true;
}

static int __attribute__((noinline, cold)) ctrl_error(const char *s, size_t len,
	const char *source, nr_error *err)
{
	char q[200];
	size_t at = 0;

	find_ctrl(s, len, &at);
	quote_into(q, sizeof(q), s, len);
	return nr__error_set(err, NR_EINVALID, source, 0, at + 1,
		"Invalid url: control character 0x%02x at byte %zu: '%s'", (unsigned char)s[at],
		at + 1, q);
}

/* address.IndexOf("://"), with a fast path for http:// and https://; control characters
 * are looked for on the way (the scheme here, the authority in scan_authority()). Sets
 * u->flags and u->scheme.len. */
static inline __attribute__((always_inline)) int url_scheme(nr_url *u, const char *s,
	size_t len, const char *source, nr_error *err)
{
	size_t i;

	u->flags = 0;
	if (len >= 8 && (u->flags = scheme_flags(s, 4)) != 0 && memcmp(s + 4, "://", 3) == 0) {
		i = 4;
	} else if (len >= 9 && (u->flags = scheme_flags(s, 5)) != 0 && memcmp(s + 5, "://", 3) == 0) {
		i = 5;
	} else {
		for (i = 0; i + 2 < len; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7f)
				return ctrl_error(s, len, source, err);
			if (c == ':' && s[i + 1] == '/' && s[i + 2] == '/')
				break;
		}
		if (i + 2 >= len) {
			if (has_ctrl(s, len))
				return ctrl_error(s, len, source, err);
			u->scheme.len = u->path_base.off = u->path_base.len = 0;
			u->flags = 0;
			return nr__error_set(err, NR_EINVALID, source, 0, 0, k_invalid_url, (int)len,
				s);
		}
		u->flags = scheme_flags(s, i);
	}
	u->scheme.len = i;
	return 0;
}

/* The text after the authority's last ':' (up to @p ps) as BindingAddress.Parse reads it:
 * int.TryParse; @return true when it is the port (host, port and port_text set), false
 * when Kestrel falls back to the whole authority as the host (NR_URL_PORT_FALLBACK). */
static inline __attribute__((always_inline)) bool url_port(nr_url *u, const char *s,
	size_t se, size_t ps, size_t last_colon, uint32_t fast_port, bool fast_ok)
{
	size_t pstart = last_colon + 1, pn = ps - pstart, tok = 0, toklen = pn, k;
	uint32_t v = 0;
	int32_t port;
	bool specified;

	if (fast_ok) {
		k = pn;
		v = fast_port;
	} else {
		for (k = 0; k < pn; k++) {
			unsigned d = (unsigned)(unsigned char)s[pstart + k] - '0';
			if (d > 9)
				break;
			v = v * 10 + d;
		}
	}
	if (k == pn && pn > 0 && pn <= 9) {
		port = (int32_t)v;   /* the common case: plain digits */
		specified = true;
	} else {
		specified = nr__dotnet_int_parse(s + pstart, pn, &port, &tok, &toklen);
	}
	if (specified) {
		u->host.off = se;
		u->host.len = last_colon - se;
		u->port = port;
		u->port_text.off = pstart + tok;
		u->port_text.len = toklen;
	} else {
		u->flags |= NR_URL_PORT_FALLBACK;
		u->port_text.off = pstart;
		u->port_text.len = pn;
	}
	return specified;
}

static inline __attribute__((always_inline)) int url_parse(nr_url *u, const char *s,
	size_t len, const char *source, nr_error *err)
{
	size_t se, ps, pe, i, first_colon = SIZE_MAX, last_colon = SIZE_MAX;
	bool unixp = false, pipe = false, specified = false;
	int error;

	u->scheme.off = 0;
	u->host.off = u->host.len = 0;
	u->port_text.off = u->port_text.len = 0;
	u->port = 0;
	u->kind = NR_URL_HOST;
	u->family = 0;
	memset(u->addr, 0, sizeof(u->addr));
	if (s == NULL)
		s = "", len = 0;
	if ((error = url_scheme(u, s, len, source, err)) < 0)
		return error;
	i = u->scheme.len;
	se = i + 3;
	if (len - se >= 6 && s[se + 4] == ':' && s[se + 5] == '/') {
		unixp = memcmp(s + se, "unix", 4) == 0;
		pipe = memcmp(s + se, "pipe", 4) == 0;
	}
	if (unixp || pipe) {
		const char *c;
		if (has_ctrl(s + se, len - se))
			return ctrl_error(s, len, source, err);
		c = memchr(s + se + 6, ':', len - se - 6);
		ps = c ? (size_t)(c - s) : len;
		pe = c ? ps + 1 : len;
	} else {
		/* The first '/' ends the authority; remember its first and last ':'. */
		size_t checked = se;
		uint32_t fast_port = 0;
		bool fast_ok = false;
		if (!scan_authority(s, len, se, &ps, &first_colon, &last_colon, &checked, &fast_port,
				&fast_ok) ||
		    (checked < len && has_ctrl(s + checked, len - checked)))
			return ctrl_error(s, len, source, err);
		pe = ps;
		/* .NET 10 skips a candidate when the authority ends in ']' ("[::1]"); .NET 8 tries
		 * "1]" as a number and falls back: the same result, but not a port fallback. */
		if (last_colon != SIZE_MAX && s[ps - 1] != ']')
			specified = url_port(u, s, se, ps, last_colon, fast_port, fast_ok);
		if (!specified) {
			u->flags |= NR_URL_PORT_DEFAULTED;
			u->port = (u->flags & NR_URL_HTTP) ? 80 : (u->flags & NR_URL_HTTPS) ? 443 : 0;
		}
	}
	if (!specified) {
		u->host.off = se;
		u->host.len = ps - se;
	}
	if (u->host.len == 0)
		return nr__error_set(err, NR_EINVALID, source, 0, 0, k_invalid_url, (int)len, s);
	/* Unix: "unix:/..." always yields a rooted path, so .NET's "unix socket path must be
	 * absolute" check cannot fail here. */
	if (s[len - 1] == '/') {
		if (pe == len)   /* .NET: Substring(len, -1) throws ArgumentOutOfRangeException */
			return nr__error_set(err, NR_EINVALID, source, 0, 0,
				"Length cannot be less than zero. (Parameter 'length')");
		u->path_base.off = pe;
		u->path_base.len = len - pe - 1;
	} else {
		u->path_base.off = pe;
		u->path_base.len = len - pe;
	}
	if (unixp)
		u->kind = NR_URL_UNIX;
	else if (pipe)
		u->kind = NR_URL_PIPE;
	else
		classify(u, s, first_colon < SPAN_END(u->host));
	return 0;
}

int nr_url_parse(nr_url *out, const char *s, size_t len, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	return url_parse(out, s, len, NULL, err);
}

int nr__url_validate(const nr_url *u, const char *s, size_t len, const char *source,
	nr_error *err)
{
	if (!(u->flags & (NR_URL_HTTP | NR_URL_HTTPS)))
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"Unrecognized scheme in server address '%.*s'. Only 'http://' and 'https://' "
			"are supported.", (int)len, s);
	if (u->path_base.len > 0)
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"A path base can only be configured using IApplicationBuilder.UsePathBase().");
	if (u->kind == NR_URL_UNIX || u->kind == NR_URL_PIPE)
		return 0;
	if (u->port < 0 || u->port > 65535)
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"Specified argument was out of the range of valid values. (Parameter 'port')");
	if (u->kind == NR_URL_LOCALHOST && u->port == 0)
		return nr__error_set(err, NR_EINVALID, source, 0, 0,
			"Dynamic port binding is not supported when binding to localhost. You must "
			"either bind to 127.0.0.1:0 or [::1]:0, or both.");
	return 0;
}

int nr_url_validate(const nr_url *u, const char *s, size_t len, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(u, err);
	if (s == NULL)
		s = "", len = 0;
	return nr__url_validate(u, s, len, NULL, err);
}

int nr_url_is_privileged(const nr_url *u, unsigned int threshold)
{
	if (u == NULL || u->kind == NR_URL_UNIX || u->kind == NR_URL_PIPE)
		return 0;
	return u->port >= 1 && (unsigned int)u->port < threshold;
}

const char *nr_url_kind_name(nr_url_kind kind)
{
	static const char *const names[] = { "any", "localhost", "ip", "host", "unix", "pipe" };

	return (unsigned)kind < NR_ARRAY_SIZE(names) ? names[kind] : "?";
}

/*
 * The addresses a TCP binding takes per family: 0 none, 1 every address, 2 the one in addr.
 * Kestrel binds "*", "+", host names and [::] as an IPv6 dual-stack socket (all of IPv4 too).
 */
static void family_use(const nr_url *u, int v4[1], unsigned char a4[4], int v6[1],
	unsigned char a6[16])
{
	static const unsigned char lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };

	*v4 = *v6 = 0;
	switch (u->kind) {
	case NR_URL_ANY:
		*v4 = 1;
		*v6 = u->family == 4 ? 0 : 1;
		break;
	case NR_URL_HOST:
		*v4 = *v6 = 1;
		break;
	case NR_URL_LOCALHOST:
		*v4 = *v6 = 2;
		memcpy(a4, lo4, 4);
		memcpy(a6, lo6, 16);
		break;
	case NR_URL_IP:
		if (u->family == 4) {
			*v4 = 2;
			memcpy(a4, u->addr, 4);
		} else {
			*v6 = 2;
			memcpy(a6, u->addr, 16);
		}
		break;
	default:
		break;
	}
}

/* Would Kestrel fail with "address already in use" binding both (same port, shared address)? */
bool nr__binds_conflict(const nr_url *a, int32_t pa, const nr_url *b, int32_t pb)
{
	int a4, a6, b4, b6;
	unsigned char x4[4], x6[16], y4[4], y6[16];

	if (pa != pb || pa == 0)
		return false;
	family_use(a, &a4, x4, &a6, x6);
	family_use(b, &b4, y4, &b6, y6);
	if (a4 && b4 && (a4 == 1 || b4 == 1 || memcmp(x4, y4, 4) == 0))
		return true;
	return a6 && b6 && (a6 == 1 || b6 == 1 || memcmp(x6, y6, 16) == 0);
}

/* url_parse for the other files of the URL code (urls.c, portmap.c): url_parse stays inlined
 * into nr_url_parse here, the hot path of the benchmarks. */
int nr__url_parse(nr_url *u, const char *s, size_t len, const char *source, nr_error *err)
{
	return url_parse(u, s, len, source, err);
}
