/*
 * patch_config.c: the config side of the patch plan: the numeric User, APP_UID, the ASP.NET
 * Core variables (ports moved by the port map, or kept beside their unprivileged twins in
 * compat mode), ExposedPorts and the health check.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "patch_internal.h"
#include "imgconfig_internal.h"

/* Finishing a gradual migration: value without its privileged mapped bindings (those that
 * --mode compat kept beside their unprivileged ones). Each ';'-separated entry is judged
 * alone, as Kestrel reads it. *out is NULL when nothing is dropped. */
static int drop_migrated(char **out, const char *name, const char *value, const nr_portmap *map,
	nr_error *err)
{
	nr__buf nv = NR__BUF_INIT, kv = NR__BUF_INIT;
	const char *p = value;
	bool dropped = false, first = true;

	*out = NULL;
	for (;;) {
		const char *semi = strchr(p, ';'), *envp[2];
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		nr_bindings *b = NULL;
		bool drop = false;

		nr__buf_truncate(&kv, 0);
		nr__buf_printf(&kv, "%s=%.*s", name, (int)len, p);
		envp[0] = kv.ptr;
		envp[1] = NULL;
		if (!kv.oom && len > 0 && nr_bindings_from_env(&b, envp, NULL, NULL) == 0 &&
		    nr_bindings_count(b) == 1) {
			const nr_binding *bd = nr_bindings_at(b, 0);
			drop = bd->privileged && nr_portmap_lookup(map, bd->parsed.port) >= 0;
		}
		nr_bindings_free(b);
		if (drop) {
			dropped = true;
		} else if (len > 0) {
			nr__buf_printf(&nv, "%s%.*s", first ? "" : ";", (int)len, p);
			first = false;
		}
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	nr__buf_dispose(&kv);
	if (nv.oom || kv.oom) {
		nr__buf_dispose(&nv);
		return nr__error_oom(err);
	}
	if (dropped && nv.size > 0)
		*out = nr__buf_detach(&nv, NULL);
	nr__buf_dispose(&nv);
	return 0;
}

/* The ports Kestrel binds with cfg's environment (at most max; none when Kestrel would refuse
 * it). */
static size_t bound_ports(const nr_imgconfig *cfg, uint16_t *ports, size_t max)
{
	size_t n = nr_imgconfig_env_count(cfg), k, np = 0;
	const char **envp;
	nr_bindings *b = NULL;

	if ((envp = nr__calloc(n + 1, sizeof(*envp))) == NULL)
		return 0;
	for (k = 0; k < n; k++)
		envp[k] = nr_imgconfig_env_at(cfg, k);
	if (nr_bindings_from_env(&b, envp, NULL, NULL) == 0)
		for (k = 0; k < nr_bindings_count(b) && np < max; k++)
			if (nr_bindings_at(b, k)->parsed.port > 0)
				ports[np++] = (uint16_t)nr_bindings_at(b, k)->parsed.port;
	nr_bindings_free(b);
	free(envp);
	return np;
}

static bool has_port(const uint16_t *ports, size_t n, unsigned port)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (ports[k] == port)
			return true;
	return false;
}

/* User (numeric, so that Kubernetes runAsNonRoot can verify it; non-root mode) and APP_UID,
 * like the .NET 8 images. */
static int plan_user_env(nr__patch_ctx *c, nr_imgconfig *cfg, bool *changed)
{
	const nr__patch_settings *s = c->s;
	char user[32], id[16];
	const char *cur;
	int r;

	if (s->mode == NR_PATCH_NONROOT) {
		snprintf(user, sizeof(user), "%u:%u", (unsigned)s->uid, (unsigned)s->gid);
		cur = nr_imgconfig_user(cfg);
		if (strcmp(cur, user) != 0) {
			if ((r = nr__patch_change(c, "config", "User", *cur ? cur : NULL, user, s->kept
			    ? "keep the image's non-root user; numeric so that runAsNonRoot can verify it"
			    : "run as the non-root user; numeric so that runAsNonRoot can verify it")) < 0 ||
			    (r = nr_imgconfig_set_user(cfg, user, c->err)) < 0)
				return r;
			*changed = true;
		}
	}
	snprintf(id, sizeof(id), "%u", (unsigned)s->uid);
	cur = nr_imgconfig_env_get(cfg, "APP_UID");
	if (cur == NULL || strcmp(cur, id) != 0) {
		if ((r = nr__patch_change(c, "env", "APP_UID", cur, id,
		    "the non-root uid, as .NET 8 images publish it")) < 0 ||
		    (r = nr_imgconfig_env_set(cfg, "APP_UID", id, c->err)) < 0)
			return r;
		*changed = true;
	}
	return 0;
}

/* Set variable name to nv (taken) and report it, when it differs from val. */
static int set_variable(nr__patch_ctx *c, nr_imgconfig *cfg, const char *name, const char *val,
	char *nv, const char *why, bool *changed)
{
	int r = 0;

	if (nv && strcmp(nv, val) != 0) {
		if ((r = nr__patch_change(c, "env", name, val, nv, why)) == 0 &&
		    (r = nr_imgconfig_env_set(cfg, name, nv, c->err)) == 0)
			*changed = true;
	}
	free(nv);
	return r;
}

/* One ASP.NET Core variable name=val: only its ports change. */
static int plan_variable(nr__patch_ctx *c, nr_imgconfig *cfg, const char *name, const char *val,
	bool *changed)
{
	const nr__patch_settings *s = c->s;
	char why[256], *nv = NULL;
	int r;

	if (s->mode == NR_PATCH_COMPAT && nr__urls_compat_done(name, val, &s->ports))
		return 0;
	if (s->mode == NR_PATCH_NONROOT && nr__urls_compat_done(name, val, &s->ports)) {
		/* After --mode compat: every privileged binding has its unprivileged twin.
		 * Finish the migration: drop the privileged ones. */
		if ((r = drop_migrated(&nv, name, val, &s->ports, c->err)) < 0)
			return r;
		return set_variable(c, cfg, name, val, nv, "finish the gradual migration: drop the "
			"privileged bindings that --mode compat kept beside their unprivileged ones",
			changed);
	}
	r = nr_urls_rewrite(&nv, NULL, name, val, strlen(val), &s->ports,
		NR_UNPRIVILEGED_PORT_START, s->mode == NR_PATCH_COMPAT ? NR_REWRITE_COMPAT : 0,
		c->err);
	if (r <= 0) {
		free(nv);
		return r;
	}
	snprintf(why, sizeof(why), s->mode == NR_PATCH_COMPAT
		? "keep the privileged bindings and add unprivileged ones (%s)"
		: "a non-root user cannot bind ports below 1024 (%s)", s->portdesc);
	return set_variable(c, cfg, name, val, nv, why, changed);
}

/* ASP.NET Core's variables, each at its last (effective) entry. */
static int plan_urls(nr__patch_ctx *c, nr_imgconfig *cfg, bool *changed)
{
	size_t k;
	int r;

	for (k = 0; k < nr_imgconfig_env_count(cfg); k++) {
		const char *kv = nr_imgconfig_env_at(cfg, k), *eq = strchr(kv, '=');
		char name[128];
		size_t nlen;

		if (eq == NULL || (nlen = (size_t)(eq - kv)) >= sizeof(name))
			continue;
		if (nr_urls_key_of(kv, nlen) == NR_URLS_KEY_NONE)
			continue;
		memcpy(name, kv, nlen);
		name[nlen] = '\0';
		if (nr_imgconfig_env_get(cfg, name) != eq + 1)
			continue;   /* handle a repeated variable once, at its last entry */
		if ((r = plan_variable(c, cfg, name, eq + 1, changed)) < 0)
			return r;
	}
	return 0;
}

/* Privileged exposed ports the patch leaves: a warning each (compat keeps mapped ones on
 * purpose). */
static int warn_exposed(nr__patch_ctx *c, nr_imgconfig *cfg)
{
	const nr__patch_settings *s = c->s;
	char why[256];
	size_t k;
	int r;

	for (k = 0; k < nr_imgconfig_exposed_count(cfg); k++) {
		const char *key = nr_imgconfig_exposed_at(cfg, k);
		uint16_t port;
		int mapped;
		if (nr_imgconfig_parse_port_key(&port, NULL, key, NULL) < 0 || port == 0 ||
		    port >= s->threshold)
			continue;
		if ((mapped = nr_portmap_lookup(&s->ports, port)) >= 0 && s->mode == NR_PATCH_COMPAT)
			continue;   /* compat keeps the old ports on purpose */
		if (mapped >= 0)
			snprintf(why, sizeof(why), "port %u stays exposed: no binding of the image "
				"moved off it (patch moves ASP.NET Core's variables only; program "
				"arguments and server configurations are audit findings NR012/NR013)",
				(unsigned)port);
		else
			snprintf(why, sizeof(why), "port %u is privileged and not in the port map: "
				"add --port-map %u:%u", (unsigned)port, (unsigned)port,
				(unsigned)port + 8000u);
		if ((r = nr__patch_change(c, "warning", key, NULL, NULL, why)) < 0)
			return r;
	}
	return 0;
}

/* ExposedPorts: the moved ports from[k] -> to[k]; then what stays privileged. */
static int plan_exposed(nr__patch_ctx *c, nr_imgconfig *cfg, const uint16_t *from,
	const uint16_t *to, size_t nmoved, bool *changed)
{
	const nr__patch_settings *s = c->s;
	char before[1024] = "", after[1024] = "";
	int r;

	nr__exposed_list(cfg, before, sizeof(before));
	r = nr_imgconfig_map_exposed(cfg, from, to, nmoved, s->mode == NR_PATCH_COMPAT, c->err);
	if (r < 0)
		return r;
	if (r > 0) {
		nr__exposed_list(cfg, after, sizeof(after));
		if ((r = nr__patch_change(c, "exposed-port", "ExposedPorts", before, after,
		    s->mode == NR_PATCH_COMPAT ? "expose the added unprivileged ports too"
		    : "the server now listens on unprivileged ports")) < 0)
			return r;
		*changed = true;
	}
	return warn_exposed(c, cfg);
}

/* Health check URLs (non-root mode only: the old ports are gone). */
static int plan_healthcheck(nr__patch_ctx *c, nr_imgconfig *cfg, const uint16_t *from,
	const uint16_t *to, size_t nmoved, bool *changed)
{
	char *before = NULL, *after = NULL;
	int r;

	if (c->s->mode != NR_PATCH_NONROOT)
		return 0;
	if ((r = nr_imgconfig_healthcheck(&before, cfg, c->err)) < 0)
		return r;
	r = nr_imgconfig_map_healthcheck(cfg, from, to, nmoved, c->err);
	if (r > 0 && (r = nr_imgconfig_healthcheck(&after, cfg, c->err)) == 0) {
		r = nr__patch_change(c, "healthcheck", "Healthcheck", before, after,
			"probe the ports the server now listens on");
		*changed = true;
	}
	free(before);
	free(after);
	return r < 0 ? r : 0;
}

int nr__patch_plan_config(nr__patch_ctx *c, nr_imgconfig *cfg, bool *changed)
{
	const nr__patch_settings *s = c->s;
	size_t k, nbefore, nafter, nmoved = 0;
	uint16_t before_ports[64], after_ports[64], from[NR_PORTMAP_MAX], to[NR_PORTMAP_MAX];
	int r;

	nbefore = bound_ports(cfg, before_ports, NR_ARRAY_SIZE(before_ports));
	if ((r = plan_user_env(c, cfg, changed)) < 0 || (r = plan_urls(c, cfg, changed)) < 0)
		return r;
	/* ExposedPorts (and the health check) move only with a binding that moved: FROM was
	 * bound before and TO is bound now. A server told its port some other way (program
	 * arguments, a configuration file) still listens on FROM: audit reports it. */
	nafter = bound_ports(cfg, after_ports, NR_ARRAY_SIZE(after_ports));
	for (k = 0; k < s->ports.count; k++) {
		if (has_port(before_ports, nbefore, s->from[k]) &&
		    has_port(after_ports, nafter, s->to[k])) {
			from[nmoved] = s->from[k];
			to[nmoved++] = s->to[k];
		}
	}
	if ((r = plan_exposed(c, cfg, from, to, nmoved, changed)) < 0 ||
	    (r = plan_healthcheck(c, cfg, from, to, nmoved, changed)) < 0)
		return r;
	return 0;
}

void nr__exposed_list(const nr_imgconfig *cfg, char *buf, size_t size)
{
	size_t k, used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (k = 0; k < nr_imgconfig_exposed_count(cfg) && used < size; k++) {
		int w = snprintf(buf + used, size - used, "%s%s", k ? " " : "",
			nr_imgconfig_exposed_at(cfg, k));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

bool nr__urls_compat_done(const char *name, const char *value, const nr_portmap *map)
{
	nr__buf kv = NR__BUF_INIT;
	nr_bindings *b = NULL;
	const char *envp[2];
	int32_t ports[64];
	size_t n = 0, k, j;
	bool done = true, any = false;

	nr__buf_printf(&kv, "%s=%s", name, value);
	envp[0] = kv.ptr;
	envp[1] = NULL;
	if (kv.oom || nr_bindings_from_env(&b, envp, NULL, NULL) < 0) {
		nr__buf_dispose(&kv);
		return false;
	}
	for (k = 0; k < nr_bindings_count(b) && n < NR_ARRAY_SIZE(ports); k++)
		ports[n++] = nr_bindings_at(b, k)->parsed.port;
	for (k = 0; k < nr_bindings_count(b); k++) {
		const nr_binding *bd = nr_bindings_at(b, k);
		int to;
		bool found = false;
		if (!bd->privileged || (to = nr_portmap_lookup(map, bd->parsed.port)) < 0)
			continue;
		any = true;
		for (j = 0; j < n; j++)
			if (ports[j] == to)
				found = true;
		if (!found)
			done = false;
	}
	nr_bindings_free(b);
	nr__buf_dispose(&kv);
	return any && done;
}

