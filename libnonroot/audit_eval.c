/*
 * audit_eval.c: nr__audit_eval(), the rules over one manifest's plain facts: the finding
 * builder and the user rules (NR001-NR003, NR009, NR011, NR014); the port rules are in
 * audit_ports.c, the set-id and capability rules in audit_setid.c.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "audit_internal.h"
#include "patch_internal.h"

int nr__audit_add(nr__audit_ctx *e, const char *id, nr_level level, const char *location,
	const char *fix, const char *fmt, ...)
{
	nr_audit *a = e->a;
	nr_finding *f;
	nr__buf msg = NR__BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	nr__buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (msg.oom || nr__array_grow((void **)&a->f, &a->alloc, a->n + 1, sizeof(*a->f)) < 0) {
		nr__buf_dispose(&msg);
		return nr__error_oom(e->err);
	}
	f = &a->f[a->n];
	memset(f, 0, sizeof(*f));
	f->id = nr_audit_rule_get(id)->id;
	f->level = level;
	f->manifest = e->f->manifest;
	f->platform = nr__strdup(e->f->platform ? e->f->platform : "");
	f->location = nr__strdup(location ? location : "");
	f->fix = nr__strdup(fix ? fix : nr_audit_rule_get(id)->help);
	f->message = nr__buf_detach(&msg, NULL);
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
		if (nr__parse_u64(p, n, UINT64_MAX, &v) == NR_EINVALID)
			return false;
		p = colon ? colon + 1 : NULL;
	}
	return true;
}

/* NR014: a non-root user with gid 0 as its primary or a supplementary group. */
static int check_root_group(nr__audit_ctx *e, const char *spec, const nr_exec_user *eu)
{
	char fix[256];
	bool sup0 = false;
	size_t k;

	for (k = 0; k < eu->n_additional_gids; k++)
		sup0 = sup0 || eu->additional_gids[k] == 0;
	if (eu->gid != 0 && !sup0)
		return 0;
	snprintf(fix, sizeof(fix), "set User to \"%u:GID\" with a GID other than 0%s",
		(unsigned)eu->uid, sup0 ? " and take the user out of group 0" : "");
	return nr__audit_add(e, "NR014", NR_LEVEL_WARNING, "config.User", fix,
		"User '%s' (uid %u) runs with gid 0 (root's group) as its %s group",
		spec, (unsigned)eu->uid, eu->gid == 0 ? "primary" : "supplementary");
}

/* NR011: a user without passwd entry; NR009: a named user whose home is missing, not a
 * directory or not its own. */
static int check_home(nr__audit_ctx *e, const char *spec, const nr_exec_user *eu)
{
	const nr__audit_facts *f = e->f;
	nr__buf rel = NR__BUF_INIT;
	char fix[256];
	int type = 0, error;
	uint64_t huid = 0, hgid = 0;

	if (eu->name == NULL) {
		snprintf(fix, sizeof(fix), "add the user: nonroot patch IMAGE --uid %u",
			(unsigned)eu->uid);
		return nr__audit_add(e, "NR011", NR_LEVEL_NOTE, "config.User", fix,
		    "User '%s' (uid %u) has no passwd entry: it runs with gid %u, HOME=%s and no name",
		    spec, (unsigned)eu->uid, (unsigned)eu->gid, eu->home);
	}
	if (!f->lookup || !eu->home || strcmp(eu->home, "/") == 0 || !*eu->home)
		return 0;
	snprintf(fix, sizeof(fix), "create %s owned by %u:%u, mode 0755 (nonroot patch does)",
		eu->home, (unsigned)eu->uid, (unsigned)eu->gid);
	if ((error = nr__path_relative(&rel, eu->home, e->err)) < 0 ||
	    (error = f->lookup(f->lookup_ctx, rel.ptr, &type, &huid, &hgid, e->err)) < 0)
		goto done;
	if (type == NR_ENTRY_NONE)
		error = nr__audit_add(e, "NR009", NR_LEVEL_WARNING, rel.ptr, fix,
			"the home %s of user %s (%u) does not exist", eu->home, eu->name,
			(unsigned)eu->uid);
	else if (type != NR_ENTRY_DIRECTORY)
		error = nr__audit_add(e, "NR009", NR_LEVEL_WARNING, rel.ptr, fix,
			"the home %s of user %s (%u) is not a directory", eu->home, eu->name,
			(unsigned)eu->uid);
	else if (huid != eu->uid)
		error = nr__audit_add(e, "NR009", NR_LEVEL_WARNING, rel.ptr, fix,
			"the home %s is owned by %llu:%llu, not by user %s (%u)", eu->home,
			(unsigned long long)huid, (unsigned long long)hgid, eu->name,
			(unsigned)eu->uid);
done:
	nr__buf_dispose(&rel);
	return error;
}

/* The user rules: NR002 (unresolvable), NR001 (root), NR014, NR003 (not numeric), NR011 and
 * NR009 (check_home). *runs_root: 1, 0, or -1 when unknown. */
static int check_user(nr__audit_ctx *e, nr_imgconfig *cfg, int *runs_root)
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
			error = nr__audit_add(e, "NR002", NR_LEVEL_ERROR, "config.User", fix,
				"User '%s': %s:%zu: %s", spec, rerr.source, rerr.line, rerr.message);
		else
			error = nr__audit_add(e, "NR002", NR_LEVEL_ERROR, "config.User", fix,
				"User '%s': %s", spec, rerr.message);
		goto done;
	}
	*runs_root = eu.uid == 0;
	if (eu.uid == 0) {
		if (*spec == '\0')
			error = nr__audit_add(e, "NR001", NR_LEVEL_ERROR, "config.User", NULL,
				"User is not set: the container runs as root (uid 0)");
		else
			error = nr__audit_add(e, "NR001", NR_LEVEL_ERROR, "config.User", NULL,
				"User '%s' runs as root (uid 0)", spec);
		goto done;
	}
	if ((error = check_root_group(e, spec, &eu)) < 0)
		goto done;
	if (!spec_numeric(spec)) {
		snprintf(fix, sizeof(fix), "set User to \"%u:%u\"", (unsigned)eu.uid, (unsigned)eu.gid);
		if ((error = nr__audit_add(e, "NR003", NR_LEVEL_WARNING, "config.User", fix,
		    "User '%s' is not numeric: Kubernetes runAsNonRoot cannot verify it (\"container "
		    "has runAsNonRoot and image has non-numeric user (%s), cannot verify user is "
		    "non-root\")", spec, spec)) < 0)
			goto done;
	}
	error = check_home(e, spec, &eu);
done:
	nr_exec_user_dispose(&eu);
	nr_passwd_free(pw);
	nr_group_free(gr);
	return error;
}

int nr__audit_eval(nr_audit *a, const nr__audit_facts *f, nr_error *err)
{
	nr_imgconfig *cfg = NULL;
	nr_urls_options uo = NR_URLS_OPTIONS_INIT;
	nr__audit_platform *pi;
	nr__audit_ctx e;
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
	    (error = nr__audit_check_ports(&e, cfg, pi->bindings, &pi->bindings_err, runs_root)) < 0 ||
	    (error = nr__audit_check_server_ports(&e, cfg, runs_root)) < 0 ||
	    (error = nr__audit_check_setid(&e)) < 0)
		goto done;
	error = 0;
done:
	nr_imgconfig_free(cfg);
	return error;
}

