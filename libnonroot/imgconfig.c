/*
 * imgconfig.c: image configuration JSON (jansson), edited in place so that every field we do
 * not touch survives byte-for-byte in meaning and key order.
 */
#include <jansson.h>
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "nonroot/imgconfig.h"
#include "imgconfig_internal.h"
#include "jsonload.h"

struct nr_imgconfig {
	json_t *root;
	/* ExposedPorts keys in iteration order, rebuilt by every change to ExposedPorts, so that
	 * nr_imgconfig_exposed_at() is O(1) (a loop over 20k keys was quadratic) */
	const char **ekeys;
	size_t nekeys;
};

static json_t *exposed_obj(const nr_imgconfig *cfg);

/* Rebuild cfg->ekeys. 0 or NR_ENOMEM. */
static int exposed_index(nr_imgconfig *cfg)
{
	json_t *x = exposed_obj(cfg), *v;
	const char *k;
	size_t n = x ? json_object_size(x) : 0, i = 0;

	free(cfg->ekeys);
	cfg->ekeys = NULL;
	cfg->nekeys = 0;
	if (n == 0)
		return 0;
	if ((cfg->ekeys = nr__calloc(n, sizeof(*cfg->ekeys))) == NULL)
		return NR_ENOMEM;
	json_object_foreach(x, k, v) {
		if (i < n)
			cfg->ekeys[i++] = k;
	}
	cfg->nekeys = i;
	return 0;
}

static int field_error(nr_error *err, const char *field, const char *what)
{
	return nr__error_set(err, NR_EINVALID, field, 0, 0, "image config: %s %s", field, what);
}

/* An optional field (absent or null) that must otherwise be an array of strings. */
static int check_string_array(json_t *v, const char *field, nr_error *err)
{
	char item[96];
	json_t *x;
	size_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return field_error(err, field, "is not an array");
	json_array_foreach(v, i, x) {
		if (!json_is_string(x)) {
			snprintf(item, sizeof(item), "%s[%zu]", field, i);
			return field_error(err, item, "is not a string");
		}
	}
	return 0;
}

static int check_types(json_t *root, nr_error *err)
{
	json_t *cfg, *v, *x, *rootfs;
	size_t i;
	char field[48];
	int error;

	if (!json_is_object(root))
		return nr__error_set(err, NR_EINVALID, "config", 0, 0,
			"image config: the top level is not a JSON object");
	cfg = nr__jget(root, "config");
	if (cfg && !json_is_null(cfg)) {
		if (!json_is_object(cfg))
			return field_error(err, "config", "is not an object");
		if ((error = check_string_array(nr__jget(cfg, "Env"), "config.Env", err)) < 0)
			return error;
		v = nr__jget(cfg, "ExposedPorts");
		if (v && !json_is_null(v) && !json_is_object(v))
			return field_error(err, "config.ExposedPorts", "is not an object");
		v = nr__jget(cfg, "User");
		if (v && !json_is_null(v) && !json_is_string(v))
			return field_error(err, "config.User", "is not a string");
	}
	rootfs = nr__jget(root, "rootfs");
	if (rootfs && !json_is_null(rootfs)) {
		if (!json_is_object(rootfs))
			return field_error(err, "rootfs", "is not an object");
		if ((error = check_string_array(nr__jget(rootfs, "diff_ids"),
				"rootfs.diff_ids", err)) < 0)
			return error;
	}
	v = nr__jget(root, "history");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v))
			return field_error(err, "history", "is not an array");
		json_array_foreach(v, i, x) {
			if (!json_is_object(x)) {
				snprintf(field, sizeof(field), "history[%zu]", i);
				return field_error(err, field, "is not an object");
			}
		}
	}
	return 0;
}

int nr_imgconfig_parse(nr_imgconfig **out, const char *json, size_t len, nr_error *err)
{
	json_t *root;
	nr_imgconfig *cfg;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(json, err);
	if ((error = nr__json_load(&root, json, len, "config", "image config: ", err)) < 0)
		return error;
	if ((error = check_types(root, err)) < 0) {
		json_decref(root);
		return error;
	}
	if ((cfg = nr__calloc(1, sizeof(*cfg))) == NULL) {
		json_decref(root);
		return nr__error_oom(err);
	}
	cfg->root = root;
	if (exposed_index(cfg) < 0) {
		nr_imgconfig_free(cfg);
		return nr__error_oom(err);
	}
	*out = cfg;
	return 0;
}

void nr_imgconfig_free(nr_imgconfig *cfg)
{
	if (cfg == NULL)
		return;
	json_decref(cfg->root);
	free(cfg->ekeys);
	free(cfg);
}

int nr_imgconfig_serialize(char **out, size_t *len, const nr_imgconfig *cfg, nr_error *err)
{
	char *s;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(cfg, err);
	if ((s = json_dumps(cfg->root, JSON_COMPACT)) == NULL)
		return nr__error_oom(err);
	*out = s;
	if (len)
		*len = strlen(s);
	return 0;
}

/* ---- getters ---------------------------------------------------------------------------- */

static json_t *config_obj(const nr_imgconfig *cfg)
{
	json_t *c = nr__jget(cfg->root, "config");
	return json_is_object(c) ? c : NULL;
}

/* config (created when absent or null); NULL when out of memory. */
static json_t *config_obj_make(nr_imgconfig *cfg)
{
	json_t *c = config_obj(cfg);

	if (c)
		return c;
	if ((c = json_object()) == NULL || nr__jset_new(cfg->root, "config", c) < 0)
		return NULL;
	return c;
}

static json_t *config_member(const nr_imgconfig *cfg, const char *name)
{
	json_t *c = config_obj(cfg);
	return c ? nr__jget(c, name) : NULL;
}

const char *nr_imgconfig_string(const nr_imgconfig *cfg, const char *path)
{
	json_t *node;
	const char *p, *dot;
	char key[128];
	size_t n;

	if (cfg == NULL || path == NULL)
		return NULL;
	node = cfg->root;
	for (p = path; node != NULL; p = dot + 1) {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof(key) || !json_is_object(node))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		node = nr__jget(node, key);
		if (dot == NULL)
			break;
	}
	return json_is_string(node) ? json_string_value(node) : NULL;
}

const char *nr_imgconfig_user(const nr_imgconfig *cfg)
{
	json_t *u;

	if (cfg == NULL)
		return NULL;
	u = config_member(cfg, "User");
	return json_is_string(u) ? json_string_value(u) : "";
}

size_t nr__imgconfig_strings(const nr_imgconfig *cfg, const char *field, const char **out,
	size_t max)
{
	json_t *a = cfg ? config_member(cfg, field) : NULL, *v;
	size_t k, n = 0;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, k, v) {
		if (n < max)
			out[n] = json_is_string(v) ? json_string_value(v) : "";
		n++;
	}
	return n;
}

int nr_imgconfig_set_user(nr_imgconfig *cfg, const char *user, nr_error *err)
{
	json_t *c;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(user, err);
	if (nr__span_has_ctrl(user, strlen(user)))
		return field_error(err, "config.User", "has a control character");
	if ((c = config_obj_make(cfg)) == NULL ||
	    nr__jset_new(c, "User", json_string(user)) < 0)
		return nr__error_oom(err);
	return 0;
}

/* ---- Env -------------------------------------------------------------------------------- */

static json_t *env_array(const nr_imgconfig *cfg)
{
	json_t *e = config_member(cfg, "Env");
	return json_is_array(e) ? e : NULL;
}

size_t nr_imgconfig_env_count(const nr_imgconfig *cfg)
{
	json_t *e = cfg ? env_array(cfg) : NULL;
	return e ? json_array_size(e) : 0;
}

const char *nr_imgconfig_env_at(const nr_imgconfig *cfg, size_t i)
{
	json_t *e = cfg ? env_array(cfg) : NULL;
	return e ? json_string_value(json_array_get(e, i)) : NULL;
}

/* Does "NAME=..." entry s have name `name` (length n)? */
static bool env_is(const char *s, const char *name, size_t n)
{
	return s && strncmp(s, name, n) == 0 && s[n] == '=';
}

const char *nr_imgconfig_env_get(const nr_imgconfig *cfg, const char *name)
{
	json_t *e;
	size_t i, n;
	const char *s, *found = NULL;

	if (cfg == NULL || name == NULL || (e = env_array(cfg)) == NULL)
		return NULL;
	n = strlen(name);
	for (i = 0; i < json_array_size(e); i++) {
		s = json_string_value(json_array_get(e, i));
		if (env_is(s, name, n))
			found = s + n + 1;
	}
	return found;
}

int nr_imgconfig_env_set(nr_imgconfig *cfg, const char *name, const char *value, nr_error *err)
{
	json_t *c, *e;
	nr__buf kv = NR__BUF_INIT;
	size_t i, n;
	const char *s;
	bool replaced = false, changed = false;
	int error = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(name, err);
	NR_ASSERT_ARG(value, err);
	n = strlen(name);
	if (n == 0 || strchr(name, '=') || nr__span_has_ctrl(name, n))
		return nr__error_set(err, NR_EINVALID, "config.Env", 0, 0,
			"image config: invalid environment variable name '%s'", name);
	if (strchr(value, '\n'))
		return nr__error_set(err, NR_EINVALID, "config.Env", 0, 0,
			"image config: the value of %s has a newline", name);
	if (nr__buf_printf(&kv, "%s=%s", name, value) < 0)
		return nr__error_oom(err);
	if ((c = config_obj_make(cfg)) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	e = nr__jget(c, "Env");
	if (!json_is_array(e)) {
		if ((e = json_array()) == NULL || nr__jset_new(c, "Env", e) < 0) {
			error = nr__error_oom(err);
			goto done;
		}
	}
	for (i = 0; i < json_array_size(e); i++) {
		s = json_string_value(json_array_get(e, i));
		if (!env_is(s, name, n))
			continue;
		replaced = true;
		if (strcmp(s, kv.ptr) == 0)
			continue;
		if (json_array_set_new(e, i, json_string(kv.ptr)) < 0) {
			error = nr__error_oom(err);
			goto done;
		}
		changed = true;
	}
	if (!replaced) {
		if (json_array_append_new(e, json_string(kv.ptr)) < 0) {
			error = nr__error_oom(err);
			goto done;
		}
		changed = true;
	}
	error = changed ? 1 : 0;
done:
	nr__buf_dispose(&kv);
	return error;
}

/* ---- ExposedPorts ------------------------------------------------------------------------ */

static json_t *exposed_obj(const nr_imgconfig *cfg)
{
	json_t *x = config_member(cfg, "ExposedPorts");
	return json_is_object(x) ? x : NULL;
}

size_t nr_imgconfig_exposed_count(const nr_imgconfig *cfg)
{
	return cfg ? cfg->nekeys : 0;
}

const char *nr_imgconfig_exposed_at(const nr_imgconfig *cfg, size_t i)
{
	return cfg && i < cfg->nekeys ? cfg->ekeys[i] : NULL;
}

int nr_imgconfig_parse_port_key(uint16_t *port, const char **proto, const char *key,
	nr_error *err)
{
	const char *slash;
	size_t plen;
	uint32_t p;
	const char *q;

	nr__error_reset(err);
	NR_ASSERT_ARG(key, err);
	NR_ASSERT_ARG(port, err);
	slash = strchr(key, '/');
	plen = slash ? (size_t)(slash - key) : strlen(key);
	if (nr__parse_u32(key, plen, 65535, &p) < 0)
		return nr__error_set(err, NR_EINVALID, "config.ExposedPorts", 0, 0,
			"image config: invalid port '%s' in ExposedPorts", key);
	if (slash) {
		if (slash[1] == '\0')
			goto badproto;
		for (q = slash + 1; *q; q++)
			if (!(*q >= 'a' && *q <= 'z'))
				goto badproto;
	}
	*port = (uint16_t)p;
	if (proto)
		*proto = slash ? slash + 1 : "tcp";
	return 0;
badproto:
	return nr__error_set(err, NR_EINVALID, "config.ExposedPorts", 0, 0,
		"image config: invalid protocol in ExposedPorts key '%s'", key);
}

static int map_port(const uint16_t *from, const uint16_t *to, size_t n, uint16_t port,
	uint16_t *mapped)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (from[i] == port) {
			*mapped = to[i];
			return 1;
		}
	}
	return 0;
}

int nr_imgconfig_map_exposed(nr_imgconfig *cfg, const uint16_t *from, const uint16_t *to,
	size_t n, int keep_old, nr_error *err)
{
	json_t *x, *v, *copy = NULL;
	const char *k, *proto;
	char *newkey = NULL;
	uint16_t port, np;
	int changes = 0, error = 0;
	void *tmp;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	if (n > 0 && (from == NULL || to == NULL))
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: port map is NULL");
	if ((x = exposed_obj(cfg)) == NULL)
		return 0;
	/* Iterate over a copy: keys are removed/added in the original. */
	if ((copy = json_copy(x)) == NULL)
		return nr__error_oom(err);
	json_object_foreach_safe(copy, tmp, k, v) {
		if (nr_imgconfig_parse_port_key(&port, &proto, k, NULL) < 0)
			continue;   /* left as it is; audit reports it */
		if (!map_port(from, to, n, port, &np) || np == port)
			continue;
		/* the new key in full: a long protocol is never cut into another key */
		free(newkey);
		if ((newkey = nr__malloc(strlen(proto) + 8)) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		if (strchr(k, '/'))
			snprintf(newkey, strlen(proto) + 8, "%u/%s", (unsigned)np, proto);
		else
			snprintf(newkey, strlen(proto) + 8, "%u", (unsigned)np);
		/* a key that folds to newkey counts as there: never two such keys (jsonload.h) */
		if (nr__jget(x, newkey) == NULL) {
			if (json_object_set(x, newkey, v) < 0) {
				error = nr__error_oom(err);
				goto done;
			}
			changes++;
		}
		if (!keep_old) {
			json_object_del(x, k);
			changes++;
		}
	}
	error = changes;
done:
	free(newkey);
	json_decref(copy);
	if (changes > 0 && exposed_index(cfg) < 0 && error >= 0)
		error = nr__error_oom(err);
	return error;
}

/* ---- Healthcheck ------------------------------------------------------------------------ */

static json_t *health_test(const nr_imgconfig *cfg)
{
	json_t *h = config_member(cfg, "Healthcheck"), *t;

	if (!json_is_object(h))
		return NULL;
	t = nr__jget(h, "Test");
	return json_is_array(t) && json_array_size(t) > 0 ? t : NULL;
}

int nr_imgconfig_healthcheck(char **out, const nr_imgconfig *cfg, nr_error *err)
{
	json_t *t, *w;
	const char *first;
	nr__buf b = NR__BUF_INIT;
	size_t i, start = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(cfg, err);
	if ((t = health_test(cfg)) == NULL)
		return 0;
	first = json_string_value(json_array_get(t, 0));
	if (first && !strcmp(first, "NONE"))
		return 0;
	if (first && (!strcmp(first, "CMD") || !strcmp(first, "CMD-SHELL")))
		start = 1;
	for (i = start; i < json_array_size(t); i++) {
		w = json_array_get(t, i);
		if (!json_is_string(w))
			continue;
		if (b.size > 0)
			nr__buf_putc(&b, ' ');
		nr__buf_puts(&b, json_string_value(w));
	}
	if (b.oom)
		return nr__error_oom(err);
	if ((*out = nr__buf_detach(&b, NULL)) == NULL)
		return nr__error_oom(err);
	return 0;
}

/*
 * Rewrite http(s) URL ports in one string. @return number of URLs rewritten (≥ 0) with the
 * result in *out (owned), or NR_ENOMEM.
 */
static int rewrite_url_ports(char **out, const char *s, const uint16_t *from, const uint16_t *to,
	size_t n)
{
	nr__buf b = NR__BUF_INIT;
	const char *p = s, *hit, *host, *end, *colon, *portend;
	int count = 0;

	while ((hit = strstr(p, "http")) != NULL) {
		size_t slen = 0;
		uint16_t def, port, np;
		uint32_t v;

		if (!strncmp(hit, "http://", 7)) {
			slen = 7;
			def = 80;
		} else if (!strncmp(hit, "https://", 8)) {
			slen = 8;
			def = 443;
		} else {
			nr__buf_put(&b, p, (size_t)(hit - p) + 4);
			p = hit + 4;
			continue;
		}
		host = hit + slen;
		end = host + strcspn(host, "/?#\"' \t;");
		/* Port: after the last ':' that is not inside [ipv6]. */
		colon = NULL;
		if (*host == '[') {
			const char *rb = memchr(host, ']', (size_t)(end - host));
			if (rb && rb + 1 < end && rb[1] == ':')
				colon = rb + 1;
		} else {
			colon = memchr(host, ':', (size_t)(end - host));
		}
		portend = end;
		if (colon) {
			if (nr__parse_u32(colon + 1, (size_t)(portend - colon - 1), 65535, &v) < 0) {
				nr__buf_put(&b, p, (size_t)(end - p));
				p = end;
				continue;
			}
			port = (uint16_t)v;
		} else {
			port = def;
		}
		if (!map_port(from, to, n, port, &np) || np == port) {
			nr__buf_put(&b, p, (size_t)(end - p));
			p = end;
			continue;
		}
		nr__buf_put(&b, p, (size_t)((colon ? colon : end) - p));
		nr__buf_printf(&b, ":%u", (unsigned)np);
		p = end;
		count++;
	}
	nr__buf_puts(&b, p);
	if (b.oom) {
		nr__buf_dispose(&b);
		return NR_ENOMEM;
	}
	if ((*out = nr__buf_detach(&b, NULL)) == NULL)
		return NR_ENOMEM;
	return count;
}

int nr_imgconfig_map_healthcheck(nr_imgconfig *cfg, const uint16_t *from, const uint16_t *to,
	size_t n, nr_error *err)
{
	json_t *t;
	size_t i;
	int total = 0, r;
	char *s;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	if (n > 0 && (from == NULL || to == NULL))
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: port map is NULL");
	if ((t = health_test(cfg)) == NULL)
		return 0;
	for (i = 0; i < json_array_size(t); i++) {
		const char *w = json_string_value(json_array_get(t, i));
		if (w == NULL)
			continue;
		if ((r = rewrite_url_ports(&s, w, from, to, n)) < 0)
			return nr__error_oom(err);
		if (r > 0 && json_array_set_new(t, i, json_string(s)) < 0) {
			free(s);
			return nr__error_oom(err);
		}
		free(s);
		total += r;
	}
	return total;
}

/* ---- rootfs.diff_ids and history --------------------------------------------------------- */

static json_t *diff_ids(const nr_imgconfig *cfg)
{
	json_t *r = nr__jget(cfg->root, "rootfs"), *d;

	if (!json_is_object(r))
		return NULL;
	d = nr__jget(r, "diff_ids");
	return json_is_array(d) ? d : NULL;
}

static json_t *history(const nr_imgconfig *cfg)
{
	json_t *h = nr__jget(cfg->root, "history");
	return json_is_array(h) ? h : NULL;
}

size_t nr_imgconfig_diff_id_count(const nr_imgconfig *cfg)
{
	json_t *d = cfg ? diff_ids(cfg) : NULL;
	return d ? json_array_size(d) : 0;
}

const char *nr_imgconfig_diff_id_at(const nr_imgconfig *cfg, size_t i)
{
	json_t *d = cfg ? diff_ids(cfg) : NULL;
	return d ? json_string_value(json_array_get(d, i)) : NULL;
}

const char *nr__imgconfig_last_created(const nr_imgconfig *cfg)
{
	json_t *h = history(cfg);
	size_t k;

	for (k = h ? json_array_size(h) : 0; k > 0; k--) {
		const char *c = json_string_value(nr__jget(json_array_get(h, k - 1), "created"));
		if (c && *c)
			return c;
	}
	return NULL;
}

size_t nr_imgconfig_history_count(const nr_imgconfig *cfg)
{
	json_t *h = cfg ? history(cfg) : NULL;
	return h ? json_array_size(h) : 0;
}

int nr_imgconfig_history_in_step(const nr_imgconfig *cfg)
{
	json_t *h, *e;
	size_t i, nonempty = 0;

	if (cfg == NULL)
		return 0;
	if ((h = history(cfg)) == NULL)
		return nr_imgconfig_diff_id_count(cfg) == 0;
	json_array_foreach(h, i, e) {
		if (!json_is_true(nr__jget(e, "empty_layer")))
			nonempty++;
	}
	return nonempty == nr_imgconfig_diff_id_count(cfg);
}

static bool valid_digest(const char *d)
{
	size_t i;

	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
		return false;
	for (i = 7; i < 71; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
			return false;
	return true;
}

int nr_imgconfig_append_layer(nr_imgconfig *cfg, const char *diff_id, const char *created,
	const char *created_by, const char *comment, nr_error *err)
{
	json_t *r, *d, *h, *entry = NULL;
	bool add_history;

	nr__error_reset(err);
	NR_ASSERT_ARG(cfg, err);
	NR_ASSERT_ARG(diff_id, err);
	if (!valid_digest(diff_id))
		return nr__error_set(err, NR_EINVALID, "rootfs.diff_ids", 0, 0,
			"image config: invalid diff_id '%s'", diff_id);
	h = history(cfg);
	add_history = h != NULL || nr_imgconfig_diff_id_count(cfg) == 0;
	if (add_history) {
		if ((entry = json_object()) == NULL)
			return nr__error_oom(err);
		if ((created && nr__jset_new(entry, "created", json_string(created)) < 0) ||
		    (created_by && nr__jset_new(entry, "created_by", json_string(created_by)) < 0) ||
		    (comment && nr__jset_new(entry, "comment", json_string(comment)) < 0))
			goto oom;
	}
	r = nr__jget(cfg->root, "rootfs");
	if (!json_is_object(r)) {
		if ((r = json_object()) == NULL || nr__jset_new(cfg->root, "rootfs", r) < 0 ||
		    nr__jset_new(r, "type", json_string("layers")) < 0)
			goto oom;
	}
	d = nr__jget(r, "diff_ids");
	if (!json_is_array(d)) {
		if ((d = json_array()) == NULL || nr__jset_new(r, "diff_ids", d) < 0)
			goto oom;
	}
	if (add_history && h == NULL) {
		if ((h = json_array()) == NULL || nr__jset_new(cfg->root, "history", h) < 0)
			goto oom;
	}
	/* Appends last: both succeed or the config is unchanged in its arrays. */
	if (json_array_append_new(d, json_string(diff_id)) < 0)
		goto oom;
	if (add_history) {
		if (json_array_append_new(h, entry) < 0) {
			json_array_remove(d, json_array_size(d) - 1);
			entry = NULL;
			goto oom;
		}
		return 1;
	}
	return 0;
oom:
	json_decref(entry);
	return nr__error_oom(err);
}

size_t nr__text_url_ports(const char *text, uint16_t *ports, size_t max)
{
	const char *p = text, *hit, *host, *end, *colon;
	size_t n = 0;
	uint32_t v;

	while (p && (hit = strstr(p, "http")) != NULL) {
		size_t slen;
		uint16_t port;

		if (!strncmp(hit, "http://", 7))
			slen = 7, port = 80;
		else if (!strncmp(hit, "https://", 8))
			slen = 8, port = 443;
		else {
			p = hit + 4;
			continue;
		}
		host = hit + slen;
		end = host + strcspn(host, "/?#\"' \t;");
		colon = NULL;
		if (*host == '[') {
			const char *rb = memchr(host, ']', (size_t)(end - host));
			if (rb && rb + 1 < end && rb[1] == ':')
				colon = rb + 1;
		} else {
			colon = memchr(host, ':', (size_t)(end - host));
		}
		p = end;
		if (colon) {
			if (nr__parse_u32(colon + 1, (size_t)(end - colon - 1), 65535, &v) < 0)
				continue;
			port = (uint16_t)v;
		}
		if (n < max)
			ports[n] = port;
		n++;
	}
	return n;
}
