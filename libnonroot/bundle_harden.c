/*
 * bundle_harden.c: nr_bundle_harden(): process.user resolved like runc, every capability set
 * emptied, noNewPrivileges, the port sysctl; each change recorded in the report, and what the
 * hardened bundle still grants described.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "buf.h"
#include "fileio.h"
#include "jsonload.h"
#include "parse.h"
#include "report_internal.h"
#include "bundle_internal.h"

int nr_bundle_harden_options_init(nr_bundle_harden_options *opts, unsigned int version)
{
	nr_bundle_harden_options def = NR_BUNDLE_HARDEN_OPTIONS_INIT;

	if (opts == NULL || version != NR_BUNDLE_HARDEN_OPTIONS_VERSION)
		return NR_EARG;
	*opts = def;
	return 0;
}

/* Record a change: old (borrowed, NULL when absent) → new (borrowed, NULL when removed). */
static int add_change(nr_bundle_report *r, const char *field, json_t *old, json_t *new_,
	nr_error *err)
{
	json_t *c = json_pack("{s:s, s:O?, s:O?}", "field", field, "old", old, "new", new_);

	if (c == NULL || json_array_append_new(nr__jget(r->doc, "changes"), c) < 0)
		return nr__error_oom(err);
	r->changes++;
	return 0;
}

/* Set obj's member key to value (stolen), recording the change. The old value of a struct field
 * (map false) is the key Go reads as it; of a map key (map true: linux.sysctl), the exact key,
 * as Go reads maps. Either way the written key replaces every key that folds to it: nonroot
 * refuses a document holding two (jsonload.h). */
static int set_member_in(nr_bundle_report *r, json_t *obj, const char *key, json_t *value,
	const char *field, bool map, nr_error *err)
{
	json_t *old = map ? json_object_get(obj, key) : nr__jget(obj, key);
	int error = 0;

	if (value == NULL)
		return nr__error_oom(err);
	if (old && json_equal(old, value)) {
		json_decref(value);
		return 0;
	}
	if ((error = add_change(r, field, old, value, err)) < 0) {
		json_decref(value);
		return error;
	}
	return nr__jset_new(obj, key, value) < 0 ? nr__error_oom(err) : 0;
}

static int set_member(nr_bundle_report *r, json_t *obj, const char *key, json_t *value,
	const char *field, nr_error *err)
{
	return set_member_in(r, obj, key, value, field, false, err);
}

static int harden_user(nr_bundle_report *r, nr_bundle *b, json_t *process,
	const nr_bundle_harden_options *opts, nr_error *err)
{
	nr_exec_user u;
	json_t *user, *v, *gids = NULL, *rep;
	uint32_t uid = 0, gid = 0;
	size_t i;
	int error;

	memset(&u, 0, sizeof(u));
	if ((error = nr__bundle_get_object(&user, process, "user", "process.user", err)) < 0)
		return error;
	if (user) {
		if ((v = nr__jget(user, "uid")) != NULL &&
		    (error = nr__bundle_get_id(&uid, v, "process.user.uid", err)) < 0)
			return error;
		if ((v = nr__jget(user, "gid")) != NULL &&
		    (error = nr__bundle_get_id(&gid, v, "process.user.gid", err)) < 0)
			return error;
		if ((v = nr__jget(user, "additionalGids")) != NULL && !json_is_null(v) &&
		    (error = nr__bundle_check_id_array(v, "process.user.additionalGids", err)) < 0)
			return error;
	}
	if (opts->user) {
		if ((error = nr__bundle_resolve_user(&u, b, opts->user, err)) < 0)
			goto done;
		uid = u.uid;
		gid = u.gid;
	}
	if (uid == 0 && !opts->allow_root) {
		error = opts->user ?
			nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
				"process.user.uid: user '%s' is uid 0 (root); allow it with allow_root "
				"(--allow-root)", opts->user) :
			nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
				"process.user.uid: the bundle runs as uid 0 (root); give a non-root user "
				"(--user) or allow it with allow_root (--allow-root)");
		goto done;
	}
	rep = json_pack("{s:s?, s:I, s:I, s:[], s:s?, s:s?}", "spec", opts->user,
		"uid", (json_int_t)uid, "gid", (json_int_t)gid, "additional_gids",
		"name", u.name, "home", opts->user ? u.home : NULL);
	if (rep == NULL || nr__jset_new(r->doc, "user", rep) < 0) {
		error = nr__error_oom(err);
		goto done;
	}
	if (!opts->user) {
		/* The bundle's own user: report its additional gids as they are. */
		v = nr__jget(user, "additionalGids");
		if (json_is_array(v) && nr__jset_new(rep, "additional_gids",
		    json_deep_copy(v)) < 0)
			error = nr__error_oom(err);
		goto done;
	}
	if ((error = nr__bundle_need_object(&user, process, "user", "process.user", err)) < 0)
		goto done;
	if ((error = set_member(r, user, "uid", json_integer(uid), "process.user.uid", err)) < 0 ||
	    (error = set_member(r, user, "gid", json_integer(gid), "process.user.gid", err)) < 0)
		goto done;
	if (u.n_additional_gids > 0) {
		if ((gids = json_array()) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
		for (i = 0; i < u.n_additional_gids; i++) {
			if (json_array_append_new(gids, json_integer(u.additional_gids[i])) < 0 ||
			    json_array_append_new(nr__jget(rep, "additional_gids"),
				json_integer(u.additional_gids[i])) < 0) {
				json_decref(gids);
				error = nr__error_oom(err);
				goto done;
			}
		}
		error = set_member(r, user, "additionalGids", gids, "process.user.additionalGids",
			err);
	} else if ((v = nr__jget(user, "additionalGids")) != NULL) {
		if ((error = add_change(r, "process.user.additionalGids", v, NULL, err)) == 0)
			nr__jdel(user, "additionalGids");
	}
done:
	nr_exec_user_dispose(&u);
	return error;
}

static int harden_caps(nr_bundle_report *r, json_t *process,
	const nr_bundle_harden_options *opts, nr_error *err)
{
	json_t *caps, *set;
	char field[64];
	size_t i;
	int error;

	if ((error = nr__bundle_need_object(&caps, process, "capabilities", "process.capabilities", err)) < 0)
		return error;
	for (i = 0; i < NR_ARRAY_SIZE(nr__bundle_cap_sets); i++) {
		snprintf(field, sizeof(field), "process.capabilities.%s", nr__bundle_cap_sets[i]);
		set = nr__jget(caps, nr__bundle_cap_sets[i]);
		if (set && !json_is_null(set) && (error = nr__bundle_check_string_array(set, field, err)) < 0)
			return error;
		set = opts->allow_low_ports ? json_pack("[s]", CAP_NBS) : json_array();
		if ((error = set_member(r, caps, nr__bundle_cap_sets[i], set, field, err)) < 0)
			return error;
	}
	return 0;
}

static bool has_network_namespace(const json_t *linux_)
{
	const json_t *ns = nr__jget(linux_, "namespaces");
	size_t i;

	for (i = 0; i < json_array_size(ns); i++) {
		const char *t = json_string_value(nr__jget(json_array_get(ns, i), "type"));
		if (t && !strcmp(t, "network"))
			return true;
	}
	return false;
}

static int harden_sysctl(nr_bundle_report *r, json_t *root, int port, nr_error *err)
{
	json_t *linux_, *sysctl, *old;
	char value[16];
	int error;

	if ((error = nr__bundle_get_object(&linux_, root, "linux", "linux", err)) < 0)
		return error;
	if (linux_ == NULL || !has_network_namespace(linux_))
		return nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
			"linux.namespaces: " PORT_SYSCTL " is a per-network-namespace sysctl but the "
			"bundle has no network namespace (runc would refuse it)");
	if ((error = nr__bundle_get_object(&sysctl, linux_, "sysctl", "linux.sysctl", err)) < 0)
		return error;
	if (sysctl && (old = json_object_get(sysctl, PORT_SYSCTL)) && !json_is_string(old))
		return nr__bundle_field_error(err, PORT_SYSCTL_FIELD, "a string", old);
	if ((error = nr__bundle_need_object(&sysctl, linux_, "sysctl", "linux.sysctl", err)) < 0)
		return error;
	snprintf(value, sizeof(value), "%d", port);
	return set_member_in(r, sysctl, PORT_SYSCTL, json_string(value), PORT_SYSCTL_FIELD, true,
		err);
}

/* Parse the port sysctl's value; -1 when absent or not a plain number. */
static int port_start(const json_t *root)
{
	const char *s = json_string_value(json_object_get(nr__jget(nr__jget(root,
		"linux"), "sysctl"), PORT_SYSCTL));   /* a map key: exact */
	uint32_t v;

	if (s == NULL || nr__parse_u32(s, strlen(s), 65535, &v) < 0)
		return -1;
	return (int)v;
}

static int add_warning(json_t *warnings, nr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_warning(json_t *warnings, nr_error *err, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return json_array_append_new(warnings, json_string(text)) < 0 ? nr__error_oom(err) : 0;
}

/* The Kestrel bindings of process.env, read by nr_bindings_from_env() like an image's Env
 * (the same answer as audit, urls and k8s), and a warning when the process cannot bind one. */
static int describe_bindings(json_t *doc, json_t *warnings, const json_t *env, json_int_t uid,
	bool nbs, int port_start, nr_error *err)
{
	const char **envp;
	nr_bindings *b = NULL;
	nr_error berr = NR_ERROR_INIT;
	size_t i, n = json_array_size(env), k = 0;
	json_t *j;
	int error = 0;

	if ((envp = nr__calloc(n + 1, sizeof(*envp))) == NULL)
		return nr__error_oom(err);
	for (i = 0; i < n; i++)
		if (json_string_value(json_array_get(env, i)))
			envp[k++] = json_string_value(json_array_get(env, i));
	if (nr_bindings_from_env(&b, envp, NULL, &berr) < 0) {
		free(envp);
		if (berr.code == NR_ENOMEM)
			return nr__error_oom(err);
		if (json_object_set_new(doc, "bindings", json_null()) < 0)
			return nr__error_oom(err);
		return add_warning(warnings, err, "process.env: Kestrel would refuse to start: %s",
			berr.message);
	}
	free(envp);
	if ((j = nr__bindings_json(b)) == NULL || json_object_set_new(doc, "bindings", j) < 0) {
		error = nr__error_oom(err);
		goto done;
	}
	for (i = 0; uid != 0 && !nbs && i < nr_bindings_count(b); i++) {
		const nr_binding *x = nr_bindings_at(b, i);
		if (!x->privileged || (port_start >= 0 && x->parsed.port >= port_start))
			continue;
		if ((error = add_warning(warnings, err, "process.env: %s (%s) binds port %d below "
		    "1024, which uid %" JSON_INTEGER_FORMAT " cannot bind without "
		    "CAP_NET_BIND_SERVICE (--allow-low-ports) or --unprivileged-port-start",
		    x->url, x->variable ? x->variable : "default", (int)x->parsed.port, uid)) < 0)
			goto done;
	}
done:
	nr_bindings_free(b);
	return error;
}

/* r->doc "grants": the user and groups, the capability sets, no_new_privileges and the ways
 * to bind a low port; *nbs: whether the process keeps CAP_NET_BIND_SERVICE across exec. */
static int record_grants(nr_bundle_report *r, const json_t *root, int port, bool *nbs,
	nr_error *err)
{
	const json_t *process = nr__jget(root, "process");
	const json_t *user = nr__jget(process, "user");
	const json_t *caps = nr__jget(process, "capabilities");
	const json_t *gids = nr__jget(user, "additionalGids");
	json_int_t uid = json_integer_value(nr__jget(user, "uid"));
	json_t *grants, *capobj, *low;
	size_t i;

	if ((grants = json_object()) == NULL || nr__jset_new(r->doc, "grants", grants) < 0)
		return nr__error_oom(err);
	if ((capobj = json_object()) == NULL || (low = json_array()) == NULL) {
		json_decref(capobj);
		return nr__error_oom(err);
	}
	for (i = 0; i < NR_ARRAY_SIZE(nr__bundle_cap_sets); i++) {
		json_t *set = nr__jget(caps, nr__bundle_cap_sets[i]);
		if (nr__jset_new(capobj, nr__bundle_cap_sets[i],
		    json_is_array(set) ? json_deep_copy(set) : json_array()) < 0)
			goto nomem;
	}
	/* A non-root process keeps a capability across exec only through the ambient set;
	 * root through permitted/effective. */
	*nbs = nr__bundle_array_has_string(nr__jget(caps, uid == 0 ? "effective" : "ambient"),
		CAP_NBS);
	if (*nbs && json_array_append_new(low, json_string(CAP_NBS)) < 0)
		goto nomem;
	if (port >= 0 && port < NR_UNPRIVILEGED_PORT_START &&
	    json_array_append_new(low, json_sprintf(PORT_SYSCTL "=%d", port)) < 0)
		goto nomem;
	if (nr__jset_new(grants, "uid", json_integer(uid)) < 0 ||
	    nr__jset_new(grants, "gid", json_integer(json_integer_value(nr__jget(user, "gid")))) < 0 ||
	    nr__jset_new(grants, "additional_gids",
		json_is_array(gids) ? json_deep_copy(gids) : json_array()) < 0 ||
	    nr__jset_new(grants, "capabilities", capobj) < 0)
		goto nomem;
	capobj = NULL;
	if (nr__jset_new(grants, "no_new_privileges",
		json_boolean(json_is_true(nr__jget(process, "noNewPrivileges")))) < 0 ||
	    nr__jset_new(grants, "unprivileged_port_start",
		port >= 0 ? json_integer(port) : json_null()) < 0 ||
	    nr__jset_new(grants, "low_ports", low) < 0)
		goto nomem;
	return 0;
nomem:
	json_decref(capobj);
	json_decref(low);
	return nr__error_oom(err);
}

/* Warnings about what the process still is: root, group 0, low ports, no seccomp, HOME. */
static int warn_process(json_t *warnings, const json_t *root, int port, nr_error *err)
{
	const json_t *process = nr__jget(root, "process"), *user = nr__jget(process, "user");
	const json_t *env = nr__jget(process, "env");
	json_int_t uid = json_integer_value(nr__jget(user, "uid"));
	json_int_t gid = json_integer_value(nr__jget(user, "gid"));
	size_t i;
	int error;

	if (uid == 0 && (error = add_warning(warnings, err,
	    "process.user.uid: the process runs as root (uid 0), allowed by allow_root")) < 0)
		return error;
	if (uid != 0 && gid == 0 && (error = add_warning(warnings, err,
	    "process.user.gid: the process keeps group 0 (root) and with it every file that "
	    "is group-writable by root")) < 0)
		return error;
	if (nr__bundle_array_has_int(nr__jget(user, "additionalGids"), 0) &&
	    (error = add_warning(warnings, err,
	    "process.user.additionalGids: the process keeps supplementary group 0 (root)")) < 0)
		return error;
	if (port >= 0 && port < NR_UNPRIVILEGED_PORT_START && (error = add_warning(warnings, err,
	    PORT_SYSCTL_FIELD ": every process in the container can bind ports from %d up",
	    port)) < 0)
		return error;
	if (nr__jget(nr__jget(root, "linux"), "seccomp") == NULL &&
	    (error = add_warning(warnings, err,
	    "linux.seccomp: not set, the process may make every system call")) < 0)
		return error;
	for (i = 0; uid != 0 && i < json_array_size(env); i++) {
		const char *e = json_string_value(json_array_get(env, i));
		if (e && !strcmp(e, "HOME=/root") && (error = add_warning(warnings, err,
		    "process.env: HOME=/root, which uid %" JSON_INTEGER_FORMAT " cannot normally "
		    "write", uid)) < 0)
			return error;
	}
	return 0;
}

/* A warning for each bind mount of a host path. */
static int warn_mounts(json_t *warnings, const json_t *mounts, nr_error *err)
{
	size_t i, j;
	int error;

	for (i = 0; i < json_array_size(mounts); i++) {
		const json_t *m = json_array_get(mounts, i), *o = nr__jget(m, "options");
		const char *type = json_string_value(nr__jget(m, "type"));
		const char *dst = json_string_value(nr__jget(m, "destination"));
		const char *src = json_string_value(nr__jget(m, "source"));
		bool bind = type && !strcmp(type, "bind");
		for (j = 0; j < json_array_size(o); j++) {
			const char *s = json_string_value(json_array_get(o, j));
			bind |= s && (!strcmp(s, "bind") || !strcmp(s, "rbind"));
		}
		if (bind && (error = add_warning(warnings, err,
		    "mounts[%zu]: %s is a bind mount of the host's %s", i,
		    dst ? dst : "?", src ? src : "?")) < 0)
			return error;
	}
	return 0;
}

/* What the hardened config still grants, and warnings about it. */
static int describe_grants(nr_bundle_report *r, const json_t *root, nr_error *err)
{
	const json_t *process = nr__jget(root, "process");
	json_t *warnings = nr__jget(r->doc, "warnings");
	json_int_t uid = json_integer_value(nr__jget(nr__jget(process, "user"), "uid"));
	int port = port_start(root);
	bool nbs = false;
	int error;

	if ((error = record_grants(r, root, port, &nbs, err)) < 0 ||
	    (error = warn_process(warnings, root, port, err)) < 0 ||
	    (error = describe_bindings(r->doc, warnings, nr__jget(process, "env"), uid, nbs, port,
		err)) < 0)
		return error;
	return warn_mounts(warnings, nr__jget(root, "mounts"), err);
}

static int report_new(nr_bundle_report **out, const nr_bundle *b,
	const nr_bundle_harden_options *opts, nr_error *err)
{
	nr_bundle_report *r = nr__calloc(1, sizeof(*r));

	if (r == NULL)
		return nr__error_oom(err);
	r->doc = json_pack("{s:s?, s:b, s:b, s:n, s:[], s:n, s:[]}", "bundle", b->dir,
		"dry_run", opts->dry_run != 0, "written", 0, "user", "changes", "grants",
		"warnings");
	if (r->doc == NULL) {
		free(r);
		return nr__error_oom(err);
	}
	*out = r;
	return 0;
}

int nr_bundle_harden(nr_bundle_report **report, nr_bundle *b,
	const nr_bundle_harden_options *opts, nr_error *err)
{
	nr_bundle_harden_options def = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_bundle_report *r = NULL;
	json_t *work = NULL, *process, *old;
	int error;

	nr__error_reset(err);
	if (report)
		*report = NULL;
	NR_ASSERT_ARG(b, err);
	if (opts == NULL)
		opts = &def;
	if ((error = nr__check_version(err, "nr_bundle_harden_options", opts->version,
	    NR_BUNDLE_HARDEN_OPTIONS_VERSION)) < 0)
		return error;
	if (opts->unprivileged_port_start < -1 || opts->unprivileged_port_start > 65535)
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"invalid argument: unprivileged port start %d is out of range (0-65535)",
			opts->unprivileged_port_start);
	if ((error = report_new(&r, b, opts, err)) < 0)
		return error;
	/* Work on a copy so that a failure leaves the bundle as it was. */
	if ((work = json_deep_copy(b->root)) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = nr__bundle_get_object(&process, work, "process", "process", err)) < 0)
		goto done;
	if (process == NULL) {
		error = nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
			"process: missing (a bundle without a process cannot be run)");
		goto done;
	}
	if ((error = harden_user(r, b, process, opts, err)) < 0 ||
	    (error = harden_caps(r, process, opts, err)) < 0)
		goto done;
	old = nr__jget(process, "noNewPrivileges");
	if (old && !json_is_null(old) && !json_is_boolean(old)) {
		error = nr__bundle_field_error(err, "process.noNewPrivileges", "a boolean", old);
		goto done;
	}
	if ((error = set_member(r, process, "noNewPrivileges", json_true(),
		"process.noNewPrivileges", err)) < 0)
		goto done;
	if (opts->unprivileged_port_start >= 0 &&
	    (error = harden_sysctl(r, work, opts->unprivileged_port_start, err)) < 0)
		goto done;
	if ((error = describe_grants(r, work, err)) < 0)
		goto done;
	json_decref(b->root);
	b->root = work;
	work = NULL;
	if (report) {
		*report = r;
		r = NULL;
	}
done:
	json_decref(work);
	nr_bundle_report_free(r);
	return error;
}

int nr_bundle_harden_dir(nr_bundle_report **report, const char *dir,
	const nr_bundle_harden_options *opts, nr_error *err)
{
	nr_bundle *b = NULL;
	nr_bundle_report *r = NULL;
	int error;

	nr__error_reset(err);
	if (report)
		*report = NULL;
	NR_ASSERT_ARG(dir, err);
	if ((error = nr_bundle_open(&b, dir, err)) < 0 ||
	    (error = nr_bundle_harden(&r, b, opts, err)) < 0)
		goto done;
	if ((opts == NULL || !opts->dry_run) && r->changes > 0) {
		if ((error = nr_bundle_write(b, err)) < 0)
			goto done;
		r->written = 1;
		nr__jset_new(r->doc, "written", json_true());
	}
	if (report) {
		*report = r;
		r = NULL;
	}
done:
	nr_bundle_report_free(r);
	nr_bundle_free(b);
	return error;
}
