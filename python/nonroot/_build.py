"""CFFI build script (API mode): compiles nonroot._native against the real public headers.

The declarations below are copied from include/nonroot/*.h. Because the generated module
`#include <nonroot.h>`, the C compiler checks every one of them against the real header; the
test tests/test_cdef.py also checks that every NR_EXTERN function is declared here (with the
same signature) or listed in EXCLUDED with a reason.

Where libnonroot is found (first match wins):
  1. NONROOT_INCLUDE_DIR and NONROOT_LIB_DIR;
  2. NONROOT_BUILD_DIR: a CMake build tree (the library in it, the headers from its source dir);
  3. pkg-config libnonroot (an installed library);
  4. this repository: ../include and ../build.
libnonroot.a is linked into the module (no RUNPATH, no libnonroot.so needed at run time);
NONROOT_PY_LINK=shared links libnonroot.so instead.
"""
import os
import re
import subprocess
from typing import Any, Dict, List, Optional, Tuple

from cffi import FFI

CDEF = r"""
/* common.h */
#define NR_VERSION_MAJOR ...
#define NR_VERSION_MINOR ...
#define NR_VERSION_PATCH ...
#define NR_VERSION_NUMBER ...
#define NR_UNPRIVILEGED_PORT_START ...
const char * nr_version(void);
unsigned int nr_version_number(void);
void nr_free(void *p);

/* errors.h */
typedef enum nr_error_code {
	NR_OK = 0,
	NR_ERROR = -1,
	NR_EINVALID = -2,
	NR_ENOTFOUND = -3,
	NR_ERANGE = -4,
	NR_EIO = -5,
	NR_ENOMEM = -6,
	NR_EEXISTS = -7,
	NR_ECONFLICT = -8,
	NR_EUNSUPPORTED = -9,
	NR_EDIGEST = -10,
	NR_ETOOBIG = -11,
	NR_EESCAPE = -12,
	NR_EARG = -13
} nr_error_code;
typedef struct nr_error {
	int code;
	size_t line;
	size_t column;
	char source[80];
	char message[256];
	void *reserved[4];
} nr_error;
void nr_error_clear(nr_error *err);
const char * nr_strerror(int code);
size_t nr_error_format(const nr_error *err, char *buf, size_t size);

/* imgconfig.h */
typedef struct nr_imgconfig nr_imgconfig;
int nr_imgconfig_parse(nr_imgconfig **out, const char *json, size_t len, nr_error *err);
void nr_imgconfig_free(nr_imgconfig *cfg);
int nr_imgconfig_serialize(char **out, size_t *len, const nr_imgconfig *cfg, nr_error *err);
const char * nr_imgconfig_string(const nr_imgconfig *cfg, const char *path);
const char * nr_imgconfig_user(const nr_imgconfig *cfg);
int nr_imgconfig_set_user(nr_imgconfig *cfg, const char *user, nr_error *err);
size_t nr_imgconfig_env_count(const nr_imgconfig *cfg);
const char * nr_imgconfig_env_at(const nr_imgconfig *cfg, size_t i);
const char * nr_imgconfig_env_get(const nr_imgconfig *cfg, const char *name);
int nr_imgconfig_env_set(nr_imgconfig *cfg, const char *name, const char *value, nr_error *err);
size_t nr_imgconfig_exposed_count(const nr_imgconfig *cfg);
const char * nr_imgconfig_exposed_at(const nr_imgconfig *cfg, size_t i);
int nr_imgconfig_parse_port_key(uint16_t *port, const char **proto, const char *key,
	nr_error *err);
int nr_imgconfig_map_exposed(nr_imgconfig *cfg, const uint16_t *from, const uint16_t *to,
	size_t n, int keep_old, nr_error *err);
int nr_imgconfig_healthcheck(char **out, const nr_imgconfig *cfg, nr_error *err);
int nr_imgconfig_map_healthcheck(nr_imgconfig *cfg, const uint16_t *from, const uint16_t *to,
	size_t n, nr_error *err);
size_t nr_imgconfig_diff_id_count(const nr_imgconfig *cfg);
const char * nr_imgconfig_diff_id_at(const nr_imgconfig *cfg, size_t i);
size_t nr_imgconfig_history_count(const nr_imgconfig *cfg);
int nr_imgconfig_history_in_step(const nr_imgconfig *cfg);
int nr_imgconfig_append_layer(nr_imgconfig *cfg, const char *diff_id, const char *created,
	const char *created_by, const char *comment, nr_error *err);

/* bundle.h */
typedef struct nr_bundle nr_bundle;
typedef struct nr_bundle_report nr_bundle_report;
#define NR_BUNDLE_CONFIG_MAX ...
#define NR_BUNDLE_HARDEN_OPTIONS_VERSION ...
typedef struct nr_bundle_harden_options {
	unsigned int version;
	const char *user;
	int allow_low_ports;
	int unprivileged_port_start;
	int allow_root;
	int dry_run;
	...;
} nr_bundle_harden_options;
int nr_bundle_open(nr_bundle **out, const char *dir, nr_error *err);
int nr_bundle_parse(nr_bundle **out, const char *json, size_t len, const char *dir,
	nr_error *err);
void nr_bundle_free(nr_bundle *b);
const char * nr_bundle_root_path(const nr_bundle *b);
int nr_bundle_serialize(char **out, size_t *len, const nr_bundle *b, nr_error *err);
int nr_bundle_write(nr_bundle *b, nr_error *err);
int nr_bundle_harden_options_init(nr_bundle_harden_options *opts, unsigned int version);
int nr_bundle_harden(nr_bundle_report **report, nr_bundle *b,
	const nr_bundle_harden_options *opts, nr_error *err);
int nr_bundle_harden_dir(nr_bundle_report **report, const char *dir,
	const nr_bundle_harden_options *opts, nr_error *err);
size_t nr_bundle_report_changes(const nr_bundle_report *r);
int nr_bundle_report_written(const nr_bundle_report *r);
int nr_bundle_report_to_json(char **out, size_t *len, const nr_bundle_report *r, nr_error *err);
int nr_bundle_report_to_text(char **out, size_t *len, const nr_bundle_report *r, nr_error *err);
void nr_bundle_report_free(nr_bundle_report *r);

/* names.h */
#define NR_NAME_MAX ...
#define NR_NAME_STRICT ...
int nr_name_check(const char *name, size_t len, nr_error *err);
int nr_name_check_flags(const char *name, size_t len, unsigned flags, nr_error *err);

/* group.h */
typedef struct nr_group nr_group;
struct nr_passwd;
typedef struct nr_grent {
	const char *name;
	const char *passwd;
	uint32_t gid;
	const char *const *members;
	size_t nmembers;
	size_t line;
	...;
} nr_grent;
int nr_group_parse(nr_group **out, const char *buf, size_t len, const char *source,
	nr_error *err);
void nr_group_free(nr_group *gr);
int nr_group_serialize(char **out, size_t *len, const nr_group *gr, nr_error *err);
size_t nr_group_count(const nr_group *gr);
const nr_grent * nr_group_at(const nr_group *gr, size_t i);
const nr_grent * nr_group_find_name(const nr_group *gr, const char *name);
const nr_grent * nr_group_find_gid(const nr_group *gr, uint32_t gid);
int nr_group_add(nr_group *gr, const nr_grent *ent, nr_error *err);
int nr_group_add_member(nr_group *gr, const char *group, const char *member,
	nr_error *err);
int nr_group_next_free_gid(uint32_t *gid, const nr_group *gr, uint32_t first,
	uint32_t last, nr_error *err);
int nr_group_check(nr_error **problems, size_t *count,
	const nr_group *gr, const struct nr_passwd *pw, nr_error *err);

/* passwd.h */
typedef struct nr_passwd nr_passwd;
typedef struct nr_pwent {
	const char *name;
	const char *passwd;
	uint32_t uid;
	uint32_t gid;
	const char *gecos;
	const char *dir;
	const char *shell;
	size_t line;
	...;
} nr_pwent;
#define NR_SYS_ID_MIN ...
#define NR_SYS_ID_MAX ...
#define NR_USER_ID_MIN ...
#define NR_USER_ID_MAX ...
int nr_passwd_parse(nr_passwd **out, const char *buf, size_t len, const char *source,
	nr_error *err);
void nr_passwd_free(nr_passwd *pw);
int nr_passwd_serialize(char **out, size_t *len, const nr_passwd *pw, nr_error *err);
size_t nr_passwd_count(const nr_passwd *pw);
const nr_pwent * nr_passwd_at(const nr_passwd *pw, size_t i);
const nr_pwent * nr_passwd_find_name(const nr_passwd *pw, const char *name);
const nr_pwent * nr_passwd_find_uid(const nr_passwd *pw, uint32_t uid);
int nr_passwd_add(nr_passwd *pw, const nr_pwent *ent, nr_error *err);
int nr_passwd_next_free_id(uint32_t *id, const nr_passwd *pw, const nr_group *gr,
	uint32_t first, uint32_t last, nr_error *err);
int nr_passwd_check(nr_error **problems, size_t *count, const nr_passwd *pw,
	const nr_group *gr, nr_error *err);

/* shadow.h */
typedef struct nr_shadow nr_shadow;
typedef struct nr_gshadow nr_gshadow;
typedef struct nr_spent {
	const char *name;
	const char *passwd;
	const char *lastchg;
	const char *min;
	const char *max;
	const char *warn;
	const char *inact;
	const char *expire;
	const char *flag;
	size_t line;
	...;
} nr_spent;
typedef struct nr_sgent {
	const char *name;
	const char *passwd;
	const char *admins;
	const char *members;
	size_t line;
	...;
} nr_sgent;
int nr_shadow_days_now(int64_t *days, nr_error *err);
int nr_shadow_parse(nr_shadow **out, const char *buf, size_t len, const char *source,
	nr_error *err);
void nr_shadow_free(nr_shadow *sh);
int nr_shadow_serialize(char **out, size_t *len, const nr_shadow *sh, nr_error *err);
size_t nr_shadow_count(const nr_shadow *sh);
const nr_spent * nr_shadow_at(const nr_shadow *sh, size_t i);
const nr_spent * nr_shadow_find_name(const nr_shadow *sh, const char *name);
int nr_shadow_add(nr_shadow *sh, const char *name, int64_t days, nr_error *err);
int nr_shadow_check(nr_error **problems, size_t *count, const nr_shadow *sh,
	const nr_passwd *pw, nr_error *err);
int nr_gshadow_parse(nr_gshadow **out, const char *buf, size_t len,
	const char *source, nr_error *err);
void nr_gshadow_free(nr_gshadow *gs);
int nr_gshadow_serialize(char **out, size_t *len, const nr_gshadow *gs, nr_error *err);
size_t nr_gshadow_count(const nr_gshadow *gs);
const nr_sgent * nr_gshadow_at(const nr_gshadow *gs, size_t i);
const nr_sgent * nr_gshadow_find_name(const nr_gshadow *gs, const char *name);
int nr_gshadow_add(nr_gshadow *gs, const char *name, nr_error *err);
int nr_gshadow_add_member(nr_gshadow *gs, const char *group, const char *member,
	nr_error *err);
int nr_gshadow_check(nr_error **problems, size_t *count, const nr_gshadow *gs,
	const nr_group *gr, nr_error *err);

/* userspec.h */
#define NR_USERSPEC_ID_MAX ...
typedef struct nr_userspec_options {
	unsigned version;
	uint32_t uid;
	uint32_t gid;
	const char *home;
	const uint32_t *additional_gids;
	size_t n_additional_gids;
	...;
} nr_userspec_options;
#define NR_USERSPEC_OPTIONS_VERSION ...
int nr_userspec_options_init(nr_userspec_options *opts, unsigned version);
typedef struct nr_exec_user {
	uint32_t uid;
	uint32_t gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *home;
	char *name;
	...;
} nr_exec_user;
int nr_userspec_resolve(nr_exec_user *out, const char *spec, const nr_passwd *pw,
	const nr_group *gr, const nr_userspec_options *opts, nr_error *err);
void nr_exec_user_dispose(nr_exec_user *u);
int nr_userspec_additional_gids(uint32_t **gids, size_t *ngids,
	const nr_group *gr, const char *const *groups, size_t n, nr_error *err);

/* rootfs.h */
typedef struct nr_rootfs nr_rootfs;
#define NR_ROOTFS_FILE_MAX ...
typedef struct nr_rootfs_options {
	unsigned version;
	unsigned flags;
	...;
} nr_rootfs_options;
#define NR_ROOTFS_OPTIONS_VERSION ...
#define NR_ROOTFS_NO_OPENAT2 ...
int nr_rootfs_options_init(nr_rootfs_options *opts, unsigned version);
int nr_rootfs_open(nr_rootfs **out, const char *dir, nr_error *err);
int nr_rootfs_open_ext(nr_rootfs **out, const char *dir,
	const nr_rootfs_options *opts, nr_error *err);
void nr_rootfs_free(nr_rootfs *rfs);
int nr_rootfs_uses_openat2(const nr_rootfs *rfs);
int nr_rootfs_read_file(char **out, size_t *len, const nr_rootfs *rfs,
	const char *path, size_t max, nr_error *err);
int nr_rootfs_write_file(nr_rootfs *rfs, const char *path, const void *data,
	size_t len, unsigned mode, nr_error *err);
int nr_rootfs_exists(const nr_rootfs *rfs, const char *path, nr_error *err);
int nr_rootfs_mkdir(nr_rootfs *rfs, const char *path, unsigned mode, uint32_t uid,
	uint32_t gid, nr_error *err);
#define NR_ID_AUTO ...
#define NR_ADDUSER_CREATE_HOME ...
#define NR_ADDUSER_EXIST_OK ...
#define NR_DAYS_AUTO ...
typedef struct nr_adduser_options {
	unsigned version;
	const char *name;
	uint32_t uid;
	uint32_t gid;
	const char *home;
	const char *shell;
	const char *gecos;
	unsigned flags;
	uint32_t id_first;
	uint32_t id_last;
	int64_t shadow_days;
	...;
} nr_adduser_options;
#define NR_ADDUSER_OPTIONS_VERSION ...
int nr_adduser_options_init(nr_adduser_options *opts, unsigned version);
typedef struct nr_adduser_result {
	uint32_t uid;
	uint32_t gid;
	int existed;
	int group_created;
	int home_created;
	int shadow_updated;
	int gshadow_updated;
	...;
} nr_adduser_result;
int nr_rootfs_add_user(nr_adduser_result *result, nr_rootfs *rfs,
	const nr_adduser_options *opts, nr_error *err);
int nr_rootfs_resolve_user(nr_exec_user *out, const nr_rootfs *rfs,
	const char *spec, const nr_userspec_options *defaults, nr_error *err);

/* urls.h */
typedef enum nr_url_kind {
	NR_URL_ANY = 0,
	NR_URL_LOCALHOST = 1,
	NR_URL_IP = 2,
	NR_URL_HOST = 3,
	NR_URL_UNIX = 4,
	NR_URL_PIPE = 5
} nr_url_kind;
typedef struct nr_url_span {
	size_t off;
	size_t len;
} nr_url_span;
#define NR_URL_PORT_DEFAULTED ...
#define NR_URL_PORT_FALLBACK ...
#define NR_URL_HTTPS ...
#define NR_URL_HTTP ...
typedef struct nr_url {
	nr_url_span scheme;
	nr_url_span host;
	nr_url_span port_text;
	nr_url_span path_base;
	int32_t port;
	nr_url_kind kind;
	unsigned int flags;
	int family;
	unsigned char addr[16];
	...;
} nr_url;
int nr_url_parse(nr_url *out, const char *s, size_t len, nr_error *err);
int nr_url_validate(const nr_url *u, const char *s, size_t len, nr_error *err);
int nr_url_is_privileged(const nr_url *u, unsigned int threshold);
const char * nr_url_kind_name(nr_url_kind kind);
typedef enum nr_urls_key {
	NR_URLS_KEY_NONE = -1,
	NR_URLS_KEY_URLS = 0,
	NR_URLS_KEY_HTTP_PORTS = 1,
	NR_URLS_KEY_HTTPS_PORTS = 2
} nr_urls_key;
nr_urls_key nr_urls_key_of(const char *name, size_t len);
typedef enum nr_urls_host {
	NR_URLS_HOST_WEBAPP = 0,
	NR_URLS_HOST_GENERIC = 1
} nr_urls_host;
#define NR_URLS_NO_UNPREFIXED ...
typedef struct nr_urls_options {
	unsigned int version;
	unsigned int threshold;
	nr_urls_host host;
	unsigned int flags;
	...;
} nr_urls_options;
#define NR_URLS_OPTIONS_VERSION ...
int nr_urls_options_init(nr_urls_options *opts, unsigned int version);
typedef enum nr_urls_source {
	NR_URLS_SOURCE_DEFAULT = 0,
	NR_URLS_SOURCE_URLS = 1,
	NR_URLS_SOURCE_PORTS = 2
} nr_urls_source;
const char * nr_urls_source_name(nr_urls_source source);
typedef struct nr_binding {
	const char *url;
	size_t url_len;
	nr_url parsed;
	int privileged;
	const char *variable;
	...;
} nr_binding;
typedef struct nr_bindings nr_bindings;
int nr_bindings_from_env(nr_bindings **out, const char *const *envp,
	const nr_urls_options *opts, nr_error *err);
nr_urls_source nr_bindings_source(const nr_bindings *b);
size_t nr_bindings_count(const nr_bindings *b);
const nr_binding * nr_bindings_at(const nr_bindings *b, size_t i);
int nr_bindings_any_privileged(const nr_bindings *b);
size_t nr_bindings_warning_count(const nr_bindings *b);
const char * nr_bindings_warning_at(const nr_bindings *b, size_t i);
const char * nr_bindings_variable(const char **value, const nr_bindings *b,
	nr_urls_key key);
void nr_bindings_free(nr_bindings *b);
int nr_bindings_to_json(char **out, size_t *len, const nr_bindings *b, nr_error *err);
/* imgconfig.h, declared here because it needs nr_bindings */
int nr_imgconfig_bindings(nr_bindings **out, const nr_imgconfig *cfg,
	const nr_urls_options *opts, nr_error *err);
#define NR_PORTMAP_MAX ...
typedef struct nr_portmap {
	size_t count;
	struct { uint16_t from, to; } entries[...];
	...;
} nr_portmap;
int nr_portmap_parse(nr_portmap *map, const char *s, size_t len, nr_error *err);
void nr_portmap_default(nr_portmap *map);
int nr_portmap_lookup(const nr_portmap *map, int32_t from);
#define NR_REWRITE_COMPAT ...
int nr_urls_rewrite(char **out, size_t *outlen, const char *name, const char *value,
	size_t len, const nr_portmap *map, unsigned int threshold, unsigned int flags,
	nr_error *err);

/* image.h */
typedef struct nr_image nr_image;
typedef enum nr_image_transport {
	NR_TRANSPORT_NONE = 0,
	NR_TRANSPORT_OCI = 1,
	NR_TRANSPORT_OCI_ARCHIVE = 2,
	NR_TRANSPORT_DOCKER_ARCHIVE = 3,
	NR_TRANSPORT_DOCKER = 4
} nr_image_transport;
typedef struct nr_image_open_options {
	unsigned int version;
	const char *platform;
	const char *tmpdir;
	const char *creds;
	const char *authfile;
	const char *cert_dir;
	int tls_verify;
	...;
} nr_image_open_options;
#define NR_IMAGE_OPEN_OPTIONS_VERSION ...
int nr_image_open_options_init(nr_image_open_options *opts, unsigned int version);
int nr_image_open(nr_image **out, const char *ref, const nr_image_open_options *opts,
	nr_error *err);
void nr_image_free(nr_image *img);
nr_image_transport nr_image_transport_of(const nr_image *img);
size_t nr_image_count(const nr_image *img);
const char * nr_image_platform_at(const nr_image *img, size_t i);
const char * nr_image_manifest_media_type(const nr_image *img, size_t i);
const char * nr_image_config(size_t *len, const nr_image *img, size_t i);
typedef struct nr_descriptor {
	const char *media_type;
	const char *digest;
	uint64_t size;
	...;
} nr_descriptor;
const nr_descriptor * nr_image_config_descriptor(const nr_image *img, size_t i);
size_t nr_image_layer_count(const nr_image *img, size_t i);
const nr_descriptor * nr_image_layer_at(const nr_image *img, size_t i, size_t j);
const nr_descriptor * nr_image_written(const nr_image *img);
const nr_descriptor * nr_image_written_manifest(const nr_image *img, size_t i);
typedef enum nr_entry_type {
	NR_ENTRY_NONE = 0,
	NR_ENTRY_REGULAR = 1,
	NR_ENTRY_DIRECTORY = 2,
	NR_ENTRY_SYMLINK = 3,
	NR_ENTRY_CHAR = 4,
	NR_ENTRY_BLOCK = 5,
	NR_ENTRY_FIFO = 6
} nr_entry_type;
#define NR_SCAN_ENTRY_TOO_BIG ...
#define NR_SCAN_ENTRY_LOOP ...
#define NR_SCAN_ENTRY_NOTDIR ...
#define NR_SCAN_ENTRY_CAPS ...
typedef struct nr_scan_entry {
	const char *path;
	const char *resolved;
	nr_entry_type type;
	uint32_t mode;
	uint64_t uid;
	uint64_t gid;
	uint64_t size;
	int64_t mtime;
	const char *content;
	size_t content_len;
	const char *link_target;
	const char *hardlink;
	size_t layer;
	unsigned int flags;
	...;
} nr_scan_entry;
typedef void (*nr_scan_progress_cb)(size_t layer, size_t nlayers, uint64_t layer_bytes,
	uint64_t layer_size, void *payload);
#define NR_SCAN_SETID ...
#define NR_SCAN_CAPS ...
typedef struct nr_scan_request {
	unsigned int version;
	const char *const *paths;
	size_t npaths;
	size_t content_max;
	unsigned int flags;
	nr_scan_progress_cb progress;
	void *payload;
	...;
} nr_scan_request;
#define NR_SCAN_REQUEST_VERSION ...
typedef struct nr_scan_result nr_scan_result;
int nr_image_scan(nr_scan_result **out, nr_image *img, size_t i,
	const nr_scan_request *req, nr_error *err);
const nr_scan_entry * nr_scan_result_get(const nr_scan_result *res, const char *path);
size_t nr_scan_result_count(const nr_scan_result *res);
const nr_scan_entry * nr_scan_result_at(const nr_scan_result *res, size_t k);
size_t nr_scan_result_setid_count(const nr_scan_result *res);
const nr_scan_entry * nr_scan_result_setid_at(const nr_scan_result *res, size_t k);
void nr_scan_result_free(nr_scan_result *res);
int nr_image_read_file(char **out, size_t *len, nr_image *img, size_t i,
	const char *path, nr_error *err);
typedef struct nr_blob_writer nr_blob_writer;
int nr_blob_writer_open(nr_blob_writer **out, nr_image *img, nr_error *err);
int nr_blob_writer_write(nr_blob_writer *w, const void *data, size_t len,
	nr_error *err);
int nr_blob_writer_finish(char digest[72], uint64_t *size, nr_blob_writer *w,
	nr_error *err);
void nr_blob_writer_free(nr_blob_writer *w);
int nr_image_set_config(nr_image *img, size_t i, const char *json, size_t len,
	nr_error *err);
int nr_image_add_layer(nr_image *img, size_t i, const nr_descriptor *desc,
	nr_error *err);
typedef struct nr_image_write_options {
	unsigned int version;
	const char *tag;
	...;
} nr_image_write_options;
#define NR_IMAGE_WRITE_OPTIONS_VERSION ...
int nr_image_write_options_init(nr_image_write_options *opts, unsigned int version);
int nr_image_write(nr_image *img, const char *dest,
	const nr_image_write_options *opts, nr_error *err);
int nr_image_write_check(const nr_image *img, const char *dest,
	const nr_image_write_options *opts, nr_error *err);
/* audit.h */
typedef enum nr_level {
	NR_LEVEL_NONE = 0,
	NR_LEVEL_NOTE = 1,
	NR_LEVEL_WARNING = 2,
	NR_LEVEL_ERROR = 3
} nr_level;
const char * nr_level_name(nr_level level);
typedef struct nr_audit_rule {
	const char *id;
	const char *name;
	nr_level level;
	const char *summary;
	const char *help;
	...;
} nr_audit_rule;
size_t nr_audit_rule_count(void);
const nr_audit_rule * nr_audit_rule_at(size_t k);
const nr_audit_rule * nr_audit_rule_get(const char *id);
typedef struct nr_finding {
	const char *id;
	nr_level level;
	size_t manifest;
	const char *platform;
	const char *location;
	const char *message;
	const char *fix;
	const char *fingerprint;
	int baseline;
	...;
} nr_finding;
typedef struct nr_audit_options {
	unsigned int version;
	unsigned int threshold;
	nr_scan_progress_cb progress;
	void *payload;
	...;
} nr_audit_options;
#define NR_AUDIT_OPTIONS_VERSION ...
int nr_audit_options_init(nr_audit_options *opts, unsigned int version);
typedef struct nr_audit nr_audit;
int nr_image_audit(nr_audit **out, nr_image *img, const nr_audit_options *opts,
	nr_error *err);
size_t nr_audit_platform_count(const nr_audit *a);
const char * nr_audit_platform_at(const nr_audit *a, size_t i);
const char * nr_audit_user(const nr_audit *a, size_t i);
size_t nr_audit_count(const nr_audit *a);
const nr_finding * nr_audit_at(const nr_audit *a, size_t k);
nr_level nr_audit_max_level(const nr_audit *a);
int nr_audit_to_json(char **out, size_t *len, const nr_audit *a, const char *image,
	nr_error *err);
int nr_audit_to_sarif(char **out, size_t *len, const nr_audit *a, const char *image,
	int exit_code, int baseline, nr_error *err);
int nr_audit_to_text(char **out, size_t *len, const nr_audit *a, const char *image,
	int quiet, nr_error *err);
typedef struct nr_audit_config nr_audit_config;
int nr_audit_config_new(nr_audit_config **out, nr_error *err);
int nr_audit_config_load(nr_audit_config *cfg, const char *text, size_t len,
	const char *source, nr_error *err);
int nr_audit_config_ignore(nr_audit_config *cfg, const char *ids, nr_error *err);
int nr_audit_config_set_level(nr_audit_config *cfg, const char *id, nr_level level,
	nr_error *err);
int nr_audit_config_allow_setid(nr_audit_config *cfg, const char *pattern,
	nr_error *err);
int nr_audit_config_load_baseline(nr_audit_config *cfg, const char *text,
	size_t len, const char *source, nr_error *err);
void nr_audit_config_free(nr_audit_config *cfg);
int nr_audit_apply(nr_audit *a, const nr_audit_config *cfg, nr_error *err);
size_t nr_audit_suppressed_count(const nr_audit *a);
void nr_audit_free(nr_audit *a);

/* patch.h */
typedef enum nr_patch_mode {
	NR_PATCH_NONROOT = 0,
	NR_PATCH_COMPAT = 1
} nr_patch_mode;
typedef struct nr_patch_options {
	unsigned int version;
	const char *user;
	uint32_t uid;
	uint32_t gid;
	const char *home;
	int no_home;
	const char *shell;
	const nr_portmap *ports;
	nr_patch_mode mode;
	int dry_run;
	int64_t mtime;
	nr_scan_progress_cb progress;
	void *payload;
	int new_user;
	int no_passwd_entry;
	unsigned int threshold;
	...;
} nr_patch_options;
#define NR_PATCH_OPTIONS_VERSION ...
int nr_patch_options_init(nr_patch_options *opts, unsigned int version);
typedef struct nr_patch_change {
	size_t manifest;
	const char *platform;
	const char *what;
	const char *target;
	const char *before;
	const char *after;
	const char *why;
	...;
} nr_patch_change;
typedef struct nr_patch_report nr_patch_report;
int nr_image_patch(nr_patch_report **out, nr_image *img,
	const nr_patch_options *opts, nr_error *err);
size_t nr_patch_report_count(const nr_patch_report *r);
const nr_patch_change * nr_patch_report_at(const nr_patch_report *r, size_t k);
int nr_patch_report_changed(const nr_patch_report *r);
uint32_t nr_patch_report_uid(const nr_patch_report *r);
uint32_t nr_patch_report_gid(const nr_patch_report *r);
size_t nr_patch_report_platform_count(const nr_patch_report *r);
const char * nr_patch_report_platform_at(const nr_patch_report *r, size_t manifest);
int nr_patch_report_dry_run(const nr_patch_report *r);
int nr_patch_report_to_json(char **out, size_t *len, const nr_patch_report *r,
	const char *image, const char *written, nr_error *err);
int nr_patch_report_set_written(nr_patch_report *r, const nr_image *img,
	nr_error *err);
void nr_patch_report_free(nr_patch_report *r);
/* unpack.h */
#define NR_UNPACK_ROOTLESS ...
#define NR_UNPACK_NO_XATTRS ...
typedef struct nr_unpack_options {
	unsigned int version;
	unsigned int flags;
	nr_scan_progress_cb progress;
	void *payload;
	...;
} nr_unpack_options;
#define NR_UNPACK_OPTIONS_VERSION ...
int nr_unpack_options_init(nr_unpack_options *opts, unsigned int version);
int nr_image_unpack(nr_image *img, size_t i, const char *dir,
	const nr_unpack_options *opts, nr_error *err);
#define NR_BUNDLE_GEN_READONLY_ROOT ...
#define NR_BUNDLE_GEN_ALLOW_ROOT ...
typedef struct nr_bundle_gen_options {
	unsigned int version;
	unsigned int flags;
	const nr_unpack_options *unpack;
	const char *hostname;
	...;
} nr_bundle_gen_options;
#define NR_BUNDLE_GEN_OPTIONS_VERSION ...
int nr_bundle_gen_options_init(nr_bundle_gen_options *opts, unsigned int version);
int nr_image_bundle(nr_image *img, size_t i, const char *dir,
	const nr_bundle_gen_options *opts, nr_error *err);
/* Python side of nr_scan_progress_cb (payload: an ffi.new_handle of the callable) */
extern "Python" void _nr_py_scan_progress(size_t, size_t, uint64_t, uint64_t, void *);
"""

# NR_EXTERN functions deliberately not declared above, each with the reason.
EXCLUDED: Dict[str, str] = {
    "nr_audit_bindings": "Audit.bindings(i) reads the bindings from the audit's JSON document "
                         "(the C audit is freed as soon as its findings are copied)",
    "nr_patch_report_bindings": "PatchReport.bindings(i, after) reads them from the report's "
                                "JSON document (the C report is freed at once)",
    "nr_patch_report_written": "PatchReport.to_json() has it as \"result\" once Image.write() "
                               "recorded the write (nr_patch_report_set_written)",
    "nr_patch_report_descriptor": "PatchReport's JSON document has the layer and config "
                                  "(platforms[i].layer, .config); the C report is freed at once",
}


def _here() -> str:
    return os.path.dirname(os.path.abspath(__file__))


def _pkg_config(*args: str, pkg: str = "libnonroot") -> Optional[str]:
    try:
        out = subprocess.run(["pkg-config"] + list(args) + pkg.split(), check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out or None


def _source_dir_of_build(build_dir: str) -> Optional[str]:
    cache = os.path.join(build_dir, "CMakeCache.txt")
    try:
        with open(cache, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"libnonroot_SOURCE_DIR:STATIC=(.*)", line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return None


# The libraries libnonroot itself links (jansson, libarchive, libcrypto, zlib, libcurl, ISA-L
# when it was found). A CMake build tree lists them in python/link-libs.txt (python/CMakeLists.txt);
# an installed library in its pkg-config file (Libs.private / Requires.private).
_DEFAULT_DEPS = "jansson libarchive libcrypto zlib libcurl"


def _link_deps(build_dir: Optional[str]) -> List[str]:
    """The linker arguments for libnonroot's own dependencies (shared system libraries)."""
    if build_dir:
        listed = os.path.join(build_dir, "python", "link-libs.txt")
        if os.path.exists(listed):
            with open(listed, encoding="utf-8") as f:
                return f.read().split()
        return (_pkg_config("--libs", pkg=_DEFAULT_DEPS) or "").split()
    flags = (_pkg_config("--static", "--libs") or "").split()
    if flags:
        return [f for f in flags if f != "-lnonroot"]
    return (_pkg_config("--libs", pkg=_DEFAULT_DEPS) or "").split()


def locate() -> Tuple[str, str, Optional[str]]:
    """@return (include_dir, lib_dir, build_dir) of libnonroot; raises RuntimeError when the
    headers or the static library (libnonroot.a) are not found."""
    inc = os.environ.get("NONROOT_INCLUDE_DIR")
    lib = os.environ.get("NONROOT_LIB_DIR")
    build = os.environ.get("NONROOT_BUILD_DIR")
    if build:
        lib = lib or build
        if not inc:
            src = _source_dir_of_build(build)
            if src:
                inc = os.path.join(src, "include")
    if not (inc and lib):
        pinc = _pkg_config("--variable=includedir")
        plib = _pkg_config("--variable=libdir")
        if pinc and plib:
            inc, lib = inc or pinc, lib or plib
    repo = os.path.dirname(_here())
    repo = os.path.dirname(repo)
    if not (inc and lib):
        build = build or os.path.join(repo, "build")
    inc = inc or os.path.join(repo, "include")
    lib = lib or os.path.join(repo, "build")
    if not os.path.exists(os.path.join(inc, "nonroot.h")):
        raise RuntimeError("libnonroot headers not found in %s: set NONROOT_INCLUDE_DIR or "
                           "NONROOT_BUILD_DIR, or install libnonroot (pkg-config)" % inc)
    want = "libnonroot.so" if _SHARED else "libnonroot.a"
    if not os.path.exists(os.path.join(lib, want)):
        raise RuntimeError("%s not found in %s: build it with CMake, or set "
                           "NONROOT_LIB_DIR / NONROOT_BUILD_DIR" % (want, lib))
    return os.path.abspath(inc), os.path.abspath(lib), build and os.path.abspath(build)


# NONROOT_PY_LINK=shared links the installed libnonroot.so instead (a distribution package
# that ships the library separately); the default bundles libnonroot.a into the module, as
# pygit2's wheels bundle libgit2, so a wheel works without the build tree and without an
# absolute RUNPATH. The module keeps libnonroot's symbols to itself (--exclude-libs).
_SHARED = os.environ.get("NONROOT_PY_LINK", "static") == "shared"

ffibuilder = FFI()
ffibuilder.cdef(CDEF)

_inc, _lib, _build_dir = locate()
if _SHARED:
    _link: Dict[str, Any] = dict(library_dirs=[_lib], libraries=["nonroot"])
else:
    _link = dict(extra_objects=[os.path.join(_lib, "libnonroot.a")],
                 extra_link_args=["-Wl,--exclude-libs,ALL", "-Wl,--as-needed"]
                 + _link_deps(_build_dir) + ["-pthread"])
ffibuilder.set_source(
    "nonroot._native",
    "#include <nonroot.h>\n",
    include_dirs=[_inc],
    # A cdef that disagrees with the header must fail the build, not warn.
    extra_compile_args=["-Werror=incompatible-pointer-types", "-Werror=int-conversion",
                        "-Werror=implicit-function-declaration",
                        "-Werror=discarded-qualifiers", "-Werror=pointer-sign"],
    **_link,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
