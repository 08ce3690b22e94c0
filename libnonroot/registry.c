/*
 * registry.c: HTTP to an OCI distribution registry with libcurl (see registry.h).
 *
 * One handle per registry + repository. Requests are easy handles sharing DNS, TLS sessions
 * and connections (CURLSH), so the scan's worker threads may download layers at once.
 * Scheme: https, verified against the system CAs plus the *.crt files of --cert-dir; with
 * --tls-verify=false unverified https, falling back to plain http (as skopeo does).
 * Authentication follows the registry's challenge (a 401 on GET /v2/): Basic with the
 * credentials, or Bearer: a token from the realm for `repository:REPO:pull[,push]` (Basic
 * credentials sent to the realm when there are any), fetched again when a request gets 401.
 * Retries: transport errors, 429 and 5xx are retried with exponential backoff (4 retries,
 * from 250 ms, Retry-After honoured up to 10 s; a refused connection twice); a blob download that drops resumes with a
 * Range request. Errors name registry, repository and status with a hint; no header, token,
 * password or URL user info ever goes into an error.
 */
#ifdef NR_HAVE_CURL
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "image_model.h"
#include "fileio.h"
#include "parse.h"

#define MAX_RETRIES 4
#define ERRBODY_MAX 4096

static const char accept_manifests[] = "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", "
	MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST;

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

/* ---- curl global state and the share --------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *p)
{
	nr__registry *r = p;
	(void)h;
	(void)a;
	if ((int)d >= 0 && d < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&r->slocks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *p)
{
	nr__registry *r = p;
	(void)h;
	if ((int)d >= 0 && d < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&r->slocks[d]);
}

const char *nr__registry_host(const nr__registry *r)
{
	return r->host;
}

const char *nr__registry_repo(const nr__registry *r)
{
	return r->repo;
}

void nr__registry_free(nr__registry *r)
{
	int k;

	if (r == NULL)
		return;
	if (r->share)
		curl_share_cleanup(r->share);
	for (k = 0; k < CURL_LOCK_DATA_LAST; k++)
		pthread_mutex_destroy(&r->slocks[k]);
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r->api);
	free(r->repo);
	free(r->base);
	free(r->scope);
	free(r->cafile_blob);
	free(r->client_cert);
	free(r->client_key);
	nr__reg_secret_free(r->user);
	nr__reg_secret_free(r->pass);
	nr__reg_secret_free(r->authz);
	nr__reg_challenge_dispose(&r->ch);
	free(r);
}

/* ---- one request ----------------------------------------------------------------------------- */

typedef struct req {
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
	nr_buf rbody;            /* captured body (sink == NULL), at most rmax bytes */
	size_t rmax;
	bool over;               /* the body went over rmax */
	size_t (*sink)(void *ctx, const char *p, size_t n);   /* streamed body (2xx only) */
	void *sink_ctx;
	CURL *h;                 /* during perform() */
	char *location, *ctype_hdr, *digest_hdr, *www_auth, *retry_after;
	char curl_msg[CURL_ERROR_SIZE];
} req;

static void req_reset_response(req *q)
{
	q->status = 0;
	nr_buf_truncate(&q->rbody, 0);
	q->over = false;
	free(q->location);
	free(q->ctype_hdr);
	free(q->digest_hdr);
	free(q->www_auth);
	free(q->retry_after);
	q->location = q->ctype_hdr = q->digest_hdr = q->www_auth = q->retry_after = NULL;
	q->curl_msg[0] = '\0';
}

static void req_dispose(req *q)
{
	req_reset_response(q);
	nr_buf_dispose(&q->rbody);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	req *q = ctx;
	size_t len = size * n, nl;
	static const struct { const char *name; size_t off; } hs[] = {
		{ "location:", offsetof(req, location) },
		{ "content-type:", offsetof(req, ctype_hdr) },
		{ "docker-content-digest:", offsetof(req, digest_hdr) },
		{ "www-authenticate:", offsetof(req, www_auth) },
		{ "retry-after:", offsetof(req, retry_after) },
	};
	size_t k;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or 100): forget the previous headers */
		free(q->location); q->location = NULL;
		free(q->ctype_hdr); q->ctype_hdr = NULL;
		free(q->digest_hdr); q->digest_hdr = NULL;
		free(q->www_auth); q->www_auth = NULL;
		free(q->retry_after); q->retry_after = NULL;
		return len;
	}
	for (k = 0; k < NR_ARRAY_SIZE(hs); k++) {
		nl = strlen(hs[k].name);
		if (len > nl && strncasecmp(p, hs[k].name, nl) == 0) {
			char **slot = (char **)((char *)q + hs[k].off);
			const char *v = p + nl, *e = p + len;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
				e--;
			if (*slot == NULL && (*slot = nr__strndup(v, (size_t)(e - v))) == NULL)
				return 0;
		}
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	req *q = ctx;
	size_t len = size * n;

	if (q->sink) {
		/* stream only a success's body; an error's body is captured for the message */
		if (q->status == 0)
			curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &q->status);
		if (q->status >= 200 && q->status < 300)
			return q->sink(q->sink_ctx, p, len);
	}
	if (q->rbody.size + len > (q->sink ? ERRBODY_MAX : q->rmax)) {
		q->over = true;
		return q->sink ? len : 0;
	}
	return nr_buf_put(&q->rbody, p, len) < 0 ? 0 : len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	req *q = ctx;
	size_t want = size * n;
	ssize_t got;

	if (q->upfd < 0) {
		size_t left = q->blen - (size_t)q->upoff;
		if (want > left)
			want = left;
		memcpy(buf, q->body + q->upoff, want);
		q->upoff += want;
		return want;
	}
	if (want > q->uplen - q->upoff)
		want = (size_t)(q->uplen - q->upoff);
	if (want == 0)
		return 0;
	do
		got = pread(q->upfd, buf, want, (off_t)q->upoff);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	q->upoff += (uint64_t)got;
	return (size_t)got;
}

static int on_seek(void *ctx, curl_off_t off, int origin)
{
	req *q = ctx;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	q->upoff = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/* Perform one request (no retry). CURLE_OK with q->status set, or a transport error. */
static CURLcode perform(nr__registry *r, req *q)
{
	struct curl_slist *hs = NULL, *n;
	CURL *h;
	CURLcode rc;
	char line[128];

	req_reset_response(q);
	if ((h = curl_easy_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (q->accept && (n = curl_slist_append(hs, q->accept)) != NULL)
		hs = n;
	if (q->ctype) {
		snprintf(line, sizeof(line), "Content-Type: %s", q->ctype);
		if ((n = curl_slist_append(hs, line)) != NULL)
			hs = n;
	}
	if ((n = curl_slist_append(hs, "Expect:")) != NULL)
		hs = n;
	if (!q->no_auth) {
		pthread_mutex_lock(&r->lock);
		if (r->authz && (n = curl_slist_append(hs, r->authz)) != NULL)
			hs = n;
		pthread_mutex_unlock(&r->lock);
	}
	if (q->range_from) {
		snprintf(line, sizeof(line), "Range: bytes=%llu-", (unsigned long long)q->range_from);
		if ((n = curl_slist_append(hs, line)) != NULL)
			hs = n;
	}
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "nonroot/" NR_VERSION);
	curl_easy_setopt(h, CURLOPT_SHARE, r->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->curl_msg);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* blobs may redirect to storage; custom Authorization is not sent to another host */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, strcmp(q->method, "GET") == 0 ||
		strcmp(q->method, "HEAD") == 0 ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
	q->h = h;
	if (r->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (r->cafile_blob) {
		struct curl_blob b = { r->cafile_blob, r->cafile_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	}
	if (r->client_cert && r->client_key) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, r->client_cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, r->client_key);
	}
	if (q->basic_user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, q->basic_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, q->basic_pass);
	}
	if (strcmp(q->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "PUT") == 0 || strcmp(q->method, "POST") == 0) {
		q->upoff = 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		if (strcmp(q->method, "POST") == 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, q);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, q);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
			(curl_off_t)(q->upfd >= 0 ? q->uplen : q->blen));
	}
	rc = curl_easy_perform(h);
	q->h = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	return rc;
}

/* ---- errors ------------------------------------------------------------------------------------ */

static const char *hint_for(long status)
{
	switch (status) {
	case 401: return "check the credentials (--creds, --authfile, $REGISTRY_AUTH_FILE)";
	case 403: return "the credentials lack access to this repository (scope)";
	case 404: return "no such repository, tag or digest";
	case 429: return "rate limited by the registry: retry later";
	default: return status >= 500 ? "the registry failed: retry later" : NULL;
	}
}

/* The registry's error body {"errors":[{"code","message"}]}: "CODE: message" (printable). */
static void error_detail(const req *q, char *out, size_t size)
{
	json_t *j = NULL, *e;
	json_error_t je;
	const char *code, *msg;
	size_t k;

	out[0] = '\0';
	if (q->rbody.size == 0 || q->rbody.ptr == NULL)
		return;
	j = json_loadb(q->rbody.ptr, q->rbody.size, 0, &je);
	e = json_array_get(nr__jget(j, "errors"), 0);
	code = nr__jstr(e, "code");
	msg = nr__jstr(e, "message");
	if (code || msg)
		snprintf(out, size, " (%s%s%s)", code ? code : "", code && msg ? ": " : "",
			msg ? msg : "");
	for (k = 0; out[k]; k++)
		if ((unsigned char)out[k] < 0x20 || out[k] == 0x7f)
			out[k] = '?';
	json_decref(j);
}

static int http_error(nr__registry *r, const req *q, const char *what, nr_error *err)
{
	char detail[300];
	const char *hint = hint_for(q->status);
	int code = q->status == 404 ? NR_ENOTFOUND : q->status == 401 || q->status == 403 ?
		NR_EARG : NR_EIO;

	error_detail(q, detail, sizeof(detail));
	return nr__error_set(err, code, NULL, 0, 0, "registry %s, repository %s: %s: HTTP %ld%s%s%s",
		r->host, r->repo, what, q->status, detail, hint ? ": " : "", hint ? hint : "");
}

static bool is_tls_error(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
		rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
		rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_ISSUER_ERROR;
}

static int transport_error(nr__registry *r, const req *q, CURLcode rc, const char *what,
	nr_error *err)
{
	return nr__error_set(err, NR_EIO, NULL, 0, 0, "registry %s, repository %s: %s: %s%s",
		r->host, r->repo, what, q->curl_msg[0] ? q->curl_msg : curl_easy_strerror(rc),
		is_tls_error(rc) ? ": TLS failed: use --cert-dir DIR with the registry's CA, or "
		"--tls-verify=false for a local registry" : "");
}

static bool retryable(CURLcode rc, long status)
{
	if (rc != CURLE_OK)
		return rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
			rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE ||
			rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT ||
			rc == CURLE_COULDNT_RESOLVE_HOST;
	return status == 429 || status >= 500;
}

static void backoff(int attempt, const req *q)
{
	long ms = 250L << attempt;
	struct timespec ts;

	if (q && q->retry_after) {
		long s = strtol(q->retry_after, NULL, 10);
		if (s > 0)
			ms = (s > 10 ? 10 : s) * 1000;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- auth ------------------------------------------------------------------------------------- */

static int set_authz(nr__registry *r, const char *line)
{
	char *dup = line ? nr__strdup(line) : NULL;

	if (line && dup == NULL)
		return NR_ENOMEM;
	pthread_mutex_lock(&r->lock);
	nr__reg_secret_free(r->authz);
	r->authz = dup;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* Answer a challenge (the WWW-Authenticate of a 401). */
static int authenticate(nr__registry *r, const char *www, nr_error *err)
{
	nr__reg_challenge ch;
	nr_buf url = NR_BUF_INIT, line = NR_BUF_INIT;
	req q;
	json_t *j = NULL;
	json_error_t je;
	const char *tok;
	char *esc;
	CURLcode rc;
	int error = 0, attempt;

	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	if (www == NULL || (error = nr__reg_challenge_parse(&ch, www, strlen(www))) == -1)
		return nr__error_set(err, NR_EUNSUPPORTED, NULL, 0, 0,
			"registry %s, repository %s: authentication not supported (%s)", r->host, r->repo,
			www ? "unknown WWW-Authenticate scheme" : "no WWW-Authenticate header");
	if (error < 0)
		return nr__error_oom(err);
	if (ch.scheme == 1) {
		char *b64;
		if (r->user == NULL) {
			nr__reg_challenge_dispose(&ch);
			return nr__error_set(err, NR_EARG, NULL, 0, 0,
				"registry %s, repository %s: HTTP 401: credentials required: %s", r->host,
				r->repo, hint_for(401));
		}
		if ((b64 = nr__reg_basic(r->user, r->pass)) == NULL)
			goto oom;
		nr_buf_printf(&line, "Authorization: Basic %s", b64);
		nr__reg_secret_free(b64);
		if (line.oom || set_authz(r, line.ptr) < 0)
			goto oom;
		r->scheme = 1;
		goto done;
	}
	if (ch.realm == NULL || (strncmp(ch.realm, "https://", 8) != 0 &&
	    strncmp(ch.realm, "http://", 7) != 0)) {
		error = nr__error_set(err, NR_EUNSUPPORTED, NULL, 0, 0,
			"registry %s, repository %s: bearer challenge without an http(s) realm", r->host,
			r->repo);
		goto done;
	}
	nr_buf_puts(&url, ch.realm);
	nr_buf_putc(&url, strchr(ch.realm, '?') ? '&' : '?');
	if (ch.service) {
		esc = curl_easy_escape(NULL, ch.service, 0);
		nr_buf_printf(&url, "service=%s&", esc ? esc : "");
		curl_free(esc);
	}
	{
		/* one scope parameter per space-separated scope */
		const char *s = r->scope, *sp;
		while (*s) {
			char one[1024];
			sp = strchr(s, ' ');
			snprintf(one, sizeof(one), "%.*s", (int)(sp ? (size_t)(sp - s) : strlen(s)), s);
			esc = curl_easy_escape(NULL, one, 0);
			nr_buf_printf(&url, "scope=%s&", esc ? esc : "");
			curl_free(esc);
			s = sp ? sp + 1 : s + strlen(s);
		}
	}
	if (url.oom)
		goto oom;
	url.ptr[--url.size] = '\0';   /* the last '&' */
	q.method = "GET";
	q.url = url.ptr;
	q.no_auth = true;
	q.rmax = 1024 * 1024;
	q.basic_user = r->user;
	q.basic_pass = r->pass;
	for (attempt = 0; ; attempt++) {
		rc = perform(r, &q);
		if (!retryable(rc, q.status) || attempt == MAX_RETRIES)
			break;
		backoff(attempt, &q);
	}
	if (rc != CURLE_OK) {
		error = transport_error(r, &q, rc, "token request", err);
		goto done;
	}
	if (q.status != 200) {
		error = http_error(r, &q, "token request", err);
		goto done;
	}
	j = json_loadb(q.rbody.ptr ? q.rbody.ptr : "", q.rbody.size, 0, &je);
	tok = nr__jstr(j, "token");
	if (tok == NULL || *tok == '\0')
		tok = nr__jstr(j, "access_token");
	if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n") != NULL) {
		error = nr__error_set(err, NR_EINVALID, NULL, 0, 0,
			"registry %s, repository %s: the token server's answer has no token", r->host,
			r->repo);
		goto done;
	}
	nr_buf_printf(&line, "Authorization: Bearer %s", tok);
	if (line.oom || set_authz(r, line.ptr) < 0)
		goto oom;
	r->scheme = 2;
	goto done;
oom:
	error = nr__error_oom(err);
done:
	if (j) {
		/* the token is a secret: wipe the parsed copy's source */
		if (q.rbody.ptr)
			OPENSSL_cleanse(q.rbody.ptr, q.rbody.size);
		json_decref(j);
	}
	if (line.ptr)
		OPENSSL_cleanse(line.ptr, line.size);
	nr_buf_dispose(&line);
	nr_buf_dispose(&url);
	req_dispose(&q);
	nr__reg_challenge_dispose(&ch);
	return error;
}

/*
 * A request with auth and retries. *q's response is left for the caller to read (q->status:
 * any HTTP status; transport failures become errors). `what` names the action in errors.
 */
static int call(nr__registry *r, req *q, const char *what, nr_error *err)
{
	CURLcode rc;
	int attempt, authed = 0, error;

	for (attempt = 0; ; ) {
		rc = perform(r, q);
		if (rc == CURLE_OK && q->status == 401 && authed < 1 && !q->no_auth) {
			authed++;
			if ((error = authenticate(r, q->www_auth, err)) < 0)
				return error;
			continue;
		}
		if (!retryable(rc, q->status) || attempt == MAX_RETRIES ||
		    (rc == CURLE_COULDNT_CONNECT && attempt == 2))
			break;
		backoff(attempt++, q);
	}
	if (rc != CURLE_OK)
		return transport_error(r, q, rc, what, err);
	return 0;
}

/* ---- the handle ------------------------------------------------------------------------------- */

/* System CAs and the *.crt files of cert_dir as one PEM blob; client cert/key paths. */
static int load_cert_dir(nr__registry *r, const char *dir, nr_error *err)
{
	static const char *const system_cas[] = { "/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem" };
	nr_buf pem = NR_BUF_INIT;
	DIR *d;
	struct dirent *de;
	char *text;
	size_t len, k;
	int error = 0;

	for (k = 0; k < NR_ARRAY_SIZE(system_cas); k++)
		if (nr__file_read_at(&text, &len, AT_FDCWD, system_cas[k], 0, 64u << 20, NULL,
				NULL) == 0) {
			nr_buf_put(&pem, text, len);
			nr_buf_putc(&pem, '\n');
			free(text);
			break;
		}
	if ((d = opendir(dir)) == NULL) {
		nr_buf_dispose(&pem);
		return nr__error_errno(err, errno, dir, "--cert-dir");
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n > 4 && strcmp(de->d_name + n - 4, ".crt") == 0) {
			if ((error = nr__file_read_at(&text, &len, AT_FDCWD, path, 0, 16u << 20, path,
					err)) < 0)
				break;
			nr_buf_put(&pem, text, len);
			nr_buf_putc(&pem, '\n');
			free(text);
		} else if (n > 5 && strcmp(de->d_name + n - 5, ".cert") == 0) {
			free(r->client_cert);
			if ((r->client_cert = nr__strdup(path)) == NULL)
				pem.oom = 1;
			snprintf(path + strlen(path) - 5, 6, ".key");
			free(r->client_key);
			if ((r->client_key = nr__strdup(path)) == NULL)
				pem.oom = 1;
		}
	}
	closedir(d);
	if (error == 0 && pem.oom)
		error = nr__error_oom(err);
	if (error == 0) {
		r->cafile_blob = nr_buf_detach(&pem, &r->cafile_len);
	}
	nr_buf_dispose(&pem);
	return error;
}


int nr__registry_new(nr__registry **out, const char *host, const char *repo,
	const nr__reg_conf *conf, bool push, const char *mount_from, nr_error *err)
{
	nr__registry *r;
	nr_buf b = NR_BUF_INIT;
	req q;
	int error, k;
	bool tried_https = false;

	*out = NULL;
	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return nr__error_set(err, NR_ERROR, host, 0, 0, "libcurl failed to initialise");
	if ((r = nr__calloc(1, sizeof(*r))) == NULL)
		return nr__error_oom(err);
	pthread_mutex_init(&r->lock, NULL);
	for (k = 0; k < CURL_LOCK_DATA_LAST; k++)
		pthread_mutex_init(&r->slocks[k], NULL);
	r->insecure = conf->insecure;
	if ((r->host = nr__strdup(host)) == NULL || (r->repo = nr__strdup(repo)) == NULL ||
	    (r->api = nr__strdup(strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" :
			host)) == NULL)
		goto oom;
	nr_buf_printf(&b, "repository:%s:%s", repo, push ? "pull,push" : "pull");
	if (mount_from && strcmp(mount_from, repo) != 0)
		nr_buf_printf(&b, " repository:%s:pull", mount_from);
	if (b.oom)
		goto oom;
	r->scope = nr_buf_detach(&b, NULL);
	if ((r->share = curl_share_init()) == NULL)
		goto oom;
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	if (conf->cert_dir && (error = load_cert_dir(r, conf->cert_dir, err)) < 0)
		goto fail;
	if ((error = nr__reg_credentials(conf, host, repo, &r->user, &r->pass, err)) < 0)
		goto fail;
	/* ping: GET /v2/ picks the scheme and answers the auth challenge at once */
	for (;;) {
		CURLcode rc;
		int attempt;
		free(r->base);
		nr_buf_truncate(&b, 0);
		nr_buf_printf(&b, "%s://%s", tried_https && r->insecure ? "http" : "https", r->api);
		if (b.oom)
			goto oom;
		r->base = nr_buf_detach(&b, NULL);
		nr_buf_printf(&b, "%s/v2/", r->base);
		if (b.oom)
			goto oom;
		q.method = "GET";
		q.url = b.ptr;
		q.rmax = ERRBODY_MAX;
		for (attempt = 0; ; attempt++) {
			rc = perform(r, &q);
			if (!retryable(rc, q.status) || attempt == MAX_RETRIES ||
			    (rc == CURLE_COULDNT_CONNECT && attempt == 2))
				break;
			if (rc != CURLE_OK && r->insecure && !tried_https)
				break;   /* maybe plain http: try it at once */
			backoff(attempt, &q);
		}
		if (rc != CURLE_OK && r->insecure && !tried_https) {
			tried_https = true;
			continue;
		}
		if (rc != CURLE_OK) {
			error = transport_error(r, &q, rc, "connect", err);
			goto fail;
		}
		break;
	}
	if (q.status == 401) {
		if ((error = authenticate(r, q.www_auth, err)) < 0)
			goto fail;
	} else if (q.status != 200) {
		error = http_error(r, &q, "GET /v2/ (is this a registry?)", err);
		goto fail;
	}
	nr_buf_dispose(&b);
	req_dispose(&q);
	*out = r;
	return 0;
oom:
	error = nr__error_oom(err);
fail:
	nr_buf_dispose(&b);
	req_dispose(&q);
	nr__registry_free(r);
	return error;
}

static int make_url(nr_buf *b, nr__registry *r, const char *kind, const char *ref)
{
	nr_buf_truncate(b, 0);
	nr_buf_printf(b, "%s/v2/%s/%s/%s", r->base, r->repo, kind, ref);
	return b->oom ? NR_ENOMEM : 0;
}

/* Content-Type without parameters. */
static char *bare_mt(const char *ct)
{
	size_t n = ct ? strcspn(ct, "; \t") : 0;
	return ct ? nr__strndup(ct, n) : NULL;
}

int nr__registry_get_manifest(nr__registry *r, const char *ref, char **body, size_t *len,
	char **mt, char digest[NR_DIGEST_SIZE], nr_error *err)
{
	nr_buf url = NR_BUF_INIT;
	req q;
	int error;
	char what[200];

	*body = NULL;
	*mt = NULL;
	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	if (make_url(&url, r, "manifests", ref) < 0)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), "manifest %s", ref);
	q.method = "GET";
	q.url = url.ptr;
	q.accept = accept_manifests;
	q.rmax = NR_JSON_BLOB_MAX;
	if ((error = call(r, &q, what, err)) < 0)
		goto done;
	if (q.over) {
		error = nr__error_set(err, NR_ETOOBIG, ref, 0, 0,
			"registry %s, repository %s: manifest %s is over %u bytes", r->host, r->repo,
			ref, NR_JSON_BLOB_MAX);
		goto done;
	}
	if (q.status != 200) {
		error = http_error(r, &q, what, err);
		goto done;
	}
	if ((error = nr__digest_of(q.rbody.ptr ? q.rbody.ptr : "", q.rbody.size, digest,
			err)) < 0)
		goto done;
	if (strncmp(ref, "sha256:", 7) == 0 ? strcmp(ref, digest) != 0 :
	    (q.digest_hdr && strncmp(q.digest_hdr, "sha256:", 7) == 0 &&
	     strcmp(q.digest_hdr, digest) != 0)) {
		error = nr__error_set(err, NR_EDIGEST, ref, 0, 0,
			"registry %s, repository %s: manifest %s does not match its digest (got %s)",
			r->host, r->repo, ref, digest);
		goto done;
	}
	if ((*mt = bare_mt(q.ctype_hdr)) == NULL && q.ctype_hdr) {
		error = nr__error_oom(err);
		goto done;
	}
	*len = q.rbody.size;
	if ((*body = nr_buf_detach(&q.rbody, NULL)) == NULL)
		*body = nr__strdup("");
	if (*body == NULL) {
		free(*mt);
		*mt = NULL;
		error = nr__error_oom(err);
	}
done:
	nr_buf_dispose(&url);
	req_dispose(&q);
	return error;
}

static int head(nr__registry *r, const char *kind, const char *ref, bool *has, nr_error *err)
{
	nr_buf url = NR_BUF_INIT;
	req q;
	char what[200];
	int error;

	*has = false;
	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	if (make_url(&url, r, kind, ref) < 0)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), "HEAD %s %s", kind, ref);
	q.method = "HEAD";
	q.url = url.ptr;
	q.accept = strcmp(kind, "manifests") == 0 ? accept_manifests : NULL;
	if ((error = call(r, &q, what, err)) == 0) {
		if (q.status == 200)
			*has = true;
		else if (q.status != 404)
			error = http_error(r, &q, what, err);
	}
	nr_buf_dispose(&url);
	req_dispose(&q);
	return error;
}

int nr__registry_has_blob(nr__registry *r, const char *digest, bool *has, nr_error *err)
{
	return head(r, "blobs", digest, has, err);
}

int nr__registry_has_manifest(nr__registry *r, const char *ref, bool *has, nr_error *err)
{
	return head(r, "manifests", ref, has, err);
}

/* ---- blob download ------------------------------------------------------------------------------ */

typedef struct dl {
	int fd;
	EVP_MD_CTX *md;
	uint64_t got, size;
	bool too_big, werr, started;
	const req *q;
	unsigned resumed;
} dl;

static size_t dl_sink(void *ctx, const char *p, size_t n)
{
	dl *d = ctx;

	if (!d->started) {
		d->started = true;
		if (d->got > 0 && d->q->status == 206) {
			d->resumed++;
		} else if (d->got > 0) {
			/* no range support: start over */
			if (ftruncate(d->fd, 0) < 0 || lseek(d->fd, 0, SEEK_SET) < 0 ||
			    EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1) {
				d->werr = true;
				return 0;
			}
			d->got = 0;
		}
	}

	if (d->size != UINT64_MAX && d->got + n > d->size) {
		d->too_big = true;
		return 0;
	}
	if (nr__write_all(d->fd, p, n) < 0) {
		d->werr = true;
		return 0;
	}
	EVP_DigestUpdate(d->md, p, n);
	d->got += n;
	return n;
}

static int tmp_name(char *out, size_t size, const char *dir)
{
	char tail[17];

	if (nr__random_hex(tail, 8) < 0)
		return -1;
	snprintf(out, size, "%s%s.download-%s", dir, *dir ? "/" : "", tail);
	return 0;
}

int nr__registry_fetch_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, nr_error *err)
{
	nr_buf url = NR_BUF_INIT;
	req q;
	dl d;
	char tmp[4200], dir[4096], got[NR_DIGEST_SIZE], what[120];
	const char *slash = strrchr(relpath, '/');
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int error = 0, attempt, auths = 0;
	CURLcode rc;

	memset(&q, 0, sizeof(q));
	memset(&d, 0, sizeof(d));
	q.upfd = -1;
	d.fd = -1;
	d.size = size;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - relpath) : 0, relpath);
	snprintf(what, sizeof(what), "blob %s", digest);
	if (make_url(&url, r, "blobs", digest) < 0 || (d.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d.md, EVP_sha256(), NULL) != 1) {
		error = nr__error_oom(err);
		goto done;
	}
	if (tmp_name(tmp, sizeof(tmp), dir) < 0) {
		error = nr__error_errno(err, errno, relpath, "getrandom");
		goto done;
	}
	nr__temp_lock();
	d.fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (d.fd >= 0 && nr__temp_track_at(dirfd, tmp) < 0) {
		close(d.fd);
		d.fd = -1;
		unlinkat(dirfd, tmp, 0);
		tmp[0] = '\0';
		nr__temp_unlock();
		error = nr__error_oom(err);
		goto done;
	}
	nr__temp_unlock();
	if (d.fd < 0) {
		error = nr__error_errno(err, errno, tmp, "create");
		goto done;
	}
	q.method = "GET";
	q.url = url.ptr;
	q.sink = dl_sink;
	q.sink_ctx = &d;
	d.q = &q;
	for (attempt = 0; ; ) {
		q.range_from = d.got;
		d.started = false;
		rc = perform(r, &q);
		if (rc == CURLE_OK && q.status == 401 && auths++ < 1) {
			if ((error = authenticate(r, q.www_auth, err)) < 0)
				goto done;
			continue;
		}
		if (d.too_big || d.werr)
			break;
		if (rc == CURLE_OK && (q.status == 200 || q.status == 206))
			break;
		if (!retryable(rc, q.status) || attempt == MAX_RETRIES)
			break;
		/* a dropped transfer: the bytes so far stay and the next request asks for the
		 * rest; a server without ranges answers 200 and the sink starts over */
		backoff(attempt++, &q);
		q.status = 0;
	}
	if (d.werr) {
		error = nr__error_errno(err, errno, tmp, "write");
		goto done;
	}
	if (d.too_big) {
		error = nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"registry %s, repository %s: blob %s is larger than its descriptor's %llu bytes",
			r->host, r->repo, digest, (unsigned long long)size);
		goto done;
	}
	if (rc != CURLE_OK) {
		error = transport_error(r, &q, rc, what, err);
		goto done;
	}
	if (q.status != 200 && q.status != 206) {
		error = http_error(r, &q, what, err);
		goto done;
	}
	if (EVP_DigestFinal_ex(d.md, md, &mdlen) != 1) {
		error = nr__error_oom(err);
		goto done;
	}
	nr__md_to_digest(md, got);
	if ((size != UINT64_MAX && d.got != size) || strcmp(got, digest) != 0) {
		error = nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"registry %s, repository %s: blob %s does not match its digest (got %s, %llu "
			"bytes)", r->host, r->repo, digest, got, (unsigned long long)d.got);
		goto done;
	}
	close(d.fd);
	d.fd = -1;
	if (renameat(dirfd, tmp, dirfd, relpath) < 0) {
		error = nr__error_errno(err, errno, relpath, "rename");
		goto done;
	}
	nr__temp_untrack_at(tmp);
	tmp[0] = '\0';
done:
	if (d.fd >= 0)
		close(d.fd);
	if (tmp[0] && error < 0) {
		unlinkat(dirfd, tmp, 0);
		nr__temp_untrack_at(tmp);
	}
	EVP_MD_CTX_free(d.md);
	nr_buf_dispose(&url);
	req_dispose(&q);
	return error;
}

/* ---- push -------------------------------------------------------------------------------------- */

/* Absolute upload URL from a Location header (may be relative). */
static int upload_url(nr_buf *b, nr__registry *r, const char *loc)
{
	nr_buf_truncate(b, 0);
	if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
		nr_buf_puts(b, loc);
	else
		nr_buf_printf(b, "%s%s%s", r->base, *loc == '/' ? "" : "/", loc);
	return b->oom ? NR_ENOMEM : 0;
}

/* PUT the bytes to an upload session's location. */
static int finish_upload(nr__registry *r, const char *loc, const char *digest, uint64_t size,
	int fd, nr_error *err)
{
	nr_buf url = NR_BUF_INIT;
	req q;
	char what[120];
	int error;

	memset(&q, 0, sizeof(q));
	snprintf(what, sizeof(what), "upload blob %s", digest);
	if (upload_url(&url, r, loc) < 0)
		return nr__error_oom(err);
	nr_buf_printf(&url, "%sdigest=%s", strchr(url.ptr, '?') ? "&" : "?", digest);
	if (url.oom) {
		nr_buf_dispose(&url);
		return nr__error_oom(err);
	}
	q.method = "PUT";
	q.url = url.ptr;
	q.ctype = "application/octet-stream";
	q.upfd = fd;
	q.uplen = size;
	q.rmax = ERRBODY_MAX;
	if ((error = call(r, &q, what, err)) == 0 && q.status != 201)
		error = http_error(r, &q, what, err);
	nr_buf_dispose(&url);
	req_dispose(&q);
	return error;
}

/* POST an upload session (optionally a mount); *loc: where to PUT (202), NULL when 201. */
static int start_upload(nr__registry *r, const char *digest, const char *from, char **loc,
	nr_error *err)
{
	nr_buf url = NR_BUF_INIT;
	req q;
	char what[160];
	int error;

	*loc = NULL;
	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	nr_buf_printf(&url, "%s/v2/%s/blobs/uploads/", r->base, r->repo);
	if (from) {
		char *e = curl_easy_escape(NULL, from, 0);
		nr_buf_printf(&url, "?mount=%s&from=%s", digest, e ? e : "");
		curl_free(e);
	}
	if (url.oom)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), from ? "mount blob %s" : "start upload of blob %s", digest);
	q.method = "POST";
	q.url = url.ptr;
	q.body = "";
	q.blen = 0;
	q.rmax = ERRBODY_MAX;
	if ((error = call(r, &q, what, err)) < 0)
		goto done;
	if (q.status == 201 && from)
		goto done;
	if (q.status != 202 || q.location == NULL) {
		error = http_error(r, &q, what, err);
		goto done;
	}
	if ((*loc = nr__strdup(q.location)) == NULL)
		error = nr__error_oom(err);
done:
	nr_buf_dispose(&url);
	req_dispose(&q);
	return error;
}

int nr__registry_mount_blob(nr__registry *r, const char *digest, const char *from,
	char **session, nr_error *err)
{
	return start_upload(r, digest, from, session, err);
}

int nr__registry_upload_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, const char *session, nr_error *err)
{
	char *loc = NULL;
	int fd, error;
	struct stat st;

	if ((fd = openat(dirfd, relpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return nr__error_errno(err, errno, relpath, "open blob");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		close(fd);
		return nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"blob %s is not a regular file of %llu bytes", relpath, (unsigned long long)size);
	}
	if (session)
		error = finish_upload(r, session, digest, size, fd, err);
	else if ((error = start_upload(r, digest, NULL, &loc, err)) == 0)
		error = finish_upload(r, loc, digest, size, fd, err);
	free(loc);
	close(fd);
	return error;
}

int nr__registry_put_manifest(nr__registry *r, const char *ref, const char *mt,
	const char *body, size_t len, nr_error *err)
{
	nr_buf url = NR_BUF_INIT;
	req q;
	char what[200];
	int error;

	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	if (make_url(&url, r, "manifests", ref) < 0)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), "put manifest %s", ref);
	q.method = "PUT";
	q.url = url.ptr;
	q.ctype = mt;
	q.body = body;
	q.blen = len;
	q.rmax = ERRBODY_MAX;
	if ((error = call(r, &q, what, err)) == 0 && q.status != 201)
		error = http_error(r, &q, what, err);
	nr_buf_dispose(&url);
	req_dispose(&q);
	return error;
}

#else   /* built without libcurl (nonroot-static): docker:// is not supported */

#include "registry.h"

static int no_curl(const char *host, nr_error *err)
{
	return nr__error_set(err, NR_EUNSUPPORTED, host, 0, 0,
		"docker:// is not supported by this build (no libcurl; nonroot-static): use the "
		"dynamic nonroot, or skopeo copy to oci:DIR first");
}

int nr__registry_new(nr__registry **out, const char *host, const char *repo,
	const nr__reg_conf *conf, bool push, const char *mount_from, nr_error *err)
{
	(void)repo; (void)conf; (void)push; (void)mount_from;
	*out = NULL;
	return no_curl(host, err);
}

void nr__registry_free(nr__registry *r)
{
	(void)r;
}

const char *nr__registry_host(const nr__registry *r)
{
	(void)r;
	return "";
}

const char *nr__registry_repo(const nr__registry *r)
{
	(void)r;
	return "";
}

int nr__registry_get_manifest(nr__registry *r, const char *ref, char **body, size_t *len,
	char **mt, char digest[NR_DIGEST_SIZE], nr_error *err)
{
	(void)r; (void)len; (void)digest;
	*body = *mt = NULL;
	return no_curl(ref, err);
}

int nr__registry_fetch_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, nr_error *err)
{
	(void)r; (void)size; (void)dirfd; (void)relpath;
	return no_curl(digest, err);
}

int nr__registry_has_blob(nr__registry *r, const char *digest, bool *has, nr_error *err)
{
	(void)r;
	*has = false;
	return no_curl(digest, err);
}

int nr__registry_has_manifest(nr__registry *r, const char *ref, bool *has, nr_error *err)
{
	(void)r;
	*has = false;
	return no_curl(ref, err);
}

int nr__registry_mount_blob(nr__registry *r, const char *digest, const char *from,
	char **session, nr_error *err)
{
	(void)r; (void)from;
	*session = NULL;
	return no_curl(digest, err);
}

int nr__registry_upload_blob(nr__registry *r, const char *digest, uint64_t size, int dirfd,
	const char *relpath, const char *session, nr_error *err)
{
	(void)r; (void)size; (void)dirfd; (void)relpath; (void)session;
	return no_curl(digest, err);
}

int nr__registry_put_manifest(nr__registry *r, const char *ref, const char *mt,
	const char *body, size_t len, nr_error *err)
{
	(void)r; (void)mt; (void)body; (void)len;
	return no_curl(ref, err);
}

#endif
