/*
 * registry_http.h: what the docker:// transport's files share (built with libcurl only):
 * the handle, one HTTP request, its errors and retries. Not installed. See registry.h.
 */
#ifndef NR_REGISTRY_HTTP_H
#define NR_REGISTRY_HTTP_H

#include <pthread.h>

#include <curl/curl.h>

#include "image_model.h"

#define NR__REG_MAX_RETRIES 4
#define NR__REG_ERRBODY_MAX 4096

#define NR__REG_ACCEPT_MANIFESTS "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " \
	MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

struct nr__registry {
	char *host;          /* as in the reference */
	char *api;           /* host to talk to (registry-1.docker.io for docker.io) */
	char *repo;
	char *base;          /* "https://API" or "http://API" */
	char *scope;         /* "repository:REPO:pull[,push] [repository:FROM:pull]" */
	bool insecure;
	char *cafile_blob;   /* system CAs + --cert-dir *.crt, PEM; NULL: curl's default */
	size_t cafile_len;
	char *client_cert, *client_key;
	char *user, *pass;   /* NULL: anonymous */
	pthread_mutex_t lock;   /* guards authz */
	char *authz;         /* "Authorization: ..." header line; NULL: none */
	int scheme;          /* the challenge's: 0 none, 1 Basic, 2 Bearer */
	nr__reg_challenge ch;
	CURLSH *share;
	pthread_mutex_t slocks[CURL_LOCK_DATA_LAST];
};

/* ---- registry_http.c: one request ------------------------------------------------------------ */

/* One request: what to send, and the response as it arrives. */
typedef struct nr__reg_req {
	const char *method;      /* GET, HEAD, PUT, POST */
	const char *url;         /* absolute */
	const char *accept;      /* a full "Accept: ..." line, or NULL */
	const char *ctype;       /* Content-Type value, or NULL */
	const char *body;        /* in-memory request body */
	size_t blen;
	int upfd;                /* or a file to send (upfd >= 0), uplen bytes */
	uint64_t uplen, upoff;
	uint64_t range_from;     /* > 0: Range: bytes=N- */
	bool no_auth;            /* the token request itself */
	const char *basic_user, *basic_pass;   /* for the token request */
	/* response */
	long status;
	nr__buf rbody;            /* captured body (sink == NULL), at most rmax bytes */
	size_t rmax;
	bool over;               /* the body went over rmax */
	size_t (*sink)(void *ctx, const char *p, size_t n);   /* streamed body (2xx only) */
	void *sink_ctx;
	CURL *h;                 /* during nr__reg_perform() */
	char *location, *ctype_hdr, *digest_hdr, *www_auth, *retry_after;
	char curl_msg[CURL_ERROR_SIZE];
} nr__reg_req;

void nr__reg_req_dispose(nr__reg_req *q);
/* Perform one request (no retry). CURLE_OK with q->status set, or a transport error. */
CURLcode nr__reg_perform(nr__registry *r, nr__reg_req *q);
/* The hint for an HTTP status (NULL: none). */
const char *nr__reg_hint(long status);
/* Errors naming registry, repository, `what` and the status or transport failure. */
int nr__reg_http_error(nr__registry *r, const nr__reg_req *q, const char *what, nr_error *err);
int nr__reg_transport_error(nr__registry *r, const nr__reg_req *q, CURLcode rc,
	const char *what, nr_error *err);
/* Worth retrying (transport errors, 429, 5xx), and the wait before attempt+1. */
bool nr__reg_retryable(CURLcode rc, long status);
void nr__reg_backoff(int attempt, const nr__reg_req *q);
/* BASE/v2/REPO/KIND/REF into b. */
int nr__reg_url(nr__buf *b, nr__registry *r, const char *kind, const char *ref);
/* HEAD a blob or manifest: *has when 200, false when 404, an error otherwise. */
int nr__reg_head(nr__registry *r, const char *kind, const char *ref, bool *has, nr_error *err);

/* ---- registry.c: authentication ------------------------------------------------------------- */

/* Answer a challenge (the WWW-Authenticate of a 401). */
int nr__reg_authenticate(nr__registry *r, const char *www, nr_error *err);
/* A request with auth and retries (see registry.c). */
int nr__reg_call(nr__registry *r, nr__reg_req *q, const char *what, nr_error *err);

#endif
