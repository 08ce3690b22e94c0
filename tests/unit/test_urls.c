/*
 * test_urls.c: ASPNETCORE_URLS / HTTP(S)_PORTS as Kestrel reads them. Data-driven: the cases in
 * tests/data/urls/ (written by tests/data/urls/make-cases.py from the aspnetcore and sdk tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nrtest.h"
#include "internal.h"
#include "buf.h"
#include "parse.h"

/* Find "key=" at the start of a line in text; copy the value (to the end of line). */
static char *field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
			return strndup(p + klen + 1, n - klen - 1);
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static char *span_dup(const char *s, nr_url_span sp)
{
	return strndup(s + sp.off, sp.len);
}

static void flags_text(unsigned flags, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s",
		(flags & NR_URL_PORT_DEFAULTED) ? "defaulted" : "",
		(flags & NR_URL_PORT_DEFAULTED) && (flags & NR_URL_PORT_FALLBACK) ? "," : "",
		(flags & NR_URL_PORT_FALLBACK) ? "fallback" : "");
	if (buf[0] == '\0')
		snprintf(buf, size, "none");
}

static void expect_str(const char *dir, const char *what, const char *got, const char *want)
{
	if (want == NULL || got == NULL || strcmp(got, want) != 0) {
		fprintf(stderr, "\n  %s: %s: got '%s', want '%s'", dir, what, got ? got : "(null)",
			want ? want : "(missing)");
		CU_FAIL("case mismatch");
	}
}

static int nvalid, ninvalid;

static void one_valid(const char *dir, const char *name, void *payload)
{
	char path[512], *input, *exp, *got, fl[64], num[32];
	size_t len;
	nr_url u;
	nr_error err = NR_ERROR_INIT;
	int rc;

	(void)name; (void)payload;
	snprintf(path, sizeof(path), "%s/input", dir);
	input = nrtest_read(path, &len);
	snprintf(path, sizeof(path), "%s/expected", dir);
	exp = nrtest_read(path, NULL);
	rc = nr_url_parse(&u, input, len, &err);
	if (rc != 0) {
		fprintf(stderr, "\n  %s: parse failed: %s", dir, err.message);
		CU_FAIL("valid case did not parse");
		goto done;
	}
	nvalid++;
#define CHECK(key, val) do { char *w__ = field(exp, key); expect_str(dir, key, val, w__); \
	free(w__); } while (0)
	got = span_dup(input, u.scheme); CHECK("scheme", got); free(got);
	got = span_dup(input, u.host); CHECK("host", got); free(got);
	got = span_dup(input, u.path_base); CHECK("path_base", got); free(got);
	snprintf(num, sizeof(num), "%d", (int)u.port); CHECK("port", num);
	CHECK("kind", nr_url_kind_name(u.kind));
	flags_text(u.flags, fl, sizeof(fl)); CHECK("flags", fl);
	/* A specified port's text is the number; a fallback's text is what follows the ':'. */
	if (!(u.flags & NR_URL_PORT_DEFAULTED)) {
		char *pt = span_dup(input, u.port_text);
		CU_ASSERT_EQUAL(strtol(pt, NULL, 10), u.port);
		free(pt);
	}
	if ((u.flags & NR_URL_PORT_DEFAULTED) && !(u.flags & NR_URL_PORT_FALLBACK))
		CU_ASSERT_EQUAL(u.port_text.len, 0);
	rc = nr_url_validate(&u, input, len, &err);
	CHECK("bind", rc == 0 ? "ok" : err.message);
	CU_ASSERT(rc == 0 || rc == NR_EINVALID);
#undef CHECK
done:
	free(input);
	free(exp);
}

static void one_invalid(const char *dir, const char *name, void *payload)
{
	char path[512], *input, *want;
	size_t len;
	nr_url u;
	nr_error err = NR_ERROR_INIT;

	(void)name; (void)payload;
	snprintf(path, sizeof(path), "%s/input", dir);
	input = nrtest_read(path, &len);
	snprintf(path, sizeof(path), "%s/error", dir);
	want = nrtest_read(path, NULL);
	want[strcspn(want, "\n")] = '\0';
	CU_ASSERT_EQUAL(nr_url_parse(&u, input, len, &err), NR_EINVALID);
	CU_ASSERT_EQUAL(err.code, NR_EINVALID);
	expect_str(dir, "error", err.message, want);
	ninvalid++;
	free(input);
	free(want);
}

static void test_parse_cases(void)
{
	nvalid = ninvalid = 0;
	CU_ASSERT(nrtest_each_case("urls/parse/valid", one_valid, NULL) >= 70);
	CU_ASSERT(nrtest_each_case("urls/parse/invalid", one_invalid, NULL) >= 15);
	CU_ASSERT(nvalid >= 70);
	CU_ASSERT(ninvalid >= 15);
}

/* Options file: host=generic, threshold=N, no_unprefixed, compat. */
static void read_options(const char *dir, nr_urls_options *o, unsigned *rewrite_flags)
{
	char path[512], *text, *v;

	snprintf(path, sizeof(path), "%s/options", dir);
	if ((text = nrtest_read_opt(path, NULL)) == NULL)
		return;
	if ((v = field(text, "host")) != NULL) {
		o->host = strcmp(v, "generic") == 0 ? NR_URLS_HOST_GENERIC : NR_URLS_HOST_WEBAPP;
		free(v);
	}
	if ((v = field(text, "threshold")) != NULL) {
		o->threshold = (unsigned)strtoul(v, NULL, 10);
		free(v);
	}
	if (strstr(text, "no_unprefixed="))
		o->flags |= NR_URLS_NO_UNPREFIXED;
	if (rewrite_flags && strstr(text, "compat="))
		*rewrite_flags |= NR_REWRITE_COMPAT;
	free(text);
}

static int nenv;

static void one_env(const char *dir, const char *name, void *payload)
{
	char path[512], *envtext, *want, *lines[64];
	const char *envp[65];
	size_t len, n = 0, i, linelen, eol;
	const char *line;
	nr__cursor c;
	nr_urls_options o = NR_URLS_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_bindings *b = NULL;
	nr__buf got = NR__BUF_INIT;
	int rc, expect_error;

	(void)name; (void)payload;
	snprintf(path, sizeof(path), "%s/env", dir);
	envtext = nrtest_read(path, &len);
	nr__cursor_init(&c, envtext, len);
	while (n < 64 && nr__cursor_line(&c, &line, &linelen, &eol))
		lines[n] = strndup(line, linelen), envp[n] = lines[n], n++;
	envp[n] = NULL;
	read_options(dir, &o, NULL);
	snprintf(path, sizeof(path), "%s/error", dir);
	want = nrtest_read_opt(path, NULL);
	expect_error = want != NULL;
	if (!expect_error) {
		snprintf(path, sizeof(path), "%s/expected", dir);
		want = nrtest_read(path, NULL);
	}
	rc = nr_bindings_from_env(&b, envp, &o, &err);
	if (rc < 0) {
		char text[512];
		CU_ASSERT_PTR_NULL(b);
		nr_error_format(&err, text, sizeof(text));
		nr__buf_printf(&got, "%s\n", text);
	} else {
		nr__buf_printf(&got, "effective=%s\n", nr_urls_source_name(nr_bindings_source(b)));
		for (i = 0; i < nr_bindings_warning_count(b); i++)
			nr__buf_printf(&got, "warning=%s\n", nr_bindings_warning_at(b, i));
		CU_ASSERT_PTR_NULL(nr_bindings_warning_at(b, i));
		for (i = 0; i < nr_bindings_count(b); i++) {
			const nr_binding *x = nr_bindings_at(b, i);
			nr__buf_printf(&got, "binding=%s %s ", x->url, nr_url_kind_name(x->parsed.kind));
			if (x->parsed.kind == NR_URL_UNIX || x->parsed.kind == NR_URL_PIPE)
				nr__buf_puts(&got, "-");
			else
				nr__buf_printf(&got, "%d", (int)x->parsed.port);
			nr__buf_puts(&got, x->privileged ? " priv\n" : " -\n");
			CU_ASSERT_EQUAL(strlen(x->url), x->url_len);
			CU_ASSERT_EQUAL(x->variable == NULL, nr_bindings_source(b) ==
				NR_URLS_SOURCE_DEFAULT);
		}
		CU_ASSERT_PTR_NULL(nr_bindings_at(b, i));
	}
	CU_ASSERT_EQUAL(rc < 0, expect_error);
	expect_str(dir, expect_error ? "error" : "result", got.ptr, want);
	nenv++;
	nr_bindings_free(b);
	nr__buf_dispose(&got);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(envtext);
	free(want);
}

static void test_env_cases(void)
{
	nenv = 0;
	CU_ASSERT(nrtest_each_case("urls/env", one_env, NULL) >= 30);
	CU_ASSERT(nenv >= 30);
}

static int nrw;

static void one_rewrite(const char *dir, const char *cname, void *payload)
{
	char path[512], *name, *value, *mapspec, *want, *out = NULL, text[512];
	size_t vlen, outlen = 0;
	nr_portmap map;
	nr_urls_options o = NR_URLS_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	unsigned flags = 0;
	int rc;

	(void)cname; (void)payload;
	snprintf(path, sizeof(path), "%s/name", dir);
	name = nrtest_read(path, NULL);
	snprintf(path, sizeof(path), "%s/value", dir);
	value = nrtest_read(path, &vlen);
	snprintf(path, sizeof(path), "%s/map", dir);
	mapspec = nrtest_read(path, NULL);
	read_options(dir, &o, &flags);
	CU_ASSERT_EQUAL_FATAL(nr_portmap_parse(&map, mapspec, strlen(mapspec), &err), 0);
	rc = nr_urls_rewrite(&out, &outlen, name, value, vlen, &map, o.threshold, flags, &err);
	snprintf(path, sizeof(path), "%s/error", dir);
	if ((want = nrtest_read_opt(path, NULL)) != NULL) {
		CU_ASSERT(rc < 0);
		CU_ASSERT_PTR_NULL(out);
		nr_error_format(&err, text, sizeof(text));
		strcat(text, "\n");
		expect_str(dir, "error", text, want);
	} else {
		char *changes;
		snprintf(path, sizeof(path), "%s/expected", dir);
		want = nrtest_read(path, NULL);
		snprintf(path, sizeof(path), "%s/changes", dir);
		changes = nrtest_read(path, NULL);
		expect_str(dir, "value", out, want);
		CU_ASSERT_EQUAL(rc, atoi(changes));
		if (out)
			CU_ASSERT_EQUAL(outlen, strlen(out));
		free(changes);
	}
	nrw++;
	nr_free(out);
	free(name);
	free(value);
	free(mapspec);
	free(want);
}

static void test_rewrite_cases(void)
{
	nrw = 0;
	CU_ASSERT(nrtest_each_case("urls/rewrite", one_rewrite, NULL) >= 20);
	CU_ASSERT(nrw >= 20);
}

/* A rewritten value, read back, binds the mapped ports: the two functions agree. */
static void test_rewrite_roundtrip(void)
{
	static const char value[] = "http://+;https://localhost;http://[::1]:80/;HTTP://*:443";
	nr_portmap map;
	nr_bindings *b = NULL;
	char *out = NULL, *assign;
	const char *envp[2];
	size_t i;

	nr_portmap_default(&map);
	CU_ASSERT_EQUAL(nr_urls_rewrite(&out, NULL, "ASPNETCORE_URLS", value, strlen(value), &map,
		1024, 0, NULL), 4);
	CU_ASSERT_FATAL(out != NULL);
	CU_ASSERT_FATAL(asprintf(&assign, "ASPNETCORE_URLS=%s", out) > 0);
	envp[0] = assign;
	envp[1] = NULL;
	CU_ASSERT_EQUAL_FATAL(nr_bindings_from_env(&b, envp, NULL, NULL), 0);
	CU_ASSERT_EQUAL(nr_bindings_count(b), 4);
	CU_ASSERT_EQUAL(nr_bindings_any_privileged(b), 0);
	CU_ASSERT_EQUAL(nr_bindings_at(b, 0)->parsed.port, 8080);
	CU_ASSERT_EQUAL(nr_bindings_at(b, 1)->parsed.port, 8443);
	CU_ASSERT_EQUAL(nr_bindings_at(b, 2)->parsed.port, 8080);
	CU_ASSERT_EQUAL(nr_bindings_at(b, 3)->parsed.port, 8443);
	for (i = 0; i < nr_bindings_count(b); i++)
		CU_ASSERT_EQUAL(nr_bindings_at(b, i)->parsed.flags & NR_URL_PORT_DEFAULTED, 0);
	nr_bindings_free(b);
	free(assign);
	nr_free(out);
}

static void test_portmap(void)
{
	nr_portmap m;
	nr_error err = NR_ERROR_INIT;

	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "80:8080,443:8443", 16, &err), 0);
	CU_ASSERT_EQUAL(m.count, 2);
	CU_ASSERT_EQUAL(nr_portmap_lookup(&m, 80), 8080);
	CU_ASSERT_EQUAL(nr_portmap_lookup(&m, 443), 8443);
	CU_ASSERT_EQUAL(nr_portmap_lookup(&m, 8080), -1);
	CU_ASSERT_EQUAL(nr_portmap_lookup(&m, -80), -1);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "80:8080,80:9090", 15, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "port map: port 80 is mapped twice");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "80:0", 4, &err), NR_ERANGE);
	NRTEST_ASSERT_ERR(&err, NR_ERANGE, "port 0 is out of range (1-65535)");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "80:65536", 8, &err), NR_ERANGE);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "80", 2, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "'80' is not FROM:TO");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "80:8080,", 8, &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, " 80:8080", 8, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "' 80' is not a port number");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "+80:8080", 8, &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_portmap_parse(&m, "", 0, &err), NR_EINVALID);
	nr_error_clear(&err);
	{
		nr__buf b = NR__BUF_INIT;
		int i;
		for (i = 1; i <= NR_PORTMAP_MAX + 1; i++)
			nr__buf_printf(&b, "%s%d:%d", i > 1 ? "," : "", i, 10000 + i);
		CU_ASSERT_EQUAL(nr_portmap_parse(&m, b.ptr, b.size, &err), NR_ETOOBIG);
		nr__buf_dispose(&b);
	}
	nr_portmap_default(&m);
	CU_ASSERT_EQUAL(m.count, 2);
	CU_ASSERT_EQUAL(nr_portmap_lookup(&m, 443), 8443);
}

static void test_api(void)
{
	nr_urls_options o;
	nr_url u;
	nr_error err = NR_ERROR_INIT;
	nr_bindings *b = (nr_bindings *)&o;
	char *out = (char *)&o;
	nr_portmap m;
	const char *value;

	CU_ASSERT_EQUAL(nr_urls_options_init(&o, NR_URLS_OPTIONS_VERSION), 0);
	CU_ASSERT_EQUAL(o.threshold, 1024);
	CU_ASSERT_EQUAL(o.host, NR_URLS_HOST_WEBAPP);
	CU_ASSERT_EQUAL(nr_urls_options_init(&o, 99), NR_EARG);
	o.version = 99;
	CU_ASSERT_EQUAL(nr_bindings_from_env(&b, NULL, &o, &err), NR_EARG);
	CU_ASSERT_PTR_NULL(b);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_url_parse(NULL, "http://+", 8, &err), NR_EARG);
	NRTEST_ASSERT_ERR(&err, NR_EARG, "out is NULL");
	CU_ASSERT_EQUAL(nr_url_parse(&u, NULL, 0, NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_bindings_from_env(NULL, NULL, NULL, NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_urls_rewrite(&out, NULL, NULL, "", 0, &m, 1024, 0, NULL), NR_EARG);
	CU_ASSERT_PTR_NULL(out);
	nr_bindings_free(NULL);
	CU_ASSERT_EQUAL(nr_bindings_count(NULL), 0);
	CU_ASSERT_PTR_NULL(nr_bindings_at(NULL, 0));
	CU_ASSERT_PTR_NULL(nr_bindings_variable(&value, NULL, NR_URLS_KEY_URLS));
	CU_ASSERT_PTR_NULL(value);
	CU_ASSERT_STRING_EQUAL(nr_url_kind_name(NR_URL_PIPE), "pipe");
	CU_ASSERT_STRING_EQUAL(nr_url_kind_name((nr_url_kind)42), "?");
	CU_ASSERT_STRING_EQUAL(nr_urls_source_name(NR_URLS_SOURCE_PORTS), "http_ports");
	CU_ASSERT_EQUAL(nr_urls_key_of("ASPNETCORE_URLS", 15), NR_URLS_KEY_URLS);
	CU_ASSERT_EQUAL(nr_urls_key_of("dotnet_https_ports", 18), NR_URLS_KEY_HTTPS_PORTS);
	CU_ASSERT_EQUAL(nr_urls_key_of("HTTP_PORTS", 10), NR_URLS_KEY_HTTP_PORTS);
	CU_ASSERT_EQUAL(nr_urls_key_of("ASPNETCORE_", 11), NR_URLS_KEY_NONE);
	CU_ASSERT_EQUAL(nr_urls_key_of("ASPNETCORE_URLS_X", 17), NR_URLS_KEY_NONE);
	CU_ASSERT_EQUAL(nr_urls_key_of("XURLS", 5), NR_URLS_KEY_NONE);
	CU_ASSERT_EQUAL(nr_urls_key_of(NULL, 0), NR_URLS_KEY_NONE);
	/* IP literal addresses are decoded for binding. */
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://0x7f.1:80", 16, NULL), 0);
	CU_ASSERT_EQUAL(u.family, 4);
	CU_ASSERT(memcmp(u.addr, "\x7f\0\0\x01", 4) == 0);
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://[::1]", 12, NULL), 0);
	CU_ASSERT_EQUAL(u.family, 6);
	CU_ASSERT_EQUAL(u.addr[15], 1);
	/* privileged: threshold and port 0 */
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://+:1023", 13, NULL), 0);
	CU_ASSERT_EQUAL(nr_url_is_privileged(&u, 1024), 1);
	CU_ASSERT_EQUAL(nr_url_is_privileged(&u, 1023), 0);
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://+:0", 10, NULL), 0);
	CU_ASSERT_EQUAL(nr_url_is_privileged(&u, 1024), 0);
	CU_ASSERT_EQUAL(nr_url_is_privileged(NULL, 1024), 0);
	/* the parse reads only [s, s+len): no NUL terminator needed */
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://+:8080;http://x", 13, NULL), 0);
	CU_ASSERT_EQUAL(u.port, 8080);
	/* variables are reported with their values */
	{
		const char *envp[] = { "ASPNETCORE_HTTP_PORTS=8080", "DOTNET_HTTPS_PORTS=", NULL };
		CU_ASSERT_EQUAL_FATAL(nr_bindings_from_env(&b, envp, NULL, NULL), 0);
		CU_ASSERT_STRING_EQUAL(nr_bindings_variable(&value, b, NR_URLS_KEY_HTTP_PORTS),
			"ASPNETCORE_HTTP_PORTS");
		CU_ASSERT_STRING_EQUAL(value, "8080");
		CU_ASSERT_STRING_EQUAL(nr_bindings_variable(&value, b, NR_URLS_KEY_HTTPS_PORTS),
			"DOTNET_HTTPS_PORTS");
		CU_ASSERT_STRING_EQUAL(value, "");
		CU_ASSERT_PTR_NULL(nr_bindings_variable(NULL, b, NR_URLS_KEY_URLS));
		CU_ASSERT_PTR_NULL(nr_bindings_variable(NULL,b, (nr_urls_key)7));
		nr_bindings_free(b);
	}
}

/*
 * A plain byte-by-byte reading of BindingAddress.Parse (ports of digits only), to check the
 * word-at-a-time scanner of nr_url_parse() on generated input: every split point and every
 * control character position must agree.
 */
struct ref { int ok; size_t host_off, host_len, pb_off, pb_len; long port; unsigned flags; };

static struct ref ref_parse(const char *s, size_t len)
{
	struct ref r = { 0, 0, 0, 0, 0, 0, 0 };
	size_t i, se, ps, pe, lc = SIZE_MAX;
	int unixp = 0, pipe = 0, specified = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return r;
	for (i = 0; i + 2 < len; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			break;
	if (i + 2 >= len)
		return r;
	if (i == 4 && strncasecmp(s, "http", 4) == 0)
		r.flags |= NR_URL_HTTP;
	if (i == 5 && strncasecmp(s, "https", 5) == 0)
		r.flags |= NR_URL_HTTPS;
	se = i + 3;
	unixp = len - se >= 6 && memcmp(s + se, "unix:/", 6) == 0;
	pipe = len - se >= 6 && memcmp(s + se, "pipe:/", 6) == 0;
	if (unixp || pipe) {
		for (ps = se + 6; ps < len && s[ps] != ':'; ps++)
			;
		pe = ps < len ? ps + 1 : len;
	} else {
		for (ps = se; ps < len && s[ps] != '/'; ps++)
			if (s[ps] == ':')
				lc = ps;
		pe = ps;
		if (lc != SIZE_MAX && s[ps - 1] != ']') {
			size_t k, nd = ps - lc - 1;
			long v = 0;
			for (k = lc + 1; k < ps && s[k] >= '0' && s[k] <= '9'; k++)
				v = v * 10 + (s[k] - '0');
			if (k == ps && nd > 0 && nd <= 9) {
				specified = 1;
				r.port = v;
				r.host_off = se;
				r.host_len = lc - se;
			} else {
				r.flags |= NR_URL_PORT_FALLBACK;
			}
		}
		if (!specified) {
			r.flags |= NR_URL_PORT_DEFAULTED;
			r.port = (r.flags & NR_URL_HTTP) ? 80 : (r.flags & NR_URL_HTTPS) ? 443 : 0;
		}
	}
	if (!specified) {
		r.host_off = se;
		r.host_len = ps - se;
	}
	if (r.host_len == 0 || (s[len - 1] == '/' && pe == len))
		return r;
	r.pb_off = pe;
	r.pb_len = s[len - 1] == '/' ? len - pe - 1 : len - pe;
	r.ok = 1;
	return r;
}

static void test_parse_generated(void)
{
	static const char *const prefixes[] = { "http://", "HTTPS://", "x://", "", "http://unix:/",
		"http://pipe:/", "https://[", "ab:/" };
	static const char alphabet[] = "a1:/]9.:*0/1";
	uint32_t seed = 1654;
	char buf[96];
	int n, mismatches = 0, ctrl_cases = 0;

	for (n = 0; n < 40000; n++) {
		size_t len, plen, i, extra;
		const char *pre;
		struct ref want;
		nr_url u;
		nr_error err = NR_ERROR_INIT;
		int rc;

		seed = seed * 1103515245u + 12345u;
		pre = prefixes[(seed >> 16) % NR_ARRAY_SIZE(prefixes)];
		plen = strlen(pre);
		memcpy(buf, pre, plen);
		seed = seed * 1103515245u + 12345u;
		extra = (seed >> 16) % 40;
		for (i = 0; i < extra; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[plen + i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		len = plen + extra;
		seed = seed * 1103515245u + 12345u;
		if (len > 0 && (seed >> 16) % 8 == 0) {   /* a control character somewhere */
			size_t at = (seed >> 20) % len;
			buf[at] = (seed & 1) ? '\n' : 0x7f;
			ctrl_cases++;
		}
		want = ref_parse(buf, len);
		rc = nr_url_parse(&u, buf, len, &err);
		if ((rc == 0) != want.ok ||
		    (rc == 0 && (u.host.off != want.host_off || u.host.len != want.host_len ||
			u.path_base.off != want.pb_off || u.path_base.len != want.pb_len ||
			u.port != want.port || u.flags != want.flags))) {
			if (mismatches++ < 5)
				fprintf(stderr, "\n  generated case '%.*s': rc %d, want ok=%d", (int)len, buf,
					rc, want.ok);
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT(ctrl_cases > 1000);
}

/* A control character at every position of URLs of every length up to 40 is found. */
static void test_ctrl_every_position(void)
{
	static const char base[] = "https://www.example.com:8443/a/b/c/d/e/f";
	char buf[64];
	size_t len, at;
	nr_url u;

	for (len = 9; len <= sizeof(base) - 1; len++) {
		for (at = 0; at < len; at++) {
			nr_error err = NR_ERROR_INIT;
			char want[64];
			memcpy(buf, base, len);
			buf[at] = (char)(at % 2 ? 0x1f : 0x7f);
			CU_ASSERT_EQUAL(nr_url_parse(&u, buf, len, &err), NR_EINVALID);
			snprintf(want, sizeof(want), "control character 0x%02x at byte %zu",
				(unsigned char)buf[at], at + 1);
			if (strstr(err.message, want) == NULL) {
				fprintf(stderr, "\n  len %zu at %zu: %s", len, at, err.message);
				CU_FAIL("control character not reported at its position");
			}
		}
		memcpy(buf, base, len);
		CU_ASSERT_EQUAL(nr_url_parse(&u, buf, len, NULL), 0);
	}
	/* bytes 0x80-0xff (UTF-8) are not control characters */
	CU_ASSERT_EQUAL(nr_url_parse(&u, "http://\xc3\xa9t\xc3\xa9.example:8080/\xff", 27, NULL), 0);
	CU_ASSERT_EQUAL(u.port, 8080);
}

static CU_TestInfo urls_tests[] = {
	{ "parse cases (BindingAddress, AddressBinder)", test_parse_cases },
	{ "environment cases (GenericWebHostService)", test_env_cases },
	{ "generated input against a reference", test_parse_generated },
	{ "control characters at every position", test_ctrl_every_position },
	{ "rewrite cases", test_rewrite_cases },
	{ "rewrite round trip", test_rewrite_roundtrip },
	{ "port map", test_portmap },
	{ "api", test_api },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "urls", NULL, NULL, NULL, NULL, urls_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
