/*
 * audit_internal.h: the audit's rule evaluation over plain facts, so that it can be tested
 * without an image, and what audit.c, audit_eval.c, audit_ports.c and audit_setid.c share.
 * Not installed.
 */
#ifndef NR_AUDIT_INTERNAL_H
#define NR_AUDIT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "nonroot.h"

/* A privileged file: set-id (NR008) when mode has 06000, file capabilities (NR015) when
 * caps is not NULL. */
typedef struct nr__audit_setid {
	const char *path;        /* "usr/bin/su" */
	uint32_t mode;           /* 07777 bits */
	uint64_t uid, gid;
	const char *caps;        /* the security.capability xattr (vfs_cap_data); NULL: none */
	size_t caps_len;
} nr__audit_setid;

typedef struct nr__audit_file {
	const char *path;        /* "etc/nginx/conf.d/default.conf" */
	const char *content;
	size_t len;
} nr__audit_file;

/* Look up a directory in the image: *type is an nr_entry_type. */
typedef int (*nr__audit_lookup_cb)(void *ctx, const char *path, int *type, uint64_t *uid,
	uint64_t *gid, nr_error *err);

typedef struct nr__audit_facts {
	size_t manifest;
	const char *platform;
	const char *config;               /* config JSON */
	size_t config_len;
	const char *passwd;               /* NULL: the image has no /etc/passwd */
	size_t passwd_len;
	const char *group;                /* NULL: no /etc/group */
	size_t group_len;
	const nr__audit_setid *setid;
	size_t nsetid;
	nr__audit_lookup_cb lookup;       /* for the home directory; NULL: not checked */
	void *lookup_ctx;
	unsigned int threshold;           /* first unprivileged port */
	const nr__audit_file *files;      /* server configuration files found (serverports.h) */
	size_t nfiles;
} nr__audit_facts;

/* Fingerprints: 32 hex characters + NUL; the SARIF partialFingerprints key. */
#define NR_FINGERPRINT_SIZE 33
#define NR_FINGERPRINT_KEY "nonroot/v1"

/* A finding's fingerprint: sha256 of rule, platform, location (a path in the image or a
 * config field) and the occurrence number among findings with those three (0 first); no
 * digest, so it survives a rebuild. @return 0 or NR_ENOMEM. */
/* The occurrence number (0 for the first) of (id, platform, location) among those counted so
 * far in *map (a jansson object as a hash map, created on first use; json_decref it). */
int nr__occurrence(json_t **map, const char *id, const char *platform, const char *location,
	size_t *out);
int nr__audit_fingerprint(char out[NR_FINGERPRINT_SIZE], const char *id, const char *platform,
	const char *location, size_t occurrence);
/* Whether cfg keeps finding f, with its (overridden) level and whether it is in the baseline. */
bool nr__audit_config_keeps(const nr_audit_config *cfg, const nr_finding *f, int *level,
	int *in_baseline);

nr_audit *nr__audit_new(void);
/* Evaluate every rule on one manifest's facts, appending findings to a. */
int nr__audit_eval(nr_audit *a, const nr__audit_facts *f, nr_error *err);
/* The capabilities in a security.capability value in libcap's text form ("cap_net_raw=ep",
 * "cap_chown,cap_kill=eip cap_sys_admin=i"), or why not ("undecodable, 3 bytes"). */
void nr__caps_text(char *out, size_t size, const char *caps, size_t len);

/* ---- the audit object and the rules' evaluation, shared by audit.c, audit_eval.c,
 * audit_ports.c and audit_setid.c ---- */

/* What one manifest ran as, and its effective bindings. */
typedef struct nr__audit_platform {
	char *platform;
	char *user;
	nr_bindings *bindings;   /* the effective bindings; NULL when Kestrel would refuse them */
	nr_error bindings_err;   /* why, then */
} nr__audit_platform;

struct nr_audit {
	nr_finding *f;
	size_t n, alloc;
	nr__audit_platform *p;
	size_t np, ap;
	int max;
	size_t suppressed;
	json_t *occ;   /* "id\nplatform\nlocation" -> findings so far (a hashed map: linear adds) */
};

/* The rules' evaluation of one manifest's facts into a. */
typedef struct nr__audit_ctx {
	nr_audit *a;
	const nr__audit_facts *f;
	nr_error *err;
} nr__audit_ctx;

/* Append a finding of rule id (its fingerprint too); fix NULL: the rule's help. */
int nr__audit_add(nr__audit_ctx *e, const char *id, nr_level level, const char *location,
	const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* audit_ports.c: the ASP.NET Core variables against the effective bindings `all` (NULL:
 * Kestrel refuses the environment, allerr says why), ExposedPorts and the health check
 * (NR004-NR007, NR010); program arguments and server configuration files (NR012, NR013). */
int nr__audit_check_ports(nr__audit_ctx *e, nr_imgconfig *cfg, const nr_bindings *all,
	const nr_error *allerr, int runs_root);
int nr__audit_check_server_ports(nr__audit_ctx *e, nr_imgconfig *cfg, int runs_root);
/* audit_setid.c: set-id files (NR008) and file capabilities (NR015). */
int nr__audit_check_setid(nr__audit_ctx *e);

#endif
