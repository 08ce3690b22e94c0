/** @file
 * audit.h: why an image would run as root or need privileges, as findings with stable ids.
 *
 *     nr_image_open() → nr_image_audit() → nr_audit_count()/nr_audit_at() → nr_audit_free()
 *
 * Each manifest (platform) is audited on its own: the config (User, Env, ExposedPorts,
 * Healthcheck) and the effective /etc/passwd, /etc/group, set-id files and the user's home
 * across the layer stack (one streaming scan; a second one only to look at the home of a
 * non-root user). Rule ids never change meaning; new rules get new ids.
 *
 * Rules (default level):
 *  - NR001 runs-as-root (error): User empty, "root", "0", "0:0", "root:..." or resolving to 0
 *  - NR002 user-not-found (error): runc would fail: "unable to find user app: no matching
 *    entries in passwd file"
 *  - NR003 non-numeric-user (warning): Kubernetes runAsNonRoot cannot verify a user name
 *  - NR004 exposed-privileged-port (warning): an ExposedPorts key below 1024
 *  - NR005 aspnet-privileged-port (error when the image runs as non-root, warning as root,
 *    note for a variable that another one overrides): one per ASP.NET Core variable, saying
 *    which variable is effective and why
 *  - NR006 healthcheck-privileged-port (warning): a health-check URL on a port below 1024
 *  - NR007 port-fallback (warning): a non-numeric port that Kestrel silently turns into 80/443
 *  - NR008 setid-file (warning): a set-uid/set-gid file (one finding per file; the text
 *    output of `nonroot audit` groups them into one line per image)
 *  - NR009 home-not-owned (warning): the user's home is missing or not owned by it
 *  - NR010 aspnet-invalid-address (error): Kestrel would refuse to start
 *  - NR011 user-without-entry (note): a numeric User with no passwd entry (gid 0, HOME /)
 *  - NR014 root-group (warning): a non-root user whose primary or a supplementary gid is 0
 *  - NR015 file-capabilities (warning): a file with file capabilities (the security.capability
 *    xattr, e.g. cap_net_raw=ep), which running it grants like a set-uid bit; one finding per
 *    file and name, grouped like NR008 in the text output
 */
#ifndef NONROOT_AUDIT_H
#define NONROOT_AUDIT_H

#include "common.h"
#include "errors.h"
#include "image.h"
#include "urls.h"

NR_BEGIN_DECL

/** Finding levels (SARIF's names). Ordered: a higher value is more severe. */
typedef enum nr_level {
	NR_LEVEL_NONE = 0,
	NR_LEVEL_NOTE = 1,
	NR_LEVEL_WARNING = 2,
	NR_LEVEL_ERROR = 3
} nr_level;

/** @return "none", "note", "warning" or "error" (static); "?" when out of range. */
NR_EXTERN(const char *) nr_level_name(nr_level level);

/** A rule: static metadata (for SARIF's tool.driver.rules). */
typedef struct nr_audit_rule {
	const char *id;           /**< "NR001" */
	const char *name;         /**< "runs-as-root" */
	nr_level level;           /**< default level */
	const char *summary;      /**< one line */
	const char *help;         /**< how to fix, one or two sentences */
} nr_audit_rule;

/** @return the number of rules. */
NR_EXTERN(size_t) nr_audit_rule_count(void);

/** @return rule @p k (static), NULL when out of range. */
NR_EXTERN(const nr_audit_rule *) nr_audit_rule_at(size_t k);

/** @return the rule with this id (static), NULL when none. */
NR_EXTERN(const nr_audit_rule *) nr_audit_rule_get(const char *id);

/** One finding. Borrowed strings, valid while the audit is. */
typedef struct nr_finding {
	const char *id;           /**< rule id, "NR001" */
	nr_level level;           /**< error, warning or note */
	size_t manifest;          /**< index of the manifest (platform) */
	const char *platform;     /**< "linux/amd64" */
	const char *location;     /**< "config.User", "config.Env.ASPNETCORE_URLS",
	                               "config.ExposedPorts.80/tcp", "usr/bin/su", "home/app" */
	const char *message;      /**< one line */
	const char *fix;          /**< one line */
	const char *fingerprint;  /**< 32 hex characters: a hash of id, platform, location and
	                               occurrence, without any digest, so the same finding on a
	                               rebuilt image has the same fingerprint (SARIF
	                               partialFingerprints "nonroot/v1") */
	int baseline;             /**< 1 when nr_audit_apply() found it in the baseline */
} nr_finding;

/** Options of nr_image_audit(). Versioned: NR_AUDIT_OPTIONS_INIT / nr_audit_options_init(). */
typedef struct nr_audit_options {
	unsigned int version;         /**< NR_AUDIT_OPTIONS_VERSION */
	unsigned int threshold;       /**< first unprivileged port; default NR_UNPRIVILEGED_PORT_START */
	nr_scan_progress_cb progress; /**< layer scan progress, may be NULL */
	void *payload;                /**< passed to progress */
} nr_audit_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_AUDIT_OPTIONS_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_AUDIT_OPTIONS_INIT { NR_AUDIT_OPTIONS_VERSION, NR_UNPRIVILEGED_PORT_START, NULL, NULL }

/** Initialise @p opts with the defaults. @return 0, or NR_EARG */
NR_EXTERN(int) nr_audit_options_init(nr_audit_options *opts, unsigned int version);

/** The result of an audit: opaque, owned by the caller. */
typedef struct nr_audit nr_audit;

/**
 * Audit every manifest of @p img. Problems of the image are findings, not errors.
 * @param[out] out  the audit (nr_audit_free()); NULL on failure
 * @param img the image
 * @param opts options; NULL for the defaults
 * @param err optional error details (may be NULL)
 * @return 0; NR_EINVALID (a config that is not JSON), any nr_image_scan() error (NR_EDIGEST for
 *         a tampered blob, ...), NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_image_audit(nr_audit **out, nr_image *img, const nr_audit_options *opts,
	nr_error *err);

/** @return the number of audited manifests (platforms). */
NR_EXTERN(size_t) nr_audit_platform_count(const nr_audit *a);

/** @return the platform of manifest @p i ("linux/amd64"), borrowed; NULL when out of range. */
NR_EXTERN(const char *) nr_audit_platform_at(const nr_audit *a, size_t i);

/** @return the config User of manifest @p i as written ("" when unset), borrowed. */
NR_EXTERN(const char *) nr_audit_user(const nr_audit *a, size_t i);

/**
 * The effective Kestrel bindings of manifest @p i, as nr_imgconfig_bindings() computes them
 * (the findings NR005/NR010 are judged against them).
 * @param a the audit
 * @param i the manifest (platform) index
 * @param[out] why  may be NULL; set to the error (Kestrel's message) when the bindings are
 *                  NULL because Kestrel would refuse the environment, else to NULL
 * @return the bindings (borrowed, valid while the audit is); NULL when out of range or refused
 */
NR_EXTERN(const nr_bindings *) nr_audit_bindings(const nr_error **why, const nr_audit *a,
	size_t i);

/** @return the number of findings (all platforms, in manifest order). */
NR_EXTERN(size_t) nr_audit_count(const nr_audit *a);

/** @return finding @p k (borrowed), NULL when out of range. */
NR_EXTERN(const nr_finding *) nr_audit_at(const nr_audit *a, size_t k);

/** @return the highest level among the findings that are not in a baseline (NR_LEVEL_NONE
 *  when clean). */
NR_EXTERN(nr_level) nr_audit_max_level(const nr_audit *a);

/**
 * The audit as a JSON document (docs/schemas/audit.json): {"image", "max_level", "suppressed",
 * "platforms": [{"platform", "user", "bindings", "findings": [{"id", "level", "location",
 * "message", "fix", "fingerprint", "baseline"}]}]} where "bindings" is nr_bindings_to_json()'s document of
 * nr_audit_bindings() (null, with "bindings_error", when Kestrel would refuse it).
 * @param[out] out  new NUL-terminated compact JSON, free with nr_free(); NULL on failure
 * @param[out] len  its length (may be NULL)
 * @param a the audit
 * @param image the image reference as given (may be NULL)
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_audit_to_json(char **out, size_t *len, const nr_audit *a, const char *image,
	nr_error *err);

/**
 * The audit as a SARIF 2.1.0 document (docs/ci-sarif.md), as `nonroot audit --format sarif`
 * prints it: tool.driver with every rule; automationDetails.id "nonroot-audit/IMAGE/" (one
 * category per image); invocations with @p exit_code; per finding a result with ruleId,
 * ruleIndex, level, message, the location (a path in the image as a physical location, a
 * "config." field as a logical one), partialFingerprints "nonroot/v1", baselineState
 * ("new" or "unchanged") when @p baseline, and properties platform, location, image, fix.
 * @param[out] out  new NUL-terminated compact JSON (no final newline), free with nr_free();
 *                  NULL on failure
 * @param[out] len  its length (may be NULL)
 * @param a the audit
 * @param image the image reference as given (may be NULL: "")
 * @param exit_code the exit status of the run, recorded in invocations[0].exitCode
 * @param baseline nonzero when a baseline was applied (nr_audit_config_load_baseline()):
 *                 each result then has a baselineState
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_audit_to_sarif(char **out, size_t *len, const nr_audit *a, const char *image,
	int exit_code, int baseline, nr_error *err);

/**
 * The audit as text for people, as `nonroot audit` prints it: per platform a header
 * "IMAGE (PLATFORM): User 'USER'", then a line per finding with its fix, set-id files (NR008)
 * and files with capabilities (NR015) grouped in one line each, "clean: no findings" when a
 * platform has none, and how many findings the config or options accepted. Text from the
 * image is made safe for a terminal (control bytes and bytes that are not UTF-8 as \\xHH).
 * With @p quiet only the findings, one line each, prefixed with the platform.
 * @param[out] out  new NUL-terminated text ("" when quiet and clean), each line ending in a
 *                  newline, free with nr_free(); NULL on failure
 * @param[out] len  its length (may be NULL)
 * @param a the audit
 * @param image the image reference as given (may be NULL: "")
 * @param quiet nonzero: the findings only (`nonroot audit -q`)
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_audit_to_text(char **out, size_t *len, const nr_audit *a, const char *image,
	int quiet, nr_error *err);

/* ---- accepting findings: ignored rules, levels, allowed set-id paths, baselines ---------- */

/** What a pipeline accepts (opaque): built from a config file (nr_audit_config_load()),
 *  options and a baseline, then applied with nr_audit_apply(). */
typedef struct nr_audit_config nr_audit_config;

/** @param[out] out an empty config (nr_audit_config_free()) @param err optional error
 *  details @return 0, NR_ENOMEM, NR_EARG */
NR_EXTERN(int) nr_audit_config_new(nr_audit_config **out, nr_error *err);

/**
 * Add a config file's settings (docs/audit-config.md): JSON when the text starts with '{',
 * else the documented YAML subset. Keys: "ignore" (rule ids), "levels" (rule id → error,
 * warning, note or none), "allow-setid" (paths in the image, fnmatch patterns with '*').
 * Unknown keys and rule ids are errors (a typo must not silently accept everything).
 * @param cfg the config @param text the file's text @param len its length
 * @param source the file name, for errors (may be NULL) @param err optional error details
 * @return 0, NR_EINVALID (line set for YAML), NR_ETOOBIG (over 1 MiB), NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_audit_config_load(nr_audit_config *cfg, const char *text, size_t len,
	const char *source, nr_error *err);

/** Ignore rules: @p ids is one id or a comma-separated list ("NR008,NR003").
 *  @param cfg the config @param ids the rule ids @param err optional error details
 *  @return 0, NR_EINVALID (an unknown rule), NR_ENOMEM, NR_EARG */
NR_EXTERN(int) nr_audit_config_ignore(nr_audit_config *cfg, const char *ids, nr_error *err);

/** Override a rule's level (NR_LEVEL_NONE drops its findings).
 *  @param cfg the config @param id the rule id @param level an nr_level
 *  @param err optional error details @return 0, NR_EINVALID, NR_ENOMEM, NR_EARG */
NR_EXTERN(int) nr_audit_config_set_level(nr_audit_config *cfg, const char *id, nr_level level,
	nr_error *err);

/** Accept set-id files (NR008) and files with file capabilities (NR015) whose path in the image matches @p pattern (fnmatch with
 *  FNM_PATHNAME; a leading '/' is ignored): "/usr/bin/su"; "usr/lib/openssh/" then "*" for a directory.
 *  @param cfg the config @param pattern the pattern @param err optional error details
 *  @return 0, NR_EINVALID, NR_ENOMEM, NR_EARG */
NR_EXTERN(int) nr_audit_config_allow_setid(nr_audit_config *cfg, const char *pattern,
	nr_error *err);

/**
 * Add the findings of an earlier report as a baseline: a nonroot audit JSON report
 * (nr_audit_to_json(): each finding's "fingerprint", or id/platform/location for older
 * reports), the fleet document of `nonroot audit --format json IMAGE...` ({"images":[{"report":
 * ...}]}: the findings of every image) or a SARIF report (partialFingerprints "nonroot/v1", or
 * ruleId, properties.platform and the logical location). Findings in the baseline do not count for nr_audit_max_level().
 * @param cfg the config @param text the report @param len its length
 * @param source the file name, for errors (may be NULL) @param err optional error details
 * @return 0, NR_EINVALID (not JSON, or neither kind of report), NR_ETOOBIG, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_audit_config_load_baseline(nr_audit_config *cfg, const char *text,
	size_t len, const char *source, nr_error *err);

/** Free a config. NULL is a no-op. */
NR_EXTERN(void) nr_audit_config_free(nr_audit_config *cfg);

/**
 * Apply @p cfg to an audit: findings of ignored rules, of level "none" and of allowed set-id
 * paths are removed (counted by nr_audit_suppressed_count()), levels are overridden, and
 * findings in the baseline are marked (nr_finding.baseline) and no longer count for
 * nr_audit_max_level(). Applying twice is the same as applying once.
 * @param a the audit @param cfg the config (NULL: nothing changes) @param err optional
 * @return 0, NR_EARG
 */
NR_EXTERN(int) nr_audit_apply(nr_audit *a, const nr_audit_config *cfg, nr_error *err);

/** @return how many findings nr_audit_apply() removed. */
NR_EXTERN(size_t) nr_audit_suppressed_count(const nr_audit *a);

/** Free an audit. NULL is a no-op. */
NR_EXTERN(void) nr_audit_free(nr_audit *a);

NR_END_DECL

#endif
