/*
 * bundle_report.c: the hardening report: accessors, JSON and the text rendering (a diff of
 * each changed field).
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

int nr_bundle_report_to_json(char **out, size_t *len, const nr_bundle_report *r, nr_error *err)
{
	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(r, err);
	return nr__bundle_dump_json(out, len, r->doc, 2, err);
}

/* Strings of `a` that are not in `b`, joined with ", " ("" when none). */
static void put_missing(nr__buf *out, const json_t *a, const json_t *b)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && !nr__bundle_array_has_string(b, s))
			nr__buf_printf(out, "%s%s", n++ ? ", " : "", s);
	}
}

/* Strings of `a` that are also in `b`, joined with ", ". */
static void put_common(nr__buf *out, const json_t *a, const json_t *b)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && nr__bundle_array_has_string(b, s))
			nr__buf_printf(out, "%s%s", n++ ? ", " : "", s);
	}
}

static size_t count_missing(const json_t *a, const json_t *b)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && !nr__bundle_array_has_string(b, s))
			n++;
	}
	return n;
}

static void put_value(nr__buf *out, const json_t *v)
{
	char *s;

	if (v == NULL) {
		nr__buf_puts(out, "(unset)");
		return;
	}
	if ((s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL) {
		out->oom = 1;
		return;
	}
	nr__buf_puts(out, s);
	free(s);
}

static void put_change(nr__buf *out, const json_t *c)
{
	const char *field = json_string_value(nr__jget(c, "field"));
	const json_t *old = nr__jget(c, "old"), *new_ = nr__jget(c, "new");
	const char *sep = "";

	nr__buf_printf(out, "  %s: ", field);
	if (json_is_null(old))
		old = NULL;
	if (json_is_null(new_))
		new_ = NULL;
	if (!strncmp(field, "process.capabilities.", 21) && json_is_array(new_) &&
	    (old == NULL || json_is_array(old))) {
		if (old == NULL) {
			nr__buf_puts(out, "(unset) -> ");
			put_value(out, new_);
			nr__buf_putc(out, '\n');
			return;
		}
		if (count_missing(old, new_)) {
			nr__buf_puts(out, "dropped ");
			put_missing(out, old, new_);
			sep = "; ";
		}
		if (count_missing(new_, old)) {
			nr__buf_printf(out, "%sadded ", sep);
			put_missing(out, new_, old);
			sep = "; ";
		}
		if (json_array_size(new_) > count_missing(new_, old)) {
			nr__buf_printf(out, "%skept ", sep);
			put_common(out, new_, old);
		}
		nr__buf_putc(out, '\n');
		return;
	}
	put_value(out, old);
	nr__buf_puts(out, " -> ");
	if (new_ == NULL)
		nr__buf_puts(out, "(removed)");
	else
		put_value(out, new_);
	nr__buf_putc(out, '\n');
}

/* The head: the bundle, how many changes and what became of them, the user. */
static void put_head(nr__buf *b, const nr_bundle_report *r, size_t n)
{
	const json_t *doc = r->doc, *user = nr__jget(doc, "user");
	const char *bundle = json_string_value(nr__jget(doc, "bundle"));

	nr__buf_printf(b, "bundle %s: %zu change%s", bundle ? bundle : "(in memory)", n,
		n == 1 ? "" : "s");
	if (n == 0)
		nr__buf_puts(b, ", already hardened");
	else if (json_is_true(nr__jget(doc, "dry_run")))
		nr__buf_puts(b, ", dry run: config.json not written");
	else if (r->written)
		nr__buf_puts(b, ", config.json written");
	nr__buf_putc(b, '\n');
	if (json_string_value(nr__jget(user, "spec"))) {
		const char *name = json_string_value(nr__jget(user, "name"));
		nr__buf_printf(b, "user %s: uid %" JSON_INTEGER_FORMAT ", gid %" JSON_INTEGER_FORMAT,
			json_string_value(nr__jget(user, "spec")),
			json_integer_value(nr__jget(user, "uid")),
			json_integer_value(nr__jget(user, "gid")));
		if (name)
			nr__buf_printf(b, " (%s)", name);
		nr__buf_putc(b, '\n');
	}
}

/* Capabilities still granted: one line when every set holds the same, else one per set. */
static void put_capabilities(nr__buf *b, const json_t *caps)
{
	size_t i, ncaps = 0;
	bool uniform = true;

	for (i = 0; i < NR_ARRAY_SIZE(nr__bundle_cap_sets); i++) {
		const json_t *s = nr__jget(caps, nr__bundle_cap_sets[i]);
		ncaps += json_array_size(s);
		if (!json_equal((json_t *)s, nr__jget(caps, nr__bundle_cap_sets[0])))
			uniform = false;
	}
	if (ncaps == 0) {
		nr__buf_puts(b, "  capabilities: none\n");
	} else if (uniform) {
		nr__buf_puts(b, "  capabilities: ");
		put_missing(b, nr__jget(caps, nr__bundle_cap_sets[0]), NULL);
		nr__buf_puts(b, " (in every set)\n");
	} else {
		for (i = 0; i < NR_ARRAY_SIZE(nr__bundle_cap_sets); i++) {
			const json_t *s = nr__jget(caps, nr__bundle_cap_sets[i]);
			nr__buf_printf(b, "  capabilities %s: ", nr__bundle_cap_sets[i]);
			if (json_array_size(s) == 0)
				nr__buf_puts(b, "none");
			put_missing(b, s, NULL);
			nr__buf_putc(b, '\n');
		}
	}
}

/* What the bundle still grants: user and groups, capabilities, no_new_privileges, low ports,
 * and the ASP.NET Core bindings when they are not the default. */
static void put_grants(nr__buf *b, const json_t *doc)
{
	const json_t *grants = nr__jget(doc, "grants"), *bindings = nr__jget(doc, "bindings");
	const json_t *gids = nr__jget(grants, "additional_gids"), *low = nr__jget(grants, "low_ports");
	size_t i;

	nr__buf_puts(b, "still granted:\n");
	nr__buf_printf(b, "  user: uid %" JSON_INTEGER_FORMAT ", gid %" JSON_INTEGER_FORMAT
		", additional gids: ", json_integer_value(nr__jget(grants, "uid")),
		json_integer_value(nr__jget(grants, "gid")));
	if (json_array_size(gids) == 0)
		nr__buf_puts(b, "none");
	for (i = 0; i < json_array_size(gids); i++)
		nr__buf_printf(b, "%s%" JSON_INTEGER_FORMAT, i ? ", " : "",
			json_integer_value(json_array_get(gids, i)));
	nr__buf_putc(b, '\n');
	put_capabilities(b, nr__jget(grants, "capabilities"));
	nr__buf_printf(b, "  no new privileges: %s\n",
		json_is_true(nr__jget(grants, "no_new_privileges")) ? "yes" : "no");
	nr__buf_puts(b, "  ports below 1024: ");
	if (json_array_size(low) == 0)
		nr__buf_puts(b, "not bindable");
	for (i = 0; i < json_array_size(low); i++)
		nr__buf_printf(b, "%s%s", i ? ", " : "bindable through ",
			json_string_value(json_array_get(low, i)));
	nr__buf_putc(b, '\n');
	if (json_is_object(bindings) && strcmp("default",
	    json_string_value(nr__jget(bindings, "effective"))) != 0) {
		const json_t *list = nr__jget(bindings, "bindings");
		nr__buf_printf(b, "  ASP.NET Core bindings (%s):",
			json_string_value(nr__jget(bindings, "effective")));
		for (i = 0; i < json_array_size(list); i++)
			nr__buf_printf(b, " %s", json_string_value(nr__jget(
				json_array_get(list, i), "url")));
		nr__buf_putc(b, '\n');
	}
}

int nr_bundle_report_to_text(char **out, size_t *len, const nr_bundle_report *r, nr_error *err)
{
	const json_t *changes, *warnings;
	nr__buf b = NR__BUF_INIT;
	size_t i, n;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(r, err);
	changes = nr__jget(r->doc, "changes");
	warnings = nr__jget(r->doc, "warnings");
	n = json_array_size(changes);
	put_head(&b, r, n);
	if (n > 0)
		nr__buf_puts(&b, "changed:\n");
	for (i = 0; i < n; i++)
		put_change(&b, json_array_get(changes, i));
	put_grants(&b, r->doc);
	if (json_array_size(warnings) > 0)
		nr__buf_puts(&b, "warnings:\n");
	for (i = 0; i < json_array_size(warnings); i++)
		nr__buf_printf(&b, "  %s\n", json_string_value(json_array_get(warnings, i)));
	if (b.oom) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	*out = nr__buf_detach(&b, len);
	return *out ? 0 : nr__error_oom(err);
}
