/*
 * audit.c: findings about what makes an image need root (see audit.h for the rules).
 *
 * The rules run over plain facts (nr__audit_eval), gathered from the image by one layer scan
 * (passwd, group, set-id files) and, for a non-root user with a home, a second scan for the
 * home directory.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "audit_internal.h"
#include "image_internal.h"
#include "imgconfig_internal.h"
#include "patch_internal.h"
#include "serverports.h"
#include "nonroot/imgconfig.h"

static const nr_audit_rule rules[] = {
	{ "NR001", "runs-as-root", NR_LEVEL_ERROR,
	  "The image runs as root",
	  "Add a non-root user and set a numeric User: nonroot patch IMAGE (user app, 1654:1654)." },
	{ "NR002", "user-not-found", NR_LEVEL_ERROR,
	  "The image's User is not in its /etc/passwd or /etc/group: the runtime refuses to start it",
	  "Add the user to the image (nonroot patch IMAGE --user NAME) or set a numeric User." },
	{ "NR003", "non-numeric-user", NR_LEVEL_WARNING,
	  "The image's User is a name: Kubernetes runAsNonRoot cannot verify it",
	  "Set User to numeric UID:GID (nonroot patch writes \"1654:1654\")." },
	{ "NR004", "exposed-privileged-port", NR_LEVEL_WARNING,
	  "ExposedPorts has a privileged port (below 1024)",
	  "Expose the unprivileged port the server listens on as non-root (nonroot patch maps "
	  "80/tcp to 8080/tcp and 443/tcp to 8443/tcp)." },
	{ "NR005", "aspnet-privileged-port", NR_LEVEL_ERROR,
	  "An ASP.NET Core variable makes Kestrel bind a privileged port",
	  "Move the binding to a port >= 1024 (nonroot patch rewrites ASPNETCORE_URLS, DOTNET_URLS "
	  "and ASPNETCORE_HTTP(S)_PORTS: 80 to 8080, 443 to 8443)." },
	{ "NR006", "healthcheck-privileged-port", NR_LEVEL_WARNING,
	  "The health check probes a privileged port",
	  "Probe the port the server listens on as non-root (nonroot patch rewrites the URL)." },
	{ "NR007", "port-fallback", NR_LEVEL_WARNING,
	  "A URL's port is not a number: Kestrel silently binds the scheme's default port",
	  "Write the port as a number, e.g. http://+:8080." },
	{ "NR008", "setid-file", NR_LEVEL_WARNING,
	  "The image has a set-uid or set-gid file",
	  "Remove the set-id bit (chmod u-s,g-s) or the file, and run with no-new-privileges "
	  "(nonroot bundle harden)." },
	{ "NR009", "home-not-owned", NR_LEVEL_WARNING,
	  "The user's home directory is missing or not owned by the user",
	  "Create the home owned by the user (nonroot patch does: 0755 UID:GID)." },
	{ "NR010", "aspnet-invalid-address", NR_LEVEL_ERROR,
	  "An ASP.NET Core address is invalid: Kestrel would refuse to start",
	  "Correct the address (see nonroot urls --check NAME=VALUE)." },
	{ "NR011", "user-without-entry", NR_LEVEL_NOTE,
	  "The numeric User has no passwd entry: it runs with gid 0, HOME=/ and no name",
	  "Add the user: nonroot patch IMAGE --uid UID." },
	{ "NR012", "command-privileged-port", NR_LEVEL_ERROR,
	  "A Cmd or Entrypoint argument makes the server listen on a privileged port",
	  "Change the argument to a port >= 1024 (e.g. -p 8080) and expose that port: nonroot "
	  "patch cannot rewrite program arguments." },
	{ "NR013", "server-config-privileged-port", NR_LEVEL_ERROR,
	  "A server configuration file in the image (nginx, Apache, lighttpd) listens on a "
	  "privileged port",
	  "Make the server listen on a port >= 1024 (nginx: listen 8080; Apache: Listen 8080; "
	  "lighttpd: server.port = 8080) in a new layer: nonroot patch cannot edit server "
	  "configurations." },
	{ "NR014", "root-group", NR_LEVEL_WARNING,
	  "The non-root user runs with group 0 (root's group), as its primary or a supplementary "
	  "group: it may read and write what root's group may",
	  "Set User to numeric UID:GID with a GID other than 0 and take the user out of group 0 "
	  "(nonroot patch writes \"1654:1654\")." },
	{ "NR015", "file-capabilities", NR_LEVEL_WARNING,
	  "The image has a file with file capabilities (security.capability): running it grants "
	  "them like a set-uid bit",
	  "Remove the capabilities (setcap -r FILE) in a new layer, or the file, and run with "
	  "no-new-privileges and no bounding capabilities (nonroot bundle harden)." },
};

typedef struct platform_info {
	char *platform;
	char *user;
	nr_bindings *bindings;   /* the effective bindings; NULL when Kestrel would refuse them */
	nr_error bindings_err;   /* why, then */
} platform_info;

struct nr_audit {
	nr_finding *f;
	size_t n, alloc;
	platform_info *p;
	size_t np, ap;
	int max;
	size_t suppressed;
	json_t *occ;   /* "id\nplatform\nlocation" -> findings so far (a hashed map: linear adds) */
};

const char *nr_level_name(int level)
{
	switch (level) {
	case NR_LEVEL_NONE: return "none";
	case NR_LEVEL_NOTE: return "note";
	case NR_LEVEL_WARNING: return "warning";
	case NR_LEVEL_ERROR: return "error";
	default: return "?";
	}
}

size_t nr_audit_rule_count(void)
{
	return NR_ARRAY_SIZE(rules);
}

const nr_audit_rule *nr_audit_rule_at(size_t k)
{
	return k < NR_ARRAY_SIZE(rules) ? &rules[k] : NULL;
}

const nr_audit_rule *nr_audit_rule_find(const char *id)
{
	size_t k;

	for (k = 0; id && k < NR_ARRAY_SIZE(rules); k++)
		if (!strcmp(rules[k].id, id))
			return &rules[k];
	return NULL;
}

int nr_audit_options_init(nr_audit_options *opts, unsigned int version)
{
	nr_audit_options init = NR_AUDIT_OPTIONS_INIT;

	if (opts == NULL || version != NR_AUDIT_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

size_t nr_audit_platform_count(const nr_audit *a)
{
	return a ? a->np : 0;
}

const char *nr_audit_platform(const nr_audit *a, size_t i)
{
	return a && i < a->np ? a->p[i].platform : NULL;
}

const char *nr_audit_user(const nr_audit *a, size_t i)
{
	return a && i < a->np ? a->p[i].user : NULL;
}

const nr_bindings *nr_audit_bindings(const nr_audit *a, size_t i, const nr_error **why)
{
	if (why)
		*why = a && i < a->np && a->p[i].bindings == NULL ? &a->p[i].bindings_err : NULL;
	return a && i < a->np ? a->p[i].bindings : NULL;
}

size_t nr_audit_count(const nr_audit *a)
{
	return a ? a->n : 0;
}

const nr_finding *nr_audit_finding(const nr_audit *a, size_t k)
{
	return a && k < a->n ? &a->f[k] : NULL;
}

int nr_audit_max_level(const nr_audit *a)
{
	return a ? a->max : NR_LEVEL_NONE;
}

size_t nr_audit_suppressed_count(const nr_audit *a)
{
	return a ? a->suppressed : 0;
}

int nr_audit_apply(nr_audit *a, const nr_audit_config *cfg, nr_error *err)
{
	size_t k, kept = 0;

	nr__error_reset(err);
	NR_ASSERT_ARG(a, err);
	if (cfg == NULL)
		return 0;
	a->max = NR_LEVEL_NONE;
	for (k = 0; k < a->n; k++) {
		nr_finding *f = &a->f[k];
		int level, in_baseline;
		if (!nr__audit_config_keeps(cfg, f, &level, &in_baseline)) {
			free((char *)f->platform);
			free((char *)f->location);
			free((char *)f->message);
			free((char *)f->fix);
			free((char *)f->fingerprint);
			a->suppressed++;
			continue;
		}
		f->level = (nr_level)level;
		f->baseline = in_baseline;
		if (!in_baseline && level > a->max)
			a->max = level;
		a->f[kept++] = *f;
	}
	a->n = kept;
	return 0;
}

void nr_audit_free(nr_audit *a)
{
	size_t k;

	if (a == NULL)
		return;
	for (k = 0; k < a->n; k++) {
		free((char *)a->f[k].platform);
		free((char *)a->f[k].location);
		free((char *)a->f[k].message);
		free((char *)a->f[k].fix);
		free((char *)a->f[k].fingerprint);
	}
	for (k = 0; k < a->np; k++) {
		free(a->p[k].platform);
		free(a->p[k].user);
		nr_bindings_free(a->p[k].bindings);
	}
	free(a->f);
	free(a->p);
	json_decref(a->occ);
	free(a);
}

nr_audit *nr__audit_new(void)
{
	return nr__calloc(1, sizeof(nr_audit));
}

/* ---- evaluation ---------------------------------------------------------------------------- */

typedef struct eval {
	nr_audit *a;
	const nr__audit_facts *f;
	nr_error *err;
} eval;

static int add(eval *e, const char *id, nr_level level, const char *location, const char *fix,
	const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int add(eval *e, const char *id, nr_level level, const char *location, const char *fix,
	const char *fmt, ...)
{
	nr_audit *a = e->a;
	nr_finding *f;
	nr_buf msg = NR_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	nr_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (msg.oom || nr__array_grow((void **)&a->f, &a->alloc, a->n + 1, sizeof(*a->f)) < 0) {
		nr_buf_dispose(&msg);
		return nr__error_oom(e->err);
	}
	f = &a->f[a->n];
	memset(f, 0, sizeof(*f));
	f->id = nr_audit_rule_find(id)->id;
	f->level = level;
	f->manifest = e->f->manifest;
	f->platform = nr__strdup(e->f->platform ? e->f->platform : "");
	f->location = nr__strdup(location ? location : "");
	f->fix = nr__strdup(fix ? fix : nr_audit_rule_find(id)->help);
	f->message = nr_buf_detach(&msg, NULL);
	a->n++;   /* counted first: nr_audit_free frees what was allocated */
	if (!f->platform || !f->location || !f->fix || !f->message)
		return nr__error_oom(e->err);
	{
		/* the occurrence number of this (rule, platform, location): a hashed count, since
		 * 40k set-id files make 40k findings (a scan of the earlier ones was quadratic) */
		char fp[NR_FINGERPRINT_SIZE];
		size_t occ;
		if (nr__occurrence(&a->occ, f->id, f->platform, f->location, &occ) < 0 ||
		    nr__audit_fingerprint(fp, f->id, f->platform, f->location, occ) < 0 ||
		    (f->fingerprint = nr__strdup(fp)) == NULL)
			return nr__error_oom(e->err);
	}
	if ((int)level > a->max)
		a->max = (int)level;
	return 0;
}

/* Is every ':'-part of a User spec numeric (as runc's Atoi would take it)? */
static bool spec_numeric(const char *spec)
{
	const char *p = spec;
	size_t n;
	uint64_t v;

	if (*spec == '\0')
		return true;
	while (p) {
		const char *colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (nr_parse_u64(p, n, UINT64_MAX, &v) == NR_EINVALID)
			return false;
		p = colon ? colon + 1 : NULL;
	}
	return true;
}

static int check_user(eval *e, nr_imgconfig *cfg, int *runs_root)
{
	const nr__audit_facts *f = e->f;
	const char *spec = nr_imgconfig_user(cfg);
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_exec_user eu;
	nr_error rerr = NR_ERROR_INIT;
	char fix[256];
	int error = 0, r;

	*runs_root = -1;   /* unknown */
	memset(&eu, 0, sizeof(eu));
	if (f->passwd && (error = nr_passwd_parse(&pw, f->passwd, f->passwd_len, "etc/passwd",
	    e->err)) < 0)
		goto done;
	if (f->group && (error = nr_group_parse(&gr, f->group, f->group_len, "etc/group",
	    e->err)) < 0)
		goto done;
	r = nr_userspec_resolve(&eu, spec, pw, gr, NULL, &rerr);
	if (r == NR_ENOMEM) {
		error = nr__error_oom(e->err);
		goto done;
	}
	if (r < 0) {
		snprintf(fix, sizeof(fix), "add the user to the image (nonroot patch IMAGE --user %.*s) "
			"or set a numeric User", (int)strcspn(spec, ":"), spec);
		if (rerr.line > 0)
			error = add(e, "NR002", NR_LEVEL_ERROR, "config.User", fix,
				"User '%s': %s:%zu: %s", spec, rerr.source, rerr.line, rerr.message);
		else
			error = add(e, "NR002", NR_LEVEL_ERROR, "config.User", fix,
				"User '%s': %s", spec, rerr.message);
		goto done;
	}
	*runs_root = eu.uid == 0;
	if (eu.uid == 0) {
		if (*spec == '\0')
			error = add(e, "NR001", NR_LEVEL_ERROR, "config.User", NULL,
				"User is not set: the container runs as root (uid 0)");
		else
			error = add(e, "NR001", NR_LEVEL_ERROR, "config.User", NULL,
				"User '%s' runs as root (uid 0)", spec);
		goto done;
	}
	{
		bool sup0 = false;
		size_t k;
		for (k = 0; k < eu.n_additional_gids; k++)
			sup0 = sup0 || eu.additional_gids[k] == 0;
		if (eu.gid == 0 || sup0) {
			snprintf(fix, sizeof(fix), "set User to \"%u:GID\" with a GID other than 0%s",
				(unsigned)eu.uid, sup0 ? " and take the user out of group 0" : "");
			if ((error = add(e, "NR014", NR_LEVEL_WARNING, "config.User", fix,
			    "User '%s' (uid %u) runs with gid 0 (root's group) as its %s group",
			    spec, (unsigned)eu.uid, eu.gid == 0 ? "primary" : "supplementary")) < 0)
				goto done;
		}
	}
	if (!spec_numeric(spec)) {
		snprintf(fix, sizeof(fix), "set User to \"%u:%u\"", (unsigned)eu.uid, (unsigned)eu.gid);
		if ((error = add(e, "NR003", NR_LEVEL_WARNING, "config.User", fix,
		    "User '%s' is not numeric: Kubernetes runAsNonRoot cannot verify it (\"container "
		    "has runAsNonRoot and image has non-numeric user (%s), cannot verify user is "
		    "non-root\")", spec, spec)) < 0)
			goto done;
	}
	if (eu.name == NULL) {
		snprintf(fix, sizeof(fix), "add the user: nonroot patch IMAGE --uid %u",
			(unsigned)eu.uid);
		if ((error = add(e, "NR011", NR_LEVEL_NOTE, "config.User", fix,
		    "User '%s' (uid %u) has no passwd entry: it runs with gid %u, HOME=%s and no name",
		    spec, (unsigned)eu.uid, (unsigned)eu.gid, eu.home)) < 0)
			goto done;
	} else if (f->lookup && eu.home && strcmp(eu.home, "/") != 0 && *eu.home) {
		nr_buf rel = NR_BUF_INIT;
		int type = 0;
		uint64_t huid = 0, hgid = 0;

		snprintf(fix, sizeof(fix), "create %s owned by %u:%u, mode 0755 (nonroot patch does)",
			eu.home, (unsigned)eu.uid, (unsigned)eu.gid);
		if ((error = nr__path_relative(&rel, eu.home, e->err)) < 0 ||
		    (error = f->lookup(f->lookup_ctx, rel.ptr, &type, &huid, &hgid, e->err)) < 0) {
			nr_buf_dispose(&rel);
			goto done;
		}
		if (type == NR_ENTRY_NONE)
			error = add(e, "NR009", NR_LEVEL_WARNING, rel.ptr, fix,
				"the home %s of user %s (%u) does not exist", eu.home, eu.name,
				(unsigned)eu.uid);
		else if (type != NR_ENTRY_DIRECTORY)
			error = add(e, "NR009", NR_LEVEL_WARNING, rel.ptr, fix,
				"the home %s of user %s (%u) is not a directory", eu.home, eu.name,
				(unsigned)eu.uid);
		else if (huid != eu.uid)
			error = add(e, "NR009", NR_LEVEL_WARNING, rel.ptr, fix,
				"the home %s is owned by %llu:%llu, not by user %s (%u)", eu.home,
				(unsigned long long)huid, (unsigned long long)hgid, eu.name,
				(unsigned)eu.uid);
		nr_buf_dispose(&rel);
	}
done:
	nr_exec_user_dispose(&eu);
	nr_passwd_free(pw);
	nr_group_free(gr);
	return error;
}

/* Does an effective binding come from variable `name`? */
static bool binds_from(const nr_bindings *all, const char *name)
{
	size_t k;

	for (k = 0; k < nr_bindings_count(all); k++) {
		const nr_binding *bd = nr_bindings_get(all, k);
		if (bd->variable && !strcmp(bd->variable, name))
			return true;
	}
	return false;
}

/* The variables of the effective bindings, "A and B" (distinct, in order). */
static void effective_names(nr_buf *out, const nr_bindings *all)
{
	size_t k, j, n = nr_bindings_count(all), shown = 0;

	for (k = 0; k < n; k++) {
		const char *v = nr_bindings_get(all, k)->variable;
		bool seen = false;
		if (v == NULL)
			continue;
		for (j = 0; j < k && !seen; j++)
			seen = nr_bindings_get(all, j)->variable &&
				!strcmp(nr_bindings_get(all, j)->variable, v);
		if (!seen)
			nr_buf_printf(out, "%s%s", shown++ ? " and " : "", v);
	}
}

/* Why a variable with privileged ports is (or is not) what Kestrel binds: every message is
 * derived from the effective bindings, so audit says what urls, k8s and patch say. */
static void explain(nr_buf *why, const nr_bindings *all, const char *name, nr_urls_key key,
	bool effective)
{
	nr_urls_source src = nr_bindings_source(all);
	const char *same = key <= NR_URLS_KEY_HTTPS_PORTS ? nr_bindings_variable(all, key, NULL)
		: NULL;

	if (effective) {
		if (src == NR_URLS_SOURCE_ENDPOINTS) {
			nr_buf_printf(why, "%s is an effective Kestrel endpoint: endpoints from "
				"Kestrel__Endpoints__* override ASPNETCORE_URLS and the PORTS variables", name);
		} else if (src == NR_URLS_SOURCE_URLS) {
			const char *hp = nr_bindings_variable(all, NR_URLS_KEY_HTTP_PORTS, NULL);
			const char *hs = nr_bindings_variable(all, NR_URLS_KEY_HTTPS_PORTS, NULL);
			nr_buf_printf(why, "%s is the effective urls setting", name);
			if (hp || hs)
				nr_buf_printf(why, " and overrides %s%s%s (Kestrel: \"Overriding "
					"HTTP_PORTS ...\")", hp ? hp : "", hp && hs ? " and " : "",
					hs ? hs : "");
		} else {
			nr_buf_printf(why, "no URLS variable or Kestrel endpoint is set, so %s applies",
				name);
		}
		return;
	}
	nr_buf_puts(why, "it has no effect: ");
	if (same && strcmp(same, name) != 0) {
		nr_buf_printf(why, "%s takes precedence", same);
		if (src != NR_URLS_SOURCE_ENDPOINTS)
			return;
		nr_buf_puts(why, ", and ");
	}
	if (src == NR_URLS_SOURCE_ENDPOINTS) {
		nr_buf_puts(why, "the Kestrel endpoints (");
		effective_names(why, all);
		nr_buf_puts(why, ") take precedence (Kestrel logs \"Overriding address(es) ...\")");
	} else if (src == NR_URLS_SOURCE_URLS) {
		nr_buf_printf(why, "%s takes precedence (Kestrel logs \"Overriding HTTP_PORTS ...\")",
			nr_bindings_variable(all, NR_URLS_KEY_URLS, NULL));
	} else if (src == NR_URLS_SOURCE_PORTS) {
		nr_buf_puts(why, "the effective bindings come from ");
		effective_names(why, all);
	} else {
		nr_buf_puts(why, "Kestrel binds its default http://localhost:5000");
	}
}

/* Privileged ports of one variable (and its port fallbacks), judged against the image's
 * effective bindings `all`. */
static int check_variable(eval *e, const nr_bindings *all, const char *name,
	const char *value, int runs_root)
{
	const nr__audit_facts *f = e->f;
	nr_buf kv = NR_BUF_INIT, ports = NR_BUF_INIT, why = NR_BUF_INIT, loc = NR_BUF_INIT;
	nr_bindings *b = NULL;
	nr_error berr = NR_ERROR_INIT;
	nr_urls_options uo = NR_URLS_OPTIONS_INIT;
	const char *envp[2];
	nr_urls_key key = nr_urls_key_of(name, strlen(name));
	nr_portmap map;
	char *nv = NULL;
	char fix[512];
	size_t k, nprivileged = 0;
	bool effective;
	int error = 0;
	nr_level level;

	uo.threshold = f->threshold;
	nr_buf_printf(&kv, "%s=%s", name, value);
	nr_buf_printf(&loc, "config.Env.%s", name);
	if (kv.oom || loc.oom) {
		error = nr__error_oom(e->err);
		goto done;
	}
	envp[0] = kv.ptr;
	envp[1] = NULL;
	if (nr_bindings_from_env(&b, envp, &uo, &berr) < 0) {
		if (berr.code == NR_ENOMEM) {
			error = nr__error_oom(e->err);
			goto done;
		}
		error = add(e, "NR010", NR_LEVEL_ERROR, loc.ptr, NULL, "%s=%s: %s", name, value,
			berr.message);
		goto done;
	}
	for (k = 0; k < nr_bindings_count(b); k++) {
		const nr_binding *bd = nr_bindings_get(b, k);
		if (bd->parsed.flags & NR_URL_PORT_FALLBACK) {
			char txt[128];
			snprintf(txt, sizeof(txt), "%.*s", (int)bd->parsed.port_text.len,
				bd->url + bd->parsed.port_text.off);
			if ((error = add(e, "NR007", NR_LEVEL_WARNING, loc.ptr, NULL,
			    "%s=%s: the port '%s' is not a number: Kestrel silently binds port %d "
			    "instead", name, value, txt, (int)bd->parsed.port)) < 0)
				goto done;
		}
		if (bd->privileged) {
			nr_buf_printf(&ports, "%s%d", nprivileged ? ", " : "", (int)bd->parsed.port);
			nprivileged++;
		}
	}
	if (nprivileged == 0 || all == NULL)
		goto done;

	effective = binds_from(all, name);
	explain(&why, all, name, key, effective);
	level = !effective ? NR_LEVEL_NOTE : runs_root == 1 ? NR_LEVEL_WARNING : NR_LEVEL_ERROR;
	nr_portmap_default(&map);
	if (nr_urls_rewrite(&nv, NULL, name, value, strlen(value), &map, f->threshold, 0, NULL) > 0)
		snprintf(fix, sizeof(fix), "use unprivileged ports: %s=%s (nonroot patch does this)",
			name, nv);
	else
		snprintf(fix, sizeof(fix), "use ports >= %u (nonroot patch --port-map FROM:TO)",
			f->threshold);
	if (why.oom || ports.oom) {
		error = nr__error_oom(e->err);
		goto done;
	}
	if (level == NR_LEVEL_NOTE)
		error = add(e, "NR005", level, loc.ptr, fix, "%s=%s asks for privileged port%s %s, "
			"but %s", name, value, nprivileged > 1 ? "s" : "", ports.ptr, why.ptr);
	else
		error = add(e, "NR005", level, loc.ptr, fix, "%s=%s makes Kestrel bind privileged "
			"port%s %s: a non-root user without CAP_NET_BIND_SERVICE gets \"Permission "
			"denied\" (%s)%s", name, value, nprivileged > 1 ? "s" : "", ports.ptr, why.ptr,
			runs_root == 1 ? "; it works only because the image runs as root" : "");
done:
	free(nv);
	nr_bindings_free(b);
	nr_buf_dispose(&kv);
	nr_buf_dispose(&ports);
	nr_buf_dispose(&why);
	nr_buf_dispose(&loc);
	return error;
}

/* The ASP.NET Core variables (each at its last entry) against the effective bindings; when
 * the whole environment is refused by Kestrel, NR010 names the variable (or the endpoint). */
static int check_ports(eval *e, nr_imgconfig *cfg, const nr_bindings *all,
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
		if (!named && (error = add(e, "NR010", NR_LEVEL_ERROR, loc, NULL, "%s",
		    allerr->message)) < 0)
			goto done;
	}
	/* ExposedPorts. */
	for (k = 0; k < nr_imgconfig_exposed_count(cfg); k++) {
		const char *key = nr_imgconfig_exposed_at(cfg, k), *proto;
		uint16_t port;
		int to;

		if (nr_imgconfig_parse_port_key(key, &port, &proto, NULL) < 0 || port == 0 ||
		    port >= f->threshold)
			continue;
		snprintf(loc, sizeof(loc), "config.ExposedPorts.%s", key);
		if ((to = nr_portmap_lookup(&map, port)) >= 0)
			snprintf(fix, sizeof(fix), "expose %d/%s instead (nonroot patch maps it)", to,
				proto);
		else
			snprintf(fix, sizeof(fix), "expose a port >= %u (nonroot patch --port-map "
				"%u:PORT)", f->threshold, (unsigned)port);
		if ((error = add(e, "NR004", NR_LEVEL_WARNING, loc, fix,
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
			if ((error = add(e, "NR006", NR_LEVEL_WARNING, "config.Healthcheck", fix,
			    "the health check probes privileged port %u: %s", (unsigned)ports[j],
			    hc)) < 0)
				goto done;
		}
	}
done:
	free(hc);
	return error;
}

/* Capability names by number (linux/capability.h, 0 to CAP_LAST_CAP of Linux 6.x). */
static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
	"cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
	"cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
	"cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
	"cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
	"cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
	"cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
	"cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Append the names of the bits in set (64 bits), comma-separated. */
static size_t put_caps(char *out, size_t size, size_t o, uint64_t set)
{
	unsigned b;
	bool first = true;

	for (b = 0; b < 64; b++) {
		int n;
		if (!(set >> b & 1))
			continue;
		if (b < NR_ARRAY_SIZE(cap_names))
			n = snprintf(out + o, size - o, "%s%s", first ? "" : ",", cap_names[b]);
		else
			n = snprintf(out + o, size - o, "%scap_%u", first ? "" : ",", b);
		first = false;
		if (n < 0 || (size_t)n >= size - o)
			return size - 1;
		o += (size_t)n;
	}
	return o;
}

/* One group of caps written at o as "CAPS=EFFFLAGS" (a space first unless at the start); o is
 * returned, at most size - 1. Nothing when caps is empty or out is full. */
static size_t put_group(char *out, size_t size, size_t o, uint64_t caps, const char *eff,
	const char *flags)
{
	int n;

	if (caps == 0 || o + 1 >= size)
		return o;
	if (o)
		out[o++] = ' ';
	o = put_caps(out, size, o, caps);
	n = snprintf(out + o, size - o, "=%s%s", eff, flags);
	return n < 0 || (size_t)n >= size - o ? size - 1 : o + (size_t)n;
}

/*
 * vfs_cap_data (linux/capability.h): le32 magic_etc (revision in the top byte, bit 0 the
 * effective flag), then le32 permitted/inheritable pairs: one for revision 1 (12 bytes), two
 * for revision 2 (20 bytes) and 3 (24 bytes: + the namespace's root uid).
 */
void nr__caps_text(char *out, size_t size, const char *caps, size_t len)
{
	const unsigned char *p = (const unsigned char *)caps;
	uint32_t magic, rev;
	uint64_t perm, inh, both;
	size_t o = 0, words;
	const char *eff;

	if (size == 0)
		return;
	out[0] = '\0';
	magic = len >= 4 ? le32(p) : 0;
	rev = magic & 0xff000000u;
	words = rev == 0x01000000u ? 1 : rev == 0x02000000u || rev == 0x03000000u ? 2 : 0;
	if (words == 0 || len != 4 + 8 * words + (rev == 0x03000000u ? 4 : 0) ||
	    (magic & 0x00fffffeu) != 0) {
		snprintf(out, size, "undecodable, %zu bytes", len);
		return;
	}
	perm = le32(p + 4);
	inh = le32(p + 8);
	if (words == 2) {
		perm |= (uint64_t)le32(p + 12) << 32;
		inh |= (uint64_t)le32(p + 16) << 32;
	}
	if ((perm | inh) == 0) {
		snprintf(out, size, "none (empty set)");
		return;
	}
	both = perm & inh;
	eff = magic & 1 ? "e" : "";
	o = put_group(out, size, 0, both, eff, "ip");
	o = put_group(out, size, o, perm & ~both, eff, "p");
	o = put_group(out, size, o, inh & ~both, "", "i");
	out[o < size ? o : size - 1] = '\0';
}

static int check_setid(eval *e)
{
	const nr__audit_facts *f = e->f;
	size_t k;
	int error;

	for (k = 0; k < f->nsetid; k++) {
		const nr__audit_setid *s = &f->setid[k];
		const char *kind = (s->mode & 04000) && (s->mode & 02000) ? "set-uid and set-gid"
			: (s->mode & 04000) ? "set-uid" : "set-gid";
		if (!(s->mode & 06000))
			continue;
		if ((error = add(e, "NR008", NR_LEVEL_WARNING, s->path, NULL,
		    "%s file /%s (mode %04o, owner %llu:%llu)", kind, s->path, (unsigned)s->mode,
		    (unsigned long long)s->uid, (unsigned long long)s->gid)) < 0)
			return error;
	}
	/* NR015 after every NR008: the findings of one rule stay together */
	for (k = 0; k < f->nsetid; k++) {
		const nr__audit_setid *s = &f->setid[k];
		char text[640];
		if (s->caps == NULL)
			continue;
		nr__caps_text(text, sizeof(text), s->caps, s->caps_len);
		if ((error = add(e, "NR015", NR_LEVEL_WARNING, s->path, NULL,
		    "file /%s has file capabilities %s (mode %04o, owner %llu:%llu)", s->path, text,
		    (unsigned)s->mode, (unsigned long long)s->uid, (unsigned long long)s->gid)) < 0)
			return error;
	}
	return 0;
}

/* Privileged ports that patch cannot move: program arguments and server configurations
 * (NR012, NR013; error when the image runs as non-root, else warning). */
typedef struct port_ctx {
	eval *e;
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
		return add(pc->e, "NR012", level, loc, fix, "%s argument '%s' makes the server listen "
			"on privileged port %u: a non-root user without CAP_NET_BIND_SERVICE gets "
			"\"Permission denied\"%s", pc->field, text, port, pc->runs_root == 1
			? "; it works only because the image runs as root" : "");
	}
	snprintf(loc, sizeof(loc), "%s:%zu", pc->path, where);
	snprintf(fix, sizeof(fix), "listen on a port >= %u (e.g. %u) in /%s (a new layer); "
		"nonroot patch cannot edit server configurations", pc->e->f->threshold,
		port + 8000 < 65536 ? port + 8000 : 8080, pc->path);
	return add(pc->e, "NR013", level, loc, fix, "/%s:%zu: '%s' listens on privileged port %u: "
		"a non-root server gets \"Permission denied\"%s", pc->path, where, text, port,
		pc->runs_root == 1 ? "; it works only because the image runs as root" : "");
}

static int check_server_ports(eval *e, nr_imgconfig *cfg, int runs_root)
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

int nr__audit_eval(nr_audit *a, const nr__audit_facts *f, nr_error *err)
{
	nr_imgconfig *cfg = NULL;
	nr_urls_options uo = NR_URLS_OPTIONS_INIT;
	platform_info *pi;
	eval e;
	int error, runs_root;

	NR_ASSERT_ARG(a, err);
	NR_ASSERT_ARG(f, err);
	e.a = a;
	e.f = f;
	e.err = err;
	if ((error = nr_imgconfig_parse(&cfg, f->config, f->config_len, err)) < 0)
		return error;
	if (nr__array_grow((void **)&a->p, &a->ap, a->np + 1, sizeof(*a->p)) < 0) {
		error = nr__error_oom(err);
		goto done;
	}
	pi = &a->p[a->np++];
	memset(pi, 0, sizeof(*pi));
	pi->platform = nr__strdup(f->platform ? f->platform : "");
	pi->user = nr__strdup(nr_imgconfig_user(cfg));
	if (!pi->platform || !pi->user) {
		error = nr__error_oom(err);
		goto done;
	}
	uo.threshold = f->threshold;
	if (nr_imgconfig_bindings(&pi->bindings, cfg, &uo, &pi->bindings_err) < 0 &&
	    pi->bindings_err.code == NR_ENOMEM) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = check_user(&e, cfg, &runs_root)) < 0 ||
	    (error = check_ports(&e, cfg, pi->bindings, &pi->bindings_err, runs_root)) < 0 ||
	    (error = check_server_ports(&e, cfg, runs_root)) < 0 ||
	    (error = check_setid(&e)) < 0)
		goto done;
	error = 0;
done:
	nr_imgconfig_free(cfg);
	return error;
}

/* ---- over an image ----------------------------------------------------------------------- */

typedef struct lookup_ctx {
	nr_image *img;
	size_t i;
	const nr_audit_options *opts;
	const nr_scan_result *first;   /* the first scan: it may hold the path already */
} lookup_ctx;

static int image_lookup(void *ctx_, const char *path, int *type, uint64_t *uid, uint64_t *gid,
	nr_error *err)
{
	lookup_ctx *c = ctx_;
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	const nr_scan_entry *en;
	const char *paths[1];
	int error;

	if ((en = nr_scan_result_get(c->first, path)) != NULL) {
		*type = (int)en->type;
		*uid = en->uid;
		*gid = en->gid;
		return 0;
	}
	paths[0] = path;
	req.paths = paths;
	req.npaths = 1;
	req.content_max = 1;
	req.progress = c->opts->progress;
	req.payload = c->opts->payload;
	if ((error = nr_image_scan(c->img, c->i, &req, &res, err)) < 0)
		return error;
	en = nr_scan_result_get(res, path);
	*type = en ? (int)en->type : NR_ENTRY_NONE;
	*uid = en ? en->uid : 0;
	*gid = en ? en->gid : 0;
	nr_scan_result_free(res);
	return 0;
}

static int audit_one(nr_image *img, size_t i, const nr_audit_options *opts, nr_audit *a,
	nr_error *err)
{
	const char *paths[16] = { "etc/passwd", "etc/group", "home/app", NULL };
	nr__audit_file files[12];
	char guess[160];
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	nr__audit_facts f;
	nr__audit_setid *setid = NULL;
	const nr_scan_entry *pw, *gr;
	const nr__scan_caps *caps;
	lookup_ctx lc;
	size_t k, ns;
	int error;

	memset(&f, 0, sizeof(f));
	f.manifest = i;
	f.platform = nr_image_platform(img, i);
	if ((f.config = nr_image_config(img, i, &f.config_len)) == NULL)
		return nr__error_set(err, NR_EINVALID, f.platform, 0, 0, "audit: no config");
	/* Likely homes, so that the home check rarely needs a second pass: /home/app (the
	 * patched images) and /home/NAME for a User given by name. */
	req.npaths = 3;
	{
		nr_imgconfig *cfg = NULL;
		if (nr_imgconfig_parse(&cfg, f.config, f.config_len, NULL) == 0) {
			const char *u = nr_imgconfig_user(cfg);
			size_t n = strcspn(u, ":");
			uint64_t v;
			if (n > 0 && n < 128 && nr_parse_u64(u, n, UINT64_MAX, &v) == NR_EINVALID &&
			    !memchr(u, '/', n)) {
				snprintf(guess, sizeof(guess), "home/%.*s", (int)n, u);
				paths[req.npaths++] = guess;
			}
		}
		nr_imgconfig_free(cfg);
	}
	for (k = 0; nr__server_config_paths[k] && req.npaths < NR_ARRAY_SIZE(paths); k++)
		paths[req.npaths++] = nr__server_config_paths[k];
	req.paths = paths;
	req.flags = NR_SCAN_SETID | NR_SCAN_CAPS;
	req.progress = opts->progress;
	req.payload = opts->payload;
	if ((error = nr_image_scan(img, i, &req, &res, err)) < 0)
		return error;
	pw = nr_scan_result_get(res, "etc/passwd");
	gr = nr_scan_result_get(res, "etc/group");
	if (pw && pw->type == NR_ENTRY_REGULAR && pw->content) {
		f.passwd = pw->content;
		f.passwd_len = pw->content_len;
	}
	if (gr && gr->type == NR_ENTRY_REGULAR && gr->content) {
		f.group = gr->content;
		f.group_len = gr->content_len;
	}
	ns = nr_scan_result_setid_count(res);
	if (ns > 0 && (setid = nr__calloc(ns, sizeof(*setid))) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	for (k = 0; k < ns; k++) {
		const nr_scan_entry *s = nr_scan_result_setid(res, k);
		setid[k].path = s->path;
		setid[k].mode = s->mode;
		setid[k].uid = s->uid;
		setid[k].gid = s->gid;
		if ((caps = nr__scan_result_caps(res, k)) != NULL) {
			setid[k].caps = caps->data;
			setid[k].caps_len = caps->len;
		}
	}
	f.setid = setid;
	f.nsetid = ns;
	for (k = 0; nr__server_config_paths[k] && f.nfiles < NR_ARRAY_SIZE(files); k++) {
		const nr_scan_entry *c = nr_scan_result_get(res, nr__server_config_paths[k]);
		if (c && c->type == NR_ENTRY_REGULAR && c->content) {
			files[f.nfiles].path = nr__server_config_paths[k];
			files[f.nfiles].content = c->content;
			files[f.nfiles].len = c->content_len;
			f.nfiles++;
		}
	}
	f.files = files;
	lc.img = img;
	lc.i = i;
	lc.opts = opts;
	lc.first = res;
	f.lookup = image_lookup;
	f.lookup_ctx = &lc;
	f.threshold = opts->threshold;
	error = nr__audit_eval(a, &f, err);
done:
	free(setid);
	nr_scan_result_free(res);
	return error;
}

int nr_image_audit(nr_image *img, const nr_audit_options *opts, nr_audit **out, nr_error *err)
{
	nr_audit_options defaults = NR_AUDIT_OPTIONS_INIT;
	nr_audit *a;
	size_t i, n;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(img, err);
	if (opts == NULL)
		opts = &defaults;
	if ((error = nr__check_version(err, "nr_audit_options", opts->version,
	    NR_AUDIT_OPTIONS_VERSION)) < 0)
		return error;
	if ((n = nr_image_count(img)) == 0)
		return nr__error_set(err, NR_EINVALID, NULL, 0, 0, "audit: the image has no manifest");
	if ((a = nr__audit_new()) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < n; i++) {
		if ((error = audit_one(img, i, opts, a, err)) < 0) {
			nr_audit_free(a);
			return error;
		}
	}
	*out = a;
	return 0;
}
