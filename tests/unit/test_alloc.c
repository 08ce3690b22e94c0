/*
 * test_alloc.c: allocation-failure ("chaos") test, after jansson's.
 *
 * malloc/calloc/realloc are wrapped at link time (-Wl,--wrap, see tests/CMakeLists.txt), so
 * every allocation the library makes goes through __wrap_*. Each scenario below is run with
 * allocation N failing, for N = 1, 2, ... until a run makes fewer than N allocations (it
 * completed with nothing failed). Every run in which an allocation failed must return a
 * negative NR_E* code (NR_ENOMEM, or another error the failure legitimately turned into),
 * and must not leak: the heap's in-use byte count (mallinfo2, with glibc's tcache and
 * fastbins off) is the same before and after (ASan's leak checker covers the same under
 * NR_SANITIZE).
 *
 * To add a scenario: write `static int my_run(void *ctx)` that calls the library and
 * returns 0 or the first negative code (free everything before returning, on every path),
 * optionally a set-up and tear-down run outside the armed region, and add a row to
 * `scenarios[]`.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nrtest.h"

/* ---- the allocator wrappers ------------------------------------------------------------ */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static bool armed;
static unsigned long alloc_count, fail_at;

static bool should_fail(void)
{
	return armed && ++alloc_count == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

/* ---- scenarios ------------------------------------------------------------------------- */

static const char passwd_text[] =
	"# comment\nroot:x:0:0:root:/root:/bin/sh\n\ndaemon:x:1:1::/:/usr/sbin/nologin\n"
	"odd:x:111:112::/home/odd:::::\nbad:x:abc:0:::\n+::::::\napp:x:1654:1654::/home/app:/x";
static const char group_text[] =
	"root:x:0:\ndaemon:x:1:app\ndocker:x:999:app, root,,x\nbad\nvideo:x:44:app\n";
static const char shadow_text[] = "root:*:19000:0:99999:7:::\nshort:!\n";
static const char gshadow_text[] = "root:*::\ndaemon:*::app\n";

static int s_passwd(void *ctx)
{
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_pwent e = { "new", NULL, 2000, 2000, "New", "/home/new", "/bin/false", 0 };
	nr_error *problems = NULL;
	char *out = NULL;
	size_t n, len;
	uint32_t id;
	int rc;

	(void)ctx;
	if ((rc = nr_passwd_parse(&pw, passwd_text, strlen(passwd_text), "etc/passwd", NULL)) < 0)
		goto done;
	if ((rc = nr_group_parse(&gr, group_text, strlen(group_text), "etc/group", NULL)) < 0)
		goto done;
	if ((rc = nr_passwd_add(pw, &e, NULL)) < 0)
		goto done;
	if ((rc = nr_passwd_serialize(&out, &len, pw, NULL)) < 0)
		goto done;
	if ((rc = nr_passwd_check(&problems, &n, pw, gr, NULL)) < 0)
		goto done;
	rc = nr_passwd_next_free_id(&id, pw, gr, NR_SYS_ID_MAX, NR_SYS_ID_MIN, NULL);
done:
	nr_free(problems);
	nr_free(out);
	nr_group_free(gr);
	nr_passwd_free(pw);
	return rc < 0 ? rc : 0;
}

static int s_group(void *ctx)
{
	const char *members[] = { "app", "root" };
	nr_grent e = { "team", NULL, 3000, members, 2, 0 };
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_error *problems = NULL;
	char *out = NULL;
	size_t n;
	int rc;

	(void)ctx;
	if ((rc = nr_group_parse(&gr, group_text, strlen(group_text), NULL, NULL)) < 0)
		goto done;
	if ((rc = nr_passwd_parse(&pw, passwd_text, strlen(passwd_text), NULL, NULL)) < 0)
		goto done;
	if ((rc = nr_group_add(gr, &e, NULL)) < 0)
		goto done;
	if ((rc = nr_group_add_member(gr, "daemon", "new", NULL)) < 0)
		goto done;
	if ((rc = nr_group_add_member(gr, "root", "new", NULL)) < 0)
		goto done;
	if ((rc = nr_group_serialize(&out, NULL, gr, NULL)) < 0)
		goto done;
	rc = nr_group_check(&problems, &n, gr, pw, NULL);
done:
	nr_free(problems);
	nr_free(out);
	nr_passwd_free(pw);
	nr_group_free(gr);
	return rc < 0 ? rc : 0;
}

static int s_shadow(void *ctx)
{
	nr_shadow *sh = NULL;
	nr_gshadow *gs = NULL;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_error *problems = NULL;
	char *out = NULL;
	size_t n;
	int rc;

	(void)ctx;
	if ((rc = nr_shadow_parse(&sh, shadow_text, strlen(shadow_text), NULL, NULL)) < 0 ||
	    (rc = nr_gshadow_parse(&gs, gshadow_text, strlen(gshadow_text), NULL, NULL)) < 0 ||
	    (rc = nr_passwd_parse(&pw, passwd_text, strlen(passwd_text), NULL, NULL)) < 0 ||
	    (rc = nr_group_parse(&gr, group_text, strlen(group_text), NULL, NULL)) < 0)
		goto done;
	if ((rc = nr_shadow_add(sh, "app", 19675, NULL)) < 0 ||
	    (rc = nr_gshadow_add(gs, "app", NULL)) < 0 ||
	    (rc = nr_gshadow_add_member(gs, "daemon", "x", NULL)) < 0)
		goto done;
	if ((rc = nr_shadow_serialize(&out, NULL, sh, NULL)) < 0)
		goto done;
	nr_free(out);
	out = NULL;
	if ((rc = nr_gshadow_serialize(&out, NULL, gs, NULL)) < 0)
		goto done;
	if ((rc = nr_shadow_check(&problems, &n, sh, pw, NULL)) < 0)
		goto done;
	nr_free(problems);
	problems = NULL;
	rc = nr_gshadow_check(&problems, &n, gs, gr, NULL);
done:
	nr_free(problems);
	nr_free(out);
	nr_group_free(gr);
	nr_passwd_free(pw);
	nr_gshadow_free(gs);
	nr_shadow_free(sh);
	return rc < 0 ? rc : 0;
}

static int s_userspec(void *ctx)
{
	static const uint32_t dflt_gids[] = { 5, 6 };
	const char *specs[] = { "app", "", "0", "app:docker", "1654:44", "4242" };
	const char *groups[] = { "docker", "44", "12345" };
	nr_userspec_options o = NR_USERSPEC_OPTIONS_INIT;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	uint32_t *gids = NULL;
	size_t i, n;
	int rc;

	(void)ctx;
	o.additional_gids = dflt_gids;
	o.n_additional_gids = 2;
	if ((rc = nr_passwd_parse(&pw, passwd_text, strlen(passwd_text), NULL, NULL)) < 0 ||
	    (rc = nr_group_parse(&gr, group_text, strlen(group_text), NULL, NULL)) < 0)
		goto done;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		nr_exec_user u;
		if ((rc = nr_userspec_resolve(&u, specs[i], pw, gr, &o, NULL)) < 0)
			goto done;
		nr_exec_user_dispose(&u);
	}
	rc = nr_userspec_additional_gids(&gids, &n, gr, groups, 3, NULL);
done:
	nr_free(gids);
	nr_group_free(gr);
	nr_passwd_free(pw);
	return rc < 0 ? rc : 0;
}

/* Root filesystem scenarios: a fresh tree per run, made and removed unarmed. */
typedef struct rootfs_ctx {
	char *dir;
	unsigned flags;
} rootfs_ctx;

static void put(const char *dir, const char *rel, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void *rootfs_setup(unsigned flags)
{
	rootfs_ctx *c = calloc(1, sizeof(*c));
	char path[4096];

	c->dir = nrtest_tmpdir();
	c->flags = flags;
	snprintf(path, sizeof(path), "%s/etc", c->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/usr", c->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/usr/sbin", c->dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sbin", c->dir);
	symlink("usr/sbin", path);
	put(c->dir, "usr/sbin/nologin", "");
	put(c->dir, "etc/passwd", passwd_text);
	put(c->dir, "etc/group", group_text);
	put(c->dir, "etc/shadow", shadow_text);
	put(c->dir, "etc/gshadow", gshadow_text);
	return c;
}

static void *setup_openat2(void)
{
	return rootfs_setup(0);
}

static void *setup_walk(void)
{
	return rootfs_setup(NR_ROOTFS_NO_OPENAT2);
}

static void rootfs_teardown(void *ctx)
{
	rootfs_ctx *c = ctx;

	nrtest_rmtree(c->dir);
	free(c->dir);
	free(c);
}

static int s_rootfs_add_user(void *ctx)
{
	rootfs_ctx *c = ctx;
	nr_rootfs_options ro = NR_ROOTFS_OPTIONS_INIT;
	nr_adduser_options o = NR_ADDUSER_OPTIONS_INIT;
	nr_rootfs *rfs = NULL;
	nr_exec_user u;
	int rc;

	ro.flags = c->flags;
	if ((rc = nr_rootfs_open_ext(&rfs, c->dir, &ro, NULL)) < 0)
		return rc;
	o.name = "new";
	o.flags = NR_ADDUSER_CREATE_HOME;
	o.shadow_days = 19675;
	if ((rc = nr_rootfs_add_user(NULL, rfs, &o, NULL)) < 0)
		goto done;
	if ((rc = nr_rootfs_resolve_user(&u, rfs, "new", NULL, NULL)) < 0)
		goto done;
	nr_exec_user_dispose(&u);
done:
	nr_rootfs_free(rfs);
	return rc;
}

/* urls: the environment's bindings (warnings, precedence), a port map and both rewrites. */
static int s_urls(void *ctx)
{
	static const char *const envp[] = {
		"ASPNETCORE_URLS=http://+:80;https://localhost:443;http://[::1]:5000;http://*:abc",
		"ASPNETCORE_HTTP_PORTS=80;8080", "DOTNET_URLS=http://+:81", "PATH=/bin", NULL };
	nr_urls_options opts = NR_URLS_OPTIONS_INIT;
	nr_bindings *b = NULL;
	nr_portmap map;
	char *out = NULL;
	size_t len;
	int rc;

	(void)ctx;
	if ((rc = nr_bindings_from_env(&b, envp, &opts, NULL)) < 0)
		goto done;
	if ((rc = nr_portmap_parse(&map, "80:8080,443:8443,81:8081", 24, NULL)) < 0)
		goto done;
	if ((rc = nr_urls_rewrite(&out, &len, "ASPNETCORE_URLS", "http://+;https://+:443", 22,
			&map, 1024, 0, NULL)) < 0)
		goto done;
	nr_free(out);
	out = NULL;
	rc = nr_urls_rewrite(&out, &len, "ASPNETCORE_HTTP_PORTS", "80; 443", 7, &map, 1024,
		NR_REWRITE_COMPAT, NULL);
done:
	if (rc > 0)   /* a count of ports or bindings, not an error */
		rc = 0;
	nr_free(out);
	nr_bindings_free(b);
	return rc;
}

/* imgconfig: parse, edit User/Env/ExposedPorts, append a layer, serialise. */
static int s_imgconfig(void *ctx)
{
	static const char json[] =
		"{\"created\":\"2024-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
		"\"config\":{\"Env\":[\"PATH=/bin\",\"ASPNETCORE_URLS=http://+:80\"],"
		"\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},\"Healthcheck\":{\"Test\":"
		"[\"CMD\",\"wget\",\"http://localhost:80/\"]},\"X-unknown\":[1,2]},"
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
		"0000000000000000000000000000000000000000000000000000000000000000\"]},"
		"\"history\":[{\"created_by\":\"base\"}]}";
	static const uint16_t from[] = { 80, 443 }, to[] = { 8080, 8443 };
	nr_imgconfig *cfg = NULL;
	char *out = NULL;
	size_t len;
	int rc;

	(void)ctx;
	if ((rc = nr_imgconfig_parse(&cfg, json, sizeof(json) - 1, NULL)) < 0 ||
	    (rc = nr_imgconfig_set_user(cfg, "1654:1654", NULL)) < 0 ||
	    (rc = nr_imgconfig_env_set(cfg, "APP_UID", "1654", NULL)) < 0 ||
	    (rc = nr_imgconfig_env_set(cfg, "ASPNETCORE_URLS", "http://+:8080", NULL)) < 0 ||
	    (rc = nr_imgconfig_map_exposed(cfg, from, to, 2, 0, NULL)) < 0 ||
	    (rc = nr_imgconfig_map_healthcheck(cfg, from, to, 2, NULL)) < 0 ||
	    (rc = nr_imgconfig_healthcheck(&out, cfg, NULL)) < 0)
		goto done;
	nr_free(out);
	out = NULL;
	if ((rc = nr_imgconfig_append_layer(cfg, "sha256:"
			"1111111111111111111111111111111111111111111111111111111111111111",
			"2024-01-02T00:00:00Z", "nonroot patch", NULL, NULL)) < 0)
		goto done;
	rc = nr_imgconfig_serialize(&out, &len, cfg, NULL);
done:
	nr_free(out);
	nr_imgconfig_free(cfg);
	return rc;
}

/* A bundle directory with a root filesystem for the user resolution. */
static void *setup_bundle(void)
{
	char *dir = nrtest_tmpdir(), path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rootfs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/rootfs/etc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/rootfs/etc/passwd", dir);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("root:x:0:0::/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/rootfs/etc/group", dir);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("root:x:0:\napp:x:1654:\nweb:x:2000:app\n", f);
		fclose(f);
	}
	return dir;
}

static void teardown_bundle(void *ctx)
{
	nrtest_rmtree(ctx);
	free(ctx);
}

/* bundle: parse a runtime config.json, harden it against the rootfs, report, dump. */
static int s_bundle(void *ctx)
{
	static const char json[] =
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":1654,"
		"\"gid\":1654},\"args\":[\"sh\"],\"env\":[\"HOME=/root\"],\"capabilities\":{"
		"\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\"],\"effective\":[\"CAP_CHOWN\"],"
		"\"permitted\":[\"CAP_CHOWN\"],\"inheritable\":[],\"ambient\":[]}},"
		"\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"network\"}]},"
		"\"x-unknown\":{\"a\":[1,{\"b\":null}]}}";
	nr_bundle_harden_options opts = NR_BUNDLE_HARDEN_OPTIONS_INIT;
	nr_bundle_report *rep = NULL;
	nr_bundle *b = NULL;
	char *out = NULL;
	size_t len;
	int rc;

	opts.user = "1654:1654";
	opts.allow_low_ports = 1;
	opts.unprivileged_port_start = 0;
	opts.dry_run = 1;
	if ((rc = nr_bundle_parse(&b, json, sizeof(json) - 1, (const char *)ctx, NULL)) < 0 ||
	    (rc = nr_bundle_harden(&rep, b, &opts, NULL)) < 0 ||
	    (rc = nr_bundle_report_to_json(&out, &len, rep, NULL)) < 0)
		goto done;
	nr_free(out);
	out = NULL;
	if ((rc = nr_bundle_report_to_text(&out, &len, rep, NULL)) < 0)
		goto done;
	nr_free(out);
	out = NULL;
	rc = nr_bundle_serialize(&out, &len, b, NULL);
done:
	nr_free(out);
	nr_bundle_report_free(rep);
	nr_bundle_free(b);
	return rc;
}

static const struct scenario {
	const char *name;
	int (*run)(void *ctx);
	void *(*setup)(void);         /* optional, unarmed: returns ctx */
	void (*teardown)(void *ctx);  /* optional, unarmed */
} scenarios[] = {
	{ "passwd: parse, add, write, check, next free id", s_passwd, NULL, NULL },
	{ "group: parse, add, add member, write, check", s_group, NULL, NULL },
	{ "shadow and gshadow", s_shadow, NULL, NULL },
	{ "userspec: resolve, additional gids", s_userspec, NULL, NULL },
	{ "rootfs add_user + resolve_user [openat2]", s_rootfs_add_user, setup_openat2,
		rootfs_teardown },
	{ "rootfs add_user + resolve_user [walk]", s_rootfs_add_user, setup_walk,
		rootfs_teardown },
	{ "urls: bindings from the environment, port map, rewrites", s_urls, NULL, NULL },
	{ "imgconfig: parse, edit, append a layer, serialise", s_imgconfig, NULL, NULL },
	{ "bundle: parse, harden, report, dump", s_bundle, setup_bundle, teardown_bundle },
};

static void test_scenarios(void)
{
	size_t i;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		unsigned long n, failed_runs = 0;
		bool completed = false;

		for (n = 1; n < 100000 && !completed; n++) {
			void *ctx = s->setup ? s->setup() : NULL;
			size_t before = mallinfo2().uordblks, after;
			int rc;

			alloc_count = 0;
			fail_at = n;
			armed = true;
			rc = s->run(ctx);
			armed = false;
			after = mallinfo2().uordblks;
			if (s->teardown)
				s->teardown(ctx);
			if (alloc_count < n) {
				completed = true;
				if (rc != 0) {
					fprintf(stderr, "\n  %s: fails (%d) with no allocation failed\n",
						s->name, rc);
					CU_FAIL("scenario fails without allocation failures");
				}
			} else {
				failed_runs++;
				if (rc >= 0) {
					fprintf(stderr, "\n  %s: allocation %lu failed, but it returned %d\n",
						s->name, n, rc);
					CU_FAIL("an allocation failure was not reported");
				}
			}
			if (after != before) {
				fprintf(stderr, "\n  %s: allocation %lu failed: %zd bytes leaked\n", s->name,
					n, (ssize_t)(after - before));
				CU_FAIL("memory leaked");
			}
		}
		CU_ASSERT_TRUE(completed);
		CU_ASSERT(failed_runs >= 5);
		printf("\n  %s: %lu allocations failed in turn", s->name, failed_runs);
	}
	printf("\n  ");
}

static CU_TestInfo tests[] = {
	{ "every allocation fails in turn", test_scenarios },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "alloc", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
	/* glibc's tcache and fastbins keep freed chunks counted as "in use" by mallinfo2():
	 * turn them off (tcache only at start-up: re-exec once with the tunable). */
	const char *t = getenv("GLIBC_TUNABLES"), *pre = getenv("LD_PRELOAD");

	(void)argc;
	/* Under valgrind /proc/self/exe is valgrind's tool, which refuses to run directly; its
	 * own allocator has no tcache and its leak check replaces mallinfo2's. */
	bool valgrind = pre && strstr(pre, "vgpreload") != NULL;
	if (!valgrind && (t == NULL || strstr(t, "glibc.malloc.tcache_count=0") == NULL)) {
		setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
		execv("/proc/self/exe", argv);
		/* no /proc: run anyway; the leak check may then report false positives */
	}
	mallopt(M_MXFAST, 0);
	return nrtest_main(suites);
}
