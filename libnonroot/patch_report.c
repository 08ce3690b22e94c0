/*
 * patch_report.c: nr_patch_report, what nr_image_patch() changed per manifest (the changes,
 * the bindings before and after, the new layer, config and manifest descriptors), and its
 * accessors. The JSON form is in reports.c.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"
#include "patch_internal.h"

struct nr_patch_report {
	nr_patch_change *changes;
	size_t n, alloc;
	char **strings;
	size_t nstrings, astrings;
	int changed;
	uint32_t uid, gid;
	int dry_run;
	struct {
		char *platform;
		nr_bindings *before, *after;
		/* the new layer (layer_digest[0] == 0: none), the new config, and the manifest
		 * as written (nr_patch_report_set_written()) */
		char layer_digest[72], layer_diff_id[72];
		const char *layer_mt;
		uint64_t layer_size;
		char config_digest[72], config_mt[96];
		uint64_t config_size;
		char manifest_digest[72];
		char *manifest_mt;
		uint64_t manifest_size;
	} *bindings;   /* per manifest */
	size_t nbindings, abindings;
	char written_digest[72];   /* the written image (nr_image_written()); "" when unknown */
	char *written_mt;
	uint64_t written_size;
};

static const char *report_str(nr_patch_report *r, const char *s)
{
	char *copy;

	if (s == NULL)
		return NULL;
	if (nr__array_grow((void **)&r->strings, &r->astrings, r->nstrings + 1,
	    sizeof(*r->strings)) < 0)
		return NULL;
	if ((copy = nr__strdup(s)) == NULL)
		return NULL;
	r->strings[r->nstrings++] = copy;
	return copy;
}

int nr__patch_report_add(nr_patch_report *r, size_t manifest, const char *platform,
	const char *what, const char *target, const char *before, const char *after,
	const char *why, nr_error *err)
{
	nr_patch_change c;

	if (nr__array_grow((void **)&r->changes, &r->alloc, r->n + 1, sizeof(*r->changes)) < 0)
		return nr__error_oom(err);
	c.manifest = manifest;
	if ((c.platform = report_str(r, platform ? platform : "")) == NULL ||
	    (c.what = report_str(r, what)) == NULL ||
	    (c.target = report_str(r, target ? target : "")) == NULL ||
	    (before && (c.before = report_str(r, before)) == NULL) ||
	    (after && (c.after = report_str(r, after)) == NULL) ||
	    (c.why = report_str(r, why ? why : "")) == NULL)
		return nr__error_oom(err);
	if (!before)
		c.before = NULL;
	if (!after)
		c.after = NULL;
	r->changes[r->n++] = c;
	if (strcmp(what, "warning") != 0)
		r->changed = 1;
	return 0;
}

size_t nr_patch_report_count(const nr_patch_report *r)
{
	return r ? r->n : 0;
}

const nr_patch_change *nr_patch_report_at(const nr_patch_report *r, size_t k)
{
	return r && k < r->n ? &r->changes[k] : NULL;
}

int nr_patch_report_changed(const nr_patch_report *r)
{
	return r ? r->changed : 0;
}

uint32_t nr_patch_report_uid(const nr_patch_report *r)
{
	return r ? r->uid : 0;
}

uint32_t nr_patch_report_gid(const nr_patch_report *r)
{
	return r ? r->gid : 0;
}

const nr_bindings *nr_patch_report_bindings(const nr_patch_report *r, size_t manifest,
	int after)
{
	if (r == NULL || manifest >= r->nbindings)
		return NULL;
	return after ? r->bindings[manifest].after : r->bindings[manifest].before;
}

size_t nr_patch_report_platform_count(const nr_patch_report *r)
{
	return r ? r->nbindings : 0;
}

const char *nr_patch_report_platform_at(const nr_patch_report *r, size_t manifest)
{
	return r && manifest < r->nbindings ? r->bindings[manifest].platform : NULL;
}

int nr_patch_report_dry_run(const nr_patch_report *r)
{
	return r ? r->dry_run : 0;
}

int nr_patch_report_set_written(nr_patch_report *r, const nr_image *img, nr_error *err)
{
	const nr_descriptor *d;
	size_t i;

	nr__error_reset(err);
	NR_ASSERT_ARG(r, err);
	NR_ASSERT_ARG(img, err);
	r->written_digest[0] = '\0';
	if ((d = nr_image_written(img)) != NULL) {
		free(r->written_mt);
		if ((r->written_mt = nr__strdup(d->media_type)) == NULL)
			return nr__error_oom(err);
		snprintf(r->written_digest, sizeof(r->written_digest), "%s", d->digest);
		r->written_size = d->size;
	}
	for (i = 0; i < r->nbindings; i++) {
		r->bindings[i].manifest_digest[0] = '\0';
		if ((d = nr_image_written_manifest(img, i)) == NULL)
			continue;
		free(r->bindings[i].manifest_mt);
		if ((r->bindings[i].manifest_mt = nr__strdup(d->media_type)) == NULL)
			return nr__error_oom(err);
		snprintf(r->bindings[i].manifest_digest, 72, "%s", d->digest);
		r->bindings[i].manifest_size = d->size;
	}
	return 0;
}

static const nr_descriptor *desc_of(nr_descriptor *out, const char *mt, const char *digest,
	uint64_t size)
{
	if (digest == NULL || *digest == '\0')
		return NULL;
	out->media_type = mt;
	out->digest = digest;
	out->size = size;
	return out;
}

const nr_descriptor *nr_patch_report_written(nr_descriptor *out, const nr_patch_report *r)
{
	return r && out ? desc_of(out, r->written_mt, r->written_digest, r->written_size) : NULL;
}

const nr_descriptor *nr_patch_report_descriptor(nr_descriptor *out, const char **diff_id,
	const nr_patch_report *r, size_t manifest, int which)
{
	if (diff_id)
		*diff_id = NULL;
	if (r == NULL || out == NULL || manifest >= r->nbindings)
		return NULL;
	switch (which) {
	case NR_PATCH_MANIFEST:
		return desc_of(out, r->bindings[manifest].manifest_mt,
			r->bindings[manifest].manifest_digest, r->bindings[manifest].manifest_size);
	case NR_PATCH_CONFIG:
		return desc_of(out, r->bindings[manifest].config_mt[0] ?
			r->bindings[manifest].config_mt : NULL, r->bindings[manifest].config_digest,
			r->bindings[manifest].config_size);
	case NR_PATCH_LAYER:
		if (diff_id && r->bindings[manifest].layer_digest[0])
			*diff_id = r->bindings[manifest].layer_diff_id;
		return desc_of(out, r->bindings[manifest].layer_mt,
			r->bindings[manifest].layer_digest, r->bindings[manifest].layer_size);
	default:
		return NULL;
	}
}

int nr__patch_report_bindings(nr_patch_report *r, size_t manifest, const char *platform,
	const nr_imgconfig *cfg, int after, nr_error *err)
{
	nr_bindings **slot;
	nr_error berr = NR_ERROR_INIT;

	if (manifest >= r->nbindings) {
		if (nr__array_grow((void **)&r->bindings, &r->abindings, manifest + 1,
		    sizeof(*r->bindings)) < 0)
			return nr__error_oom(err);
		memset(&r->bindings[r->nbindings], 0,
			(manifest + 1 - r->nbindings) * sizeof(*r->bindings));
		r->nbindings = manifest + 1;
	}
	if (r->bindings[manifest].platform == NULL &&
	    (r->bindings[manifest].platform = nr__strdup(platform ? platform : "")) == NULL)
		return nr__error_oom(err);
	slot = after ? &r->bindings[manifest].after : &r->bindings[manifest].before;
	nr_bindings_free(*slot);
	*slot = NULL;
	if (nr_imgconfig_bindings(slot, cfg, NULL, &berr) < 0 && berr.code == NR_ENOMEM)
		return nr__error_oom(err);
	return 0;
}

void nr_patch_report_free(nr_patch_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	for (i = 0; i < r->nbindings; i++) {
		free(r->bindings[i].platform);
		nr_bindings_free(r->bindings[i].before);
		nr_bindings_free(r->bindings[i].after);
		free(r->bindings[i].manifest_mt);
	}
	free(r->bindings);
	free(r->written_mt);
	free(r->strings);
	free(r->changes);
	free(r);
}


nr_patch_report *nr__patch_report_new(uint32_t uid, uint32_t gid, int dry_run)
{
	nr_patch_report *r = nr__calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->uid = uid;
	r->gid = gid;
	r->dry_run = dry_run != 0;
	return r;
}

void nr__patch_report_set_ids(nr_patch_report *r, uint32_t uid, uint32_t gid)
{
	r->uid = uid;
	r->gid = gid;
}

void nr__patch_report_set_layer(nr_patch_report *r, size_t manifest, const char *digest,
	const char *diff_id, const char *media_type, uint64_t size)
{
	if (manifest >= r->nbindings)
		return;
	snprintf(r->bindings[manifest].layer_digest, 72, "%s", digest);
	snprintf(r->bindings[manifest].layer_diff_id, 72, "%s", diff_id);
	r->bindings[manifest].layer_mt = media_type;
	r->bindings[manifest].layer_size = size;
}

void nr__patch_report_set_config(nr_patch_report *r, size_t manifest, const nr_descriptor *cd)
{
	if (manifest >= r->nbindings || cd == NULL || cd->digest == NULL)
		return;
	snprintf(r->bindings[manifest].config_digest, 72, "%s", cd->digest);
	snprintf(r->bindings[manifest].config_mt, 96, "%s", cd->media_type ? cd->media_type : "");
	r->bindings[manifest].config_size = cd->size;
}
