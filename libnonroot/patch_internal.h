/*
 * patch_internal.h: helpers shared by patch*.c and audit*.c, and the types of one patch run
 * shared by patch.c, patch_accounts.c, patch_config.c and patch_report.c. Not installed.
 */
#ifndef NR_PATCH_INTERNAL_H
#define NR_PATCH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "nonroot.h"
#include "nonroot/imgconfig.h"

/* An absolute image path made relative and lexically clean ("/home/app/" → "home/app"; ".."
 * clamped at the root; "/" → ""). */
int nr__path_relative(nr__buf *out, const char *path, nr_error *err);

/* SOURCE_DATE_EPOCH: *t = its value, or -1 when unset; NR_EINVALID when set but not a
 * decimal number of seconds (source "SOURCE_DATE_EPOCH"). */
int nr__source_date_epoch(int64_t *t, nr_error *err);

/* The layer mtime when SOURCE_DATE_EPOCH is unset: the config's `created` (RFC 3339), else 0.
 * An unparsable `created` is NR_EINVALID naming it. */
int nr__patch_mtime(int64_t *t, const char *created, nr_error *err);

/* RFC 3339 ("2024-01-01T00:00:00.123+02:00"): 0 or NR_EINVALID. */
int nr__parse_time(const char *s, int64_t *t);
/* "YYYY-MM-DDTHH:MM:SSZ" */
void nr__format_time(char *buf, size_t size, int64_t t);

bool nr__ends_with(const char *s, const char *suffix);

/* "80/tcp 443/tcp" (space-separated ExposedPorts keys) into buf. */
void nr__exposed_list(const nr_imgconfig *cfg, char *buf, size_t size);

/* Compat mode: does variable name=value already bind every mapped port of its privileged
 * ports (so that rewriting again would add duplicates)? */
bool nr__urls_compat_done(const char *name, const char *value, const nr_portmap *map);

/* ---- the patch of one manifest, shared by patch.c, patch_accounts.c and patch_config.c ---- */

/* The validated options of one nr_image_patch() call (patch.c); copied per manifest. */
typedef struct nr__patch_settings {
	const char *user;
	uint32_t uid, gid;
	const char *home;        /* absolute */
	int no_home;
	const char *shell;       /* NULL: decide per image */
	nr_portmap ports;
	uint16_t from[NR_PORTMAP_MAX], to[NR_PORTMAP_MAX];
	nr_patch_mode mode;
	int dry_run;
	int64_t mtime;           /* -1: per image */
	char portdesc[NR_PORTMAP_MAX * 12 + 1];
	bool user_given, uid_given, gid_given, home_given, new_user, no_entry;
	unsigned threshold;
	/* Per manifest (nr__patch_choose_user): the image's own non-root user is kept; the user's
	 * account already exists (its home is not taken from --home). */
	bool kept, existing;
	const char *kept_spec;
	char namebuf[256], homebuf[4096], specbuf[256];
} nr__patch_settings;

/* A changed file of the new layer. */
typedef struct nr__patch_file {
	char *path;
	char *data;
	size_t len;
	uint32_t mode, uid, gid;
	int type;
} nr__patch_file;

/* The entries of the new layer, in order. */
typedef struct nr__patch_plan {
	nr__patch_file files[16];
	size_t nfiles;
} nr__patch_plan;

/* One manifest being patched. */
typedef struct nr__patch_ctx {
	nr_image *img;
	size_t i;
	const char *platform;
	const nr__patch_settings *s;
	nr_patch_report *r;
	nr_error *err;
} nr__patch_ctx;

/* Add an entry to the plan; takes ownership of data (freed on failure too). */
int nr__patch_plan_add(nr__patch_plan *p, const char *path, int type, char *data, size_t len,
	uint32_t mode, uint32_t uid, uint32_t gid, nr_error *err);
void nr__patch_plan_dispose(nr__patch_plan *p);
/* Record a change of manifest c->i in the report. */
int nr__patch_change(nr__patch_ctx *c, const char *what, const char *target, const char *before,
	const char *after, const char *why);

/* patch_accounts.c: which user the image will run as (adjusts *s, a per-manifest copy);
 * passwd/group/shadow/gshadow entries; the home directory and its missing parents. */
int nr__patch_choose_user(nr__patch_ctx *c, const nr_scan_result *res, const nr_imgconfig *cfg,
	nr__patch_settings *s);
int nr__patch_plan_accounts(nr__patch_ctx *c, const nr_scan_result *res, nr__patch_plan *p,
	const char *shell, const char **home_out, char *homebuf, size_t homesz, int64_t mtime);
int nr__patch_plan_home(nr__patch_ctx *c, const nr_scan_result *res, nr__patch_plan *p,
	const char *home);

/* patch_config.c: User, APP_UID, the ASP.NET Core variables, ExposedPorts and the health
 * check; *changed is set when cfg changed. */
int nr__patch_plan_config(nr__patch_ctx *c, nr_imgconfig *cfg, bool *changed);

/* patch_report.c: building the report. */
nr_patch_report *nr__patch_report_new(uint32_t uid, uint32_t gid, int dry_run);
void nr__patch_report_set_ids(nr_patch_report *r, uint32_t uid, uint32_t gid);
int nr__patch_report_add(nr_patch_report *r, size_t manifest, const char *platform,
	const char *what, const char *target, const char *before, const char *after,
	const char *why, nr_error *err);
/* The effective bindings of cfg (nr_imgconfig_bindings()) before (after == 0) or after the
 * patch; NULL when Kestrel would refuse the environment (patch reports that itself). */
int nr__patch_report_bindings(nr_patch_report *r, size_t manifest, const char *platform,
	const nr_imgconfig *cfg, int after, nr_error *err);
/* The new layer and config of a manifest (ignored for a manifest without bindings). */
void nr__patch_report_set_layer(nr_patch_report *r, size_t manifest, const char *digest,
	const char *diff_id, const char *media_type, uint64_t size);
void nr__patch_report_set_config(nr_patch_report *r, size_t manifest, const nr_descriptor *cd);

#endif
