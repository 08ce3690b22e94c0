/*
 * bundle_internal.h: what bundle.c, bundle_harden.c and bundle_report.c share (internal).
 */
#ifndef NR_BUNDLE_INTERNAL_H
#define NR_BUNDLE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "nonroot/bundle.h"
#include "nonroot/userspec.h"

#define CONFIG_NAME "config.json"
#define CAP_NBS "CAP_NET_BIND_SERVICE"
#define PORT_SYSCTL "net.ipv4.ip_unprivileged_port_start"
#define PORT_SYSCTL_FIELD "linux.sysctl[\"" PORT_SYSCTL "\"]"

#define INDENT_TABS (-1)

struct nr_bundle {
	char *dir;      /* NULL for a bundle parsed without a directory */
	int dirfd;      /* -1 likewise */
	json_t *root;   /* the whole config.json */
	int indent;     /* INDENT_TABS, 0 (compact) or a number of spaces */
};

struct nr_bundle_report {
	json_t *doc;    /* the JSON report; the text form is rendered from it */
	size_t changes;
	int written;
};

/* process.capabilities' five sets, in the runtime-spec's order. */
extern const char *const nr__bundle_cap_sets[5];

/* "FIELD: expected EXPECTED, got <type of got>" (NR_EINVALID, in config.json). */
int nr__bundle_field_error(nr_error *err, const char *field, const char *expected,
	const json_t *got);
/* Optional object member: *out is NULL when absent or JSON null. */
int nr__bundle_get_object(json_t **out, json_t *parent, const char *key, const char *field,
	nr_error *err);
/* Like nr__bundle_get_object, but an absent member is created (appended). */
int nr__bundle_need_object(json_t **out, json_t *parent, const char *key, const char *field,
	nr_error *err);
/* An id: integer in 0..UINT32_MAX (runtime-spec uses uint32 for uid/gid). */
int nr__bundle_get_id(uint32_t *out, const json_t *v, const char *field, nr_error *err);
int nr__bundle_check_string_array(const json_t *v, const char *field, nr_error *err);
int nr__bundle_check_id_array(const json_t *v, const char *field, nr_error *err);
bool nr__bundle_array_has_string(const json_t *arr, const char *s);
bool nr__bundle_array_has_int(const json_t *arr, json_int_t n);
/* v serialised (order kept) with a final newline; indent as in struct nr_bundle. */
int nr__bundle_dump_json(char **out, size_t *len, const json_t *v, int indent, nr_error *err);
/* spec resolved like runc against the bundle's root filesystem. */
int nr__bundle_resolve_user(nr_exec_user *u, nr_bundle *b, const char *spec, nr_error *err);

#endif
