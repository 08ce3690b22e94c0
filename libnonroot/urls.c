/*
 * urls.c: ASPNETCORE_URLS and HTTP(S)_PORTS as ASP.NET Core reads them.
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

#define SPAN_END(sp) ((sp).off + (sp).len)

static const char k_invalid_url[] = "Invalid url: '%.*s'";

static bool ieq(const char *s, size_t n, const char *lit)
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

/* Like nr_span_has_ctrl, but tells where. */
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
static bool dotnet_int_parse(const char *s, size_t n, int32_t *out, size_t *tok, size_t *toklen)
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

static inline __attribute__((always_inline)) int url_parse(nr_url *u, const char *s,
	size_t len, const char *source, nr_error *err)
{
	size_t se, ps, pe, i, first_colon = SIZE_MAX, last_colon = SIZE_MAX;
	bool unixp = false, pipe = false, specified = false;

	u->scheme.off = 0;
	u->host.off = u->host.len = 0;
	u->port_text.off = u->port_text.len = 0;
	u->port = 0;
	u->kind = NR_URL_HOST;
	u->family = 0;
	memset(u->addr, 0, sizeof(u->addr));
	if (s == NULL)
		s = "", len = 0;
	/* address.IndexOf("://"), with a fast path for http:// and https://; control characters
	 * are looked for on the way (the scheme here, the authority in scan_authority()). */
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
		if (last_colon != SIZE_MAX && s[ps - 1] != ']') {
			size_t pstart = last_colon + 1, pn = ps - pstart, tok = 0, toklen = pn, k;
			uint32_t v = 0;
			int32_t port;
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
				specified = dotnet_int_parse(s + pstart, pn, &port, &tok, &toklen);
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
		}
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

static int url_validate(const nr_url *u, const char *s, size_t len, const char *source,
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
	return url_validate(u, s, len, NULL, err);
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
static bool binds_conflict(const nr_url *a, int32_t pa, const nr_url *b, int32_t pb)
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

/* ---- variables ----------------------------------------------------------------------------- */

enum { RANK_UNPREFIXED = 0, RANK_ASPNETCORE = 1, RANK_DOTNET = 2, NRANKS = 3 };
/* Internal keys: the three public ones, then preferHostingUrls. */
enum { IK_PREFER = 3, NKEYS = 4 };

/* Strip ASPNETCORE_ / DOTNET_ (any case) from [*name, +*len); returns the rank. */
static int strip_prefix(const char **name, size_t *len)
{
	if (*len > 11 && ieq(*name, 11, "aspnetcore_")) {
		*name += 11, *len -= 11;
		return RANK_ASPNETCORE;
	}
	if (*len > 7 && ieq(*name, 7, "dotnet_")) {
		*name += 7, *len -= 7;
		return RANK_DOTNET;
	}
	return RANK_UNPREFIXED;
}

static int key_of(const char *name, size_t len, int *rank)
{
	*rank = strip_prefix(&name, &len);
	if (ieq(name, len, "urls"))
		return NR_URLS_KEY_URLS;
	if (ieq(name, len, "http_ports"))
		return NR_URLS_KEY_HTTP_PORTS;
	if (ieq(name, len, "https_ports"))
		return NR_URLS_KEY_HTTPS_PORTS;
	if (ieq(name, len, "preferhostingurls"))
		return IK_PREFER;
	return NR_URLS_KEY_NONE;
}

/* A configuration path separator in an environment variable name: "__" or ':'. */
static size_t sep_len(const char *s, size_t n)
{
	if (n >= 2 && s[0] == '_' && s[1] == '_')
		return 2;
	return n >= 1 && s[0] == ':' ? 1 : 0;
}

/*
 * Kestrel:Endpoints:NAME[:REST] (after the prefix): ename and elen get NAME, is_url whether REST is "Url".
 */
static bool endpoint_key(const char *k, size_t n, const char **ename, size_t *elen, bool *is_url)
{
	size_t m, i;

	if (n < 7 || !ieq(k, 7, "kestrel") || (m = sep_len(k + 7, n - 7)) == 0)
		return false;
	k += 7 + m, n -= 7 + m;
	if (n < 9 || !ieq(k, 9, "endpoints") || (m = sep_len(k + 9, n - 9)) == 0)
		return false;
	k += 9 + m, n -= 9 + m;
	for (i = 0; i < n && sep_len(k + i, n - i) == 0; i++)
		;
	if (i == 0)
		return false;
	*ename = k;
	*elen = i;
	m = i < n ? sep_len(k + i, n - i) : 0;
	*is_url = i < n && ieq(k + i + m, n - i - m, "url");
	return true;
}

nr_urls_key nr_urls_key_of(const char *name, size_t len)
{
	const char *ename;
	size_t elen;
	bool is_url;
	int rank, key;

	if (name == NULL)
		return NR_URLS_KEY_NONE;
	key = key_of(name, len, &rank);
	if (key >= NR_URLS_KEY_URLS && key <= NR_URLS_KEY_HTTPS_PORTS)
		return (nr_urls_key)key;
	strip_prefix(&name, &len);
	if (endpoint_key(name, len, &ename, &elen, &is_url) && is_url)
		return NR_URLS_KEY_ENDPOINT_URL;
	return NR_URLS_KEY_NONE;
}

int nr_urls_options_init(nr_urls_options *opts, unsigned int version)
{
	static const nr_urls_options defaults = NR_URLS_OPTIONS_INIT;

	if (opts == NULL || version != NR_URLS_OPTIONS_VERSION)
		return NR_EARG;
	*opts = defaults;
	return 0;
}

const char *nr_urls_source_name(nr_urls_source source)
{
	switch (source) {
	case NR_URLS_SOURCE_URLS: return "urls";
	case NR_URLS_SOURCE_PORTS: return "http_ports";
	case NR_URLS_SOURCE_ENDPOINTS: return "kestrel_endpoints";
	default: return "default";
	}
}

typedef struct var {
	const char *name;   /* points into envp */
	size_t nlen;
	const char *val;
	size_t vlen;
} var;

struct nr_bindings {
	nr_urls_source source;
	nr_binding *items;
	size_t count, alloc;
	char **warnings;
	size_t nwarnings, walloc;
	char *names[3];     /* the effective variable of each key, NUL-terminated copies */
	char *values[3];
	char *text;         /* every binding's url, NUL-separated */
	char **epvars;      /* the variables of Kestrel endpoint Urls (bindings point here) */
	size_t nepvars;
};

void nr_bindings_free(nr_bindings *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nwarnings; i++)
		free(b->warnings[i]);
	for (i = 0; i < 3; i++) {
		free(b->names[i]);
		free(b->values[i]);
	}
	for (i = 0; i < b->nepvars; i++)
		free(b->epvars[i]);
	free(b->epvars);
	free(b->warnings);
	free(b->items);
	free(b->text);
	free(b);
}

static int add_warning(nr_bindings *b, nr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_warning(nr_bindings *b, nr_error *err, const char *fmt, ...)
{
	va_list ap;
	char *w;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&w, fmt, ap);
	va_end(ap);
	if (n < 0)
		return nr__error_oom(err);
	if (nr__array_grow((void **)&b->warnings, &b->walloc, b->nwarnings + 1,
			sizeof(*b->warnings)) < 0) {
		free(w);
		return nr__error_oom(err);
	}
	b->warnings[b->nwarnings++] = w;
	return 0;
}

/* Remember a binding: its url is at `off` in text (fixed up to a pointer at the end). */
static int add_binding(nr_bindings *b, nr_buf *text, const char *url, size_t len,
	const char *variable, const nr_urls_options *o, nr_error *err)
{
	nr_binding *x;
	size_t off = text->size;
	int error;

	if (nr__array_grow((void **)&b->items, &b->alloc, b->count + 1, sizeof(*b->items)) < 0)
		return nr__error_oom(err);
	x = &b->items[b->count];
	memset(x, 0, sizeof(*x));
	if ((error = url_parse(&x->parsed, url, len, variable, err)) < 0 ||
	    (error = url_validate(&x->parsed, url, len, variable, err)) < 0)
		return error;
	if (nr_buf_put(text, url, len) < 0 || nr_buf_putc(text, '\0') < 0)
		return nr__error_oom(err);
	x->url = (const char *)(uintptr_t)off;   /* an offset until the text is final */
	x->url_len = len;
	x->privileged = nr_url_is_privileged(&x->parsed, o->threshold);
	x->variable = variable;
	b->count++;
	if (x->parsed.flags & NR_URL_PORT_FALLBACK)
		return add_warning(b, err, "%s: port '%.*s' in '%.*s' is not a number: ASP.NET Core 8 "
			"silently binds the default port %d instead (dotnet/aspnetcore#24384)",
			variable ? variable : "default", (int)x->parsed.port_text.len,
			url + x->parsed.port_text.off, (int)len, url, (int)x->parsed.port);
	return 0;
}

/* Unicode White_Space in UTF-8 at s[0..n) (what .NET's string.Trim removes): its length or 0. */
static size_t space_len(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0d)))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (n >= 3 && s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)
		return 3;   /* U+1680 */
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3;   /* U+2000..U+200A, U+2028, U+2029, U+202F */
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)
		return 3;   /* U+205F */
	if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)
		return 3;   /* U+3000 */
	return 0;
}

static size_t space_len_back(const unsigned char *s, size_t n)
{
	size_t k;

	for (k = 1; k <= 3 && k <= n; k++)
		if (space_len(s + n - k, k) == k)
			return k;
	return 0;
}

/* Trim [*s, *s+*n) like string.Trim(). */
static void trim(const char **s, size_t *n)
{
	size_t k;

	while (*n > 0 && (k = space_len((const unsigned char *)*s, *n)) > 0)
		*s += k, *n -= k;
	while (*n > 0 && (k = space_len_back((const unsigned char *)*s, *n)) > 0)
		*n -= k;
}

/* The addresses GenericWebHostService hands to Kestrel, before Kestrel parses them. */
typedef struct addr_list {
	nr_buf text;        /* the addresses, NUL-terminated one after the other */
	struct { size_t off, len; const char *variable; } *items;
	size_t count, alloc;
} addr_list;

static int add_addr(addr_list *l, const char *prefix, const char *s, size_t n,
	const char *variable, nr_error *err)
{
	if (nr__array_grow((void **)&l->items, &l->alloc, l->count + 1, sizeof(*l->items)) < 0)
		return nr__error_oom(err);
	l->items[l->count].off = l->text.size;
	nr_buf_puts(&l->text, prefix);
	nr_buf_put(&l->text, s, n);
	l->items[l->count].len = l->text.size - l->items[l->count].off;
	nr_buf_putc(&l->text, '\0');
	l->items[l->count].variable = variable;
	l->count++;
	return l->text.oom ? nr__error_oom(err) : 0;
}

static int expand_ports(addr_list *l, const var *v, const char *prefix, const char *variable,
	nr_error *err)
{
	const char *p = v->val ? v->val : "", *end = p + v->vlen;   /* val NULL: unset */
	int error;

	while (p <= end && v->name) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = p;
		size_t n = (semi ? (size_t)(semi - p) : (size_t)(end - p));
		trim(&e, &n);
		if (n > 0 && (error = add_addr(l, prefix, e, n, variable, err)) < 0)
			return error;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return 0;
}

/* A Kestrel endpoint from configuration: its name and its Url in each source. */
typedef struct endpoint {
	const char *name;
	size_t nlen;
	var url[NRANKS];
	var win;
} endpoint;

/* ConfigurationKeyComparer on one path segment: numbers first, numerically; then ignoring case. */
static int endpoint_cmp(const void *pa, const void *pb)
{
	const endpoint *a = pa, *b = pb;
	int32_t x, y;
	size_t t, tl, i;
	bool xi = dotnet_int_parse(a->name, a->nlen, &x, &t, &tl);
	bool yi = dotnet_int_parse(b->name, b->nlen, &y, &t, &tl);

	if (xi && yi)
		return x < y ? -1 : x > y;
	if (xi != yi)
		return xi ? -1 : 1;
	for (i = 0; i < a->nlen && i < b->nlen; i++) {
		int ca = (unsigned char)a->name[i], cb = (unsigned char)b->name[i];
		if (ca >= 'a' && ca <= 'z')
			ca -= 32;
		if (cb >= 'a' && cb <= 'z')
			cb -= 32;
		if (ca != cb)
			return ca - cb;
	}
	return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

/* Record an environment variable under Kestrel:Endpoints (any key makes the endpoint exist). */
static int note_endpoint(endpoint **eps, size_t *n, size_t *alloc, const char *ename,
	size_t elen, bool is_url, int rank, const char *name, size_t nlen, const char *val,
	nr_error *err)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*eps)[i].nlen == elen && strncasecmp((*eps)[i].name, ename, elen) == 0)
			break;
	if (i == *n) {
		if (nr__array_grow((void **)eps, alloc, *n + 1, sizeof(**eps)) < 0)
			return nr__error_oom(err);
		memset(&(*eps)[i], 0, sizeof(**eps));
		(*eps)[i].name = ename;
		(*eps)[i].nlen = elen;
		(*n)++;
	}
	if (is_url) {
		var *v = &(*eps)[i].url[rank];
		v->name = name;
		v->nlen = nlen;
		v->val = val;
		v->vlen = strlen(val);
	}
	return 0;
}

/* WebHostUtilities.ParseBool: "true" (any case) or "1". */
static bool parse_bool(const var *v)
{
	return v->name && (ieq(v->val, v->vlen, "true") || (v->vlen == 1 && v->val[0] == '1'));
}

int nr_bindings_from_env(nr_bindings **out, const char *const *envp,
	const nr_urls_options *opts, nr_error *err)
{
	static const nr_urls_options defaults = NR_URLS_OPTIONS_INIT;
	const nr_urls_options *o = opts ? opts : &defaults;
	var cand[NKEYS][NRANKS], win[NKEYS];
	int order[NRANKS];
	nr_bindings *b = NULL;
	nr_buf text = NR_BUF_INIT, joined = NR_BUF_INIT;
	addr_list addrs = { NR_BUF_INIT, NULL, 0, 0 };
	endpoint *eps = NULL;
	size_t neps = 0, aeps = 0, i, k, r;
	bool use_endpoints;
	int error = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if ((error = nr__check_version(err, "nr_urls_options", o->version,
	    NR_URLS_OPTIONS_VERSION)) < 0)
		return error;
	order[0] = RANK_UNPREFIXED;
	order[1] = o->host == NR_URLS_HOST_GENERIC ? RANK_ASPNETCORE : RANK_DOTNET;
	order[2] = o->host == NR_URLS_HOST_GENERIC ? RANK_DOTNET : RANK_ASPNETCORE;
	memset(cand, 0, sizeof(cand));
	memset(win, 0, sizeof(win));
	for (i = 0; envp && envp[i]; i++) {
		const char *eq = strchr(envp[i], '='), *k2, *ename;
		size_t n2, elen;
		bool is_url;
		int rank, key;
		if (eq == NULL)
			continue;
		key = key_of(envp[i], (size_t)(eq - envp[i]), &rank);
		if (rank == RANK_UNPREFIXED && (o->flags & NR_URLS_NO_UNPREFIXED))
			continue;
		if (key != NR_URLS_KEY_NONE) {
			cand[key][rank].name = envp[i];
			cand[key][rank].nlen = (size_t)(eq - envp[i]);
			cand[key][rank].val = eq + 1;
			cand[key][rank].vlen = strlen(eq + 1);
			continue;
		}
		k2 = envp[i];
		n2 = (size_t)(eq - envp[i]);
		strip_prefix(&k2, &n2);
		if (endpoint_key(k2, n2, &ename, &elen, &is_url) &&
		    (error = note_endpoint(&eps, &neps, &aeps, ename, elen, is_url, rank, envp[i],
				(size_t)(eq - envp[i]), eq + 1, err)) < 0)
			goto done;
	}
	if ((b = nr__calloc(1, sizeof(*b))) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	for (k = 0; k < NKEYS; k++) {
		for (r = 0; r < NRANKS && win[k].name == NULL; r++)
			win[k] = cand[k][order[r]];
		if (win[k].name == NULL || k == IK_PREFER)
			continue;
		if ((b->names[k] = nr__strndup(win[k].name, win[k].nlen)) == NULL ||
		    (b->values[k] = nr__strndup(win[k].val, win[k].vlen)) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		/* Note a lower-precedence variable for the same key that is set differently. */
		for (; r < NRANKS; r++) {
			const var *l = &cand[k][order[r]];
			if (l->name == NULL || (l->vlen == win[k].vlen &&
					memcmp(l->val, win[k].val, l->vlen) == 0))
				continue;
			if ((error = add_warning(b, err, "%s overrides %.*s ('%.*s' is ignored) in a %s "
					"host", b->names[k], (int)l->nlen, l->name, (int)l->vlen, l->val,
					o->host == NR_URLS_HOST_GENERIC ? "ConfigureWebHostDefaults" :
					"WebApplication.CreateBuilder")) < 0)
				goto done;
		}
	}

	/* GenericWebHostService: the addresses. */
	if (win[NR_URLS_KEY_URLS].vlen == 0) {
		/* HTTP_PORTS and HTTPS_PORTS, lower priority than URLS. */
		b->source = NR_URLS_SOURCE_PORTS;
		if ((error = expand_ports(&addrs, &win[NR_URLS_KEY_HTTP_PORTS], "http://*:",
				b->names[NR_URLS_KEY_HTTP_PORTS], err)) < 0 ||
		    (error = expand_ports(&addrs, &win[NR_URLS_KEY_HTTPS_PORTS], "https://*:",
				b->names[NR_URLS_KEY_HTTPS_PORTS], err)) < 0)
			goto done;
	} else {
		const var *u = &win[NR_URLS_KEY_URLS];
		const char *p = u->val, *end = u->val + u->vlen;
		b->source = NR_URLS_SOURCE_URLS;
		if (win[NR_URLS_KEY_HTTP_PORTS].vlen > 0 || win[NR_URLS_KEY_HTTPS_PORTS].vlen > 0) {
			if ((error = add_warning(b, err, "Overriding HTTP_PORTS '%.*s' and HTTPS_PORTS "
					"'%.*s'. Binding to values defined by URLS instead '%.*s'.",
					(int)win[1].vlen, win[1].val ? win[1].val : "",
					(int)win[2].vlen, win[2].val ? win[2].val : "",
					(int)u->vlen, u->val)) < 0)
				goto done;
		}
		/* urls.Split(';', RemoveEmptyEntries): no trimming. */
		while (p <= end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			size_t n = semi ? (size_t)(semi - p) : (size_t)(end - p);
			if (n > 0 && (error = add_addr(&addrs, "", p, n, b->names[NR_URLS_KEY_URLS],
					err)) < 0)
				goto done;
			if (semi == NULL)
				break;
			p = semi + 1;
		}
	}

	/* AddressBinder.CreateStrategy: endpoints from Kestrel:Endpoints win over the addresses
	 * unless PreferHostingUrls is true; the overridden side is logged. */
	use_endpoints = neps > 0 && !(parse_bool(&win[IK_PREFER]) && addrs.count > 0);
	if (neps > 0 && addrs.count > 0) {
		for (i = 0; i < addrs.count; i++) {
			if (i)
				nr_buf_puts(&joined, ", ");
			nr_buf_puts(&joined, addrs.text.ptr + addrs.items[i].off);
		}
		if (joined.oom) {
			error = nr__error_oom(err);
			goto done;
		}
		if ((error = add_warning(b, err, use_endpoints ?
				"Overriding address(es) '%s'. Binding to endpoints defined via IConfiguration "
				"and/or UseKestrel() instead." : "Overriding endpoints defined in UseKestrel() "
				"because PreferHostingUrls is set to true. Binding to address(es) '%s' instead.",
				joined.ptr)) < 0)
			goto done;
	}
	if (use_endpoints) {
		b->source = NR_URLS_SOURCE_ENDPOINTS;
		qsort(eps, neps, sizeof(*eps), endpoint_cmp);
		if ((b->epvars = nr__calloc(neps, sizeof(*b->epvars))) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		for (i = 0; i < neps; i++) {
			var *w = &eps[i].win;
			char source[80];
			for (r = 0; r < NRANKS && w->name == NULL; r++)
				*w = eps[i].url[order[r]];
			snprintf(source, sizeof(source), "Kestrel:Endpoints:%.*s", (int)eps[i].nlen,
				eps[i].name);
			if (w->vlen == 0) {
				error = nr__error_set(err, NR_EINVALID, source, 0, 0, "The endpoint %.*s is "
					"missing the required 'Url' parameter.", (int)eps[i].nlen, eps[i].name);
				goto done;
			}
			if ((b->epvars[i] = nr__strndup(w->name, w->nlen)) == NULL) {
				error = nr__error_oom(err);
				goto done;
			}
			b->nepvars = i + 1;
			if ((error = add_binding(b, &text, w->val, w->vlen, b->epvars[i], o, err)) < 0)
				goto done;
		}
	} else {
		for (i = 0; i < addrs.count; i++)
			if ((error = add_binding(b, &text, addrs.text.ptr + addrs.items[i].off,
					addrs.items[i].len, addrs.items[i].variable, o, err)) < 0)
				goto done;
	}
	if (b->count == 0) {
		/* Kestrel's DefaultAddressStrategy: Constants.DefaultServerAddress. */
		static const char dflt[] = "http://localhost:5000";
		b->source = NR_URLS_SOURCE_DEFAULT;
		if ((error = add_binding(b, &text, dflt, sizeof(dflt) - 1, NULL, o, err)) < 0)
			goto done;
	}
	if (text.oom) {
		error = nr__error_oom(err);
		goto done;
	}
	for (i = 0; i < b->count; i++) {
		for (k = i + 1; k < b->count; k++) {
			const nr_binding *x = &b->items[i], *y = &b->items[k];
			if (!binds_conflict(&x->parsed, x->parsed.port, &y->parsed, y->parsed.port))
				continue;
			if ((error = add_warning(b, err, "'%s' and '%s' both bind port %d on the same "
					"address: Kestrel fails to start (address already in use)",
					text.ptr + (uintptr_t)x->url, text.ptr + (uintptr_t)y->url,
					(int)x->parsed.port)) < 0)
				goto done;
			break;
		}
	}
	b->text = nr_buf_detach(&text, NULL);
	if (b->text == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	for (i = 0; i < b->count; i++)
		b->items[i].url = b->text + (size_t)(uintptr_t)b->items[i].url;
	*out = b;
	b = NULL;
done:
	nr_buf_dispose(&text);
	nr_buf_dispose(&joined);
	nr_buf_dispose(&addrs.text);
	free(addrs.items);
	free(eps);
	nr_bindings_free(b);
	return error;
}

nr_urls_source nr_bindings_source(const nr_bindings *b)
{
	return b ? b->source : NR_URLS_SOURCE_DEFAULT;
}

size_t nr_bindings_count(const nr_bindings *b)
{
	return b ? b->count : 0;
}

const nr_binding *nr_bindings_get(const nr_bindings *b, size_t i)
{
	return b && i < b->count ? &b->items[i] : NULL;
}

int nr_bindings_any_privileged(const nr_bindings *b)
{
	size_t i;

	for (i = 0; b && i < b->count; i++)
		if (b->items[i].privileged)
			return 1;
	return 0;
}

size_t nr_bindings_warning_count(const nr_bindings *b)
{
	return b ? b->nwarnings : 0;
}

const char *nr_bindings_warning(const nr_bindings *b, size_t i)
{
	return b && i < b->nwarnings ? b->warnings[i] : NULL;
}

const char *nr_bindings_variable(const nr_bindings *b, nr_urls_key key, const char **value)
{
	if (value)
		*value = NULL;
	if (b == NULL || key < NR_URLS_KEY_URLS || key > NR_URLS_KEY_HTTPS_PORTS)
		return NULL;
	if (value)
		*value = b->values[key];
	return b->names[key];
}

/* ---- port maps and rewriting --------------------------------------------------------------- */

void nr_portmap_default(nr_portmap *map)
{
	if (map == NULL)
		return;
	memset(map, 0, sizeof(*map));
	map->count = 2;
	map->entries[0].from = 80;
	map->entries[0].to = 8080;
	map->entries[1].from = 443;
	map->entries[1].to = 8443;
}

int nr_portmap_lookup(const nr_portmap *map, int32_t from)
{
	size_t i;

	for (i = 0; map && i < map->count && i < NR_PORTMAP_MAX; i++)
		if (map->entries[i].from == from)
			return map->entries[i].to;
	return -1;
}

static int map_port(const char *s, size_t n, size_t col, uint16_t *out, nr_error *err)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0 || n > 5)
		goto bad;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return nr__error_set(err, NR_ERANGE, "port map", 0, col,
			"port %.*s is out of range (1-65535)", (int)n, s);
	*out = (uint16_t)v;
	return 0;
bad:
	return nr__error_set(err, NR_EINVALID, "port map", 0, col,
		"'%.*s' is not a port number (expected FROM:TO[,FROM:TO...])", (int)n, s);
}

int nr_portmap_parse(nr_portmap *map, const char *s, size_t len, nr_error *err)
{
	size_t pos = 0;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(map, err);
	NR_ASSERT_ARG(s, err);
	memset(map, 0, sizeof(*map));
	if (len == 0)
		return nr__error_set(err, NR_EINVALID, "port map", 0, 0,
			"empty port map (expected FROM:TO[,FROM:TO...])");
	while (pos <= len) {
		const char *item = s + pos, *comma = memchr(item, ',', len - pos), *colon;
		size_t n = comma ? (size_t)(comma - item) : len - pos;
		uint16_t from, to;
		if ((colon = memchr(item, ':', n)) == NULL)
			return nr__error_set(err, NR_EINVALID, "port map", 0, pos + 1,
				"'%.*s' is not FROM:TO", (int)n, item);
		if ((error = map_port(item, (size_t)(colon - item), pos + 1, &from, err)) < 0 ||
		    (error = map_port(colon + 1, n - (size_t)(colon - item) - 1,
				pos + (size_t)(colon - item) + 2, &to, err)) < 0)
			return error;
		if (nr_portmap_lookup(map, from) >= 0)
			return nr__error_set(err, NR_EINVALID, "port map", 0, pos + 1,
				"port %u is mapped twice", from);
		if (map->count == NR_PORTMAP_MAX)
			return nr__error_set(err, NR_ETOOBIG, "port map", 0, pos + 1,
				"more than %d port mappings", NR_PORTMAP_MAX);
		map->entries[map->count].from = from;
		map->entries[map->count].to = to;
		map->count++;
		if (comma == NULL)
			break;
		pos += n + 1;
	}
	return 0;
}

typedef struct rewriter {
	nr_buf out;
	const char *name;
	const nr_portmap *map;
	unsigned int threshold, flags;
	int changes;
	nr_buf unmapped;   /* "81, 444" */
	struct bound { nr_url u; int32_t port; const char *text; size_t len; } *bound;
	/* (u.port is the old port, port the new one) */
	size_t nbound, abound;   /* every TCP binding of the new value, to find conflicts */
} rewriter;

static int remember(rewriter *w, const nr_url *u, int32_t port, const char *text, size_t len,
	nr_error *err)
{
	struct bound *x;

	if (u->kind == NR_URL_UNIX || u->kind == NR_URL_PIPE || port == 0)
		return 0;
	if (nr__array_grow((void **)&w->bound, &w->abound, w->nbound + 1, sizeof(*w->bound)) < 0)
		return nr__error_oom(err);
	x = &w->bound[w->nbound++];
	x->u = *u;
	x->port = port;
	x->text = text;
	x->len = len;
	return 0;
}

/*
 * Rewrite one entry. `u` was parsed from `url` (len `ulen`); the entry's own text is
 * `entry` (for a PORTS entry the URL is the scheme, "://", a star, ":" and the entry and `shift` is the prefix length;
 * for a URL entry they are the same and shift is 0).
 */
static int rewrite_entry(rewriter *w, const nr_url *u, const char *url, size_t ulen,
	const char *entry, size_t elen, size_t shift, nr_error *err)
{
	int to;
	char num[16];
	size_t at, cut;

	if (u->kind == NR_URL_UNIX || u->kind == NR_URL_PIPE ||
	    (u->port == 0 && !(u->flags & NR_URL_PORT_DEFAULTED)))
		return nr_buf_put(&w->out, entry, elen) < 0 ? nr__error_oom(err) : 0;
	to = nr_portmap_lookup(w->map, u->port);
	if ((to < 0 || (w->flags & NR_REWRITE_COMPAT)) &&
	    remember(w, u, u->port, entry, elen, err) < 0)
		return NR_ENOMEM;
	if (to >= 0 && remember(w, u, to, entry, elen, err) < 0)
		return NR_ENOMEM;
	if (to >= 0 && (u->flags & NR_URL_PORT_FALLBACK))
		return nr__error_set(err, NR_EINVALID, w->name, 0, 0,
			"port '%.*s' in '%.*s' is not a number (ASP.NET Core 8 binds port %d): fix "
			"the value by hand", (int)u->port_text.len, url + u->port_text.off,
			(int)ulen, url, (int)u->port);
	if (to < 0) {
		if (nr_url_is_privileged(u, w->threshold) &&
		    nr_buf_printf(&w->unmapped, "%s%d", w->unmapped.size ? ", " : "", (int)u->port) < 0)
			return nr__error_oom(err);
		return nr_buf_put(&w->out, entry, elen) < 0 ? nr__error_oom(err) : 0;
	}
	if (w->flags & NR_REWRITE_COMPAT) {
		nr_buf_put(&w->out, entry, elen);
		nr_buf_putc(&w->out, ';');
	}
	snprintf(num, sizeof(num), "%d", to);
	if (u->flags & NR_URL_PORT_DEFAULTED) {
		/* Insert ":PORT" after the host (before the path delimiter). */
		at = SPAN_END(u->host) - shift;
		nr_buf_put(&w->out, entry, at);
		nr_buf_putc(&w->out, ':');
		nr_buf_puts(&w->out, num);
		nr_buf_put(&w->out, entry + at, elen - at);
	} else {
		at = u->port_text.off - shift;
		cut = at + u->port_text.len;
		nr_buf_put(&w->out, entry, at);
		nr_buf_puts(&w->out, num);
		nr_buf_put(&w->out, entry + cut, elen - cut);
	}
	w->changes++;
	return w->out.oom ? nr__error_oom(err) : 0;
}

int nr_urls_rewrite(char **out, size_t *outlen, const char *name, const char *value,
	size_t len, const nr_portmap *map, unsigned int threshold, unsigned int flags,
	nr_error *err)
{
	rewriter w;
	nr_buf url = NR_BUF_INIT;
	nr_urls_key key;
	const char *p, *end;
	size_t i;
	int error = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(name, err);
	NR_ASSERT_ARG(map, err);
	if (value == NULL)
		value = "", len = 0;
	if ((key = nr_urls_key_of(name, strlen(name))) == NR_URLS_KEY_NONE)
		return nr__error_set(err, NR_EARG, name, 0, 0,
			"not an ASP.NET Core URLS, HTTP_PORTS or HTTPS_PORTS variable");
	memset(&w, 0, sizeof(w));
	w.name = name;
	w.map = map;
	w.threshold = threshold;
	w.flags = flags;
	if (nr_buf_grow(&w.out, len + 16) < 0) {
		error = nr__error_oom(err);
		goto done;
	}
	p = value;
	end = value + len;
	while (p <= end) {
		/* a Kestrel endpoint's Url is one URL: a ';' in it is not a separator */
		const char *semi = key == NR_URLS_KEY_ENDPOINT_URL ? NULL :
			memchr(p, ';', (size_t)(end - p));
		size_t n = semi ? (size_t)(semi - p) : (size_t)(end - p);
		nr_url u;

		if (key == NR_URLS_KEY_URLS || key == NR_URLS_KEY_ENDPOINT_URL) {
			if (n > 0) {
				if ((error = url_parse(&u, p, n, name, err)) < 0 ||
				    (error = rewrite_entry(&w, &u, p, n, p, n, 0, err)) < 0)
					goto done;
			}
		} else {
			const char *e = p;
			size_t en = n, lead;
			const char *prefix = key == NR_URLS_KEY_HTTPS_PORTS ? "https://*:" : "http://*:";
			trim(&e, &en);
			if (en == 0) {
				nr_buf_put(&w.out, p, n);
			} else {
				lead = (size_t)(e - p);
				nr_buf_truncate(&url, 0);
				nr_buf_puts(&url, prefix);
				nr_buf_put(&url, e, en);
				if (url.oom) {
					error = nr__error_oom(err);
					goto done;
				}
				if ((error = url_parse(&u, url.ptr, url.size, name, err)) < 0)
					goto done;
				nr_buf_put(&w.out, p, lead);
				if ((error = rewrite_entry(&w, &u, url.ptr, url.size, e, en,
						strlen(prefix), err)) < 0)
					goto done;
				nr_buf_put(&w.out, e + en, n - lead - en);
			}
		}
		if (semi == NULL)
			break;
		nr_buf_putc(&w.out, ';');
		p = semi + 1;
	}
	if (w.unmapped.size > 0) {
		error = nr__error_set(err, NR_EINVALID, name, 0, 0,
			"privileged ports without a mapping (below %u): %s", threshold, w.unmapped.ptr);
		goto done;
	}
	for (i = 0; i < w.nbound; i++) {
		size_t k;
		for (k = i + 1; k < w.nbound; k++) {
			const struct bound *x = &w.bound[i], *y = &w.bound[k];
			/* only conflicts the rewrite makes: a value that binds a port twice already
			 * fails before and after */
			if (!binds_conflict(&x->u, x->port, &y->u, y->port) ||
			    binds_conflict(&x->u, x->u.port, &y->u, y->u.port))
				continue;
			error = nr__error_set(err, NR_ECONFLICT, name, 0, 0, "the new value binds port %d "
				"twice on the same address ('%.*s' and '%.*s'): Kestrel would fail to start "
				"(address already in use)", (int)x->port, (int)x->len, x->text,
				(int)y->len, y->text);
			goto done;
		}
	}
	if (w.out.oom || w.unmapped.oom) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((*out = nr_buf_detach(&w.out, outlen)) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	error = w.changes;
done:
	nr_buf_dispose(&w.out);
	nr_buf_dispose(&w.unmapped);
	free(w.bound);
	nr_buf_dispose(&url);
	return error;
}
