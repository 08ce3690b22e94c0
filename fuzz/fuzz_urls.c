/*
 * fuzz_urls: one ASPNETCORE_URLS / HTTP_PORTS value: nr_url_parse + nr_url_validate on the
 * whole input, nr_portmap_parse, and nr_urls_rewrite with two identity maps:
 *  - the empty map with nothing privileged: the output must be the input, 0 changes;
 *  - every port of the input mapped to itself: when every URL already spells its port
 *    canonically (decimal, no sign, no leading zero, not defaulted) the output is the input;
 *    in every case a second rewrite of the output is a fixed point.
 * The first byte picks the variable (URLS, HTTP_PORTS, HTTPS_PORTS) and the compat flag.
 */
#include "fuzz.h"

static const char *const names[] = { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS",
	"DOTNET_HTTPS_PORTS", "URLS" };

static int canonical(const nr_url *u, const char *s)
{
	char num[16];

	if (u->kind == NR_URL_UNIX || u->kind == NR_URL_PIPE)
		return 1;
	if (u->flags & (NR_URL_PORT_DEFAULTED | NR_URL_PORT_FALLBACK))
		return 0;
	snprintf(num, sizeof(num), "%d", (int)u->port);
	return u->port_text.len == strlen(num) && memcmp(s + u->port_text.off, num, strlen(num)) == 0;
}

static void add_port(nr_portmap *m, int32_t port)
{
	size_t i;

	if (port < 1 || port > 65535)
		return;
	for (i = 0; i < m->count; i++)
		if (m->entries[i].from == port)
			return;
	if (m->count < NR_PORTMAP_MAX) {
		m->entries[m->count].from = m->entries[m->count].to = (uint16_t)port;
		m->count++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nr_error err = NR_ERROR_INIT;
	nr_portmap empty, ident, pm;
	const char *name, *v;
	char *out = NULL, *out2 = NULL;
	size_t outlen = 0, outlen2 = 0, vlen;
	unsigned flags;
	int rc, all_canonical = 1, is_urls;
	nr_url u;

	if (size < 1)
		return 0;
	name = names[data[0] & 3];
	flags = (data[0] & 4) ? NR_REWRITE_COMPAT : 0;
	is_urls = (data[0] & 3) == 0 || (data[0] & 3) == 3;
	v = (const char *)data + 1;
	vlen = size - 1;

	/* One URL, then Kestrel's checks. */
	rc = nr_url_parse(&u, v, vlen, &err);
	fuzz_check_error(rc, &err);
	if (rc == 0) {
		FUZZ_ASSERT(u.scheme.off + u.scheme.len <= vlen, "scheme span");
		FUZZ_ASSERT(u.host.off + u.host.len <= vlen, "host span");
		FUZZ_ASSERT(u.port_text.off + u.port_text.len <= vlen, "port span");
		FUZZ_ASSERT(u.path_base.off + u.path_base.len <= vlen, "path span");
		nr_error_clear(&err);
		rc = nr_url_validate(&u, v, vlen, &err);
		fuzz_check_error(rc, &err);
		(void)nr_url_is_privileged(&u, 1024);
		(void)nr_url_kind_name(u.kind);
	}
	nr_error_clear(&err);
	rc = nr_portmap_parse(&pm, v, vlen, &err);
	fuzz_check_error(rc, &err);
	if (rc == 0)
		FUZZ_ASSERT(pm.count <= NR_PORTMAP_MAX, "portmap count");

	/* Identity 1: the empty map with nothing privileged changes nothing. */
	memset(&empty, 0, sizeof(empty));
	nr_error_clear(&err);
	rc = nr_urls_rewrite(&out, &outlen, name, v, vlen, &empty, 0, flags, &err);
	fuzz_check_error(rc, &err);
	if (rc >= 0) {
		FUZZ_ASSERT(rc == 0, "%d changes with an empty map", rc);
		FUZZ_ASSERT(outlen == vlen && memcmp(out, v, vlen) == 0, "empty map changed the value");
		FUZZ_ASSERT(strlen(out) == outlen || memchr(v, '\0', vlen), "length");
	}
	nr_free(out);
	out = NULL;

	/* Identity 2: every port of the input mapped to itself. */
	memset(&ident, 0, sizeof(ident));
	if (is_urls) {
		const char *p = v, *end = v + vlen;
		for (;;) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			size_t n = semi ? (size_t)(semi - p) : (size_t)(end - p);
			nr_error e2 = NR_ERROR_INIT;
			if (n > 0) {
				if (nr_url_parse(&u, p, n, &e2) == 0) {
					add_port(&ident, u.port);
					if (!canonical(&u, p))
						all_canonical = 0;
				} else {
					all_canonical = 0;
				}
			}
			if (semi == NULL)
				break;
			p = semi + 1;
		}
	} else {
		all_canonical = 0;
		for (uint32_t port = 0, digits = 0, i = 0; i <= vlen; i++) {
			if (i < vlen && v[i] >= '0' && v[i] <= '9' && port < 100000) {
				port = port * 10 + (uint32_t)(v[i] - '0');
				digits++;
			} else {
				if (digits)
					add_port(&ident, (int32_t)port);
				port = digits = 0;
			}
		}
	}
	nr_error_clear(&err);
	rc = nr_urls_rewrite(&out, &outlen, name, v, vlen, &ident, 1024, flags, &err);
	fuzz_check_error(rc, &err);
	if (rc >= 0) {
		if (all_canonical && ident.count < NR_PORTMAP_MAX && !(flags & NR_REWRITE_COMPAT))
			FUZZ_ASSERT(outlen == vlen && memcmp(out, v, vlen) == 0,
				"identity map changed '%.*s' to '%s'", (int)vlen, v, out);
		if (!(flags & NR_REWRITE_COMPAT)) {
			nr_error_clear(&err);
			rc = nr_urls_rewrite(&out2, &outlen2, name, out, outlen, &ident, 1024, 0, &err);
			fuzz_check_error(rc, &err);
			FUZZ_ASSERT(rc >= 0, "rewritten value does not rewrite again: %s", err.message);
			FUZZ_ASSERT(outlen2 == outlen && memcmp(out2, out, outlen) == 0,
				"not a fixed point: '%s' -> '%s'", out, out2);
		}
	}
	nr_free(out);
	nr_free(out2);
	return 0;
}
