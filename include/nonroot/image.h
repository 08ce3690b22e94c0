/** @file
 * image.h: container images: open, read (verified), scan the layer stack, write.
 *
 * Lifecycle (like libarchive's handles):
 *
 *     nr_image_open()            OCI layout dir, OCI archive, docker-archive (bare paths sniffed),
 *                                a registry (docker://)
 *       nr_image_count()         the image's manifests (one per platform)
 *       nr_image_platform_at(), nr_image_config(), nr_image_layer_at() ...   borrowed views
 *       nr_image_scan()          one streaming pass over a manifest's layers: effective files
 *       nr_blob_writer_open() / _write() / _finish()    stream a new blob (e.g. a layer) in
 *       nr_image_set_config(), nr_image_add_layer()     edit manifest i in memory
 *       nr_image_write()         in place (oci:) or to another reference, any transport
 *     nr_image_free()
 *
 * Every blob the library reads (manifests, configs, layers, indexes) is checked against its
 * descriptor's digest (sha256) and size while it is read; a mismatch is NR_EDIGEST naming the
 * blob. Unknown JSON fields, annotations, media types and files are kept when writing.
 *
 * Archives (oci-archive:, docker-archive:) are unpacked member by member into a private
 * directory under $TMPDIR (or nr_image_open_options.tmpdir) when opened, so memory stays
 * bounded whatever their size; the directory is removed by nr_image_free().
 *
 * Registries (`docker://HOST[:PORT]/REPO[:TAG|@sha256:HEX]`): manifests, indexes and configs
 * are fetched when the image is opened; a layer is downloaded (verified, into the private
 * directory) only when a scan misses the layer-scan cache or a file output needs its bytes.
 * Writing to a registry uploads only the blobs it lacks and the manifests, tag last (see
 * docs/registry.md). Credentials are never copied into errors.
 *
 * Thread safety: an nr_image is not shared between threads without a lock; distinct images
 * are independent.
 */
#ifndef NONROOT_IMAGE_H
#define NONROOT_IMAGE_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

/** An opened image: opaque. */
typedef struct nr_image nr_image;

/** Image transports (nr_image_transport()). */
typedef enum nr_image_transport {
	NR_TRANSPORT_NONE = 0,           /**< no image (nr_image_transport_of(NULL)) */
	NR_TRANSPORT_OCI = 1,            /**< `oci:DIR[:TAG]`, an OCI image layout directory */
	NR_TRANSPORT_OCI_ARCHIVE = 2,    /**< `oci-archive:FILE[:TAG]`, a tar of an OCI layout */
	NR_TRANSPORT_DOCKER_ARCHIVE = 3, /**< `docker-archive:FILE[:NAME:TAG]` (`docker save`) */
	NR_TRANSPORT_DOCKER = 4          /**< `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`, a registry */
} nr_image_transport;

/** Options of nr_image_open(). Versioned: initialise with NR_IMAGE_OPEN_OPTIONS_INIT or
 *  nr_image_open_options_init(); fields are only ever appended. */
typedef struct nr_image_open_options {
	unsigned int version;   /**< NR_IMAGE_OPEN_OPTIONS_VERSION */
	const char *platform;   /**< "os/arch[/variant]": keep only that platform; NULL: all */
	const char *tmpdir;     /**< where archives are unpacked; NULL: $TMPDIR, else /tmp */
	/* version 2: registries (docker://), for reading and for nr_image_write() to one */
	const char *creds;      /**< "USER:PASSWORD" for the registry; NULL: from the auth files
	                             (authfile, $REGISTRY_AUTH_FILE, containers and docker ones) */
	const char *authfile;   /**< auth file (containers-auth.json(5) / docker config.json) */
	const char *cert_dir;   /**< directory of *.crt CAs (added to the system's) and a
	                             client *.cert + *.key pair; NULL: the system CAs only */
	int tls_verify;         /**< 1 (default): verify TLS; 0: no verification and plain
	                             http allowed (skopeo's --tls-verify=false) */
} nr_image_open_options;

/** The struct version this header was written for (the first field of the options).
 *  Version 1 (platform, tmpdir) is still accepted. */
#define NR_IMAGE_OPEN_OPTIONS_VERSION 2
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_IMAGE_OPEN_OPTIONS_INIT { NR_IMAGE_OPEN_OPTIONS_VERSION, NULL, NULL, NULL, NULL, \
	NULL, 1 }

/** Initialise @p opts to the defaults (for FFIs that cannot use the macro).
 *  @return 0, or NR_EARG when @p opts is NULL or @p version is unknown */
NR_EXTERN(int) nr_image_open_options_init(nr_image_open_options *opts, unsigned int version);

/**
 * Open an image.
 *
 * References: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME:TAG]`,
 * `docker://HOST[:PORT]/REPO[:TAG|@sha256:HEX]` (a registry; without a tag: `latest`; without
 * a HOST: docker.io), or a bare path: a directory holding `oci-layout` is `oci:`, a tar file holding
 * `oci-layout`/`index.json` is `oci-archive:`, one holding only `manifest.json` is
 * `docker-archive:`. Without a TAG the layout's index must name one image (one entry, or
 * several untagged / equally tagged entries taken as the platforms of one image); a nested
 * image index is followed to its manifests. A Docker 25+ archive (both index.json and
 * manifest.json) is read through index.json and both are updated on write.
 *
 * @param[out] out   the image, owned by the caller (nr_image_free()); NULL on failure
 * @param ref        the reference (see above)
 * @param opts       options, or NULL for the defaults
 * @param err        error details, may be NULL
 * @return 0; NR_EARG (NULL argument, bad platform string), NR_EINVALID (malformed reference,
 *         layout, index, manifest or config: the file and field are named), NR_ENOTFOUND
 *         (no such file, tag or platform), NR_EUNSUPPORTED (digest algorithm other than
 *         sha256, schema1 manifest), NR_EDIGEST (a blob does not match its descriptor),
 *         NR_EIO, NR_ENOMEM
 */
NR_EXTERN(int) nr_image_open(nr_image **out, const char *ref, const nr_image_open_options *opts,
	nr_error *err);

/** Free an image and remove its private temporary directory (unpacked archive, staged
 *  blobs). NULL is a no-op. */
NR_EXTERN(void) nr_image_free(nr_image *img);

/** @return the image's transport , NR_TRANSPORT_NONE when @p img is NULL */
NR_EXTERN(nr_image_transport) nr_image_transport_of(const nr_image *img);

/** @return the number of manifests (platforms) selected in the image; 0 when @p img is NULL */
NR_EXTERN(size_t) nr_image_count(const nr_image *img);

/** @return "os/arch" or "os/arch/variant" of manifest @p i, from the index descriptor's
 *  platform or else the config; borrowed, valid until nr_image_free(); NULL when out of
 *  range */
NR_EXTERN(const char *) nr_image_platform_at(const nr_image *img, size_t i);

/** Media types (e.g. "application/vnd.oci.image.manifest.v1+json" or Docker's
 *  "application/vnd.docker.distribution.manifest.v2+json") of manifest @p i.
 *  @return borrowed string; NULL when out of range */
NR_EXTERN(const char *) nr_image_manifest_media_type(const nr_image *img, size_t i);

/** The config JSON of manifest @p i exactly as stored (verified), or as last set with
 *  nr_image_set_config().
 *  @param[out] len  its length in bytes (may be NULL); the text is also NUL-terminated
 * @param img the image
 * @param i index of the manifest (platform), 0-based
 *  @return borrowed bytes, valid until the next edit of that manifest or nr_image_free();
 *          NULL when out of range */
NR_EXTERN(const char *) nr_image_config(size_t *len, const nr_image *img, size_t i);

/** A content descriptor: borrowed strings, valid while the image is. */
typedef struct nr_descriptor {
	const char *media_type;   /**< e.g. "application/vnd.oci.image.layer.v1.tar+gzip" */
	const char *digest;       /**< "sha256:<64 lowercase hex>" */
	uint64_t size;            /**< bytes */
	void *reserved[2];     /**< zero; room for fields added later without an ABI break */
} nr_descriptor;

/** @return the config descriptor of manifest @p i (borrowed), NULL when out of range */
NR_EXTERN(const nr_descriptor *) nr_image_config_descriptor(const nr_image *img, size_t i);

/** @return the number of layers of manifest @p i (0 when out of range) */
NR_EXTERN(size_t) nr_image_layer_count(const nr_image *img, size_t i);

/** @return layer @p j (0 = bottom) of manifest @p i (borrowed), NULL when out of range.
 *  For docker-archive images the media type is Docker's
 *  "application/vnd.docker.image.rootfs.diff.tar" and the digest is the layer file's (its
 *  diff_id, since `docker save` stores layers uncompressed). */
NR_EXTERN(const nr_descriptor *) nr_image_layer_at(const nr_image *img, size_t i, size_t j);

/* ---- scanning the layer stack ------------------------------------------------------------ */

/** Types of an effective entry. */
typedef enum nr_entry_type {
	NR_ENTRY_NONE = 0,      /**< absent: never there, whited out, dangling link or loop */
	NR_ENTRY_REGULAR = 1,
	NR_ENTRY_DIRECTORY = 2,
	NR_ENTRY_SYMLINK = 3,   /**< only for set-id listings; requested paths are followed */
	NR_ENTRY_CHAR = 4,
	NR_ENTRY_BLOCK = 5,
	NR_ENTRY_FIFO = 6
} nr_entry_type;

/** nr_scan_entry.flags */
#define NR_SCAN_ENTRY_TOO_BIG 0x1u   /**< regular file over the content limit: content NULL */
#define NR_SCAN_ENTRY_LOOP    0x2u   /**< too many symlinks (40) while resolving the path */
#define NR_SCAN_ENTRY_NOTDIR  0x4u   /**< a path component is not a directory */
#define NR_SCAN_ENTRY_CAPS    0x8u   /**< set-id list: the file has file capabilities (the
                                         security.capability xattr; NR_SCAN_CAPS) */

/**
 * The effective state of one path in the final root filesystem of a manifest, after every
 * layer, whiteout (`.wh.NAME`), opaque directory (`.wh..wh..opq`), hard link and symlink is
 * applied. Symlinks are followed inside the image root: an absolute target or `..` above the
 * root is taken relative to the image root, as a container runtime with a chroot would.
 * All pointers are borrowed from the nr_scan_result.
 */
typedef struct nr_scan_entry {
	const char *path;         /**< the requested path, normalised ("etc/passwd": no leading /) */
	const char *resolved;     /**< where the entry was found after following symlinks (== path
	                               without links); for a dangling link, where it points */
	nr_entry_type type;       /**< of the final (followed) entry */
	uint32_t mode;            /**< permission bits with setuid/setgid/sticky (07777) */
	uint64_t uid;             /**< owner uid */
	uint64_t gid;             /**< owner gid */
	uint64_t size;            /**< regular files: bytes */
	int64_t mtime;            /**< seconds since the epoch */
	const char *content;      /**< regular file: the whole content (NUL-terminated) when its
	                               size is within the limit, else NULL (NR_SCAN_ENTRY_TOO_BIG) */
	size_t content_len;       /**< bytes in content */
	const char *link_target;  /**< when the requested path itself is a symlink: its target as
	                               stored in the layer; NULL otherwise */
	const char *hardlink;     /**< when the entry was a hard link: the path it links to */
	size_t layer;             /**< index (0 = bottom) of the layer holding the entry */
	unsigned int flags;       /**< NR_SCAN_ENTRY_* */
} nr_scan_entry;

/** Progress of a scan: after each chunk read; @p layer counts from 0 (bottom). */
typedef void (*nr_scan_progress_cb)(size_t layer, size_t nlayers, uint64_t layer_bytes,
	uint64_t layer_size, void *payload);

/** nr_scan_request.flags */
#define NR_SCAN_SETID 0x1u   /**< also list the set-uid/set-gid files of the final rootfs */
#define NR_SCAN_CAPS  0x2u   /**< also list, in the set-id list, the files with file
                                 capabilities (NR_SCAN_ENTRY_CAPS), set-id or not */

/** What to scan for. Versioned: NR_SCAN_REQUEST_INIT; fields are only ever appended. */
typedef struct nr_scan_request {
	unsigned int version;        /**< NR_SCAN_REQUEST_VERSION */
	const char *const *paths;    /**< paths in the image ("etc/passwd", "/etc/passwd" alike) */
	size_t npaths;               /**< number of paths */
	size_t content_max;          /**< largest content returned; 0: 10 MiB (runc's limit) */
	unsigned int flags;          /**< NR_SCAN_* */
	nr_scan_progress_cb progress; /**< may be NULL */
	void *payload;               /**< passed to progress */
} nr_scan_request;

/** The struct version this header was written for (the first field of the options). */
#define NR_SCAN_REQUEST_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_SCAN_REQUEST_INIT { NR_SCAN_REQUEST_VERSION, NULL, 0, 0, 0, NULL, NULL }

/** Scan result: opaque, owned by the caller. */
typedef struct nr_scan_result nr_scan_result;

/**
 * Find the effective entries of the requested paths in manifest @p i.
 *
 * Streams every layer once from the bottom up (gzip, zstd or plain tar; OCI and Docker media
 * types), verifying each blob's digest and size, reading only the content of requested
 * files: memory is bounded by the requested content, not by layer size. When a requested
 * path (or a directory on its way) is a symlink or hard link to a path that the pass did not
 * track, the stack is scanned again with that path added (rare; at most 40 links are
 * followed). Tars without end-of-archive blocks are accepted when every member is complete.
 *
 * @param[out] out  the result (nr_scan_result_free()); NULL on failure
 * @param img the image
 * @param i index of the manifest (platform), 0-based
 * @param req what to scan for (paths, content limit, set-id files, progress)
 * @param err optional error details (may be NULL)
 * @return 0; NR_EARG, NR_EDIGEST (a layer does not match its descriptor: digest named),
 *         NR_EINVALID (a layer is not a readable tar, or a member is cut short: the layer's
 *         digest is named), NR_EUNSUPPORTED (layer media type), NR_ENOMEM, NR_EIO
 */
NR_EXTERN(int) nr_image_scan(nr_scan_result **out, nr_image *img, size_t i,
	const nr_scan_request *req, nr_error *err);

/** @return the entry for requested path @p path (normalised like the request), or NULL when
 *  that path was not requested. Absent files have type NR_ENTRY_NONE. Borrowed. */
NR_EXTERN(const nr_scan_entry *) nr_scan_result_get(const nr_scan_result *res,
	const char *path);

/** @return the number of requested entries (in request order, duplicates merged) */
NR_EXTERN(size_t) nr_scan_result_count(const nr_scan_result *res);

/** @return requested entry @p k, NULL when out of range. Borrowed. */
NR_EXTERN(const nr_scan_entry *) nr_scan_result_at(const nr_scan_result *res, size_t k);

/** @return the number of set-uid/set-gid regular files in the final rootfs (only with
 *  NR_SCAN_SETID), and of files with file capabilities (only with NR_SCAN_CAPS; flagged
 *  NR_SCAN_ENTRY_CAPS), sorted by path; a file is listed under every name (hard links) */
NR_EXTERN(size_t) nr_scan_result_setid_count(const nr_scan_result *res);

/** @return set-id file @p k (path, mode, uid, gid, layer), NULL when out of range. Borrowed. */
NR_EXTERN(const nr_scan_entry *) nr_scan_result_setid_at(const nr_scan_result *res, size_t k);

/** Free a scan result. NULL is a no-op. */
NR_EXTERN(void) nr_scan_result_free(nr_scan_result *res);

/**
 * Convenience: the content of one effective regular file (symlinks followed) of manifest
 * @p i, at most 10 MiB.
 * @param[out] out  NUL-terminated content owned by the caller (nr_free()); NULL on failure
 * @param[out] len  its length (may be NULL)
 * @param img the image
 * @param i index of the manifest (platform), 0-based
 * @param path the path in the image ("etc/passwd" and "/etc/passwd" alike)
 * @param err optional error details (may be NULL)
 * @return 0; NR_ENOTFOUND (absent), NR_EINVALID (not a regular file), NR_ETOOBIG, or any
 *         nr_image_scan() error
 */
NR_EXTERN(int) nr_image_read_file(char **out, size_t *len, nr_image *img, size_t i,
	const char *path, nr_error *err);

/* ---- writing --------------------------------------------------------------------------- */

/** A blob being written into an image's staging area: opaque. */
typedef struct nr_blob_writer nr_blob_writer;

/**
 * Start a new blob for @p img (e.g. a layer made by the caller). The bytes go to a private
 * staging file (never into the source image) and are hashed as they come.
 * @param[out] out  the writer (finish it, or free it to abort)
 * @param img the image
 * @param err optional error details (may be NULL)
 * @return 0, NR_EARG, NR_EIO, NR_ENOMEM
 */
NR_EXTERN(int) nr_blob_writer_open(nr_blob_writer **out, nr_image *img, nr_error *err);

/** Append @p len bytes. @return 0, NR_EIO */
NR_EXTERN(int) nr_blob_writer_write(nr_blob_writer *w, const void *data, size_t len,
	nr_error *err);

/**
 * Finish the blob: it becomes available to nr_image_add_layer() / nr_image_write() under its
 * digest.
 * @param[out] digest  "sha256:<hex>" (72 bytes with the NUL), may be NULL
 * @param[out] size    bytes written, may be NULL
 * @param w the blob writer
 * @param err optional error details (may be NULL)
 * @return 0, NR_EIO, NR_EARG (already finished)
 */
NR_EXTERN(int) nr_blob_writer_finish(char digest[72], uint64_t *size, nr_blob_writer *w,
	nr_error *err);

/** Free a writer; an unfinished blob is discarded. NULL is a no-op. */
NR_EXTERN(void) nr_blob_writer_free(nr_blob_writer *w);

/**
 * Replace the config of manifest @p i with @p json (stored as a new blob; the descriptor's
 * media type is kept). The caller is responsible for the content (diff_ids, history).
 * @return 0, NR_EARG (out of range), NR_EINVALID (not a JSON object), NR_EIO, NR_ENOMEM
 */
NR_EXTERN(int) nr_image_set_config(nr_image *img, size_t i, const char *json, size_t len,
	nr_error *err);

/**
 * Append a layer descriptor to manifest @p i. The blob must have been written with
 * nr_blob_writer_finish() on this image (or already be in the image).
 * @param desc  media type, digest and size; copied
 * @param img the image
 * @param i index of the manifest (platform), 0-based
 * @param err optional error details (may be NULL)
 * @return 0, NR_EARG, NR_ENOTFOUND (no such blob), NR_EDIGEST (size differs), NR_ENOMEM
 */
NR_EXTERN(int) nr_image_add_layer(nr_image *img, size_t i, const nr_descriptor *desc,
	nr_error *err);

/** Options of nr_image_write(). Versioned: NR_IMAGE_WRITE_OPTIONS_INIT. */
typedef struct nr_image_write_options {
	unsigned int version;   /**< NR_IMAGE_WRITE_OPTIONS_VERSION */
	const char *tag;        /**< add this tag (ref.name / RepoTags) and keep the old ones;
	                             NULL: the edited image replaces the opened one */
} nr_image_write_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_IMAGE_WRITE_OPTIONS_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_IMAGE_WRITE_OPTIONS_INIT { NR_IMAGE_WRITE_OPTIONS_VERSION, NULL }

/** Initialise @p opts to the defaults. @return 0 or NR_EARG */
NR_EXTERN(int) nr_image_write_options_init(nr_image_write_options *opts, unsigned int version);

/**
 * Write the (edited) image.
 *
 * @p dest NULL writes in place: for `oci:` new blobs first, then manifests and nested
 * indexes, index.json last, each atomically, so a failure or a kill at any point leaves the
 * old image readable; an archive is rewritten to a temp file renamed over it (other images
 * and unknown members of the archive are kept). Otherwise @p dest is any reference
 * (`oci:DIR[:TAG]` creates or adds to a layout, `oci-archive:FILE[:TAG]`,
 * `docker-archive:FILE[:NAME:TAG]`; archives are written to a temp file and renamed;
 * `docker://HOST/REPO[:TAG]` pushes with the registry options the image was opened with).
 * Blobs are copied with hard links or copy_file_range when possible. A registry image
 * written in place (or to another registry reference) uploads only the blobs the
 * destination lacks (mounted from the source repository on the same registry), then the
 * platform manifests, then the tag: a failure leaves the tag on the old image.
 * A multi-platform image cannot go to a docker-archive (one platform per archive entry):
 * NR_EUNSUPPORTED; open it with a platform. Writing to docker-archive decompresses layers
 * (Docker's format) and checks each against its config diff_id.
 * @return 0, NR_EARG (bad tag or options), NR_EUNSUPPORTED, NR_EINVALID, NR_EDIGEST, NR_EIO,
 *         NR_ENOMEM
 */
NR_EXTERN(int) nr_image_write(nr_image *img, const char *dest,
	const nr_image_write_options *opts, nr_error *err);

/**
 * Check, without writing anything, everything nr_image_write() checks before it writes: the
 * options, the tag grammar of the OCI distribution spec (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`,
 * for opts->tag and the destination's tag), the destination reference, at most one tag (a
 * destination tag and a different opts->tag are NR_EARG), a multi-platform image to a
 * docker-archive (NR_EUNSUPPORTED). A dry run calls this to validate exactly what the real
 * run would.
 * @param img the image
 * @param dest as for nr_image_write() (NULL: in place)
 * @param opts as for nr_image_write() (may be NULL)
 * @param err optional error details (may be NULL)
 * @return 0, NR_EARG, NR_EINVALID, NR_EUNSUPPORTED, NR_ENOMEM
 */
NR_EXTERN(int) nr_image_write_check(const nr_image *img, const char *dest,
	const nr_image_write_options *opts, nr_error *err);

/**
 * What the last successful nr_image_write() of @p img wrote: the descriptor of the image's
 * top manifest or image index (its media type, digest and size), the digest that
 * `skopeo copy --digestfile` records and that `REPO@DIGEST` pulls.
 * @param img the image
 * @return borrowed, valid until the next write or nr_image_free(); NULL before a write, when
 *         the destination was a docker-archive (it stores no manifest) or when the image is
 *         several index.json entries (no one digest names them)
 */
NR_EXTERN(const nr_descriptor *) nr_image_written(const nr_image *img);

/**
 * The manifest of platform @p i as the last successful nr_image_write() wrote it (a new
 * digest when the manifest was edited, the old one when it was copied unchanged).
 * @param img the image
 * @param i the manifest (platform) index
 * @return borrowed, valid until the next write or nr_image_free(); NULL before a write,
 *         for a docker-archive destination, or when @p i is out of range
 */
NR_EXTERN(const nr_descriptor *) nr_image_written_manifest(const nr_image *img, size_t i);

NR_END_DECL

#endif
