/*
 * reports.c: the JSON documents of the audit and of the patch report, built over the public
 * accessors so that the CLI, Python, Java and Perl all print the same bytes. The schemas
 * are in docs/schemas/.
 */
#include <jansson.h>

#include "internal.h"
#include "report_internal.h"

/* obj[key] = v (stolen); false on OOM. */
static bool set(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* The bindings document, or null. */
static json_t *bindings_or_null(const nr_bindings *b)
{
	return b ? nr__bindings_json(b) : json_null();
}

int nr_audit_to_json(char **out, size_t *len, const nr_audit *a, const char *image,
	nr_error *err)
{
	json_t *doc, *plats;
	size_t i, k, n, np;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(a, err);
	n = nr_audit_count(a);
	np = nr_audit_platform_count(a);
	if ((doc = json_object()) == NULL ||
	    !set(doc, "image", nr__json_text(image)) ||
	    !set(doc, "max_level", json_string(nr_level_name(nr_audit_max_level(a)))) ||
	    !set(doc, "suppressed", json_integer((json_int_t)nr_audit_suppressed_count(a))) ||
	    !set(doc, "platforms", plats = json_array()))
		goto nomem;
	for (i = 0; i < np; i++) {
		const nr_error *why = NULL;
		const nr_bindings *b = nr_audit_bindings(&why, a, i);
		json_t *p = json_object(), *list;
		if (p == NULL || json_array_append_new(plats, p) < 0 ||
		    !set(p, "platform", nr__json_text(nr_audit_platform_at(a, i))) ||
		    !set(p, "user", nr__json_text(nr_audit_user(a, i))) ||
		    !set(p, "bindings", bindings_or_null(b)) ||
		    (why && !set(p, "bindings_error", nr__json_text(why->message))) ||
		    !set(p, "findings", list = json_array()))
			goto nomem;
		for (k = 0; k < n; k++) {
			const nr_finding *f = nr_audit_at(a, k);
			json_t *o;
			if (f->manifest != i)
				continue;
			if ((o = json_object()) == NULL || json_array_append_new(list, o) < 0 ||
			    !set(o, "id", json_string(f->id)) ||
			    !set(o, "level", json_string(nr_level_name(f->level))) ||
			    !set(o, "location", nr__json_text(f->location)) ||
			    !set(o, "message", nr__json_text(f->message)) ||
			    !set(o, "fix", nr__json_text(f->fix)) ||
			    !set(o, "fingerprint", nr__json_text(f->fingerprint)) ||
			    !set(o, "baseline", json_boolean(f->baseline)))
				goto nomem;
		}
	}
	error = nr__json_dump(out, len, doc, err);
	json_decref(doc);
	return error;
nomem:
	json_decref(doc);
	return nr__error_oom(err);
}

/* {"media_type","digest","size"[,"diff_id"]} or null */
static json_t *desc_json(const nr_descriptor *d, const char *diff_id)
{
	json_t *o;

	if (d == NULL)
		return json_null();
	if ((o = json_object()) == NULL ||
	    !set(o, "media_type", nr__json_text(d->media_type)) ||
	    !set(o, "digest", nr__json_text(d->digest)) ||
	    !set(o, "size", json_integer((json_int_t)d->size)) ||
	    (diff_id && !set(o, "diff_id", nr__json_text(diff_id)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int nr_patch_report_to_json(char **out, size_t *len, const nr_patch_report *r,
	const char *image, const char *written, nr_error *err)
{
	json_t *doc, *changes, *plats;
	nr_descriptor d;
	const nr_descriptor *layer;
	const char *diff_id;
	size_t i, n;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(r, err);
	n = nr_patch_report_count(r);
	if ((doc = json_object()) == NULL ||
	    !set(doc, "image", nr__json_text(image)) ||
	    !set(doc, "dry_run", json_boolean(nr_patch_report_dry_run(r))) ||
	    !set(doc, "changed", json_boolean(nr_patch_report_changed(r))) ||
	    !set(doc, "written", nr__json_text(written)) ||
	    !set(doc, "uid", json_integer(nr_patch_report_uid(r))) ||
	    !set(doc, "gid", json_integer(nr_patch_report_gid(r))) ||
	    !set(doc, "result", desc_json(nr_patch_report_written(&d, r), NULL)) ||
	    !set(doc, "changes", changes = json_array()) ||
	    !set(doc, "platforms", plats = json_array()))
		goto nomem;
	for (i = 0; i < n; i++) {
		const nr_patch_change *c = nr_patch_report_at(r, i);
		json_t *o = json_object();
		if (o == NULL || json_array_append_new(changes, o) < 0 ||
		    !set(o, "platform", nr__json_text(c->platform)) ||
		    !set(o, "what", nr__json_text(c->what)) ||
		    !set(o, "target", nr__json_text(c->target)) ||
		    !set(o, "before", nr__json_text(c->before)) ||
		    !set(o, "after", nr__json_text(c->after)) ||
		    !set(o, "why", nr__json_text(c->why)))
			goto nomem;
	}
	for (i = 0; i < nr_patch_report_platform_count(r); i++) {
		json_t *o = json_object();
		if (o == NULL || json_array_append_new(plats, o) < 0 ||
		    !set(o, "platform", nr__json_text(nr_patch_report_platform_at(r, i))) ||
		    !set(o, "bindings_before", bindings_or_null(nr_patch_report_bindings(r, i, 0))) ||
		    !set(o, "bindings_after", bindings_or_null(nr_patch_report_bindings(r, i, 1))) ||
		    !set(o, "manifest", desc_json(nr_patch_report_descriptor(&d, NULL, r,
			i, NR_PATCH_MANIFEST), NULL)) ||
		    !set(o, "config", desc_json(nr_patch_report_descriptor(&d, NULL, r,
			i, NR_PATCH_CONFIG), NULL)))
			goto nomem;
		layer = nr_patch_report_descriptor(&d, &diff_id, r, i, NR_PATCH_LAYER);
		if (!set(o, "layer", desc_json(layer, diff_id)))
			goto nomem;
	}
	error = nr__json_dump(out, len, doc, err);
	json_decref(doc);
	return error;
nomem:
	json_decref(doc);
	return nr__error_oom(err);
}
