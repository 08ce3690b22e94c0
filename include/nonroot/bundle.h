/** @file
 * bundle.h: OCI runtime bundles (a directory with config.json and a root filesystem).
 *
 * Lifecycle: nr_bundle_open() (or nr_bundle_parse() for a config.json in memory) →
 * nr_bundle_harden() → nr_bundle_write() → nr_bundle_free(); nr_bundle_harden_dir() does all of
 * it in one call. Every field of config.json that hardening does not touch is kept, in its
 * order; the file is replaced atomically and keeps its mode, and its indentation style (tabs,
 * N spaces or compact).
 */
#ifndef NONROOT_BUNDLE_H
#define NONROOT_BUNDLE_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

/** A loaded runtime bundle: its config.json and, when opened from a directory, the directory. */
typedef struct nr_bundle nr_bundle;

/** What nr_bundle_harden() changed and what the bundle still grants. */
typedef struct nr_bundle_report nr_bundle_report;

/** Largest config.json read, in bytes. */
#define NR_BUNDLE_CONFIG_MAX (16u * 1024u * 1024u)

/**
 * Open the bundle in directory @p dir: read and parse dir/config.json.
 * @param[out] out  new bundle, owned by the caller (nr_bundle_free()); NULL on failure
 * @param dir       bundle directory; the bundle keeps it open for nr_bundle_write() and user
 *                  resolution in its root filesystem
 * @param err       may be NULL; a JSON syntax error is "config.json:LINE:COLUMN: text"
 * @return 0, NR_EIO (cannot open/read), NR_ETOOBIG, NR_EINVALID (not JSON, or not a JSON
 *         object) or NR_ENOMEM
 */
NR_EXTERN(int) nr_bundle_open(nr_bundle **out, const char *dir, nr_error *err);

/**
 * Parse a config.json held in memory.
 * @param[out] out  new bundle, owned by the caller; NULL on failure
 * @param json      the document, @p len bytes (need not be NUL-terminated)
 * @param dir       bundle directory that root.path is relative to, used to resolve a User
 *                  spec and by nr_bundle_write(); NULL for a bundle with no directory (then
 *                  hardening with a user spec fails with NR_EARG and nr_bundle_write() too)
 * @param len length of json in bytes
 * @param err optional error details (may be NULL)
 * @return 0, NR_EINVALID (not JSON or not an object, embedded NUL), NR_EIO (dir) or NR_ENOMEM
 */
NR_EXTERN(int) nr_bundle_parse(nr_bundle **out, const char *json, size_t len, const char *dir,
	nr_error *err);

/** Free a bundle; NULL is a no-op. */
NR_EXTERN(void) nr_bundle_free(nr_bundle *b);

/**
 * @return root.path as written in config.json (borrowed, valid until the bundle changes or is
 *         freed), or NULL when it is absent or not a string.
 */
NR_EXTERN(const char *) nr_bundle_root_path(const nr_bundle *b);

/**
 * Serialise the bundle's config.json as it would be saved (with a final newline).
 * @param[out] out  NUL-terminated text, owned by the caller (free with nr_free())
 * @param[out] len  its length; may be NULL
 * @param b the bundle
 * @param err optional error details (may be NULL)
 * @return 0 or NR_ENOMEM
 */
NR_EXTERN(int) nr_bundle_serialize(char **out, size_t *len, const nr_bundle *b, nr_error *err);

/**
 * Atomically replace dir/config.json with the bundle's current content (same mode and owner).
 * @return 0, NR_EARG (the bundle has no directory), NR_EIO or NR_ENOMEM
 */
NR_EXTERN(int) nr_bundle_write(nr_bundle *b, nr_error *err);

/** Version of nr_bundle_harden_options this header describes. */
#define NR_BUNDLE_HARDEN_OPTIONS_VERSION 1

/** How to harden a bundle. Initialise with NR_BUNDLE_HARDEN_OPTIONS_INIT or
 *  nr_bundle_harden_options_init(); fields added later go at the end. */
typedef struct nr_bundle_harden_options {
	unsigned int version;         /**< NR_BUNDLE_HARDEN_OPTIONS_VERSION */
	/** OCI User spec ("1654:1654", "app", "app:staff", ...) resolved like runc against the
	 *  bundle's root filesystem (root.path, relative to the bundle); sets process.user.uid,
	 *  gid and additionalGids. NULL keeps process.user as it is. */
	const char *user;
	/** Non-zero: keep CAP_NET_BIND_SERVICE (only it) in every capability set so the process
	 *  can bind ports below 1024 as a non-root user (ambient needs it in inheritable and
	 *  permitted too: the kernel raises an ambient capability only when it is in both). */
	int allow_low_ports;
	/** -1 leaves linux.sysctl alone; 0..65535 sets
	 *  linux.sysctl["net.ipv4.ip_unprivileged_port_start"] (needs a network namespace). */
	int unprivileged_port_start;
	/** Non-zero: allow the result to run as uid 0; otherwise uid 0 is refused. */
	int allow_root;
	/** Non-zero: nr_bundle_harden_dir() reports but does not write config.json. */
	int dry_run;
} nr_bundle_harden_options;

/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_BUNDLE_HARDEN_OPTIONS_INIT { NR_BUNDLE_HARDEN_OPTIONS_VERSION, NULL, 0, -1, 0, 0 }

/**
 * Initialise @p opts to the defaults (for FFIs that cannot use the macro).
 * @param version  NR_BUNDLE_HARDEN_OPTIONS_VERSION
 * @param opts options; NULL for the defaults
 * @return 0, or NR_EARG for a NULL @p opts or an unknown version
 */
NR_EXTERN(int) nr_bundle_harden_options_init(nr_bundle_harden_options *opts,
	unsigned int version);

/**
 * Harden the bundle in memory: process.user from opts->user; every capability dropped from
 * bounding, effective, inheritable, permitted and ambient (allow_low_ports keeps
 * CAP_NET_BIND_SERVICE); process.noNewPrivileges true; the optional port sysctl. uid 0 is
 * refused unless opts->allow_root. On failure the bundle is unchanged.
 * @param opts        NULL for the defaults
 * @param[out] report may be NULL; else a new report owned by the caller
 *                    (nr_bundle_report_free()), NULL on failure
 * @param b the bundle
 * @param err optional error details (may be NULL)
 * @return 0; NR_EARG (bad options); NR_EINVALID (a field of config.json has the wrong type,
 *         named in err as "config.json: process.user.uid: ...", or the result would run as
 *         root); NR_ENOTFOUND / NR_ERANGE (the user spec, with runc's wording); NR_EESCAPE,
 *         NR_EIO (the root filesystem); NR_ENOMEM
 */
NR_EXTERN(int) nr_bundle_harden(nr_bundle_report **report, nr_bundle *b,
	const nr_bundle_harden_options *opts, nr_error *err);

/**
 * Open the bundle in @p dir, harden it and, unless opts->dry_run or nothing changed, save it.
 * @param[out] report may be NULL; see nr_bundle_harden()
 * @param dir the bundle directory (holding config.json)
 * @param opts options; NULL for the defaults
 * @param err optional error details (may be NULL)
 * @return as nr_bundle_open(), nr_bundle_harden() and nr_bundle_write()
 */
NR_EXTERN(int) nr_bundle_harden_dir(nr_bundle_report **report, const char *dir,
	const nr_bundle_harden_options *opts, nr_error *err);

/** @return the number of fields the hardening changed (0: already hardened). */
NR_EXTERN(size_t) nr_bundle_report_changes(const nr_bundle_report *r);

/** @return non-zero when config.json was written (nr_bundle_harden_dir() only). */
NR_EXTERN(int) nr_bundle_report_written(const nr_bundle_report *r);

/**
 * The report as JSON: {"bundle","dry_run","written","user":{"spec","uid","gid",
 * "additional_gids","name","home"},"changes":[{"field","old","new"}],"grants":{"uid","gid",
 * "additional_gids","capabilities":{"bounding",...},"no_new_privileges",
 * "unprivileged_port_start","low_ports"},"warnings":[...]} ("old" is null for a field that
 * was absent). Keys are stable API; more may be added.
 * @param[out] out  NUL-terminated text with a final newline, owned by the caller (nr_free())
 * @param len receives the length of *out (may be NULL)
 * @param r the report
 * @param err optional error details (may be NULL)
 * @return 0 or NR_ENOMEM
 */
NR_EXTERN(int) nr_bundle_report_to_json(char **out, size_t *len, const nr_bundle_report *r,
	nr_error *err);

/** The report as text for people (one line per change, grant and warning); as
 *  nr_bundle_report_to_json() for ownership and return codes. */
NR_EXTERN(int) nr_bundle_report_to_text(char **out, size_t *len, const nr_bundle_report *r,
	nr_error *err);

/** Free a report; NULL is a no-op. */
NR_EXTERN(void) nr_bundle_report_free(nr_bundle_report *r);

NR_END_DECL

#endif
