/*
 * bindings.c: the effective Kestrel bindings of an image configuration, and the JSON of a
 * set of bindings. Every consumer (audit, patch, k8s, urls, bundle, the bindings) takes its
 * answer from here: config.Env is read in one place, by nr_bindings_from_env()'s rules.
 */
#include <jansson.h>

#include "internal.h"
#include "buf.h"
#include "report_internal.h"
#include "nonroot/imgconfig.h"

int nr_imgconfig_bindings(nr_bindings **out, const nr_imgconfig *cfg,
	const nr_urls_options *opts, nr_error *err)
{
	const char **envp;
	size_t n, k;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(cfg, err);
	n = nr_imgconfig_env_count(cfg);
	if ((envp = nr__calloc(n + 1, sizeof(*envp))) == NULL)
		return nr__error_oom(err);
	for (k = 0; k < n; k++)
		envp[k] = nr_imgconfig_env_at(cfg, k);
	error = nr_bindings_from_env(out, envp, opts, err);
	free(envp);
	return error;
}

/* Length of a valid UTF-8 sequence at s[0..n), 0 when there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

json_t *nr__json_textn(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	nr__buf b = NR__BUF_INIT;
	json_t *j;
	size_t i = 0, k;

	if (s == NULL)
		return json_null();
	while (i < n) {
		if (p[i] == 0 || (k = utf8_len(p + i, n - i)) == 0) {
			nr__buf_puts(&b, "\xef\xbf\xbd");   /* U+FFFD (and NUL, which jansson refuses) */
			i++;
			continue;
		}
		nr__buf_put(&b, s + i, k);
		i += k;
	}
	if (b.oom) {
		nr__buf_dispose(&b);
		return NULL;
	}
	j = json_stringn(b.ptr ? b.ptr : "", b.size);
	nr__buf_dispose(&b);
	return j;
}

json_t *nr__json_text(const char *s)
{
	return s ? nr__json_textn(s, strlen(s)) : json_null();
}

/* obj[key] = v (stolen); false on OOM. */
static bool set(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

json_t *nr__bindings_json(const nr_bindings *b)
{
	static const char *const keys[3] = { "urls", "http_ports", "https_ports" };
	json_t *doc = json_object(), *vars, *warn, *list;
	size_t i;
	int k;

	/* Each container is attached to doc as soon as it exists: doc owns everything. */
	if (doc == NULL ||
	    !set(doc, "effective", json_string(nr_urls_source_name(nr_bindings_source(b)))) ||
	    !set(doc, "variables", vars = json_object()) ||
	    !set(doc, "warnings", warn = json_array()) ||
	    !set(doc, "bindings", list = json_array()))
		goto nomem;
	for (k = 0; k < 3; k++) {
		const char *value, *name = nr_bindings_variable(&value,b, (nr_urls_key)k);
		json_t *v;
		if (name == NULL)
			continue;
		if (!set(vars, keys[k], v = json_object()) ||
		    !set(v, "name", nr__json_text(name)) || !set(v, "value", nr__json_text(value)))
			goto nomem;
	}
	for (i = 0; i < nr_bindings_warning_count(b); i++) {
		json_t *w = nr__json_text(nr_bindings_warning_at(b, i));
		if (w == NULL || json_array_append_new(warn, w) < 0)
			goto nomem;
	}
	for (i = 0; i < nr_bindings_count(b); i++) {
		const nr_binding *x = nr_bindings_at(b, i);
		const nr_url *u = &x->parsed;
		bool tcp = u->kind != NR_URL_UNIX && u->kind != NR_URL_PIPE;
		json_t *o = json_object();
		if (o == NULL || json_array_append_new(list, o) < 0)
			goto nomem;
		if (!set(o, "url", nr__json_text(x->url)) ||
		    !set(o, "scheme", nr__json_textn(x->url + u->scheme.off, u->scheme.len)) ||
		    !set(o, "host", nr__json_textn(x->url + u->host.off, u->host.len)) ||
		    !set(o, "port", tcp ? json_integer(u->port) : json_null()) ||
		    !set(o, "path_base", nr__json_textn(x->url + u->path_base.off,
			u->path_base.len)) ||
		    !set(o, "kind", json_string(nr_url_kind_name(u->kind))) ||
		    !set(o, "privileged", json_boolean(x->privileged)) ||
		    !set(o, "port_defaulted", json_boolean(u->flags & NR_URL_PORT_DEFAULTED)) ||
		    !set(o, "port_fallback", json_boolean(u->flags & NR_URL_PORT_FALLBACK)) ||
		    !set(o, "variable", nr__json_text(x->variable)))
			goto nomem;
	}
	return doc;
nomem:
	json_decref(doc);
	return NULL;
}

int nr__json_dump(char **out, size_t *len, const json_t *doc, nr_error *err)
{
	char *s;

	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if (len)
		*len = 0;
	if (doc == NULL || (s = json_dumps(doc, JSON_COMPACT)) == NULL)
		return nr__error_oom(err);
	/* jansson allocates with malloc; callers free with nr_free (free) */
	*out = s;
	if (len)
		*len = strlen(s);
	return 0;
}

int nr_bindings_to_json(char **out, size_t *len, const nr_bindings *b, nr_error *err)
{
	json_t *doc;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(b, err);
	doc = nr__bindings_json(b);
	error = nr__json_dump(out, len, doc, err);
	json_decref(doc);
	return error;
}
