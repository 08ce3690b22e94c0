/*
 * registry_auth.c: registry credentials and challenges, as the containers tools read them.
 *
 * Credentials: --creds USER:PASS; else the first of these files that has an entry for the
 * registry: --authfile (must be readable), else $REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json, $XDG_CONFIG_HOME/containers/auth.json
 * (~/.config/containers/auth.json), $DOCKER_CONFIG/config.json (~/.docker/config.json).
 * An entry of "auths" matches by its key: "HOST", "HOST/NAMESPACE..." (the longest match
 * wins), with "https://" and a "/v1/" or "/v2/" suffix ignored (docker login's legacy keys;
 * "index.docker.io" is docker.io). The entry's "auth" is base64("USER:PASS"); "username" and
 * "password" are read too. Credential helpers (credHelpers, credsStore) are not run.
 * Secrets are wiped when freed and never appear in errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "image_model.h"
#include "fileio.h"

void nr__reg_secret_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

char *nr__reg_basic(const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass), n, outn;
	unsigned char *raw;
	char *out;

	if (ul > 4096 || pl > 65536)
		return NULL;
	n = ul + 1 + pl;
	if ((raw = nr__malloc(n + 1)) == NULL)
		return NULL;
	memcpy(raw, user, ul);
	raw[ul] = ':';
	memcpy(raw + ul + 1, pass, pl);
	outn = 4 * ((n + 2) / 3) + 1;
	if ((out = nr__malloc(outn)) != NULL)
		EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	OPENSSL_cleanse(raw, n);
	free(raw);
	return out;
}

/* Decode base64 "USER:PASS". */
static int decode_auth(const char *b64, char **user, char **pass)
{
	size_t n = strlen(b64), cap;
	unsigned char *raw;
	char *colon;
	int len;

	while (n > 0 && (b64[n - 1] == '\n' || b64[n - 1] == ' '))
		n--;
	if (n == 0 || n % 4 != 0 || n > 65536)
		return -1;
	cap = n / 4 * 3 + 1;
	if ((raw = nr__malloc(cap)) == NULL)
		return NR_ENOMEM;
	len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (len < 0) {
		free(raw);
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (b64[n - 1] == '=')
		len--;
	if (b64[n - 2] == '=')
		len--;
	raw[len] = '\0';
	colon = memchr(raw, ':', (size_t)len);
	if (colon == NULL || nr__has_nul((char *)raw, (size_t)len)) {
		OPENSSL_cleanse(raw, cap);
		free(raw);
		return -1;
	}
	*user = nr__strndup((char *)raw, (size_t)(colon - (char *)raw));
	*pass = nr__strdup(colon + 1);
	OPENSSL_cleanse(raw, cap);
	free(raw);
	if (*user == NULL || *pass == NULL) {
		nr__reg_secret_free(*user);
		nr__reg_secret_free(*pass);
		*user = *pass = NULL;
		return NR_ENOMEM;
	}
	return 0;
}

/* Normalise an auths key into buf: no scheme, no /v1/ /v2/ suffix, trailing '/' dropped. */
static void norm_key(const char *key, char *buf, size_t size)
{
	size_t n;

	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	snprintf(buf, size, "%s", key);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (n >= 3 && (strcmp(buf + n - 3, "/v1") == 0 || strcmp(buf + n - 3, "/v2") == 0))
		buf[n - 3] = '\0';
	if (strcmp(buf, "index.docker.io") == 0 || strcmp(buf, "registry-1.docker.io") == 0)
		snprintf(buf, size, "docker.io");
}

/* How well does key match host/repo? 0: not at all; longer is better. */
static size_t key_score(const char *key, const char *host, const char *repo)
{
	char k[1024], full[1024];
	size_t kn;

	norm_key(key, k, sizeof(k));
	kn = strlen(k);
	if (strcmp(k, host) == 0)
		return kn + 1;
	snprintf(full, sizeof(full), "%s/%s", host, repo);
	if (strncmp(full, k, kn) == 0 && (full[kn] == '\0' || full[kn] == '/') &&
	    kn > strlen(host))
		return kn + 1;
	return 0;
}

/* Look host/repo up in one auth file. 1: found, 0: no entry, <0 error (when `must`). */
static int from_file(const char *path, bool must, const char *host, const char *repo,
	char **user, char **pass, nr_error *err)
{
	char *text = NULL;
	size_t len, best = 0, score;
	json_t *root = NULL, *auths, *e, *pick = NULL;
	json_error_t je;
	const char *key;
	int error = 0;

	if (nr__file_read_at(&text, &len, AT_FDCWD, path, 0, 1024 * 1024, path,
			must ? err : NULL) < 0)
		return must ? NR_ENOTFOUND : 0;
	root = json_loadb(text, len, 0, &je);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!json_is_object(root)) {
		json_decref(root);
		/* the line and column only: never the text, which may hold secrets */
		return must || root == NULL ?
			nr__error_set(err, NR_EINVALID, path, (size_t)(je.line > 0 ? je.line : 0),
				(size_t)(je.column > 0 ? je.column : 0), "auth file is not a JSON object") :
			0;
	}
	auths = nr__jget(root, "auths");   /* a struct field in Go; its keys are a map */
	json_object_foreach(auths, key, e) {
		if (!json_is_object(e))
			continue;
		if ((score = key_score(key, host, repo)) > best) {
			best = score;
			pick = e;
		}
	}
	if (pick) {
		const char *a = nr__jstr(pick, "auth");
		const char *u = nr__jstr(pick, "username"), *p = nr__jstr(pick, "password");
		if (a && *a) {
			error = decode_auth(a, user, pass);
			if (error == -1)
				error = nr__error_set(err, NR_EINVALID, path, 0, 0,
					"the \"auth\" entry for %s is not base64 of USER:PASSWORD", host);
			else if (error == 0)
				error = 1;
		} else if (u && p) {
			*user = nr__strdup(u);
			*pass = nr__strdup(p);
			error = *user && *pass ? 1 : NR_ENOMEM;
		}
		if (error == NR_ENOMEM)
			error = nr__error_oom(err);
	}
	json_decref(root);
	return error;
}

int nr__reg_credentials(const nr__reg_conf *conf, const char *host, const char *repo,
	char **user, char **pass, nr_error *err)
{
	const char *env;
	char path[4096];
	int error;

	*user = *pass = NULL;
	if (conf->creds) {
		const char *colon = strchr(conf->creds, ':');
		if (colon == NULL || colon == conf->creds)
			return nr__error_set(err, NR_EARG, "--creds", 0, 0,
				"credentials must be USER:PASSWORD");
		if ((*user = nr__strndup(conf->creds, (size_t)(colon - conf->creds))) == NULL ||
		    (*pass = nr__strdup(colon + 1)) == NULL) {
			nr__reg_secret_free(*user);
			*user = NULL;
			return nr__error_oom(err);
		}
		return 0;
	}
	if (conf->authfile)
		return (error = from_file(conf->authfile, true, host, repo, user, pass, err)) < 0 ?
			error : 0;
	if ((env = getenv("REGISTRY_AUTH_FILE")) && *env) {
		if ((error = from_file(env, false, host, repo, user, pass, err)) != 0)
			return error < 0 ? error : 0;
	} else {
		if ((env = getenv("XDG_RUNTIME_DIR")) && *env) {
			snprintf(path, sizeof(path), "%s/containers/auth.json", env);
			if ((error = from_file(path, false, host, repo, user, pass, err)) != 0)
				return error < 0 ? error : 0;
		}
		if ((env = getenv("XDG_CONFIG_HOME")) && *env)
			snprintf(path, sizeof(path), "%s/containers/auth.json", env);
		else if ((env = getenv("HOME")) && *env)
			snprintf(path, sizeof(path), "%s/.config/containers/auth.json", env);
		else
			path[0] = '\0';
		if (path[0] && (error = from_file(path, false, host, repo, user, pass, err)) != 0)
			return error < 0 ? error : 0;
	}
	if ((env = getenv("DOCKER_CONFIG")) && *env)
		snprintf(path, sizeof(path), "%s/config.json", env);
	else if ((env = getenv("HOME")) && *env)
		snprintf(path, sizeof(path), "%s/.docker/config.json", env);
	else
		return 0;
	return (error = from_file(path, false, host, repo, user, pass, err)) < 0 ? error : 0;
}

/* ---- WWW-Authenticate ---------------------------------------------------------------------- */

void nr__reg_challenge_dispose(nr__reg_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		(c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * `Bearer realm="https://auth.example/token",service="registry.example",scope="..."` or
 * `Basic realm="..."` (RFC 7235: a scheme token, then comma-separated name=value pairs whose
 * value is a token or a quoted string with backslash escapes). Only the first challenge is
 * read. @return 0, or -1 when malformed (scheme 0), NR_ENOMEM.
 */
int nr__reg_challenge_parse(nr__reg_challenge *out, const char *s, size_t len)
{
	const char *end = s + len, *p = s, *name;
	size_t nlen;
	nr__buf val = NR__BUF_INIT;

	memset(out, 0, sizeof(*out));
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	name = p;
	while (p < end && is_tchar(*p))
		p++;
	nlen = (size_t)(p - name);
	if (nlen == 5 && strncasecmp(name, "basic", 5) == 0)
		out->scheme = 1;
	else if (nlen == 6 && strncasecmp(name, "bearer", 6) == 0)
		out->scheme = 2;
	else
		return -1;
	for (;;) {
		char **slot = NULL;
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p >= end)
			break;
		name = p;
		while (p < end && is_tchar(*p))
			p++;
		nlen = (size_t)(p - name);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (nlen == 0 || p >= end || *p != '=')
			break;   /* another challenge or garbage: stop */
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		nr__buf_truncate(&val, 0);
		if (p < end && *p == '"') {
			p++;
			while (p < end && *p != '"') {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (*p == '\0')
					goto bad;
				nr__buf_put(&val, p, 1);
				p++;
			}
			if (p >= end)
				goto bad;
			p++;
		} else {
			/* a token; leniently anything up to ',' or blank (unquoted URLs exist) */
			const char *v = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t' && *p != '\0')
				p++;
			nr__buf_put(&val, v, (size_t)(p - v));
		}
		if (val.oom)
			goto oom;
		if (nlen == 5 && strncasecmp(name, "realm", 5) == 0)
			slot = &out->realm;
		else if (nlen == 7 && strncasecmp(name, "service", 7) == 0)
			slot = &out->service;
		else if (nlen == 5 && strncasecmp(name, "scope", 5) == 0)
			slot = &out->scope;
		if (slot && *slot == NULL &&
		    (*slot = nr__strndup(val.ptr ? val.ptr : "", val.size)) == NULL)
			goto oom;
	}
	nr__buf_dispose(&val);
	return 0;
bad:
	nr__buf_dispose(&val);
	nr__reg_challenge_dispose(out);
	return -1;
oom:
	nr__buf_dispose(&val);
	nr__reg_challenge_dispose(out);
	return NR_ENOMEM;
}
