/** @file
 * patch.h: make an opened image run as a non-root user, without rebuilding it.
 *
 *     nr_image_open()  →  nr_image_patch()  →  nr_image_write()  →  nr_image_free()
 *
 * For each manifest (platform) of the image, nr_image_patch() reads the effective
 * etc/passwd, etc/group, etc/shadow, etc/gshadow and the home directory across the layer
 * stack, plans the changes, and (unless dry_run) appends ONE reproducible layer with only
 * the changed files (plus the home directory, owned uid:gid, 0755) and edits the config:
 *
 *  - mode NR_PATCH_NONROOT (default, the .NET 8 non-root images): config `User` becomes
 *    numeric "UID:GID", ASP.NET Core's URLS/HTTP_PORTS/HTTPS_PORTS variables and the
 *    ExposedPorts keys move through the port map (80→8080, 443→8443), health-check URLs too;
 *  - mode NR_PATCH_COMPAT (the .NET 7 rootful images): the same user is added and the mapped
 *    bindings are added ALONGSIDE the old ones ("http://+:80;http://+:8080", 80/tcp and
 *    8080/tcp exposed), but the image keeps running as its current user.
 *
 * In both modes `APP_UID=UID` is set (like the .NET 8 images). An existing user with the same
 * name and uid is reused; a conflicting one is NR_ECONFLICT naming it. Patching a patched
 * image plans nothing (nr_patch_report_changed() is 0) and adds no layer.
 *
 * Which user (mode non-root): when none of user, uid, gid and new_user is given and the
 * image's `User` resolves (as runc does) to a non-root uid, that user is KEPT and written
 * numeric ("www-data" → "33:33"); a numeric User without a passwd entry gets one (named
 * user, default "app"; gid = the spec's group, else the uid) unless no_passwd_entry. `user`
 * naming an existing non-root account (without uid/gid) reuses its ids. Otherwise a new
 * user is made (uid/gid default 1654); an explicit gid that an existing group has is joined.
 *
 * The layer's mtime (and the history entry's `created`) is SOURCE_DATE_EPOCH when set, else
 * the image config's `created`: the same input gives the same digests.
 */
#ifndef NONROOT_PATCH_H
#define NONROOT_PATCH_H

#include "common.h"
#include "errors.h"
#include "image.h"
#include "urls.h"

NR_BEGIN_DECL

/** Patch modes. */
typedef enum nr_patch_mode {
	NR_PATCH_NONROOT = 0,   /**< switch the user, move the ports (default) */
	NR_PATCH_COMPAT = 1     /**< add the user and the new ports, keep the current user */
} nr_patch_mode;

/** Options of nr_image_patch(). Versioned: initialise with NR_PATCH_OPTIONS_INIT or
 *  nr_patch_options_init(); fields are only ever appended. */
typedef struct nr_patch_options {
	unsigned int version;     /**< NR_PATCH_OPTIONS_VERSION */
	const char *user;         /**< user (and primary group) name; NULL: "app" */
	uint32_t uid;             /**< NR_ID_AUTO: 1654; else 1..2147483647 */
	uint32_t gid;             /**< NR_ID_AUTO: same as the uid; else 1..2147483647 */
	const char *home;         /**< absolute; NULL: "/home/NAME" */
	int no_home;              /**< do not create the home directory */
	const char *shell;        /**< NULL: /sbin/nologin when the image has it, else /bin/false */
	const nr_portmap *ports;  /**< NULL: 80:8080,443:8443 */
	nr_patch_mode mode;       /**< NR_PATCH_NONROOT */
	int dry_run;              /**< plan only: the image is not changed */
	int64_t mtime;            /**< -1: SOURCE_DATE_EPOCH, else the config's `created`, else 0 */
	nr_scan_progress_cb progress; /**< layer scan progress, may be NULL */
	void *payload;            /**< passed to progress */
	/* version 2 */
	int new_user;             /**< make a new user even when the image's User is non-root */
	int no_passwd_entry;      /**< a kept numeric User without passwd entry gets none */
	unsigned int threshold;   /**< first unprivileged port; 0: NR_UNPRIVILEGED_PORT_START. A
	                               port map onto a port below it is NR_EINVALID */
} nr_patch_options;

/** The struct version this header was written for (the first field of the options).
 *  Version 1 (without new_user, no_passwd_entry, threshold) is still accepted. */
#define NR_PATCH_OPTIONS_VERSION 2
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_PATCH_OPTIONS_INIT { NR_PATCH_OPTIONS_VERSION, NULL, NR_ID_AUTO, NR_ID_AUTO, NULL, 0, NULL, NULL, \
	NR_PATCH_NONROOT, 0, -1, NULL, NULL, 0, 0, 0 }

/** Initialise @p opts with the defaults. @return 0, or NR_EARG (NULL, unknown version) */
NR_EXTERN(int) nr_patch_options_init(nr_patch_options *opts, unsigned int version);

/** One planned (or made) change. Borrowed strings, valid while the report is. */
typedef struct nr_patch_change {
	size_t manifest;          /**< index of the manifest (platform) */
	const char *platform;     /**< "linux/amd64" */
	const char *what;         /**< "file", "directory", "config", "env", "exposed-port",
	                               "healthcheck", "layer", "warning" */
	const char *target;       /**< "etc/passwd", "home/app", "User", "ASPNETCORE_URLS",
	                               "80/tcp", a layer digest... */
	const char *before;       /**< old value, NULL when there was none */
	const char *after;        /**< new value, NULL when removed */
	const char *why;          /**< one line */
} nr_patch_change;

/** The outcome of nr_image_patch(): opaque, owned by the caller. */
typedef struct nr_patch_report nr_patch_report;

/**
 * Plan and (unless opts->dry_run) apply the patch to every manifest of @p img, in memory:
 * new layer blobs are staged with nr_blob_writer_*, configs set with nr_image_set_config(),
 * layers appended with nr_image_add_layer(). Write the result with nr_image_write(). When
 * any manifest fails nothing is written anywhere: the source image is never modified here.
 * @param[out] out  the report (nr_patch_report_free()); also returned on success of a dry run;
 *                  NULL on failure
 * @param img the image
 * @param opts options; NULL for the defaults
 * @param err optional error details (may be NULL)
 * @return 0; NR_ECONFLICT (user/group name or id taken by another account: named, with the
 *         option that avoids it), NR_EINVALID (bad option, unreadable passwd, a home that is
 *         not a directory, an ASP.NET variable Kestrel would refuse), any nr_image_scan() error,
 *         NR_EIO, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_image_patch(nr_patch_report **out, nr_image *img,
	const nr_patch_options *opts, nr_error *err);

/** @return the number of changes (including warnings). */
NR_EXTERN(size_t) nr_patch_report_count(const nr_patch_report *r);

/** @return change @p k (borrowed), NULL when out of range. */
NR_EXTERN(const nr_patch_change *) nr_patch_report_at(const nr_patch_report *r, size_t k);

/** @return 1 when the image was (or, for a dry run, would be) changed; 0 when it is already
 *  patched. */
NR_EXTERN(int) nr_patch_report_changed(const nr_patch_report *r);

/** @return the uid and gid the image runs as after the patch (mode non-root), or would run as
 *  the added user (compat). */
NR_EXTERN(uint32_t) nr_patch_report_uid(const nr_patch_report *r);
/** @return the gid that goes with nr_patch_report_uid(). */
NR_EXTERN(uint32_t) nr_patch_report_gid(const nr_patch_report *r);

/**
 * The effective Kestrel bindings of manifest @p manifest (nr_imgconfig_bindings()) before or
 * after the patch (for a dry run: as they would be).
 * @param r the report
 * @param manifest the manifest (platform) index
 * @param after 0: before the patch, 1: after it
 * @return the bindings (borrowed, valid while the report is); NULL when out of range or when
 *         Kestrel would refuse the environment
 */
NR_EXTERN(const nr_bindings *) nr_patch_report_bindings(const nr_patch_report *r,
	size_t manifest, int after);

/** @return the number of manifests (platforms) the report covers. */
NR_EXTERN(size_t) nr_patch_report_platform_count(const nr_patch_report *r);

/** @return the platform of manifest @p manifest ("linux/amd64"), borrowed; NULL when out of
 *  range. */
NR_EXTERN(const char *) nr_patch_report_platform_at(const nr_patch_report *r, size_t manifest);

/** @return 1 when the report is of a dry run (nothing was changed), else 0. */
NR_EXTERN(int) nr_patch_report_dry_run(const nr_patch_report *r);

/**
 * Record in the report what nr_image_write() wrote of the patched image (nr_image_written()
 * and nr_image_written_manifest()), so that nr_patch_report_written(),
 * nr_patch_report_descriptor() and nr_patch_report_to_json() ("result", "manifest") give
 * the new digests. Call it after a successful write; again after another write.
 * @param r the report of nr_image_patch() on the image
 * @param img the image, after nr_image_write()
 * @param err optional error details
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_patch_report_set_written(nr_patch_report *r, const nr_image *img,
	nr_error *err);

/**
 * The written image's top manifest or index (see nr_image_written()).
 * @param r the report
 * @param[out] out filled with borrowed strings (valid while the report is)
 * @return @p out, or NULL when nothing was recorded (nr_patch_report_set_written() not
 *         called, a docker-archive destination, several index.json entries)
 */
NR_EXTERN(const nr_descriptor *) nr_patch_report_written(nr_descriptor *out,
	const nr_patch_report *r);

/** Which descriptor of a platform nr_patch_report_descriptor() gives. */
enum {
	NR_PATCH_MANIFEST = 0,   /**< the manifest as written (nr_patch_report_set_written()) */
	NR_PATCH_CONFIG = 1,     /**< the config after the patch (none for a dry run) */
	NR_PATCH_LAYER = 2       /**< the new layer (a dry run computes it too); its diff_id */
};

/**
 * A descriptor of manifest (platform) @p manifest after the patch.
 * @param r the report
 * @param manifest the manifest index
 * @param which NR_PATCH_MANIFEST, NR_PATCH_CONFIG or NR_PATCH_LAYER
 * @param[out] out filled with borrowed strings (valid while the report is)
 * @param[out] diff_id for NR_PATCH_LAYER: the layer's diff_id (borrowed; may be NULL)
 * @return @p out, or NULL when there is none (no new layer, nothing written, a dry run's
 *         config, out of range)
 */
NR_EXTERN(const nr_descriptor *) nr_patch_report_descriptor(nr_descriptor *out,
	const char **diff_id, const nr_patch_report *r, size_t manifest, int which);

/**
 * The report as a JSON document (docs/schemas/patch.json): {"image", "dry_run", "changed",
 * "written", "uid", "gid", "changes": [{"platform", "what", "target", "before", "after",
 * "why"}], "platforms": [{"platform", "bindings_before", "bindings_after"}]} where each
 * bindings object is nr_bindings_to_json()'s document (null when Kestrel would refuse it).
 * @param[out] out  new NUL-terminated compact JSON, free with nr_free(); NULL on failure
 * @param[out] len  its length (may be NULL)
 * @param r the report
 * @param image the image reference as given (may be NULL)
 * @param written where the result was written, NULL when nothing was
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_patch_report_to_json(char **out, size_t *len, const nr_patch_report *r,
	const char *image, const char *written, nr_error *err);

/** Free a report. NULL is a no-op. */
NR_EXTERN(void) nr_patch_report_free(nr_patch_report *r);

NR_END_DECL

#endif
