/*
 * registry_http.c: one HTTP request to a registry (libcurl easy handle on the registry's
 * share): headers captured, bodies captured or streamed, uploads from memory or a file;
 * the errors naming registry, repository and status with a hint; retry policy and backoff.
 */
#ifdef NR_HAVE_CURL
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "registry_http.h"

static void req_reset_response(nr__reg_req *q)
{
	q->status = 0;
	nr__buf_truncate(&q->rbody, 0);
	q->over = false;
	free(q->location);
	free(q->ctype_hdr);
	free(q->digest_hdr);
	free(q->www_auth);
	free(q->retry_after);
	q->location = q->ctype_hdr = q->digest_hdr = q->www_auth = q->retry_after = NULL;
	q->curl_msg[0] = '\0';
}

void nr__reg_req_dispose(nr__reg_req *q)
{
	req_reset_response(q);
	nr__buf_dispose(&q->rbody);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	nr__reg_req *q = ctx;
	size_t len = size * n, nl;
	static const struct { const char *name; size_t off; } hs[] = {
		{ "location:", offsetof(nr__reg_req, location) },
		{ "content-type:", offsetof(nr__reg_req, ctype_hdr) },
		{ "docker-content-digest:", offsetof(nr__reg_req, digest_hdr) },
		{ "www-authenticate:", offsetof(nr__reg_req, www_auth) },
		{ "retry-after:", offsetof(nr__reg_req, retry_after) },
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
	nr__reg_req *q = ctx;
	size_t len = size * n;

	if (q->sink) {
		/* stream only a success's body; an error's body is captured for the message */
		if (q->status == 0)
			curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &q->status);
		if (q->status >= 200 && q->status < 300)
			return q->sink(q->sink_ctx, p, len);
	}
	if (q->rbody.size + len > (q->sink ? NR__REG_ERRBODY_MAX : q->rmax)) {
		q->over = true;
		return q->sink ? len : 0;
	}
	return nr__buf_put(&q->rbody, p, len) < 0 ? 0 : len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	nr__reg_req *q = ctx;
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
	nr__reg_req *q = ctx;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	q->upoff = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/* The request's header lines (Accept, Content-Type, Authorization, Range); a line that
 * cannot be allocated is left out (the request then fails visibly). */
static struct curl_slist *request_headers(nr__registry *r, const nr__reg_req *q)
{
	struct curl_slist *hs = NULL, *n;
	char line[128];

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
	return hs;
}

/* TLS (verification, --cert-dir CAs and client certificate) and the token request's Basic
 * credentials. */
static void set_tls_auth(CURL *h, const nr__registry *r, const nr__reg_req *q)
{
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
}

/* HEAD: no body; PUT and POST: the body from memory or q->upfd. */
static void set_method(CURL *h, nr__reg_req *q)
{
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
}

/* Perform one request (no retry). CURLE_OK with q->status set, or a transport error. */
CURLcode nr__reg_perform(nr__registry *r, nr__reg_req *q)
{
	struct curl_slist *hs;
	CURL *h;
	CURLcode rc;

	req_reset_response(q);
	if ((h = curl_easy_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	hs = request_headers(r, q);
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
	set_tls_auth(h, r, q);
	set_method(h, q);
	rc = curl_easy_perform(h);
	q->h = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hs);
	return rc;
}

/* ---- errors ------------------------------------------------------------------------------------ */

const char *nr__reg_hint(long status)
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
static void error_detail(const nr__reg_req *q, char *out, size_t size)
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

int nr__reg_http_error(nr__registry *r, const nr__reg_req *q, const char *what,
	nr_error *err)
{
	char detail[300];
	const char *hint = nr__reg_hint(q->status);
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

int nr__reg_transport_error(nr__registry *r, const nr__reg_req *q, CURLcode rc,
	const char *what, nr_error *err)
{
	return nr__error_set(err, NR_EIO, NULL, 0, 0, "registry %s, repository %s: %s: %s%s",
		r->host, r->repo, what, q->curl_msg[0] ? q->curl_msg : curl_easy_strerror(rc),
		is_tls_error(rc) ? ": TLS failed: use --cert-dir DIR with the registry's CA, or "
		"--tls-verify=false for a local registry" : "");
}

bool nr__reg_retryable(CURLcode rc, long status)
{
	if (rc != CURLE_OK)
		return rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
			rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE ||
			rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT ||
			rc == CURLE_COULDNT_RESOLVE_HOST;
	return status == 429 || status >= 500;
}

void nr__reg_backoff(int attempt, const nr__reg_req *q)
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

int nr__reg_url(nr__buf *b, nr__registry *r, const char *kind, const char *ref)
{
	nr__buf_truncate(b, 0);
	nr__buf_printf(b, "%s/v2/%s/%s/%s", r->base, r->repo, kind, ref);
	return b->oom ? NR_ENOMEM : 0;
}

int nr__reg_head(nr__registry *r, const char *kind, const char *ref, bool *has,
	nr_error *err)
{
	nr__buf url = NR__BUF_INIT;
	nr__reg_req q;
	char what[200];
	int error;

	*has = false;
	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	if (nr__reg_url(&url, r, kind, ref) < 0)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), "HEAD %s %s", kind, ref);
	q.method = "HEAD";
	q.url = url.ptr;
	q.accept = strcmp(kind, "manifests") == 0 ? NR__REG_ACCEPT_MANIFESTS : NULL;
	if ((error = nr__reg_call(r, &q, what, err)) == 0) {
		if (q.status == 200)
			*has = true;
		else if (q.status != 404)
			error = nr__reg_http_error(r, &q, what, err);
	}
	nr__buf_dispose(&url);
	nr__reg_req_dispose(&q);
	return error;
}

#endif
