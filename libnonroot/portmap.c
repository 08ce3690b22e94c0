/*
 * portmap.c: port maps (--port-map FROM:TO) and rewriting a URL variable's value with them,
 * keeping every other part of each URL as written.
 */
#include <stdio.h>
#include <strings.h>

#include "internal.h"
#include "buf.h"
#include "urls_internal.h"

#define SPAN_END(sp) ((sp).off + (sp).len)

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
	nr__buf out;
	const char *name;
	const nr_portmap *map;
	unsigned int threshold, flags;
	int changes;
	nr__buf unmapped;   /* "81, 444" */
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
		return nr__buf_put(&w->out, entry, elen) < 0 ? nr__error_oom(err) : 0;
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
		    nr__buf_printf(&w->unmapped, "%s%d", w->unmapped.size ? ", " : "", (int)u->port) < 0)
			return nr__error_oom(err);
		return nr__buf_put(&w->out, entry, elen) < 0 ? nr__error_oom(err) : 0;
	}
	if (w->flags & NR_REWRITE_COMPAT) {
		nr__buf_put(&w->out, entry, elen);
		nr__buf_putc(&w->out, ';');
	}
	snprintf(num, sizeof(num), "%d", to);
	if (u->flags & NR_URL_PORT_DEFAULTED) {
		/* Insert ":PORT" after the host (before the path delimiter). */
		at = SPAN_END(u->host) - shift;
		nr__buf_put(&w->out, entry, at);
		nr__buf_putc(&w->out, ':');
		nr__buf_puts(&w->out, num);
		nr__buf_put(&w->out, entry + at, elen - at);
	} else {
		at = u->port_text.off - shift;
		cut = at + u->port_text.len;
		nr__buf_put(&w->out, entry, at);
		nr__buf_puts(&w->out, num);
		nr__buf_put(&w->out, entry + cut, elen - cut);
	}
	w->changes++;
	return w->out.oom ? nr__error_oom(err) : 0;
}

/* One HTTP(S)_PORTS entry (untrimmed, @p n bytes at @p p): read as Kestrel does, as
 * "http[s]://" + "*:" + the trimmed entry, and rewritten in place keeping its spaces. */
static int rewrite_port(rewriter *w, nr_urls_key key, const char *p, size_t n, nr__buf *url,
	nr_error *err)
{
	const char *prefix = key == NR_URLS_KEY_HTTPS_PORTS ? "https://*:" : "http://*:";
	const char *e = p;
	size_t en = n, lead;
	nr_url u;
	int error;

	nr__urls_trim(&e, &en);
	if (en == 0) {
		nr__buf_put(&w->out, p, n);   /* out of memory: w->out.oom, checked at the end */
		return 0;
	}
	lead = (size_t)(e - p);
	nr__buf_truncate(url, 0);
	nr__buf_puts(url, prefix);
	nr__buf_put(url, e, en);
	if (url->oom)
		return nr__error_oom(err);
	if ((error = nr__url_parse(&u, url->ptr, url->size, w->name, err)) < 0)
		return error;
	nr__buf_put(&w->out, p, lead);
	if ((error = rewrite_entry(w, &u, url->ptr, url->size, e, en, strlen(prefix), err)) < 0)
		return error;
	nr__buf_put(&w->out, e + en, n - lead - en);
	return 0;
}

/* Refuse a port the rewrite makes bound twice on one address; a value that binds a port
 * twice already fails before and after, and is left alone. */
static int check_conflicts(const rewriter *w, nr_error *err)
{
	size_t i, k;

	for (i = 0; i < w->nbound; i++) {
		for (k = i + 1; k < w->nbound; k++) {
			const struct bound *x = &w->bound[i], *y = &w->bound[k];
			if (!nr__binds_conflict(&x->u, x->port, &y->u, y->port) ||
			    nr__binds_conflict(&x->u, x->u.port, &y->u, y->u.port))
				continue;
			return nr__error_set(err, NR_ECONFLICT, w->name, 0, 0, "the new value binds "
				"port %d twice on the same address ('%.*s' and '%.*s'): Kestrel would fail "
				"to start (address already in use)", (int)x->port, (int)x->len, x->text,
				(int)y->len, y->text);
		}
	}
	return 0;
}

int nr_urls_rewrite(char **out, size_t *outlen, const char *name, const char *value,
	size_t len, const nr_portmap *map, unsigned int threshold, unsigned int flags,
	nr_error *err)
{
	rewriter w;
	nr__buf url = NR__BUF_INIT;
	nr_urls_key key;
	const char *p, *end;
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
	if (nr__buf_grow(&w.out, len + 16) < 0) {
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
				if ((error = nr__url_parse(&u, p, n, name, err)) < 0 ||
				    (error = rewrite_entry(&w, &u, p, n, p, n, 0, err)) < 0)
					goto done;
			}
		} else if ((error = rewrite_port(&w, key, p, n, &url, err)) < 0) {
			goto done;
		}
		if (semi == NULL)
			break;
		nr__buf_putc(&w.out, ';');
		p = semi + 1;
	}
	if (w.unmapped.size > 0) {
		error = nr__error_set(err, NR_EINVALID, name, 0, 0,
			"privileged ports without a mapping (below %u): %s", threshold, w.unmapped.ptr);
		goto done;
	}
	if ((error = check_conflicts(&w, err)) < 0)
		goto done;
	if (w.out.oom || w.unmapped.oom) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((*out = nr__buf_detach(&w.out, outlen)) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	error = w.changes;
done:
	nr__buf_dispose(&w.out);
	nr__buf_dispose(&w.unmapped);
	free(w.bound);
	nr__buf_dispose(&url);
	return error;
}
