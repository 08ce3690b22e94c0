/** @file
 * imgconfig.h: read and edit an image configuration (OCI image-spec config, Docker
 * "container config" v1), preserving every field it does not touch.
 *
 * Lifecycle: nr_imgconfig_parse() → getters / edits → nr_imgconfig_serialize() →
 * nr_imgconfig_free(). Unknown fields, their values and the order of keys are kept; output is
 * compact JSON (like the registries' own). Strings returned by getters are borrowed: they
 * stay valid until the next edit of the same field or nr_imgconfig_free().
 *
 * Field names in errors follow the JSON path, e.g. "config.Env[2]".
 */
#ifndef NONROOT_IMGCONFIG_H
#define NONROOT_IMGCONFIG_H

#include "common.h"
#include "errors.h"
#include "urls.h"

NR_BEGIN_DECL

/** An image configuration being read or edited. Opaque. */
typedef struct nr_imgconfig nr_imgconfig;

/**
 * Parse an image configuration.
 * The top level must be a JSON object; `config`, when present and not null, an object;
 * `config.Env` an array of strings; `config.ExposedPorts` an object; `rootfs.diff_ids` an
 * array of strings; `history` an array of objects. Other fields are not checked.
 * @param[out] out  new object, owned by the caller (nr_imgconfig_free); NULL on failure
 * @param json      the config blob (need not be NUL-terminated)
 * @param len       its length in bytes
 * @param err optional error details (may be NULL)
 * @return 0, NR_EINVALID (syntax: line/column set; or a field of the wrong type, named),
 *         NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_parse(nr_imgconfig **out, const char *json, size_t len,
	nr_error *err);

/** Free a configuration. NULL is a no-op. */
NR_EXTERN(void) nr_imgconfig_free(nr_imgconfig *cfg);

/**
 * Serialize as compact JSON (keys in their original order, new keys appended).
 * @param[out] out  new NUL-terminated string, owned by the caller (free with nr_free)
 * @param[out] len  its length without the NUL (may be NULL)
 * @param cfg the image config
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_serialize(char **out, size_t *len, const nr_imgconfig *cfg,
	nr_error *err);

/**
 * A string field by dotted path from the top level: "created", "os", "architecture",
 * "variant", "config.User", "config.WorkingDir", ...
 * @return the borrowed string, or NULL when the field is absent or not a string
 */
NR_EXTERN(const char *) nr_imgconfig_string(const nr_imgconfig *cfg, const char *path);

/** @return config.User (borrowed), "" when absent, null or empty. Never NULL for a valid cfg. */
NR_EXTERN(const char *) nr_imgconfig_user(const nr_imgconfig *cfg);

/** Set config.User (creating `config` when absent). @return 0, NR_EINVALID (control
 *  characters), NR_ENOMEM, NR_EARG */
NR_EXTERN(int) nr_imgconfig_set_user(nr_imgconfig *cfg, const char *user, nr_error *err);

/** @return the number of config.Env entries. */
NR_EXTERN(size_t) nr_imgconfig_env_count(const nr_imgconfig *cfg);

/** @return config.Env[i] as "NAME=VALUE" (borrowed), NULL when out of range. */
NR_EXTERN(const char *) nr_imgconfig_env_at(const nr_imgconfig *cfg, size_t i);

/**
 * The value of an environment variable as the runtime sees it: the LAST entry named `name`
 * wins (runc and Docker pass the list through, later entries override earlier ones).
 * @return the borrowed value (after '='), or NULL when not set
 */
NR_EXTERN(const char *) nr_imgconfig_env_get(const nr_imgconfig *cfg, const char *name);

/**
 * Set an environment variable: every existing entry of `name` is replaced in place by
 * "NAME=VALUE" (so the position is kept), or the entry is appended.
 * @return 1 when the config changed, 0 when it already had exactly this value,
 *         NR_EINVALID (name empty or with '=' or control characters; value with a newline),
 *         NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_env_set(nr_imgconfig *cfg, const char *name, const char *value,
	nr_error *err);

/**
 * The effective Kestrel bindings of the image: config.Env read exactly as
 * nr_bindings_from_env() reads an environment (the last entry of a repeated variable wins;
 * URLS over HTTP(S)_PORTS; Kestrel__Endpoints__NAME__Url over both; nothing set:
 * http://localhost:5000). This is the one place an image's Env becomes bindings: audit,
 * patch, k8s and the bindings all use it, so they always agree on ports and source.
 * @param[out] out  new object (nr_bindings_free()); NULL on failure
 * @param cfg the image config
 * @param opts NULL for the defaults (threshold NR_UNPRIVILEGED_PORT_START, WebApplication host)
 * @param err optional error details (may be NULL)
 * @return 0; NR_EINVALID with Kestrel's message when an address would be refused (the
 *         variable is named in err->source); NR_ENOMEM; NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_bindings(nr_bindings **out, const nr_imgconfig *cfg,
	const nr_urls_options *opts, nr_error *err);

/** @return the number of config.ExposedPorts keys. */
NR_EXTERN(size_t) nr_imgconfig_exposed_count(const nr_imgconfig *cfg);

/** @return the i-th config.ExposedPorts key ("80/tcp", "53/udp", "8080"), borrowed; NULL
 *  when out of range. */
NR_EXTERN(const char *) nr_imgconfig_exposed_at(const nr_imgconfig *cfg, size_t i);

/**
 * Parse an ExposedPorts key: "PORT[/PROTO]" with PORT a strict decimal 0-65535 and PROTO
 * (default "tcp") a lowercase word.
 * @param[out] port   the port
 * @param[out] proto  borrowed pointer into `key` (or the static "tcp"), may be NULL
 * @param key an ExposedPorts key ("8080/tcp", "53/udp", "80")
 * @param err optional error details (may be NULL)
 * @return 0 or NR_EINVALID (ranges like "8000-8010/tcp" are refused)
 */
NR_EXTERN(int) nr_imgconfig_parse_port_key(uint16_t *port, const char **proto,
	const char *key, nr_error *err);

/**
 * Map ExposedPorts keys through a port map: a key whose port equals from[i] gets port to[i],
 * protocol and value kept ("80/tcp" → "8080/tcp"). With `keep_old` (compat mode) the old key
 * stays and the new one is added; otherwise the old key is removed. A key already present
 * is not duplicated.
 * @return the number of keys added or removed (0: nothing changed), NR_EINVALID, NR_ENOMEM,
 *         NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_map_exposed(nr_imgconfig *cfg, const uint16_t *from,
	const uint16_t *to, size_t n, int keep_old, nr_error *err);

/**
 * The health check command, config.Healthcheck.Test without its "CMD"/"CMD-SHELL" marker,
 * words joined by spaces.
 * @param[out] out  new string owned by the caller (nr_free), NULL when the image has no
 *                  health check (or it is ["NONE"])
 * @param cfg the image config
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_healthcheck(char **out, const nr_imgconfig *cfg, nr_error *err);

/**
 * Rewrite the ports of http:// and https:// URLs in the health check command through a port
 * map ("http://localhost:80/health" → "http://localhost:8080/health"; a URL without a port
 * gets the mapped scheme default: "http://localhost/" → "http://localhost:8080/").
 * @return the number of URLs rewritten, NR_ENOMEM, NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_map_healthcheck(nr_imgconfig *cfg, const uint16_t *from,
	const uint16_t *to, size_t n, nr_error *err);

/** @return the number of rootfs.diff_ids. */
NR_EXTERN(size_t) nr_imgconfig_diff_id_count(const nr_imgconfig *cfg);

/** @return rootfs.diff_ids[i] (borrowed), NULL when out of range. */
NR_EXTERN(const char *) nr_imgconfig_diff_id_at(const nr_imgconfig *cfg, size_t i);

/** @return the number of history entries. */
NR_EXTERN(size_t) nr_imgconfig_history_count(const nr_imgconfig *cfg);

/**
 * Whether the history is in step with the layers: the entries without `empty_layer: true`
 * are exactly as many as rootfs.diff_ids. An absent history is not in step (unless there
 * are no layers).
 * @return 1 or 0
 */
NR_EXTERN(int) nr_imgconfig_history_in_step(const nr_imgconfig *cfg);

/**
 * Append a layer: its diff_id ("sha256:<64 hex>") to rootfs.diff_ids and a history entry
 * {"created", "created_by", "comment"} for it (fields that are NULL are left out). The
 * history entry is added when the image has a history or no layers yet; an image without a
 * history keeps none, so the history never gets out of step because of us.
 * @return 1 when a history entry was added, 0 when not, NR_EINVALID (diff_id), NR_ENOMEM,
 *         NR_EARG
 */
NR_EXTERN(int) nr_imgconfig_append_layer(nr_imgconfig *cfg, const char *diff_id,
	const char *created, const char *created_by, const char *comment, nr_error *err);

NR_END_DECL

#endif
