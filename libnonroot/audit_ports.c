/*
 * audit_ports.c: the audit's port rules: the ASP.NET Core variables judged against the
 * effective Kestrel bindings (NR005, NR007, NR010), ExposedPorts (NR004), the health check
 * (NR006), program arguments (NR012) and server configuration files (NR013).
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "audit_internal.h"
#include "imgconfig_internal.h"
#include "serverports.h"

/* Does an effective binding come from variable `name`? */
static bool binds_from(const nr_bindings *all, const char *name)
{
	size_t k;

	for (k = 0; k < nr_bindings_count(all); k++) {
		const nr_binding *bd = nr_bindings_at(all, k);
		if (bd->variable && !strcmp(bd->variable, name))
			return true;
	}
	return false;
}

/* The variables of the effective bindings, "A and B" (distinct, in order). */
static void effective_names(nr__buf *out, const nr_bindings *all)
{
	size_t k, j, n = nr_bindings_count(all), shown = 0;

	for (k = 0; k < n; k++) {
		const char *v = nr_bindings_at(all, k)->variable;
		bool seen = false;
		if (v == NULL)
			continue;
		for (j = 0; j < k && !seen; j++)
			seen = nr_bindings_at(all, j)->variable &&
				!strcmp(nr_bindings_at(all, j)->variable, v);
		if (!seen)
			nr__buf_printf(out, "%s%s", shown++ ? " and " : "", v);
	}
}

/* Why a variable with privileged ports is (or is not) what Kestrel binds: every message is
 * derived from the effective bindings, so audit says what urls, k8s and patch say. */
static void explain(nr__buf *why, const nr_bindings *all, const char *name, nr_urls_key key,
	bool effective)
{
	nr_urls_source src = nr_bindings_source(all);
	const char *same = key <= NR_URLS_KEY_HTTPS_PORTS ? nr_bindings_variable(NULL, all, key)
		: NULL;

	if (effective) {
		if (src == NR_URLS_SOURCE_ENDPOINTS) {
			nr__buf_printf(why, "%s is an effective Kestrel endpoint: endpoints from "
				"Kestrel__Endpoints__* override ASPNETCORE_URLS and the PORTS variables", name);
		} else if (src == NR_URLS_SOURCE_URLS) {
			const char *hp = nr_bindings_variable(NULL, all, NR_URLS_KEY_HTTP_PORTS);
			const char *hs = nr_bindings_variable(NULL, all, NR_URLS_KEY_HTTPS_PORTS);
			nr__buf_printf(why, "%s is the effective urls setting", name);
			if (hp || hs)
				nr__buf_printf(why, " and overrides %s%s%s (Kestrel: \"Overriding "
					"HTTP_PORTS ...\")", hp ? hp : "", hp && hs ? " and " : "",
					hs ? hs : "");
		} else {
			nr__buf_printf(why, "no URLS variable or Kestrel endpoint is set, so %s applies",
				name);
		}
		return;
	}
	nr__buf_puts(why, "it has no effect: ");
	if (same && strcmp(same, name) != 0) {
		nr__buf_printf(why, "%s takes precedence", same);
		if (src != NR_URLS_SOURCE_ENDPOINTS)
			return;
		nr__buf_puts(why, ", and ");
	}
	if (src == NR_URLS_SOURCE_ENDPOINTS) {
		nr__buf_puts(why, "the Kestrel endpoints (");
		effective_names(why, all);
		nr__buf_puts(why, ") take precedence (Kestrel logs \"Overriding address(es) ...\")");
	} else if (src == NR_URLS_SOURCE_URLS) {
		nr__buf_printf(why, "%s takes precedence (Kestrel logs \"Overriding HTTP_PORTS ...\")",
			nr_bindings_variable(NULL, all, NR_URLS_KEY_URLS));
	} else if (src == NR_URLS_SOURCE_PORTS) {
		nr__buf_puts(why, "the effective bindings come from ");
		effective_names(why, all);
	} else {
		nr__buf_puts(why, "Kestrel binds its default http://localhost:5000");
	}
}

/* NR005: variable name=value asks for privileged ports (the list, nprivileged of them):
 * an error when they are effective and the user is not root, a note when they are not. */
static int report_privileged(nr__audit_ctx *e, const nr_bindings *all, const char *name,
	const char *value, const char *loc, const char *ports, size_t nprivileged, int runs_root)
{
	const nr__audit_facts *f = e->f;
	nr__buf why = NR__BUF_INIT;
	nr_urls_key key = nr_urls_key_of(name, strlen(name));
	nr_portmap map;
	char *nv = NULL, fix[512];
	bool effective = binds_from(all, name);
	nr_level level;
	int error;

	explain(&why, all, name, key, effective);
	level = !effective ? NR_LEVEL_NOTE : runs_root == 1 ? NR_LEVEL_WARNING : NR_LEVEL_ERROR;
	nr_portmap_default(&map);
	if (nr_urls_rewrite(&nv, NULL, name, value, strlen(value), &map, f->threshold, 0, NULL) > 0)
		snprintf(fix, sizeof(fix), "use unprivileged ports: %s=%s (nonroot patch does this)",
			name, nv);
	else
		snprintf(fix, sizeof(fix), "use ports >= %u (nonroot patch --port-map FROM:TO)",
			f->threshold);
	if (why.oom)
		error = nr__error_oom(e->err);
	else if (level == NR_LEVEL_NOTE)
		error = nr__audit_add(e, "NR005", level, loc, fix, "%s=%s asks for privileged "
			"port%s %s, but %s", name, value, nprivileged > 1 ? "s" : "", ports, why.ptr);
	else
		error = nr__audit_add(e, "NR005", level, loc, fix, "%s=%s makes Kestrel bind "
			"privileged port%s %s: a non-root user without CAP_NET_BIND_SERVICE gets "
			"\"Permission denied\" (%s)%s", name, value, nprivileged > 1 ? "s" : "", ports,
			why.ptr, runs_root == 1 ? "; it works only because the image runs as root" : "");
	free(nv);
	nr__buf_dispose(&why);
	return error;
}

/* Privileged ports of one variable (and its port fallbacks, NR007), judged against the
 * image's effective bindings `all`; NR010 when Kestrel refuses the variable. */
static int check_variable(nr__audit_ctx *e, const nr_bindings *all, const char *name,
	const char *value, int runs_root)
{
	nr__buf kv = NR__BUF_INIT, ports = NR__BUF_INIT, loc = NR__BUF_INIT;
	nr_bindings *b = NULL;
	nr_error berr = NR_ERROR_INIT;
	nr_urls_options uo = NR_URLS_OPTIONS_INIT;
	const char *envp[2];
	size_t k, nprivileged = 0;
	int error = 0;

	uo.threshold = e->f->threshold;
	nr__buf_printf(&kv, "%s=%s", name, value);
	nr__buf_printf(&loc, "config.Env.%s", name);
	if (kv.oom || loc.oom) {
		error = nr__error_oom(e->err);
		goto done;
	}
	envp[0] = kv.ptr;
	envp[1] = NULL;
	if (nr_bindings_from_env(&b, envp, &uo, &berr) < 0) {
		if (berr.code == NR_ENOMEM)
			error = nr__error_oom(e->err);
		else
			error = nr__audit_add(e, "NR010", NR_LEVEL_ERROR, loc.ptr, NULL, "%s=%s: %s",
				name, value, berr.message);
		goto done;
	}
	for (k = 0; k < nr_bindings_count(b); k++) {
		const nr_binding *bd = nr_bindings_at(b, k);
		if (bd->parsed.flags & NR_URL_PORT_FALLBACK) {
			char txt[128];
			snprintf(txt, sizeof(txt), "%.*s", (int)bd->parsed.port_text.len,
				bd->url + bd->parsed.port_text.off);
			if ((error = nr__audit_add(e, "NR007", NR_LEVEL_WARNING, loc.ptr, NULL,
			    "%s=%s: the port '%s' is not a number: Kestrel silently binds port %d "
			    "instead", name, value, txt, (int)bd->parsed.port)) < 0)
				goto done;
		}
		if (bd->privileged) {
			nr__buf_printf(&ports, "%s%d", nprivileged ? ", " : "", (int)bd->parsed.port);
			nprivileged++;
		}
	}
	if (nprivileged == 0 || all == NULL)
		goto done;
	if (ports.oom)
		error = nr__error_oom(e->err);
	else
		error = report_privileged(e, all, name, value, loc.ptr, ports.ptr, nprivileged,
			runs_root);
done:
	nr_bindings_free(b);
	nr__buf_dispose(&kv);
	nr__buf_dispose(&ports);
	nr__buf_dispose(&loc);
	return error;
}

/* The ASP.NET Core variables (each at its last entry) against the effective bindings; when
 * the whole environment is refused by Kestrel, NR010 names the variable (or the endpoint). */
int nr__audit_check_ports(nr__audit_ctx *e, nr_imgconfig *cfg, const nr_bindings *all,
	const nr_error *allerr, int runs_root)
{
	const nr__audit_facts *f = e->f;
	nr_portmap map;
	char *hc = NULL, loc[160], fix[256];
	size_t n = nr_imgconfig_env_count(cfg), k, before = e->a->n;
	int error = 0;

	nr_portmap_default(&map);
	for (k = 0; k < n; k++) {
		const char *kv = nr_imgconfig_env_at(cfg, k), *eq = strchr(kv, '=');
		char name[128];
		size_t nlen;

		if (eq == NULL || (nlen = (size_t)(eq - kv)) >= sizeof(name) ||
		    nr_urls_key_of(kv, nlen) == NR_URLS_KEY_NONE)
			continue;
		memcpy(name, kv, nlen);
		name[nlen] = '\0';
		if (nr_imgconfig_env_get(cfg, name) != eq + 1)
			continue;   /* an earlier entry of a repeated variable: the last one counts */
		if ((error = check_variable(e, all, name, eq + 1, runs_root)) < 0)
			goto done;
	}
	if (all == NULL) {
		/* Refused as a whole though no variable alone was: name what Kestrel names. */
		bool named = false;
		for (k = before; k < e->a->n; k++)
			named |= !strcmp(e->a->f[k].id, "NR010");
		snprintf(loc, sizeof(loc), "config.Env%s%s", *allerr->source ? "." : "",
			allerr->source);
		if (!named && (error = nr__audit_add(e, "NR010", NR_LEVEL_ERROR, loc, NULL, "%s",
		    allerr->message)) < 0)
			goto done;
	}
	/* ExposedPorts. */
	for (k = 0; k < nr_imgconfig_exposed_count(cfg); k++) {
		const char *key = nr_imgconfig_exposed_at(cfg, k), *proto;
		uint16_t port;
		int to;

		if (nr_imgconfig_parse_port_key(&port, &proto, key, NULL) < 0 || port == 0 ||
		    port >= f->threshold)
			continue;
		snprintf(loc, sizeof(loc), "config.ExposedPorts.%s", key);
		if ((to = nr_portmap_lookup(&map, port)) >= 0)
			snprintf(fix, sizeof(fix), "expose %d/%s instead (nonroot patch maps it)", to,
				proto);
		else
			snprintf(fix, sizeof(fix), "expose a port >= %u (nonroot patch --port-map "
				"%u:PORT)", f->threshold, (unsigned)port);
		if ((error = nr__audit_add(e, "NR004", NR_LEVEL_WARNING, loc, fix,
		    "ExposedPorts has privileged port %s", key)) < 0)
			goto done;
	}
	/* Health check. */
	if ((error = nr_imgconfig_healthcheck(&hc, cfg, e->err)) < 0)
		goto done;
	if (hc) {
		uint16_t ports[16];
		size_t np = nr__text_url_ports(hc, ports, NR_ARRAY_SIZE(ports)), j;
		for (j = 0; j < np && j < NR_ARRAY_SIZE(ports); j++) {
			int to;
			if (ports[j] == 0 || ports[j] >= f->threshold)
				continue;
			to = nr_portmap_lookup(&map, ports[j]);
			if (to >= 0)
				snprintf(fix, sizeof(fix), "probe port %d (nonroot patch rewrites the URL)",
					to);
			else
				snprintf(fix, sizeof(fix), "probe the unprivileged port the server "
					"listens on");
			if ((error = nr__audit_add(e, "NR006", NR_LEVEL_WARNING, "config.Healthcheck",
			    fix, "the health check probes privileged port %u: %s", (unsigned)ports[j],
			    hc)) < 0)
				goto done;
		}
	}
done:
	free(hc);
	return error;
}

/* Privileged ports that patch cannot move: program arguments and server configurations
 * (NR012, NR013; error when the image runs as non-root, else warning). */
typedef struct port_ctx {
	nr__audit_ctx *e;
	const char *field;       /* "Cmd", "Entrypoint"; NULL: a file */
	const char *path;
	int runs_root;
} port_ctx;

static int port_found(void *ctx_, size_t where, const char *text, unsigned port)
{
	port_ctx *pc = ctx_;
	nr_level level = pc->runs_root == 1 ? NR_LEVEL_WARNING : NR_LEVEL_ERROR;
	char loc[320], fix[320];

	if (pc->field) {
		snprintf(loc, sizeof(loc), "config.%s[%zu]", pc->field, where);
		snprintf(fix, sizeof(fix), "change '%s' to a port >= %u (e.g. %u) and expose it; "
			"nonroot patch cannot rewrite program arguments", text, pc->e->f->threshold,
			port + 8000 < 65536 ? port + 8000 : 8080);
		return nr__audit_add(pc->e, "NR012", level, loc, fix, "%s argument '%s' makes the "
			"server listen on privileged port %u: a non-root user without "
			"CAP_NET_BIND_SERVICE gets \"Permission denied\"%s", pc->field, text, port,
			pc->runs_root == 1 ? "; it works only because the image runs as root" : "");
	}
	snprintf(loc, sizeof(loc), "%s:%zu", pc->path, where);
	snprintf(fix, sizeof(fix), "listen on a port >= %u (e.g. %u) in /%s (a new layer); "
		"nonroot patch cannot edit server configurations", pc->e->f->threshold,
		port + 8000 < 65536 ? port + 8000 : 8080, pc->path);
	return nr__audit_add(pc->e, "NR013", level, loc, fix, "/%s:%zu: '%s' listens on "
		"privileged port %u: a non-root server gets \"Permission denied\"%s", pc->path, where,
		text, port, pc->runs_root == 1 ? "; it works only because the image runs as root" : "");
}

int nr__audit_check_server_ports(nr__audit_ctx *e, nr_imgconfig *cfg, int runs_root)
{
	static const char *const fields[] = { "Entrypoint", "Cmd" };
	const char *args[256];
	port_ctx pc;
	size_t k, n;
	int error;

	pc.e = e;
	pc.runs_root = runs_root;
	pc.path = NULL;
	for (k = 0; k < NR_ARRAY_SIZE(fields); k++) {
		n = nr__imgconfig_strings(cfg, fields[k], args, NR_ARRAY_SIZE(args));
		if (n > NR_ARRAY_SIZE(args))
			n = NR_ARRAY_SIZE(args);
		pc.field = fields[k];
		if ((error = nr__args_ports(args, n, e->f->threshold, port_found, &pc)) < 0)
			return error == NR_ENOMEM ? nr__error_oom(e->err) : error;
	}
	pc.field = NULL;
	for (k = 0; k < e->f->nfiles; k++) {
		pc.path = e->f->files[k].path;
		if ((error = nr__config_ports(pc.path, e->f->files[k].content, e->f->files[k].len,
		    e->f->threshold, port_found, &pc)) < 0)
			return error;
	}
	return 0;
}
