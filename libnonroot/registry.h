/*
 * registry.h: the docker:// transport (OCI distribution API over libcurl). Not installed.
 *
 *   registry.c       the handle per registry + repository (TLS, ping), authentication
 *                    handshake, requests with auth and retries, manifests
 *   registry_http.c  one HTTP request (libcurl), errors naming registry/repository/status
 *                    with a hint, retry policy and backoff (registry_http.h)
 *   registry_blob.c  blobs: HEAD, verified downloads with range resume, uploads, mounts
 *   registry_auth.c  credentials (--creds, auth files), WWW-Authenticate challenges, tokens
 *   registry_read.c  opening docker://HOST/REPO[:TAG|@DIGEST] into the image model
 *   registry_write.c pushing the (edited) image: missing blobs only, manifests last
 *
 * Model: an opened registry image is an OCI layout in a private temp dir holding the
 * manifests, indexes and configs; layers are downloaded into it (verified) only when a scan
 * misses the layer-scan cache or a non-registry destination needs their bytes.
 */
#ifndef NR_REGISTRY_H
#define NR_REGISTRY_H

#include "image_internal.h"

/* Registry settings (copies owned by the image). */
typedef struct nr__reg_conf {
	char *creds;        /* "USER:PASS" (--creds); NULL: from the auth files */
	char *authfile;     /* --authfile; NULL: $REGISTRY_AUTH_FILE and the default files */
	char *cert_dir;     /* *.crt CAs, *.cert + *.key client certificate; NULL: none */
	bool insecure;      /* --tls-verify=false: no TLS verification, plain HTTP allowed */
} nr__reg_conf;

void nr__reg_conf_dispose(nr__reg_conf *c);

/* A parsed docker:// reference. */
typedef struct nr__reg_ref {
	char *host;         /* as written ("docker.io" for Docker Hub) */
	char *repo;         /* "library/busybox" */
	char *tag;          /* NULL when digest is set */
	char *digest;       /* "sha256:..." or NULL */
} nr__reg_ref;

/* Parse what follows "docker://". A missing tag is "latest" (like skopeo). */
int nr__reg_ref_parse(nr__reg_ref *out, const char *s, nr_error *err);
void nr__reg_ref_dispose(nr__reg_ref *r);
/* A tag as the docker reference grammar allows it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool nr__reg_tag_ok(const char *t, size_t n);

typedef struct nr__registry nr__registry;

/* A handle on HOST/REPO. push: ask for push access too; mount_from: another repository of
 * the same registry to mount blobs from (pull access asked for it), may be NULL. */
int nr__registry_new(nr__registry **out, const char *host, const char *repo,
	const nr__reg_conf *conf, bool push, const char *mount_from, nr_error *err);
void nr__registry_free(nr__registry *r);
const char *nr__registry_host(const nr__registry *r);
const char *nr__registry_repo(const nr__registry *r);

/* GET a manifest or index by tag or digest (Accept: every supported type), verified against
 * the digest asked for or the registry's Docker-Content-Digest. Caller frees body and *mt. */
int nr__registry_get_manifest(nr__registry *r, const char *ref, char **body, size_t *len,
	char **mt, char digest[NR_DIGEST_SIZE], nr_error *err);
/* Download a blob into relpath (in dirfd; its directory must exist), verified against digest
 * and size, resumed with a Range request when the connection drops. Atomic (temp + rename). */
int nr__registry_fetch_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, nr_error *err);
/* HEAD: does the repository hold this blob / manifest? */
int nr__registry_has_blob(nr__registry *r, const char *digest, bool *has, nr_error *err);
int nr__registry_has_manifest(nr__registry *r, const char *ref, bool *has, nr_error *err);
/* Cross-repository mount from `from`: *session NULL when mounted, else the upload session
 * the registry opened instead (for nr__registry_upload_blob; caller frees). */
int nr__registry_mount_blob(nr__registry *r, const char *digest, const char *from,
	char **session, nr_error *err);
/* Monolithic upload (POST + PUT, or PUT to `session` when not NULL) of relpath in dirfd. */
int nr__registry_upload_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, const char *session, nr_error *err);
/* PUT a manifest or index under ref (tag or digest). */
int nr__registry_put_manifest(nr__registry *r, const char *ref, const char *mt,
	const char *body, size_t len, nr_error *err);

/* Built without libcurl: the error every docker:// entry point returns (registry.c). */
int nr__reg_no_curl(const char *host, nr_error *err);

/* ---- registry_auth.c (used by registry.c) ------------------------------------------------ */

/* Credentials for host/repo: --creds, else the first auth file with an entry (see
 * docs/registry.md). *user and *pass NULL: anonymous. Caller frees (and wipes) both. */
int nr__reg_credentials(const nr__reg_conf *conf, const char *host, const char *repo,
	char **user, char **pass, nr_error *err);

/* A parsed WWW-Authenticate challenge. */
typedef struct nr__reg_challenge {
	int scheme;         /* 0 unknown, 1 Basic, 2 Bearer */
	char *realm;
	char *service;
	char *scope;
} nr__reg_challenge;
int nr__reg_challenge_parse(nr__reg_challenge *out, const char *s, size_t len);
void nr__reg_challenge_dispose(nr__reg_challenge *c);

/* base64 of "user:pass" for Basic (caller frees and wipes). */
char *nr__reg_basic(const char *user, const char *pass);
/* Wipe and free a secret. */
void nr__reg_secret_free(char *s);

/* ---- registry_read.c / registry_write.c (used by image.c) --------------------------------- */

/* Open img->path ("docker://..." reference already in img->path) into the model. */
int nr__open_registry(nr_image *img, const char *platform, nr_error *err);
/* Make sure every layer and config of the model is in img->dirfd (for non-registry outputs). */
int nr__registry_fetch_all(nr_image *img, nr_error *err);
/* Scan hook: download a layer of a registry image unless it is present. */
int nr__registry_layer_fetch(void *img, const char *digest, uint64_t size,
	const char *relpath, nr_error *err);
/* Push: tops[0] (the edited top descriptor) and everything it references to dest (a
 * docker:// reference without the prefix, or NULL: in place); tag overrides dest's tag. */
int nr__write_registry(nr_image *img, const char *dest, const char *tag, json_t **tops,
	size_t ntops, nr_error *err);

#endif
