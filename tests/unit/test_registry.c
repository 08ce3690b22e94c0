/*
 * test_registry.c: docker:// references, WWW-Authenticate challenges and credentials from
 * --creds and the auth files (no network: the e2e tests talk to a real registry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nrtest.h"
#include "internal.h"
#include "registry.h"

#define SHA "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void check_ref(const char *s, const char *host, const char *repo, const char *tag,
	const char *digest)
{
	nr__reg_ref r;
	nr_error err = NR_ERROR_INIT;

	CU_ASSERT_EQUAL_FATAL(nr__reg_ref_parse(&r, s, &err), 0);
	CU_ASSERT_STRING_EQUAL(r.host, host);
	CU_ASSERT_STRING_EQUAL(r.repo, repo);
	if (tag) {
		CU_ASSERT_STRING_EQUAL(r.tag, tag);
	} else {
		CU_ASSERT_PTR_NULL(r.tag);
	}
	if (digest) {
		CU_ASSERT_STRING_EQUAL(r.digest, digest);
	} else {
		CU_ASSERT_PTR_NULL(r.digest);
	}
	nr__reg_ref_dispose(&r);
}

static void test_ref(void)
{
	nr__reg_ref r;
	nr_error err = NR_ERROR_INIT;

	check_ref("127.0.0.1:5000/seed:v1", "127.0.0.1:5000", "seed", "v1", NULL);
	check_ref("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", NULL);
	check_ref("localhost/a/b/c:1.0-rc_1", "localhost", "a/b/c", "1.0-rc_1", NULL);
	check_ref("registry.example.com/app@" SHA, "registry.example.com", "app", NULL, SHA);
	check_ref("registry.example.com/app:v1@" SHA, "registry.example.com", "app", NULL, SHA);
	check_ref("busybox", "docker.io", "library/busybox", "latest", NULL);
	check_ref("//busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
	check_ref("user/app:x", "docker.io", "user/app", "x", NULL);
	check_ref("[::1]:5000/app", "[::1]:5000", "app", "latest", NULL);
	/* errors */
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "", &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "host.io/App", &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "invalid repository name");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "host.io/app:", &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "invalid tag");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "host.io/app:-x", &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "host.io/app@sha256:abc", &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "host.io/", &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "host.io//app", &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "ho st.io/app", &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__reg_ref_parse(&r, "h.io/a/../b", &err), 0);   /* '.' is a name char */
	nr__reg_ref_dispose(&r);
}

static void test_challenge(void)
{
	nr__reg_challenge c;
	const char *s;

	s = "Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
		"scope=\"repository:app:pull\"";
	CU_ASSERT_EQUAL_FATAL(nr__reg_challenge_parse(&c, s, strlen(s)), 0);
	CU_ASSERT_EQUAL(c.scheme, 2);
	CU_ASSERT_STRING_EQUAL(c.realm, "https://auth.example.com/token");
	CU_ASSERT_STRING_EQUAL(c.service, "registry.example.com");
	CU_ASSERT_STRING_EQUAL(c.scope, "repository:app:pull");
	nr__reg_challenge_dispose(&c);
	s = "basic realm=\"a \\\"quoted\\\" realm\"";
	CU_ASSERT_EQUAL_FATAL(nr__reg_challenge_parse(&c, s, strlen(s)), 0);
	CU_ASSERT_EQUAL(c.scheme, 1);
	CU_ASSERT_STRING_EQUAL(c.realm, "a \"quoted\" realm");
	CU_ASSERT_PTR_NULL(c.service);
	nr__reg_challenge_dispose(&c);
	s = "Bearer realm=https://x/t , service = reg";
	CU_ASSERT_EQUAL_FATAL(nr__reg_challenge_parse(&c, s, strlen(s)), 0);
	CU_ASSERT_STRING_EQUAL(c.realm, "https://x/t");
	CU_ASSERT_STRING_EQUAL(c.service, "reg");
	nr__reg_challenge_dispose(&c);
	s = "Negotiate abc";
	CU_ASSERT_EQUAL(nr__reg_challenge_parse(&c, s, strlen(s)), -1);
	s = "Bearer realm=\"unterminated";
	CU_ASSERT_EQUAL(nr__reg_challenge_parse(&c, s, strlen(s)), -1);
	CU_ASSERT_PTR_NULL(c.realm);
	/* length-bounded: the text after len is not read */
	s = "Bearer realm=\"https://x/t\"GARBAGE";
	CU_ASSERT_EQUAL_FATAL(nr__reg_challenge_parse(&c, s, 26), 0);
	CU_ASSERT_STRING_EQUAL(c.realm, "https://x/t");
	nr__reg_challenge_dispose(&c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void check_creds(const nr__reg_conf *conf, const char *host, const char *repo,
	const char *user, const char *pass)
{
	char *u = NULL, *p = NULL;
	nr_error err = NR_ERROR_INIT;

	CU_ASSERT_EQUAL_FATAL(nr__reg_credentials(conf, host, repo, &u, &p, &err), 0);
	if (user == NULL) {
		CU_ASSERT_PTR_NULL(u);
		CU_ASSERT_PTR_NULL(p);
	} else {
		CU_ASSERT_PTR_NOT_NULL_FATAL(u);
		CU_ASSERT_STRING_EQUAL(u, user);
		CU_ASSERT_STRING_EQUAL(p, pass);
	}
	nr__reg_secret_free(u);
	nr__reg_secret_free(p);
}

static void test_credentials(void)
{
	char *dir = nrtest_tmpdir(), path[4096], docker[4096], xdg[4096];
	nr__reg_conf conf;
	nr_error err = NR_ERROR_INIT;
	char *u = NULL, *p = NULL, *b;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	memset(&conf, 0, sizeof(conf));
	/* --creds wins; the password may hold ':' */
	conf.creds = "alice:s3:cret";
	check_creds(&conf, "r.io", "app", "alice", "s3:cret");
	conf.creds = "nopassword";
	CU_ASSERT_EQUAL(nr__reg_credentials(&conf, "r.io", "app", &u, &p, &err), NR_EARG);
	NRTEST_ASSERT_ERR(&err, NR_EARG, "USER:PASSWORD");
	nr_error_clear(&err);
	conf.creds = NULL;

	/* --authfile: auths keys match host, host/namespace (longest), legacy https://.../v1/ */
	snprintf(path, sizeof(path), "%s/auth.json", dir);
	b = nr__reg_basic("bob", "pw1");
	CU_ASSERT_STRING_EQUAL(b, "Ym9iOnB3MQ==");
	nr__reg_secret_free(b);
	write_file(path, "{\"auths\":{"
		"\"r.io\":{\"auth\":\"Ym9iOnB3MQ==\"},"                 /* bob:pw1 */
		"\"r.io/team\":{\"auth\":\"dGVhbTpwdzI=\"},"            /* team:pw2 */
		"\"https://index.docker.io/v1/\":{\"auth\":\"ZDpwdzM=\"}," /* d:pw3 */
		"\"other.io:5000\":{\"username\":\"u\",\"password\":\"p\"}}}");
	conf.authfile = path;
	check_creds(&conf, "r.io", "app", "bob", "pw1");
	check_creds(&conf, "r.io", "team/app", "team", "pw2");
	check_creds(&conf, "r.io", "teamx/app", "bob", "pw1");
	check_creds(&conf, "docker.io", "library/busybox", "d", "pw3");
	check_creds(&conf, "other.io:5000", "x", "u", "p");
	check_creds(&conf, "other.io", "x", NULL, NULL);
	/* a missing --authfile is an error; a broken entry names the file, never its text */
	snprintf(docker, sizeof(docker), "%s/missing.json", dir);
	conf.authfile = docker;
	CU_ASSERT(nr__reg_credentials(&conf, "r.io", "app", &u, &p, &err) < 0);
	nr_error_clear(&err);
	write_file(path, "{\"auths\":{\"r.io\":{\"auth\":\"bm9jb2xvbg==\"}}}");   /* "nocolon" */
	conf.authfile = path;
	CU_ASSERT_EQUAL(nr__reg_credentials(&conf, "r.io", "app", &u, &p, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "auth.json");
	nr_error_clear(&err);
	/* struct fields are read as Go's encoding/json matches them (containers/image, docker):
	 * "Auths", "Auth", "UserName"; the hosts are map keys, matched exactly */
	write_file(path, "{\"Auths\":{\"r.io\":{\"Auth\":\"Ym9iOnB3MQ==\"},"
		"\"other.io\":{\"UserName\":\"u\",\"PASSWORD\":\"p\"}}}");
	check_creds(&conf, "r.io", "app", "bob", "pw1");
	check_creds(&conf, "other.io", "x", "u", "p");
	check_creds(&conf, "R.io", "app", NULL, NULL);
	conf.authfile = NULL;

	/* the default files: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR, ~/.docker/config.json */
	setenv("HOME", dir, 1);
	unsetenv("DOCKER_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("REGISTRY_AUTH_FILE");
	setenv("XDG_RUNTIME_DIR", dir, 1);
	check_creds(&conf, "r.io", "app", NULL, NULL);
	snprintf(docker, sizeof(docker), "%s/.docker", dir);
	mkdir(docker, 0700);
	snprintf(docker, sizeof(docker), "%s/.docker/config.json", dir);
	write_file(docker, "{\"auths\":{\"r.io\":{\"auth\":\"ZDpwdzM=\"}}}");
	check_creds(&conf, "r.io", "app", "d", "pw3");
	snprintf(xdg, sizeof(xdg), "%s/containers", dir);
	mkdir(xdg, 0700);
	snprintf(xdg, sizeof(xdg), "%s/containers/auth.json", dir);
	write_file(xdg, "{\"auths\":{\"r.io\":{\"auth\":\"Ym9iOnB3MQ==\"}}}");
	check_creds(&conf, "r.io", "app", "bob", "pw1");
	/* no entry there: the next file is read */
	check_creds(&conf, "r.io", "app", "bob", "pw1");
	write_file(xdg, "{\"auths\":{\"elsewhere.io\":{\"auth\":\"Ym9iOnB3MQ==\"}}}");
	check_creds(&conf, "r.io", "app", "d", "pw3");
	write_file(path, "{\"auths\":{\"r.io\":{\"auth\":\"dGVhbTpwdzI=\"}}}");
	setenv("REGISTRY_AUTH_FILE", path, 1);
	check_creds(&conf, "r.io", "app", "team", "pw2");
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
	nrtest_rmtree(dir);
	free(dir);
}

static void test_open_errors(void)
{
	nr_image *img = NULL;
	nr_error err = NR_ERROR_INIT;
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;

	CU_ASSERT_EQUAL(oo.tls_verify, 1);
	CU_ASSERT_EQUAL(nr_image_open_options_init(&oo, 1), 0);
	CU_ASSERT_EQUAL(oo.version, 1);
	CU_ASSERT_EQUAL(nr_image_open(&img, "docker://", NULL, &err), NR_EINVALID);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_image_open(&img, "docker://h.io/Upper", NULL, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "invalid repository name");
	nr_error_clear(&err);
	/* nothing listens on port 1: a connection error naming the registry, fast (no retry
	 * storm: the transport error is retried with backoff only a few times) */
	oo = (nr_image_open_options)NR_IMAGE_OPEN_OPTIONS_INIT;
	oo.creds = "user:hunter2";
	CU_ASSERT(nr_image_open(&img, "docker://127.0.0.1:1/app:v1", &oo, &err) < 0);
	NRTEST_ASSERT_ERR(&err, NR_EIO, "registry 127.0.0.1:1, repository app");
	{
		char buf[512];
		nr_error_format(&err, buf, sizeof(buf));
		CU_ASSERT_PTR_NULL(strstr(buf, "hunter2"));
	}
	CU_ASSERT_PTR_NULL(img);
}

static CU_TestInfo tests[] = {
	{ "references", test_ref },
	{ "challenges", test_challenge },
	{ "credentials", test_credentials },
	{ "open errors", test_open_errors },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "registry", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
