/*
 * bundle.c: OCI runtime bundles: read/write config.json (every untouched field kept, in its
 * order), the checked field accessors and the user resolution that bundle_harden.c (process.user,
 * capabilities, noNewPrivileges, the port sysctl) and bundle_report.c (the report) build on.
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

const char *const nr__bundle_cap_sets[5] = {
	"bounding", "effective", "inheritable", "permitted", "ambient"
};

/* ---- small helpers ---------------------------------------------------------------------- */

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

int nr__bundle_field_error(nr_error *err, const char *field, const char *expected, const json_t *got)
{
	return nr__error_set(err, NR_EINVALID, CONFIG_NAME, 0, 0, "%s: expected %s, got %s",
		field, expected, jtype(got));
}

/* Optional object member: *out is NULL when absent or JSON null. */
int nr__bundle_get_object(json_t **out, json_t *parent, const char *key, const char *field,
	nr_error *err)
{
	json_t *v = nr__jget(parent, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return nr__bundle_field_error(err, field, "an object", v);
	*out = v;
	return 0;
}

/* Like get_object, but an absent member is created (appended, so other keys keep order). */
int nr__bundle_need_object(json_t **out, json_t *parent, const char *key, const char *field,
	nr_error *err)
{
	int error;

	if ((error = nr__bundle_get_object(out, parent, key, field, err)) < 0 || *out != NULL)
		return error;
	if ((*out = json_object()) == NULL || nr__jset_new(parent, key, *out) < 0)
		return nr__error_oom(err);
	return 0;
}

/* An id: integer in 0..UINT32_MAX (runtime-spec uses uint32 for uid/gid). */
int nr__bundle_get_id(uint32_t *out, const json_t *v, const char *field, nr_error *err)
{
	json_int_t n;

	if (!json_is_integer(v))
		return nr__bundle_field_error(err, field, "an integer", v);
	n = json_integer_value(v);
	if (n < 0 || n > (json_int_t)UINT32_MAX)
		return nr__error_set(err, NR_ERANGE, CONFIG_NAME, 0, 0,
			"%s: %" JSON_INTEGER_FORMAT " is out of range (0-4294967295)", field, n);
	*out = (uint32_t)n;
	return 0;
}

int nr__bundle_check_string_array(const json_t *v, const char *field, nr_error *err)
{
	size_t i;
	char f[96];

	if (!json_is_array(v))
		return nr__bundle_field_error(err, field, "an array of strings", v);
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i))) {
			snprintf(f, sizeof(f), "%s[%zu]", field, i);
			return nr__bundle_field_error(err, f, "a string", json_array_get(v, i));
		}
	}
	return 0;
}

int nr__bundle_check_id_array(const json_t *v, const char *field, nr_error *err)
{
	size_t i;
	uint32_t id;
	char f[96];
	int error;

	if (!json_is_array(v))
		return nr__bundle_field_error(err, field, "an array of integers", v);
	for (i = 0; i < json_array_size(v); i++) {
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if ((error = nr__bundle_get_id(&id, json_array_get(v, i), f, err)) < 0)
			return error;
	}
	return 0;
}

bool nr__bundle_array_has_string(const json_t *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const char *x = json_string_value(json_array_get(arr, i));
		if (x && !strcmp(x, s))
			return true;
	}
	return false;
}

bool nr__bundle_array_has_int(const json_t *arr, json_int_t n)
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
		return nr__error_oom(err);
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
int nr__bundle_dump_json(char **out, size_t *len, const json_t *v, int indent, nr_error *err)
{
	size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	nr__buf b = NR__BUF_INIT;
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
		return nr__error_oom(err);
	if (indent != INDENT_TABS) {
		nr__buf_puts(&b, text);
	} else {
		for (p = text; *p; ) {
			char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p), sp = 0;
			while (sp < n && p[sp] == ' ') {
				nr__buf_putc(&b, '\t');
				sp++;
			}
			nr__buf_put(&b, p + sp, n - sp);
			p += n;
		}
	}
	nr__buf_putc(&b, '\n');
	free(text);
	if (b.oom) {
		error = nr__error_oom(err);
		nr__buf_dispose(&b);
		return error;
	}
	*out = nr__buf_detach(&b, len);
	return *out ? 0 : nr__error_oom(err);
}

int nr_bundle_serialize(char **out, size_t *len, const nr_bundle *b, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(b, err);
	return nr__bundle_dump_json(out, len, b->root, b->indent, err);
}

int nr_bundle_write(nr_bundle *b, nr_error *err)
{
	char *text = NULL;
	size_t len;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(b, err);
	if (b->dirfd < 0)
		return nr__error_set(err, NR_EARG, CONFIG_NAME, 0, 0,
			"the bundle has no directory to save to");
	if ((error = nr__bundle_dump_json(&text, &len, b->root, b->indent, err)) < 0)
		return error;
	error = nr__file_write_atomic_at(b->dirfd, CONFIG_NAME, text, len, 0644, CONFIG_NAME, err);
	free(text);
	return error;
}

/* ---- user resolution (through the accounts API) ----------------------------------------- */

/* Resolve spec like runc against the bundle's root filesystem: root.path, relative to the
 * bundle directory unless absolute; etc/passwd and etc/group are read inside that root only
 * (nr_rootfs confines every path and symlink to it). */
int nr__bundle_resolve_user(nr_exec_user *u, nr_bundle *b, const char *spec, nr_error *err)
{
	const char *rootpath = nr_bundle_root_path(b);
	nr__buf path = NR__BUF_INIT;
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
		nr__buf_puts(&path, b->dir);
		nr__buf_putc(&path, '/');
	}
	nr__buf_puts(&path, rootpath);
	if (path.oom) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = nr_rootfs_open(&rfs, path.ptr, &local)) < 0) {
		/* Name the field rather than the host path (which is the bundle's business). */
		nr__error_set(err, error, CONFIG_NAME, 0, 0, "root.path: cannot open '%s': %s",
			rootpath, local.message);
		goto done;
	}
	error = nr_rootfs_resolve_user(u, rfs, spec, NULL, err);
done:
	nr_rootfs_free(rfs);
	nr__buf_dispose(&path);
	return error;
}
