/*
 * serverports.c: privileged ports named in program arguments and server configuration files
 * (see serverports.h). patch cannot move these: audit reports them with their source.
 *
 * Arguments are split into words at white space (so "sh -c 'httpd -p 80'" is read too);
 * a word names a port when it is
 *   - the value of a port option: "-p 80", "--port 80", "--port=80", "-p80", "--listen
 *     0.0.0.0:80", "-b :80", "--urls http://+:80;https://+:443";
 *   - an address by itself: ":80", "0.0.0.0:80", "*:80", "[::]:80", "localhost:80", or a URL
 *     with an explicit port ("http://+:80").
 * Numbers alone are never taken for ports unless an option names them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "serverports.h"

const char *const nr__server_config_paths[] = {
	"etc/nginx/nginx.conf",
	"etc/nginx/conf.d/default.conf",
	"etc/nginx/sites-enabled/default",
	"etc/nginx/http.d/default.conf",
	"etc/apache2/ports.conf",
	"etc/httpd/conf/httpd.conf",
	"usr/local/apache2/conf/httpd.conf",
	"etc/lighttpd/lighttpd.conf",
	NULL
};

/* Decimal digits only, 1..65535; else 0. */
static unsigned port_of(const char *s, size_t n)
{
	unsigned v = 0;
	size_t k;

	if (n == 0 || n > 5)
		return 0;
	for (k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[k] - '0');
	}
	return v <= 65535 ? v : 0;
}

static bool is_ipv4(const char *s, size_t n)
{
	size_t k, dots = 0;

	if (n < 7)
		return false;
	for (k = 0; k < n; k++) {
		if (s[k] == '.')
			dots++;
		else if (s[k] < '0' || s[k] > '9')
			return false;
	}
	return dots == 3;
}

/* A host that only a listening address has: "", "*", "+", "localhost", IPv4, "[...]". */
static bool listen_host(const char *s, size_t n)
{
	return n == 0 || (n == 1 && (*s == '*' || *s == '+')) ||
		(n == 9 && memcmp(s, "localhost", 9) == 0) || is_ipv4(s, n) ||
		(n >= 2 && s[0] == '[' && s[n - 1] == ']');
}

/* The explicit port of "scheme://host:port/path" or "host:port"; any_host: the host may be a
 * name (the value of a port option). 0 when there is none. */
static unsigned address_port(const char *s, size_t n, bool any_host)
{
	const char *scheme = NULL, *colon = NULL, *slash;
	size_t k;

	for (k = 0; k + 2 < n; k++)
		if (s[k] == ':' && s[k + 1] == '/' && s[k + 2] == '/') {
			scheme = s;
			break;
		}
	if (scheme) {
		s += k + 3;
		n -= k + 3;
		any_host = true;   /* a URL's host can be anything: its port is explicit */
	}
	if ((slash = memchr(s, '/', n)) != NULL)
		n = (size_t)(slash - s);
	for (k = n; k > 0; k--) {
		if (s[k - 1] == ']')
			break;
		if (s[k - 1] == ':') {
			colon = s + k - 1;
			break;
		}
	}
	if (colon == NULL)
		return 0;
	if (!any_host && !listen_host(s, (size_t)(colon - s)))
		return 0;
	return port_of(colon + 1, n - (size_t)(colon + 1 - s));
}

/* A port option's value: a number, an address, or a list of them (";" or ","). Calls report
 * for each port below threshold. */
typedef struct found {
	unsigned ports[8];
	size_t n;
} found;

static void value_ports(const char *s, size_t n, unsigned threshold, found *f)
{
	while (n > 0) {
		size_t len = 0;
		unsigned p;

		while (len < n && s[len] != ';' && s[len] != ',')
			len++;
		p = port_of(s, len);
		if (p == 0)
			p = address_port(s, len, true);
		if (p > 0 && p < threshold && f->n < NR_ARRAY_SIZE(f->ports))
			f->ports[f->n++] = p;
		if (len == n)
			break;
		s += len + 1;
		n -= len + 1;
	}
}

static bool port_option(const char *name, size_t n)
{
	static const char *const names[] = { "p", "port", "listen", "bind", "b", "addr",
		"address", "urls", "http-port", "https-port", "http_port", "server.port",
		"listen-address", "web.listen-address", "http-address", NULL };
	size_t k;

	for (k = 0; names[k]; k++)
		if (strlen(names[k]) == n && memcmp(names[k], name, n) == 0)
			return true;
	return false;
}

typedef struct word {
	const char *s;
	size_t n;
	size_t arg;
} word;

static int report(nr__port_cb cb, void *ctx, size_t where, const char *a, size_t an,
	const char *b, size_t bn, const found *f)
{
	char text[256];
	size_t k;
	int r;

	snprintf(text, sizeof(text), "%.*s%s%.*s", (int)(an > 200 ? 200 : an), a, b ? " " : "",
		(int)(bn > 50 ? 50 : bn), b ? b : "");
	for (k = 0; k < f->n; k++)
		if ((r = cb(ctx, where, text, f->ports[k])) < 0)
			return r;
	return 0;
}

int nr__args_ports(const char *const *args, size_t n, unsigned threshold, nr__port_cb cb,
	void *ctx)
{
	word *w = NULL;
	size_t nw = 0, aw = 0, k, j;
	int error = 0;

	for (k = 0; k < n; k++) {
		const char *s = args[k] ? args[k] : "";
		while (*s) {
			size_t len;
			while (*s == ' ' || *s == '\t' || *s == '\n')
				s++;
			len = strcspn(s, " \t\n");
			if (len == 0)
				break;
			if (nr__array_grow((void **)&w, &aw, nw + 1, sizeof(*w)) < 0) {
				free(w);
				return NR_ENOMEM;
			}
			w[nw].s = s;
			w[nw].n = len;
			/* quotes of an argument inside "sh -c '...'" */
			while (w[nw].n >= 2 && (*w[nw].s == '\'' || *w[nw].s == '"') &&
			    w[nw].s[w[nw].n - 1] == *w[nw].s) {
				w[nw].s++;
				w[nw].n -= 2;
			}
			w[nw].arg = k;
			nw++;
			s += len;
		}
	}
	for (j = 0; j < nw; j++) {
		const char *s = w[j].s, *name, *eq;
		size_t len = w[j].n, nlen;
		found f;

		f.n = 0;
		if (len >= 2 && s[0] == '-') {
			name = s[1] == '-' ? s + 2 : s + 1;
			nlen = len - (size_t)(name - s);
			eq = memchr(name, '=', nlen);
			if (eq && port_option(name, (size_t)(eq - name))) {
				/* --port=80 */
				value_ports(eq + 1, len - (size_t)(eq + 1 - s), threshold, &f);
				if ((error = report(cb, ctx, w[j].arg, s, len, NULL, 0, &f)) < 0)
					goto done;
			} else if (!eq && port_option(name, nlen) && j + 1 < nw) {
				/* -p 80, --listen 0.0.0.0:80 */
				value_ports(w[j + 1].s, w[j + 1].n, threshold, &f);
				if (f.n > 0) {
					if ((error = report(cb, ctx, w[j].arg, s, len, w[j + 1].s,
					    w[j + 1].n, &f)) < 0)
						goto done;
					j++;
				}
			} else if (s[1] == 'p' && len > 2 && port_of(s + 2, len - 2)) {
				/* -p80 */
				value_ports(s + 2, len - 2, threshold, &f);
				if ((error = report(cb, ctx, w[j].arg, s, len, NULL, 0, &f)) < 0)
					goto done;
			}
			continue;
		}
		/* an address by itself: ":80", "0.0.0.0:80", "http://+:80" */
		{
			unsigned p = address_port(s, len, false);
			if (p > 0 && p < threshold) {
				f.ports[f.n++] = p;
				if ((error = report(cb, ctx, w[j].arg, s, len, NULL, 0, &f)) < 0)
					goto done;
			}
		}
	}
done:
	free(w);
	return error;
}

/* ---- configuration files ------------------------------------------------------------------- */

enum syntax { NGINX, APACHE, LIGHTTPD };

static bool word_is(const char *s, size_t n, const char *lit, bool icase)
{
	size_t k;

	if (strlen(lit) != n)
		return false;
	for (k = 0; k < n; k++) {
		char c = s[k];
		if (icase && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[k])
			return false;
	}
	return true;
}

int nr__config_ports(const char *path, const char *text, size_t len, unsigned threshold,
	nr__port_cb cb, void *ctx)
{
	enum syntax syn = strstr(path, "nginx") ? NGINX : strstr(path, "lighttpd") ? LIGHTTPD
		: APACHE;
	const char *p = text, *end = text + len;
	size_t line = 0;
	int r;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *s, *e, *hash;
		const char *w1, *w2 = NULL;
		size_t n1, n2 = 0;
		unsigned port = 0;
		char shown[160];

		if (eol == NULL)
			eol = end;
		line++;
		s = p;
		e = eol;
		p = eol < end ? eol + 1 : end;
		if ((hash = memchr(s, '#', (size_t)(e - s))) != NULL)
			e = hash;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (s == e)
			continue;
		w1 = s;
		while (s < e && *s != ' ' && *s != '\t' && *s != '=')
			s++;
		n1 = (size_t)(s - w1);
		while (s < e && (*s == ' ' || *s == '\t' || (syn == LIGHTTPD && *s == '=')))
			s++;
		if (s < e) {
			w2 = s;
			while (s < e && *s != ' ' && *s != '\t' && *s != ';')
				s++;
			n2 = (size_t)(s - w2);
		}
		if (w2 == NULL || n2 == 0)
			continue;
		if (syn == NGINX && word_is(w1, n1, "listen", false)) {
			if (n2 >= 5 && memcmp(w2, "unix:", 5) == 0)
				continue;
			port = port_of(w2, n2);
			if (port == 0) {
				port = address_port(w2, n2, true);
				if (port == 0 && memchr(w2, ':', n2) == NULL)
					port = 80;   /* "listen 127.0.0.1;": nginx's default port */
			}
		} else if (syn == APACHE && word_is(w1, n1, "listen", true)) {
			port = port_of(w2, n2);
			if (port == 0)
				port = address_port(w2, n2, true);
		} else if (syn == LIGHTTPD && word_is(w1, n1, "server.port", false)) {
			port = port_of(w2, n2);
		}
		if (port == 0 || port >= threshold)
			continue;
		snprintf(shown, sizeof(shown), "%.*s", (int)((e - w1) > 150 ? 150 : (e - w1)), w1);
		shown[strcspn(shown, "\r")] = '\0';
		if ((r = cb(ctx, line, shown, port)) < 0)
			return r;
	}
	return 0;
}
