/*
 * registry.c: the handle on one registry + repository, its authentication and manifests
 * (libcurl; see registry.h, registry_http.c for one request, registry_blob.c for blobs).
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
#include <stdio.h>
#include <dirent.h>

#include <openssl/crypto.h>

#include "registry_http.h"
#include "fileio.h"

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

/* Basic: the credentials themselves go into every request's Authorization header. */
static int auth_basic(nr__registry *r, nr_error *err)
{
	nr__buf line = NR__BUF_INIT;
	char *b64;
	int error = 0;

	if (r->user == NULL)
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"registry %s, repository %s: HTTP 401: credentials required: %s", r->host,
			r->repo, nr__reg_hint(401));
	if ((b64 = nr__reg_basic(r->user, r->pass)) == NULL)
		return nr__error_oom(err);
	nr__buf_printf(&line, "Authorization: Basic %s", b64);
	nr__reg_secret_free(b64);
	if (line.oom || set_authz(r, line.ptr) < 0)
		error = nr__error_oom(err);
	else
		r->scheme = 1;
	if (line.ptr)
		OPENSSL_cleanse(line.ptr, line.size);
	nr__buf_dispose(&line);
	return error;
}

/* The token request's URL: REALM?service=SERVICE&scope=S1&scope=S2 (one scope parameter per
 * space-separated scope of the handle). NR_ENOMEM or 0. */
static int token_url(nr__buf *url, const nr__registry *r, const nr__reg_challenge *ch)
{
	const char *s = r->scope, *sp;
	char *esc;

	nr__buf_puts(url, ch->realm);
	nr__buf_putc(url, strchr(ch->realm, '?') ? '&' : '?');
	if (ch->service) {
		esc = curl_easy_escape(NULL, ch->service, 0);
		nr__buf_printf(url, "service=%s&", esc ? esc : "");
		curl_free(esc);
	}
	while (*s) {
		char one[1024];
		sp = strchr(s, ' ');
		snprintf(one, sizeof(one), "%.*s", (int)(sp ? (size_t)(sp - s) : strlen(s)), s);
		esc = curl_easy_escape(NULL, one, 0);
		nr__buf_printf(url, "scope=%s&", esc ? esc : "");
		curl_free(esc);
		s = sp ? sp + 1 : s + strlen(s);
	}
	if (url->oom)
		return NR_ENOMEM;
	url->ptr[--url->size] = '\0';   /* the last '&' */
	return 0;
}

/* Bearer: GET a token from url (with the Basic credentials when there are any, retried like
 * any request) and make it the Authorization header. */
static int fetch_token(nr__registry *r, const char *url, nr_error *err)
{
	nr__buf line = NR__BUF_INIT;
	nr__reg_req q;
	json_t *j = NULL;
	json_error_t je;
	const char *tok;
	CURLcode rc;
	int error = 0, attempt;

	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	q.method = "GET";
	q.url = url;
	q.no_auth = true;
	q.rmax = 1024 * 1024;
	q.basic_user = r->user;
	q.basic_pass = r->pass;
	for (attempt = 0; ; attempt++) {
		rc = nr__reg_perform(r, &q);
		if (!nr__reg_retryable(rc, q.status) || attempt == NR__REG_MAX_RETRIES)
			break;
		nr__reg_backoff(attempt, &q);
	}
	if (rc != CURLE_OK) {
		error = nr__reg_transport_error(r, &q, rc, "token request", err);
		goto done;
	}
	if (q.status != 200) {
		error = nr__reg_http_error(r, &q, "token request", err);
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
	nr__buf_printf(&line, "Authorization: Bearer %s", tok);
	if (line.oom || set_authz(r, line.ptr) < 0)
		error = nr__error_oom(err);
	else
		r->scheme = 2;
done:
	if (j) {
		/* the token is a secret: wipe the parsed copy's source */
		if (q.rbody.ptr)
			OPENSSL_cleanse(q.rbody.ptr, q.rbody.size);
		json_decref(j);
	}
	if (line.ptr)
		OPENSSL_cleanse(line.ptr, line.size);
	nr__buf_dispose(&line);
	nr__reg_req_dispose(&q);
	return error;
}

/* Answer a challenge (the WWW-Authenticate of a 401). */
int nr__reg_authenticate(nr__registry *r, const char *www, nr_error *err)
{
	nr__reg_challenge ch;
	nr__buf url = NR__BUF_INIT;
	int error = 0;

	if (www == NULL || (error = nr__reg_challenge_parse(&ch, www, strlen(www))) == -1)
		return nr__error_set(err, NR_EUNSUPPORTED, NULL, 0, 0,
			"registry %s, repository %s: authentication not supported (%s)", r->host, r->repo,
			www ? "unknown WWW-Authenticate scheme" : "no WWW-Authenticate header");
	if (error < 0)
		return nr__error_oom(err);
	if (ch.scheme == 1)
		error = auth_basic(r, err);
	else if (ch.realm == NULL || (strncmp(ch.realm, "https://", 8) != 0 &&
	    strncmp(ch.realm, "http://", 7) != 0))
		error = nr__error_set(err, NR_EUNSUPPORTED, NULL, 0, 0,
			"registry %s, repository %s: bearer challenge without an http(s) realm", r->host,
			r->repo);
	else if (token_url(&url, r, &ch) < 0)
		error = nr__error_oom(err);
	else
		error = fetch_token(r, url.ptr, err);
	nr__buf_dispose(&url);
	nr__reg_challenge_dispose(&ch);
	return error;
}

/*
 * A request with auth and retries. *q's response is left for the caller to read (q->status:
 * any HTTP status; transport failures become errors). `what` names the action in errors.
 */
int nr__reg_call(nr__registry *r, nr__reg_req *q, const char *what, nr_error *err)
{
	CURLcode rc;
	int attempt, authed = 0, error;

	for (attempt = 0; ; ) {
		rc = nr__reg_perform(r, q);
		if (rc == CURLE_OK && q->status == 401 && authed < 1 && !q->no_auth) {
			authed++;
			if ((error = nr__reg_authenticate(r, q->www_auth, err)) < 0)
				return error;
			continue;
		}
		if (!nr__reg_retryable(rc, q->status) || attempt == NR__REG_MAX_RETRIES ||
		    (rc == CURLE_COULDNT_CONNECT && attempt == 2))
			break;
		nr__reg_backoff(attempt++, q);
	}
	if (rc != CURLE_OK)
		return nr__reg_transport_error(r, q, rc, what, err);
	return 0;
}

/* ---- the handle ------------------------------------------------------------------------------- */

/* System CAs and the *.crt files of cert_dir as one PEM blob; client cert/key paths. */
static int load_cert_dir(nr__registry *r, const char *dir, nr_error *err)
{
	static const char *const system_cas[] = { "/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem" };
	nr__buf pem = NR__BUF_INIT;
	DIR *d;
	struct dirent *de;
	char *text;
	size_t len, k;
	int error = 0;

	for (k = 0; k < NR_ARRAY_SIZE(system_cas); k++)
		if (nr__file_read_at(&text, &len, AT_FDCWD, system_cas[k], 0, 64u << 20, NULL,
				NULL) == 0) {
			nr__buf_put(&pem, text, len);
			nr__buf_putc(&pem, '\n');
			free(text);
			break;
		}
	if ((d = opendir(dir)) == NULL) {
		nr__buf_dispose(&pem);
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
			nr__buf_put(&pem, text, len);
			nr__buf_putc(&pem, '\n');
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
		r->cafile_blob = nr__buf_detach(&pem, &r->cafile_len);
	}
	nr__buf_dispose(&pem);
	return error;
}


/* The handle's names, scope and curl share (no connection yet). NR_ENOMEM or 0. */
static int handle_init(nr__registry *r, const char *host, const char *repo, bool push,
	const char *mount_from)
{
	nr__buf b = NR__BUF_INIT;

	if ((r->host = nr__strdup(host)) == NULL || (r->repo = nr__strdup(repo)) == NULL ||
	    (r->api = nr__strdup(strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" :
			host)) == NULL)
		return NR_ENOMEM;
	nr__buf_printf(&b, "repository:%s:%s", repo, push ? "pull,push" : "pull");
	if (mount_from && strcmp(mount_from, repo) != 0)
		nr__buf_printf(&b, " repository:%s:pull", mount_from);
	if (b.oom) {
		nr__buf_dispose(&b);
		return NR_ENOMEM;
	}
	r->scope = nr__buf_detach(&b, NULL);
	if ((r->share = curl_share_init()) == NULL)
		return NR_ENOMEM;
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	return 0;
}

/* Ping: GET /v2/ picks the scheme (https; with --tls-verify=false plain http when https does
 * not connect) and sets r->base; the answer (200, or 401 with the challenge) is left in *q. */
static int ping(nr__registry *r, nr__reg_req *q, nr_error *err)
{
	nr__buf b = NR__BUF_INIT;
	bool tried_https = false;
	CURLcode rc;
	int attempt, error = 0;

	for (;;) {
		free(r->base);
		nr__buf_truncate(&b, 0);
		nr__buf_printf(&b, "%s://%s", tried_https && r->insecure ? "http" : "https", r->api);
		if (b.oom)
			goto oom;
		r->base = nr__buf_detach(&b, NULL);
		nr__buf_printf(&b, "%s/v2/", r->base);
		if (b.oom)
			goto oom;
		q->method = "GET";
		q->url = b.ptr;
		q->rmax = NR__REG_ERRBODY_MAX;
		for (attempt = 0; ; attempt++) {
			rc = nr__reg_perform(r, q);
			if (!nr__reg_retryable(rc, q->status) || attempt == NR__REG_MAX_RETRIES ||
			    (rc == CURLE_COULDNT_CONNECT && attempt == 2))
				break;
			if (rc != CURLE_OK && r->insecure && !tried_https)
				break;   /* maybe plain http: try it at once */
			nr__reg_backoff(attempt, q);
		}
		if (rc != CURLE_OK && r->insecure && !tried_https) {
			tried_https = true;
			continue;
		}
		if (rc != CURLE_OK)
			error = nr__reg_transport_error(r, q, rc, "connect", err);
		goto done;
	}
oom:
	error = nr__error_oom(err);
done:
	q->url = NULL;
	nr__buf_dispose(&b);
	return error;
}

int nr__registry_new(nr__registry **out, const char *host, const char *repo,
	const nr__reg_conf *conf, bool push, const char *mount_from, nr_error *err)
{
	nr__registry *r;
	nr__reg_req q;
	int error, k;

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
	if (handle_init(r, host, repo, push, mount_from) < 0) {
		error = nr__error_oom(err);
		goto fail;
	}
	if (conf->cert_dir && (error = load_cert_dir(r, conf->cert_dir, err)) < 0)
		goto fail;
	if ((error = nr__reg_credentials(conf, host, repo, &r->user, &r->pass, err)) < 0)
		goto fail;
	if ((error = ping(r, &q, err)) < 0)
		goto fail;
	if (q.status == 401) {
		if ((error = nr__reg_authenticate(r, q.www_auth, err)) < 0)
			goto fail;
	} else if (q.status != 200) {
		error = nr__reg_http_error(r, &q, "GET /v2/ (is this a registry?)", err);
		goto fail;
	}
	nr__reg_req_dispose(&q);
	*out = r;
	return 0;
fail:
	nr__reg_req_dispose(&q);
	nr__registry_free(r);
	return error;
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
	nr__buf url = NR__BUF_INIT;
	nr__reg_req q;
	int error;
	char what[200];

	*body = NULL;
	*mt = NULL;
	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	if (nr__reg_url(&url, r, "manifests", ref) < 0)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), "manifest %s", ref);
	q.method = "GET";
	q.url = url.ptr;
	q.accept = NR__REG_ACCEPT_MANIFESTS;
	q.rmax = NR_JSON_BLOB_MAX;
	if ((error = nr__reg_call(r, &q, what, err)) < 0)
		goto done;
	if (q.over) {
		error = nr__error_set(err, NR_ETOOBIG, ref, 0, 0,
			"registry %s, repository %s: manifest %s is over %u bytes", r->host, r->repo,
			ref, NR_JSON_BLOB_MAX);
		goto done;
	}
	if (q.status != 200) {
		error = nr__reg_http_error(r, &q, what, err);
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
	if ((*body = nr__buf_detach(&q.rbody, NULL)) == NULL)
		*body = nr__strdup("");
	if (*body == NULL) {
		free(*mt);
		*mt = NULL;
		error = nr__error_oom(err);
	}
done:
	nr__buf_dispose(&url);
	nr__reg_req_dispose(&q);
	return error;
}

int nr__registry_has_manifest(nr__registry *r, const char *ref, bool *has, nr_error *err)
{
	return nr__reg_head(r, "manifests", ref, has, err);
}

int nr__registry_put_manifest(nr__registry *r, const char *ref, const char *mt,
	const char *body, size_t len, nr_error *err)
{
	nr__buf url = NR__BUF_INIT;
	nr__reg_req q;
	char what[200];
	int error;

	memset(&q, 0, sizeof(q));
	q.upfd = -1;
	if (nr__reg_url(&url, r, "manifests", ref) < 0)
		return nr__error_oom(err);
	snprintf(what, sizeof(what), "put manifest %s", ref);
	q.method = "PUT";
	q.url = url.ptr;
	q.ctype = mt;
	q.body = body;
	q.blen = len;
	q.rmax = NR__REG_ERRBODY_MAX;
	if ((error = nr__reg_call(r, &q, what, err)) == 0 && q.status != 201)
		error = nr__reg_http_error(r, &q, what, err);
	nr__buf_dispose(&url);
	nr__reg_req_dispose(&q);
	return error;
}

#else   /* built without libcurl (nonroot-static): docker:// is not supported */

#include "registry.h"

int nr__reg_no_curl(const char *host, nr_error *err)
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
	return nr__reg_no_curl(host, err);
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
	return nr__reg_no_curl(ref, err);
}

int nr__registry_has_manifest(nr__registry *r, const char *ref, bool *has, nr_error *err)
{
	(void)r;
	*has = false;
	return nr__reg_no_curl(ref, err);
}

int nr__registry_put_manifest(nr__registry *r, const char *ref, const char *mt,
	const char *body, size_t len, nr_error *err)
{
	(void)r; (void)mt; (void)body; (void)len;
	return nr__reg_no_curl(ref, err);
}

#endif
