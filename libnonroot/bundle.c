/*
 * bundle.c: OCI runtime bundles: read/write config.json (every untouched field kept, in its
 * order), harden process.user, capabilities, noNewPrivileges and the port sysctl, and report.
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

#define CONFIG_NAME "config.json"
#define CAP_NBS "CAP_NET_BIND_SERVICE"
#define PORT_SYSCTL "net.ipv4.ip_unprivileged_port_start"
#define PORT_SYSCTL_FIELD "linux.sysctl[\"" PORT_SYSCTL "\"]"

#define INDENT_TABS (-1)

struct nr_bundle {
	char *dir;      /* NULL for a bundle parsed without a directory */
	int dirfd;      /* -1 likewise */
	json_t *root;   /* the whole config.json */
	int indent;     /* INDENT_TABS, 0 (compact) or a number of spaces */
};

struct nr_bundle_report {
	json_t *doc;    /* the JSON report; the text form is rendered from it */
	size_t changes;
	int written;
};

static const char *const cap_sets[] = {
	"bounding", "effective", "inheritable", "permitted", "ambient"
};

/* ---- small helpers ---------------------------------------------------------------------- */

static int oom(nr_error *err)
{
	return nr__error_oom(err);
}

static const char *jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static int field_error(nr_error *err, const char *field, const char *expected, const json_t *got)
{
	return nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0, "%s: expected %s, got %s",
		field, expected, jtype(got));
}

/* Optional object member: *out is NULL when absent or JSON null. */
static int get_object(json_t **out, json_t *parent, const char *key, const char *field,
	nr_error *err)
{
	json_t *v = nr__jget(parent, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return field_error(err, field, "an object", v);
	*out = v;
	return 0;
}

/* Like get_object, but an absent member is created (appended, so other keys keep order). */
static int need_object(json_t **out, json_t *parent, const char *key, const char *field,
	nr_error *err)
{
	int error;

	if ((error = get_object(out, parent, key, field, err)) < 0 || *out != NULL)
		return error;
	if ((*out = json_object()) == NULL || nr__jset_new(parent, key, *out) < 0)
		return oom(err);
	return 0;
}

/* An id: integer in 0..UINT32_MAX (runtime-spec uses uint32 for uid/gid). */
static int get_id(uint32_t *out, const json_t *v, const char *field, nr_error *err)
{
	json_int_t n;

	if (!json_is_integer(v))
		return field_error(err, field, "an integer", v);
	n = json_integer_value(v);
	if (n < 0 || n > (json_int_t)UINT32_MAX)
		return nr__error_set(err, NR_ERANGE, CONFIG_NAME, 0, 0,
			"%s: %" JSON_INTEGER_FORMAT " is out of range (0-4294967295)", field, n);
	*out = (uint32_t)n;
	return 0;
}

static int check_string_array(const json_t *v, const char *field, nr_error *err)
{
	size_t i;
	char f[96];

	if (!json_is_array(v))
		return field_error(err, field, "an array of strings", v);
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i))) {
			snprintf(f, sizeof(f), "%s[%zu]", field, i);
			return field_error(err, f, "a string", json_array_get(v, i));
		}
	}
	return 0;
}

static int check_id_array(const json_t *v, const char *field, nr_error *err)
{
	size_t i;
	uint32_t id;
	char f[96];
	int error;

	if (!json_is_array(v))
		return field_error(err, field, "an array of integers", v);
	for (i = 0; i < json_array_size(v); i++) {
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if ((error = get_id(&id, json_array_get(v, i), f, err)) < 0)
			return error;
	}
	return 0;
}

static bool array_has_string(const json_t *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const char *x = json_string_value(json_array_get(arr, i));
		if (x && !strcmp(x, s))
			return true;
	}
	return false;
}

static bool array_has_int(const json_t *arr, json_int_t n)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *x = json_array_get(arr, i);
		if (json_is_integer(x) && json_integer_value(x) == n)
			return true;
	}
	return false;
}

/* ---- open, parse, dump, save ------------------------------------------------------------ */

/* The indentation of the input: a tab, N spaces (1-31), or compact (no newline). */
static int detect_indent(const char *json, size_t len)
{
	const char *nl = memchr(json, '\n', len);
	size_t i, n = 0;

	if (nl == NULL)
		return 0;
	i = (size_t)(nl - json) + 1;
	if (i < len && json[i] == '\t')
		return INDENT_TABS;
	while (i + n < len && json[i + n] == ' ')
		n++;
	if (n == 0)
		return INDENT_TABS;   /* runc's and umoci's style */
	return n > 31 ? 31 : (int)n;
}

static int bundle_new(nr_bundle **out, const char *json, size_t len, const char *dir, int dirfd,
	nr_error *err)
{
	nr_bundle *b = NULL;
	json_t *root;
	int error;

	*out = NULL;
	if (nr__has_nul(json, len))
		return nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
			"embedded NUL byte at offset %zu", (size_t)((const char *)memchr(json, 0, len) - json));
	if ((error = nr__json_load(&root, json, len, CONFIG_NAME, "", err)) < 0)
		return error;
	if (!json_is_object(root)) {
		nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
			"expected a JSON object, got %s", jtype(root));
		json_decref(root);
		return NR_EINVALID;
	}
	if ((b = nr__calloc(1, sizeof(*b))) == NULL ||
	    (dir && (b->dir = nr__strdup(dir)) == NULL)) {
		json_decref(root);
		free(b);
		return oom(err);
	}
	b->root = root;
	b->dirfd = dirfd;
	b->indent = detect_indent(json, len);
	*out = b;
	return 0;
}

int nr_bundle_parse(nr_bundle **out, const char *json, size_t len, const char *dir,
	nr_error *err)
{
	int dirfd = -1, error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(json, err);
	if (dir && (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, dir, "open bundle directory");
	if ((error = bundle_new(out, json, len, dir, dirfd, err)) < 0 && dirfd >= 0)
		close(dirfd);
	return error;
}

int nr_bundle_open(nr_bundle **out, const char *dir, nr_error *err)
{
	char *json = NULL;
	size_t len;
	int dirfd, error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(dir, err);
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, dir, "open bundle directory");
	error = nr__file_read_at(&json, &len, dirfd, CONFIG_NAME, 0, NR_BUNDLE_CONFIG_MAX,
		CONFIG_NAME, err);
	if (error == 0)
		error = bundle_new(out, json, len, dir, dirfd, err);
	if (error < 0)
		close(dirfd);
	free(json);
	return error;
}

void nr_bundle_free(nr_bundle *b)
{
	if (b == NULL)
		return;
	if (b->dirfd >= 0)
		close(b->dirfd);
	json_decref(b->root);
	free(b->dir);
	free(b);
}

const char *nr_bundle_root_path(const nr_bundle *b)
{
	json_t *root;

	if (b == NULL || (root = nr__jget(b->root, "root")) == NULL)
		return NULL;
	return json_string_value(nr__jget(root, "path"));
}

/* Serialise v with jansson (order kept) into an owned string with a final newline. With
 * tabs, jansson's one-space indentation is turned into tabs: a JSON text has no raw newline
 * inside a string, so the spaces that start a line are all indentation. */
static int dump_json(char **out, size_t *len, const json_t *v, int indent, nr_error *err)
{
	size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	nr_buf b = NR_BUF_INIT;
	char *text, *p;
	int error = 0;

	*out = NULL;
	if (len)
		*len = 0;
	if (indent == INDENT_TABS)
		flags |= JSON_INDENT(1);
	else if (indent > 0)
		flags |= JSON_INDENT(indent);
	else
		flags |= JSON_COMPACT;
	if ((text = json_dumps(v, flags)) == NULL)
		return oom(err);
	if (indent != INDENT_TABS) {
		nr_buf_puts(&b, text);
	} else {
		for (p = text; *p; ) {
			char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p), sp = 0;
			while (sp < n && p[sp] == ' ') {
				nr_buf_putc(&b, '\t');
				sp++;
			}
			nr_buf_put(&b, p + sp, n - sp);
			p += n;
		}
	}
	nr_buf_putc(&b, '\n');
	free(text);
	if (b.oom) {
		error = oom(err);
		nr_buf_dispose(&b);
		return error;
	}
	*out = nr_buf_detach(&b, len);
	return *out ? 0 : oom(err);
}

int nr_bundle_dump(char **out, size_t *len, const nr_bundle *b, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(b, err);
	return dump_json(out, len, b->root, b->indent, err);
}

int nr_bundle_save(nr_bundle *b, nr_error *err)
{
	char *text = NULL;
	size_t len;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(b, err);
	if (b->dirfd < 0)
		return nr__error_set(err, NR_EARG, CONFIG_NAME, 0, 0,
			"the bundle has no directory to save to");
	if ((error = dump_json(&text, &len, b->root, b->indent, err)) < 0)
		return error;
	error = nr__file_write_atomic_at(b->dirfd, CONFIG_NAME, text, len, 0644, CONFIG_NAME, err);
	free(text);
	return error;
}

/* ---- user resolution (through the accounts API) ----------------------------------------- */

/* Resolve spec like runc against the bundle's root filesystem: root.path, relative to the
 * bundle directory unless absolute; etc/passwd and etc/group are read inside that root only
 * (nr_rootfs confines every path and symlink to it). */
static int resolve_user(nr_exec_user *u, nr_bundle *b, const char *spec, nr_error *err)
{
	const char *rootpath = nr_bundle_root_path(b);
	nr_buf path = NR_BUF_INIT;
	nr_error local = NR_ERROR_INIT;
	nr_rootfs *rfs = NULL;
	int error;

	memset(u, 0, sizeof(*u));
	if (b->dir == NULL)
		return nr__error_set(err, NR_EARG, CONFIG_NAME, 0, 0,
			"cannot resolve user '%s': the bundle has no directory", spec);
	if (rootpath == NULL || *rootpath == '\0')
		return nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
			"root.path: needed to resolve user '%s' in the root filesystem", spec);
	if (rootpath[0] != '/') {
		nr_buf_puts(&path, b->dir);
		nr_buf_putc(&path, '/');
	}
	nr_buf_puts(&path, rootpath);
	if (path.oom) {
		error = oom(err);
		goto done;
	}
	if ((error = nr_rootfs_open(&rfs, path.ptr, &local)) < 0) {
		/* Name the field rather than the host path (which is the bundle's business). */
		nr__error_set(err, error, CONFIG_NAME, 0, 0, "root.path: cannot open '%s': %s",
			rootpath, local.message);
		goto done;
	}
	error = nr_rootfs_resolve_user(rfs, spec, NULL, u, err);
done:
	nr_rootfs_free(rfs);
	nr_buf_dispose(&path);
	return error;
}

/* ---- hardening -------------------------------------------------------------------------- */

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
		return oom(err);
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
		return oom(err);
	if (old && json_equal(old, value)) {
		json_decref(value);
		return 0;
	}
	if ((error = add_change(r, field, old, value, err)) < 0) {
		json_decref(value);
		return error;
	}
	return nr__jset_new(obj, key, value) < 0 ? oom(err) : 0;
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
	if ((error = get_object(&user, process, "user", "process.user", err)) < 0)
		return error;
	if (user) {
		if ((v = nr__jget(user, "uid")) != NULL &&
		    (error = get_id(&uid, v, "process.user.uid", err)) < 0)
			return error;
		if ((v = nr__jget(user, "gid")) != NULL &&
		    (error = get_id(&gid, v, "process.user.gid", err)) < 0)
			return error;
		if ((v = nr__jget(user, "additionalGids")) != NULL && !json_is_null(v) &&
		    (error = check_id_array(v, "process.user.additionalGids", err)) < 0)
			return error;
	}
	if (opts->user) {
		if ((error = resolve_user(&u, b, opts->user, err)) < 0)
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
		error = oom(err);
		goto done;
	}
	if (!opts->user) {
		/* The bundle's own user: report its additional gids as they are. */
		v = nr__jget(user, "additionalGids");
		if (json_is_array(v) && nr__jset_new(rep, "additional_gids",
		    json_deep_copy(v)) < 0)
			error = oom(err);
		goto done;
	}
	if ((error = need_object(&user, process, "user", "process.user", err)) < 0)
		goto done;
	if ((error = set_member(r, user, "uid", json_integer(uid), "process.user.uid", err)) < 0 ||
	    (error = set_member(r, user, "gid", json_integer(gid), "process.user.gid", err)) < 0)
		goto done;
	if (u.n_additional_gids > 0) {
		if ((gids = json_array()) == NULL) {
			error = oom(err);
			goto done;
		}
		for (i = 0; i < u.n_additional_gids; i++) {
			if (json_array_append_new(gids, json_integer(u.additional_gids[i])) < 0 ||
			    json_array_append_new(nr__jget(rep, "additional_gids"),
				json_integer(u.additional_gids[i])) < 0) {
				json_decref(gids);
				error = oom(err);
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

	if ((error = need_object(&caps, process, "capabilities", "process.capabilities", err)) < 0)
		return error;
	for (i = 0; i < NR_ARRAY_SIZE(cap_sets); i++) {
		snprintf(field, sizeof(field), "process.capabilities.%s", cap_sets[i]);
		set = nr__jget(caps, cap_sets[i]);
		if (set && !json_is_null(set) && (error = check_string_array(set, field, err)) < 0)
			return error;
		set = opts->allow_low_ports ? json_pack("[s]", CAP_NBS) : json_array();
		if ((error = set_member(r, caps, cap_sets[i], set, field, err)) < 0)
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

	if ((error = get_object(&linux_, root, "linux", "linux", err)) < 0)
		return error;
	if (linux_ == NULL || !has_network_namespace(linux_))
		return nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0,
			"linux.namespaces: " PORT_SYSCTL " is a per-network-namespace sysctl but the "
			"bundle has no network namespace (runc would refuse it)");
	if ((error = get_object(&sysctl, linux_, "sysctl", "linux.sysctl", err)) < 0)
		return error;
	if (sysctl && (old = json_object_get(sysctl, PORT_SYSCTL)) && !json_is_string(old))
		return field_error(err, PORT_SYSCTL_FIELD, "a string", old);
	if ((error = need_object(&sysctl, linux_, "sysctl", "linux.sysctl", err)) < 0)
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

	if (s == NULL || nr_parse_u32(s, strlen(s), 65535, &v) < 0)
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
	return json_array_append_new(warnings, json_string(text)) < 0 ? oom(err) : 0;
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
		return oom(err);
	for (i = 0; i < n; i++)
		if (json_string_value(json_array_get(env, i)))
			envp[k++] = json_string_value(json_array_get(env, i));
	if (nr_bindings_from_env(&b, envp, NULL, &berr) < 0) {
		free(envp);
		if (berr.code == NR_ENOMEM)
			return oom(err);
		if (json_object_set_new(doc, "bindings", json_null()) < 0)
			return oom(err);
		return add_warning(warnings, err, "process.env: Kestrel would refuse to start: %s",
			berr.message);
	}
	free(envp);
	if ((j = nr__bindings_json(b)) == NULL || json_object_set_new(doc, "bindings", j) < 0) {
		error = oom(err);
		goto done;
	}
	for (i = 0; uid != 0 && !nbs && i < nr_bindings_count(b); i++) {
		const nr_binding *x = nr_bindings_get(b, i);
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

/* What the hardened config still grants, and warnings about it. */
static int describe_grants(nr_bundle_report *r, const json_t *root, nr_error *err)
{
	const json_t *process = nr__jget(root, "process");
	const json_t *user = nr__jget(process, "user");
	const json_t *caps = nr__jget(process, "capabilities");
	const json_t *gids = nr__jget(user, "additionalGids");
	const json_t *env = nr__jget(process, "env");
	const json_t *mounts = nr__jget(root, "mounts");
	json_t *grants, *capobj, *low, *warnings = nr__jget(r->doc, "warnings");
	json_int_t uid = json_integer_value(nr__jget(user, "uid"));
	json_int_t gid = json_integer_value(nr__jget(user, "gid"));
	int port = port_start(root);
	bool nbs;
	size_t i, j;
	int error;

	if ((grants = json_object()) == NULL || nr__jset_new(r->doc, "grants", grants) < 0)
		return oom(err);
	if ((capobj = json_object()) == NULL || (low = json_array()) == NULL) {
		json_decref(capobj);
		return oom(err);
	}
	for (i = 0; i < NR_ARRAY_SIZE(cap_sets); i++) {
		json_t *set = nr__jget(caps, cap_sets[i]);
		if (nr__jset_new(capobj, cap_sets[i],
		    json_is_array(set) ? json_deep_copy(set) : json_array()) < 0)
			goto nomem;
	}
	/* A non-root process keeps a capability across exec only through the ambient set;
	 * root through permitted/effective. */
	nbs = array_has_string(nr__jget(caps, uid == 0 ? "effective" : "ambient"), CAP_NBS);
	if (nbs && json_array_append_new(low, json_string(CAP_NBS)) < 0)
		goto nomem;
	if (port >= 0 && port < NR_UNPRIVILEGED_PORT_START &&
	    json_array_append_new(low, json_sprintf(PORT_SYSCTL "=%d", port)) < 0)
		goto nomem;
	if (nr__jset_new(grants, "uid", json_integer(uid)) < 0 ||
	    nr__jset_new(grants, "gid", json_integer(gid)) < 0 ||
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
	low = NULL;

	if (uid == 0 && (error = add_warning(warnings, err,
	    "process.user.uid: the process runs as root (uid 0), allowed by allow_root")) < 0)
		return error;
	if (uid != 0 && gid == 0 && (error = add_warning(warnings, err,
	    "process.user.gid: the process keeps group 0 (root) and with it every file that "
	    "is group-writable by root")) < 0)
		return error;
	if (array_has_int(gids, 0) && (error = add_warning(warnings, err,
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
	if ((error = describe_bindings(r->doc, warnings, env, uid, nbs, port, err)) < 0)
		return error;
	for (i = 0; i < json_array_size(mounts); i++) {
		const json_t *m = json_array_get(mounts, i), *o = nr__jget(m, "options");
		const char *type = json_string_value(nr__jget(m, "type"));
		bool bind = type && !strcmp(type, "bind");
		for (j = 0; j < json_array_size(o); j++) {
			const char *s = json_string_value(json_array_get(o, j));
			bind |= s && (!strcmp(s, "bind") || !strcmp(s, "rbind"));
		}
		const char *dst = json_string_value(nr__jget(m, "destination"));
		const char *src = json_string_value(nr__jget(m, "source"));
		if (bind && (error = add_warning(warnings, err,
		    "mounts[%zu]: %s is a bind mount of the host's %s", i,
		    dst ? dst : "?", src ? src : "?")) < 0)
			return error;
	}
	return 0;
nomem:
	json_decref(capobj);
	json_decref(low);
	return oom(err);
}

static int report_new(nr_bundle_report **out, const nr_bundle *b,
	const nr_bundle_harden_options *opts, nr_error *err)
{
	nr_bundle_report *r = nr__calloc(1, sizeof(*r));

	if (r == NULL)
		return oom(err);
	r->doc = json_pack("{s:s?, s:b, s:b, s:n, s:[], s:n, s:[]}", "bundle", b->dir,
		"dry_run", opts->dry_run != 0, "written", 0, "user", "changes", "grants",
		"warnings");
	if (r->doc == NULL) {
		free(r);
		return oom(err);
	}
	*out = r;
	return 0;
}

int nr_bundle_harden(nr_bundle *b, const nr_bundle_harden_options *opts,
	nr_bundle_report **report, nr_error *err)
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
		error = oom(err);
		goto done;
	}
	if ((error = get_object(&process, work, "process", "process", err)) < 0)
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
		error = field_error(err, "process.noNewPrivileges", "a boolean", old);
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

int nr_bundle_harden_dir(const char *dir, const nr_bundle_harden_options *opts,
	nr_bundle_report **report, nr_error *err)
{
	nr_bundle *b = NULL;
	nr_bundle_report *r = NULL;
	int error;

	nr__error_reset(err);
	if (report)
		*report = NULL;
	NR_ASSERT_ARG(dir, err);
	if ((error = nr_bundle_open(&b, dir, err)) < 0 ||
	    (error = nr_bundle_harden(b, opts, &r, err)) < 0)
		goto done;
	if ((opts == NULL || !opts->dry_run) && r->changes > 0) {
		if ((error = nr_bundle_save(b, err)) < 0)
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

/* ---- the report ------------------------------------------------------------------------- */

size_t nr_bundle_report_changes(const nr_bundle_report *r)
{
	return r ? r->changes : 0;
}

int nr_bundle_report_written(const nr_bundle_report *r)
{
	return r ? r->written : 0;
}

void nr_bundle_report_free(nr_bundle_report *r)
{
	if (r == NULL)
		return;
	json_decref(r->doc);
	free(r);
}

int nr_bundle_report_json(char **out, size_t *len, const nr_bundle_report *r, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(r, err);
	return dump_json(out, len, r->doc, 2, err);
}

/* Strings of `a` that are not in `b`, joined with ", " ("" when none). */
static void put_missing(nr_buf *out, const json_t *a, const json_t *b)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && !array_has_string(b, s))
			nr_buf_printf(out, "%s%s", n++ ? ", " : "", s);
	}
}

/* Strings of `a` that are also in `b`, joined with ", ". */
static void put_common(nr_buf *out, const json_t *a, const json_t *b)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && array_has_string(b, s))
			nr_buf_printf(out, "%s%s", n++ ? ", " : "", s);
	}
}

static size_t count_missing(const json_t *a, const json_t *b)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && !array_has_string(b, s))
			n++;
	}
	return n;
}

static void put_value(nr_buf *out, const json_t *v)
{
	char *s;

	if (v == NULL) {
		nr_buf_puts(out, "(unset)");
		return;
	}
	if ((s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL) {
		out->oom = 1;
		return;
	}
	nr_buf_puts(out, s);
	free(s);
}

static void put_change(nr_buf *out, const json_t *c)
{
	const char *field = json_string_value(nr__jget(c, "field"));
	const json_t *old = nr__jget(c, "old"), *new_ = nr__jget(c, "new");
	const char *sep = "";

	nr_buf_printf(out, "  %s: ", field);
	if (json_is_null(old))
		old = NULL;
	if (json_is_null(new_))
		new_ = NULL;
	if (!strncmp(field, "process.capabilities.", 21) && json_is_array(new_) &&
	    (old == NULL || json_is_array(old))) {
		if (old == NULL) {
			nr_buf_puts(out, "(unset) -> ");
			put_value(out, new_);
			nr_buf_putc(out, '\n');
			return;
		}
		if (count_missing(old, new_)) {
			nr_buf_puts(out, "dropped ");
			put_missing(out, old, new_);
			sep = "; ";
		}
		if (count_missing(new_, old)) {
			nr_buf_printf(out, "%sadded ", sep);
			put_missing(out, new_, old);
			sep = "; ";
		}
		if (json_array_size(new_) > count_missing(new_, old)) {
			nr_buf_printf(out, "%skept ", sep);
			put_common(out, new_, old);
		}
		nr_buf_putc(out, '\n');
		return;
	}
	put_value(out, old);
	nr_buf_puts(out, " -> ");
	if (new_ == NULL)
		nr_buf_puts(out, "(removed)");
	else
		put_value(out, new_);
	nr_buf_putc(out, '\n');
}

int nr_bundle_report_text(char **out, size_t *len, const nr_bundle_report *r, nr_error *err)
{
	const json_t *doc, *changes, *user, *grants, *caps, *low, *warnings, *gids, *bindings;
	const char *bundle;
	nr_buf b = NR_BUF_INIT;
	size_t i, n, ncaps = 0;
	bool uniform = true;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(r, err);
	doc = r->doc;
	changes = nr__jget(doc, "changes");
	user = nr__jget(doc, "user");
	grants = nr__jget(doc, "grants");
	caps = nr__jget(grants, "capabilities");
	low = nr__jget(grants, "low_ports");
	warnings = nr__jget(doc, "warnings");
	gids = nr__jget(grants, "additional_gids");
	bindings = nr__jget(doc, "bindings");
	bundle = json_string_value(nr__jget(doc, "bundle"));
	n = json_array_size(changes);

	nr_buf_printf(&b, "bundle %s: %zu change%s", bundle ? bundle : "(in memory)", n,
		n == 1 ? "" : "s");
	if (n == 0)
		nr_buf_puts(&b, ", already hardened");
	else if (json_is_true(nr__jget(doc, "dry_run")))
		nr_buf_puts(&b, ", dry run: config.json not written");
	else if (r->written)
		nr_buf_puts(&b, ", config.json written");
	nr_buf_putc(&b, '\n');
	if (json_string_value(nr__jget(user, "spec"))) {
		const char *name = json_string_value(nr__jget(user, "name"));
		nr_buf_printf(&b, "user %s: uid %" JSON_INTEGER_FORMAT ", gid %" JSON_INTEGER_FORMAT,
			json_string_value(nr__jget(user, "spec")),
			json_integer_value(nr__jget(user, "uid")),
			json_integer_value(nr__jget(user, "gid")));
		if (name)
			nr_buf_printf(&b, " (%s)", name);
		nr_buf_putc(&b, '\n');
	}
	if (n > 0)
		nr_buf_puts(&b, "changed:\n");
	for (i = 0; i < n; i++)
		put_change(&b, json_array_get(changes, i));

	nr_buf_puts(&b, "still granted:\n");
	nr_buf_printf(&b, "  user: uid %" JSON_INTEGER_FORMAT ", gid %" JSON_INTEGER_FORMAT
		", additional gids: ", json_integer_value(nr__jget(grants, "uid")),
		json_integer_value(nr__jget(grants, "gid")));
	if (json_array_size(gids) == 0)
		nr_buf_puts(&b, "none");
	for (i = 0; i < json_array_size(gids); i++)
		nr_buf_printf(&b, "%s%" JSON_INTEGER_FORMAT, i ? ", " : "",
			json_integer_value(json_array_get(gids, i)));
	nr_buf_putc(&b, '\n');
	/* Capabilities: one line when every set holds the same, else one per set. */
	for (i = 0; i < NR_ARRAY_SIZE(cap_sets); i++) {
		const json_t *s = nr__jget(caps, cap_sets[i]);
		ncaps += json_array_size(s);
		if (!json_equal((json_t *)s, nr__jget(caps, cap_sets[0])))
			uniform = false;
	}
	if (ncaps == 0) {
		nr_buf_puts(&b, "  capabilities: none\n");
	} else if (uniform) {
		nr_buf_puts(&b, "  capabilities: ");
		put_missing(&b, nr__jget(caps, cap_sets[0]), NULL);
		nr_buf_puts(&b, " (in every set)\n");
	} else {
		for (i = 0; i < NR_ARRAY_SIZE(cap_sets); i++) {
			const json_t *s = nr__jget(caps, cap_sets[i]);
			nr_buf_printf(&b, "  capabilities %s: ", cap_sets[i]);
			if (json_array_size(s) == 0)
				nr_buf_puts(&b, "none");
			put_missing(&b, s, NULL);
			nr_buf_putc(&b, '\n');
		}
	}
	nr_buf_printf(&b, "  no new privileges: %s\n",
		json_is_true(nr__jget(grants, "no_new_privileges")) ? "yes" : "no");
	nr_buf_puts(&b, "  ports below 1024: ");
	if (json_array_size(low) == 0)
		nr_buf_puts(&b, "not bindable");
	for (i = 0; i < json_array_size(low); i++)
		nr_buf_printf(&b, "%s%s", i ? ", " : "bindable through ",
			json_string_value(json_array_get(low, i)));
	nr_buf_putc(&b, '\n');
	if (json_is_object(bindings) && strcmp("default",
	    json_string_value(nr__jget(bindings, "effective"))) != 0) {
		const json_t *list = nr__jget(bindings, "bindings");
		nr_buf_printf(&b, "  ASP.NET Core bindings (%s):",
			json_string_value(nr__jget(bindings, "effective")));
		for (i = 0; i < json_array_size(list); i++)
			nr_buf_printf(&b, " %s", json_string_value(nr__jget(
				json_array_get(list, i), "url")));
		nr_buf_putc(&b, '\n');
	}
	if (json_array_size(warnings) > 0)
		nr_buf_puts(&b, "warnings:\n");
	for (i = 0; i < json_array_size(warnings); i++)
		nr_buf_printf(&b, "  %s\n", json_string_value(json_array_get(warnings, i)));
	if (b.oom) {
		nr_buf_dispose(&b);
		return oom(err);
	}
	*out = nr_buf_detach(&b, len);
	return *out ? 0 : oom(err);
}
