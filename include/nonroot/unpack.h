/** @file
 * unpack.h: write the final root filesystem of one platform of an image to a directory, or
 * a hardened OCI runtime bundle of it.
 *
 *     nr_image_open()  →  nr_image_unpack(img, i, "rootfs", &opts, &err)  →  nr_image_free()
 *     nr_image_open()  →  nr_image_bundle(img, i, "bundle", &opts, &err)  →  nr_image_free()
 *
 * Layers are applied bottom-up the way container runtimes and umoci do: OCI whiteouts
 * (`.wh.NAME` removes NAME of lower layers), opaque directories (`.wh..wh..opq` empties the
 * directory of lower layers' entries), owners, modes (set-id bits included), modification
 * times, extended attributes where the file system accepts them, hard links, symlinks,
 * device nodes and FIFOs. Every create is confined to the target: paths are resolved inside
 * it (openat2 RESOLVE_IN_ROOT, else a component-by-component O_NOFOLLOW walk), so a symlink
 * a layer planted (`etc -> /`) is followed inside the target, never out of it; the last
 * component of every create is made with O_EXCL|O_NOFOLLOW. Layers are streamed (memory
 * does not grow with layer size) and each blob is checked against its digest; on any error
 * the target's content is removed.
 */
#ifndef NONROOT_UNPACK_H
#define NONROOT_UNPACK_H

#include "common.h"
#include "errors.h"
#include "image.h"

NR_BEGIN_DECL

/** nr_unpack_options.flags: do not change owners (files belong to the caller) and skip
 *  device nodes; the default when the caller is not root. */
#define NR_UNPACK_ROOTLESS 0x1u
/** nr_unpack_options.flags: leave extended attributes out. */
#define NR_UNPACK_NO_XATTRS 0x2u

/** Options of nr_image_unpack(). Versioned: NR_UNPACK_OPTIONS_INIT or
 *  nr_unpack_options_init(); fields are only ever appended. */
typedef struct nr_unpack_options {
	unsigned int version;          /**< NR_UNPACK_OPTIONS_VERSION */
	unsigned int flags;            /**< NR_UNPACK_* */
	nr_scan_progress_cb progress;  /**< called as each layer is read; may be NULL */
	void *payload;                 /**< passed to progress */
} nr_unpack_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_UNPACK_OPTIONS_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_UNPACK_OPTIONS_INIT { NR_UNPACK_OPTIONS_VERSION, 0, NULL, NULL }

/** Initialise @p opts to the defaults (for FFIs that cannot use the macro).
 *  @param opts the options to initialise
 *  @param version NR_UNPACK_OPTIONS_VERSION
 *  @return 0, or NR_EARG when @p opts is NULL or @p version is unknown */
NR_EXTERN(int) nr_unpack_options_init(nr_unpack_options *opts, unsigned int version);

/**
 * Write the final root filesystem of manifest @p i of @p img to directory @p dir.
 *
 * @p dir must not exist (it is created, mode 0755, or as the layers' root entry says) or be
 * an empty directory. On failure everything written is removed (and @p dir itself when this
 * call created it).
 *
 * @param img the image
 * @param i index of the manifest (platform), 0-based
 * @param dir the target directory
 * @param opts options, or NULL for the defaults
 * @param err optional error details (may be NULL)
 * @return 0; NR_EARG (NULL argument, @p i out of range, bad options); NR_EEXISTS (@p dir is
 *         not empty); NR_EDIGEST (a layer does not match its descriptor: digest named);
 *         NR_EINVALID (a layer is not a readable tar, a member is cut short, a hard link
 *         names a missing file, a path crosses a non-directory: the layer and member are
 *         named); NR_EUNSUPPORTED (layer media type); NR_EIO (the target: path named);
 *         NR_ENOMEM
 */
NR_EXTERN(int) nr_image_unpack(nr_image *img, size_t i, const char *dir,
	const nr_unpack_options *opts, nr_error *err);

/* ---- runtime bundles ---------------------------------------------------------------------- */

/** nr_bundle_gen_options.flags: root.readonly true. */
#define NR_BUNDLE_GEN_READONLY_ROOT 0x1u
/** nr_bundle_gen_options.flags: keep the process.user uid 0 (else refused, as
 *  nr_bundle_harden() does); verify uses it to observe an image that runs as root. */
#define NR_BUNDLE_GEN_ALLOW_ROOT 0x2u

/** Options of nr_image_bundle(). Versioned: NR_BUNDLE_GEN_OPTIONS_INIT or
 *  nr_bundle_gen_options_init(); fields are only ever appended. */
typedef struct nr_bundle_gen_options {
	unsigned int version;                /**< NR_BUNDLE_GEN_OPTIONS_VERSION */
	unsigned int flags;                  /**< NR_BUNDLE_GEN_* */
	const nr_unpack_options *unpack;     /**< how the rootfs is unpacked; NULL: defaults */
	const char *hostname;                /**< NULL: "nonroot" */
} nr_bundle_gen_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_BUNDLE_GEN_OPTIONS_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_BUNDLE_GEN_OPTIONS_INIT { NR_BUNDLE_GEN_OPTIONS_VERSION, 0, NULL, NULL }

/** Initialise @p opts to the defaults (for FFIs that cannot use the macro).
 *  @param opts the options to initialise
 *  @param version NR_BUNDLE_GEN_OPTIONS_VERSION
 *  @return 0, or NR_EARG when @p opts is NULL or @p version is unknown */
NR_EXTERN(int) nr_bundle_gen_options_init(nr_bundle_gen_options *opts, unsigned int version);

/**
 * Make an OCI runtime bundle of manifest @p i in @p dir (new or empty), as `umoci unpack`
 * does, then harden it: @p dir/rootfs is nr_image_unpack()'s root filesystem and
 * @p dir/config.json a runtime-spec config whose process.args are Entrypoint + Cmd,
 * process.env the image's Env over PATH/TERM defaults (HOME from the user's passwd entry
 * when unset), process.cwd WorkingDir (else "/"), process.user the config User resolved
 * like runc against the unpacked etc/passwd and etc/group, annotations from the config
 * (org.opencontainers.image.* and Labels); terminal false, umoci's mounts, masked and
 * read-only paths, and its own pid, network, ipc, uts and mount namespaces. Hardened with
 * nr_bundle_harden(): every capability dropped from all five sets and noNewPrivileges.
 *
 * @param img the image
 * @param i index of the manifest (platform), 0-based
 * @param dir the bundle directory
 * @param opts options, or NULL for the defaults
 * @param err optional error details (may be NULL)
 * @return 0; nr_image_unpack()'s errors; NR_ENOTFOUND / NR_ERANGE (config User does not
 *         resolve: runc's wording); NR_EINVALID (the config, or the User is root without
 *         NR_BUNDLE_GEN_ALLOW_ROOT); NR_EIO; NR_ENOMEM. On failure @p dir is cleaned up as
 *         nr_image_unpack() does.
 */
NR_EXTERN(int) nr_image_bundle(nr_image *img, size_t i, const char *dir,
	const nr_bundle_gen_options *opts, nr_error *err);

NR_END_DECL

#endif
