/*
 * test_layers.c: the streaming layer-stack scan over small tars made in the test: whiteouts,
 * opaque directories, symlinks (inside the root), hard links, hostile names, set-id files,
 * compression, tars without end blocks, members cut short, tampered blobs.
 */
#include "imgtest.h"

#define MAXL 8

typedef struct stack {
	char *dir;
	char names[MAXL][16];
	char digests[MAXL][72];
	uint64_t sizes[MAXL];
	nr__layer_ref refs[MAXL];
	int dirfd;
	size_t n;
} stack;

static void stack_init(stack *s)
{
	memset(s, 0, sizeof(*s));
	s->dir = nrtest_tmpdir();
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_FATAL(s->dirfd >= 0);
}

static void stack_add_ex(stack *s, const tent *e, size_t n, int comp, int cut_end,
	size_t cut_bytes)
{
	size_t k = s->n++;
	static const char *const mts[] = { "application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd" };

	snprintf(s->names[k], sizeof(s->names[k]), "layer%zu", k);
	mklayer_ex(s->dir, s->names[k], e, n, comp, cut_end, cut_bytes, s->digests[k],
		&s->sizes[k]);
	s->refs[k].dirfd = s->dirfd;
	s->refs[k].relpath = s->names[k];
	s->refs[k].digest = s->digests[k];
	s->refs[k].size = s->sizes[k];
	s->refs[k].media_type = mts[comp];
}

static void stack_add(stack *s, const tent *e, size_t n)
{
	stack_add_ex(s, e, n, TAR_PLAIN, 0, 0);
}

static void stack_free(stack *s)
{
	close(s->dirfd);
	nrtest_rmtree(s->dir);
	free(s->dir);
}

static nr_scan_result *scan(stack *s, const char **paths, size_t n, unsigned flags,
	nr_error *err, int *rc)
{
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;

	req.paths = paths;
	req.npaths = n;
	req.flags = flags;
	*rc = nr__scan_layers(s->refs, s->n, &req, &res, err);
	return res;
}

static const char *const P1[] = { "etc/passwd" };

static void test_path_clean(void)
{
	static const char *const cases[][2] = {
		{ "etc/passwd", "etc/passwd" }, { "/etc/passwd", "etc/passwd" },
		{ "./etc//passwd/", "etc/passwd" }, { "../../etc/passwd", "etc/passwd" },
		{ "etc/../../x", "x" }, { "/", "" }, { "", "" }, { "a/./b/../c", "a/c" },
		{ "..", "" }, { "a/..b", "a/..b" },
	};
	nr__buf b = NR__BUF_INIT;
	size_t i;

	for (i = 0; i < NR_ARRAY_SIZE(cases); i++) {
		CU_ASSERT_EQUAL(nr__path_clean(&b, cases[i][0], strlen(cases[i][0])), 0);
		CU_ASSERT_STRING_EQUAL(b.ptr, cases[i][1]);
	}
	nr__buf_dispose(&b);
}

static void test_basic(void)
{
	tent l0[] = { { 'd', "etc", NULL, 0, 0, 0 }, { 'f', "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0640, 0, 42 },
		{ 'f', "etc/group", "root:x:0:\n", 0, 0, 0 } };
	const char *paths[] = { "/etc/passwd", "etc/shadow", "etc", "etc/passwd" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	const nr_scan_entry *e;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 3);
	res = scan(&s, paths, 4, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(nr_scan_result_count(res), 3);   /* duplicate merged */
	e = nr_scan_result_get(res, "etc/passwd");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->type, NR_ENTRY_REGULAR);
	CU_ASSERT_EQUAL(e->mode, 0640);
	CU_ASSERT_EQUAL(e->gid, 42);
	CU_ASSERT_EQUAL(e->size, 26);
	CU_ASSERT_STRING_EQUAL(e->content, "root:x:0:0::/root:/bin/sh\n");
	CU_ASSERT_STRING_EQUAL(e->resolved, "etc/passwd");
	CU_ASSERT_PTR_NULL(e->link_target);
	e = nr_scan_result_get(res, "/etc/shadow");
	CU_ASSERT_EQUAL(e->type, NR_ENTRY_NONE);
	CU_ASSERT_PTR_NULL(e->content);
	e = nr_scan_result_get(res, "etc");
	CU_ASSERT_EQUAL(e->type, NR_ENTRY_DIRECTORY);
	CU_ASSERT_EQUAL(e->mode, 0755);
	CU_ASSERT_PTR_NULL(nr_scan_result_get(res, "etc/hosts"));   /* not requested */
	CU_ASSERT_PTR_NULL(nr_scan_result_at(res, 3));
	nr_scan_result_free(res);
	nr_scan_result_free(NULL);
	stack_free(&s);
}

static void test_whiteout_readd(void)
{
	tent l0[] = { { 'f', "etc/passwd", "old\n", 0, 0, 0 }, { 'f', "etc/group", "g\n", 0, 0, 0 } };
	tent l1[] = { { 'f', "etc/.wh.passwd", "", 0, 0, 0 } };
	tent l2[] = { { 'f', "etc/passwd", "new\n", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "etc/group" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 2);
	stack_add(&s, l1, 1);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc/passwd")->type, NR_ENTRY_NONE);
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc/group")->type, NR_ENTRY_REGULAR);
	nr_scan_result_free(res);
	stack_add(&s, l2, 1);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/passwd")->content, "new\n");
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc/passwd")->layer, 2);
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_whiteout_same_layer(void)
{
	/* A whiteout hides lower layers only, never an entry of its own layer. */
	tent l0[] = { { 'f', "etc/passwd", "old\n", 0, 0, 0 } };
	tent l1[] = { { 'f', "etc/passwd", "new\n", 0, 0, 0 }, { 'f', "etc/.wh.passwd", "", 0, 0, 0 } };
	tent l2[] = { { 'd', "etc", NULL, 0, 0, 0 }, { 'f', "etc/.wh..wh..opq", "", 0, 0, 0 } };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 1);
	stack_add(&s, l1, 2);
	res = scan(&s, (const char **)P1, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/passwd")->content, "new\n");
	nr_scan_result_free(res);
	stack_add(&s, l2, 2);
	res = scan(&s, (const char **)P1, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc/passwd")->type, NR_ENTRY_NONE);
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_opaque(void)
{
	tent l0[] = { { 'd', "etc", NULL, 0, 0, 0 }, { 'f', "etc/passwd", "p\n", 0, 0, 0 },
		{ 'f', "etc/group", "g\n", 0, 0, 0 }, { 'f', "etcx/passwd", "keep\n", 0, 0, 0 } };
	tent l1[] = { { 'd', "etc", NULL, 0700, 0, 0 }, { 'f', "etc/group", "G\n", 0, 0, 0 },
		{ 'f', "etc/.wh..wh..opq", "", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "etc/group", "etcx/passwd", "etc" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 4);
	stack_add(&s, l1, 3);
	res = scan(&s, paths, 4, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc/passwd")->type, NR_ENTRY_NONE);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/group")->content, "G\n");
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etcx/passwd")->content, "keep\n");
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc")->mode, 0700);
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_symlinks(void)
{
	tent l0[] = { { 'f', "usr/lib/passwd", "lib\n", 0, 0, 0 },
		{ 'l', "etc/passwd", "../usr/lib/passwd", 0, 0, 0 },
		{ 'l', "etc/group", "/usr/lib/group", 0, 0, 0 },
		{ 'l', "etc/shadow", "../../../../../../usr/lib/passwd", 0, 0, 0 },
		{ 'l', "etc/gshadow", "/nowhere", 0, 0, 0 },
		{ 'l', "a", "b", 0, 0, 0 }, { 'l', "b", "a", 0, 0, 0 } };
	tent l1[] = { { 'f', "usr/lib/group", "grp\n", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "etc/group", "etc/shadow", "etc/gshadow", "a/x" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	const nr_scan_entry *e;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 7);
	stack_add(&s, l1, 1);
	res = scan(&s, paths, 5, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	e = nr_scan_result_get(res, "etc/passwd");
	CU_ASSERT_STRING_EQUAL(e->content, "lib\n");
	CU_ASSERT_STRING_EQUAL(e->resolved, "usr/lib/passwd");
	CU_ASSERT_STRING_EQUAL(e->link_target, "../usr/lib/passwd");
	e = nr_scan_result_get(res, "etc/group");        /* absolute: inside the root */
	CU_ASSERT_STRING_EQUAL(e->content, "grp\n");
	CU_ASSERT_EQUAL(e->layer, 1);
	e = nr_scan_result_get(res, "etc/shadow");       /* ../ above the root: clamped */
	CU_ASSERT_STRING_EQUAL(e->content, "lib\n");
	e = nr_scan_result_get(res, "etc/gshadow");      /* dangling */
	CU_ASSERT_EQUAL(e->type, NR_ENTRY_NONE);
	CU_ASSERT_STRING_EQUAL(e->resolved, "nowhere");
	CU_ASSERT_STRING_EQUAL(e->link_target, "/nowhere");
	e = nr_scan_result_get(res, "a/x");              /* loop */
	CU_ASSERT_EQUAL(e->type, NR_ENTRY_NONE);
	CU_ASSERT_TRUE(e->flags & NR_SCAN_ENTRY_LOOP);
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_symlinked_dir(void)
{
	/* /etc becomes a symlink in an upper layer: the lower etc/passwd is gone, the path now
	 * resolves through the link (a second pass tracks the target). */
	tent l0[] = { { 'f', "etc/passwd", "old\n", 0, 0, 0 }, { 'f', "conf/passwd", "conf\n", 0, 0, 0 } };
	tent l1[] = { { 'l', "etc", "conf", 0, 0, 0 } };
	tent l2[] = { { 'f', "notadir", "x", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "notadir/passwd" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	const nr_scan_entry *e;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 2);
	stack_add(&s, l1, 1);
	stack_add(&s, l2, 1);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	e = nr_scan_result_get(res, "etc/passwd");
	CU_ASSERT_STRING_EQUAL(e->resolved, "conf/passwd");
	CU_ASSERT_STRING_EQUAL(e->content, "conf\n");
	e = nr_scan_result_get(res, "notadir/passwd");
	CU_ASSERT_EQUAL(e->type, NR_ENTRY_NONE);
	CU_ASSERT_TRUE(e->flags & NR_SCAN_ENTRY_NOTDIR);
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_hardlinks(void)
{
	tent l0[] = { { 'f', "etc/passwd-", "backup\n", 0600, 0, 0 },
		{ 'h', "etc/passwd", "etc/passwd-", 0, 0, 0 },
		{ 'f', "etc/group", "g\n", 0, 0, 0 }, { 'h', "etc/gshadow", "./etc/group", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "etc/group", "etc/gshadow" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	const nr_scan_entry *e;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 4);
	res = scan(&s, paths, 3, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	e = nr_scan_result_get(res, "etc/passwd");       /* target untracked: second pass */
	CU_ASSERT_STRING_EQUAL(e->content, "backup\n");
	CU_ASSERT_EQUAL(e->mode, 0600);
	CU_ASSERT_STRING_EQUAL(e->hardlink, "etc/passwd-");
	e = nr_scan_result_get(res, "etc/gshadow");      /* target tracked in the same pass */
	CU_ASSERT_STRING_EQUAL(e->content, "g\n");
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_hostile_names(void)
{
	tent l0[] = { { 'f', "etc/passwd", "one\n", 0, 0, 0 } };
	tent l1[] = { { 'f', "../../etc/passwd", "two\n", 0, 0, 0 } };
	tent l2[] = { { 'f', "/etc/group", "abs\n", 0, 0, 0 }, { 'f', "./etc/../etc//shadow", "s\n", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "etc/group", "etc/shadow" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 1);
	stack_add(&s, l1, 1);
	stack_add(&s, l2, 2);
	res = scan(&s, paths, 3, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/passwd")->content, "two\n");
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/group")->content, "abs\n");
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/shadow")->content, "s\n");
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_setid(void)
{
	tent l0[] = { { 'f', "bin/su", "su", 04755, 0, 0 }, { 'f', "bin/ping", "p", 04755, 0, 0 },
		{ 'f', "usr/bin/wall", "w", 02755, 0, 5 }, { 'f', "usr/bin/passwd", "pw", 04755, 0, 0 },
		{ 'f', "bin/ls", "ls", 0755, 0, 0 } };
	tent l1[] = { { 'f', "bin/.wh.ping", "", 0, 0, 0 }, { 'f', "usr/.wh..wh..opq", "", 0, 0, 0 },
		{ 'f', "usr/bin/passwd", "pw", 04755, 0, 0 } };
	tent l2[] = { { 'f', "bin/su", "su", 0755, 0, 0 }, { 'f', "sbin/newgrp", "n", 06755, 0, 0 } };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	const nr_scan_entry *e;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 5);
	res = scan(&s, NULL, 0, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(nr_scan_result_setid_count(res), 4);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_setid_at(res, 0)->path, "bin/ping");   /* sorted */
	e = nr_scan_result_setid_at(res, 3);
	CU_ASSERT_STRING_EQUAL(e->path, "usr/bin/wall");
	CU_ASSERT_EQUAL(e->mode, 02755);
	CU_ASSERT_EQUAL(e->gid, 5);
	nr_scan_result_free(res);
	stack_add(&s, l1, 3);
	stack_add(&s, l2, 2);
	res = scan(&s, NULL, 0, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(nr_scan_result_setid_count(res), 2);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_setid_at(res, 0)->path, "sbin/newgrp");
	CU_ASSERT_STRING_EQUAL(nr_scan_result_setid_at(res, 1)->path, "usr/bin/passwd");
	CU_ASSERT_EQUAL(nr_scan_result_setid_at(res, 1)->layer, 1);
	CU_ASSERT_PTR_NULL(nr_scan_result_setid_at(res, 2));
	nr_scan_result_free(res);
	/* without the flag: no list */
	res = scan(&s, NULL, 0, 0, &err, &rc);
	CU_ASSERT_EQUAL(nr_scan_result_setid_count(res), 0);
	nr_scan_result_free(res);
	stack_free(&s);
}

/* File capabilities (security.capability) are kept like set-id bits: under every hard-link
 * name, removed by a whiteout or a plain replacement, and served from the layer-scan cache. */
static const nr__scan_caps *caps_of(const nr_scan_result *res, const char *path)
{
	size_t k;

	for (k = 0; k < nr_scan_result_setid_count(res); k++)
		if (!strcmp(nr_scan_result_setid_at(res, k)->path, path))
			return nr__scan_result_caps(res, k);
	return NULL;
}

static const char *setid_paths(const nr_scan_result *res, char *buf, size_t size)
{
	size_t k, o = 0;

	buf[0] = '\0';
	for (k = 0; k < nr_scan_result_setid_count(res) && o < size; k++) {
		const nr_scan_entry *e = nr_scan_result_setid_at(res, k);
		o += (size_t)snprintf(buf + o, size - o, "%s%s%s", k ? " " : "", e->path,
			e->flags & NR_SCAN_ENTRY_CAPS ? "+caps" : "");
	}
	return buf;
}

static void test_caps(void)
{
	tent l0[] = { { 'c', "bin/ping", "p", 0755, 0, 0 }, { 'f', "bin/su", "su", 04755, 0, 0 },
		{ 'h', "bin/ping2", "bin/ping", 0, 0, 0 }, { 'f', "bin/ls", "ls", 0755, 0, 0 },
		{ 'c', "bin/both", "b", 04755, 0, 0 } };
	tent l1[] = { { 'f', "bin/.wh.ping", "", 0, 0, 0 },
		{ 'H', "bin/x", "bin/ls", 0755, 0, 0 } };
	tent l2[] = { { 'f', "bin/ping2", "plain", 0755, 0, 0 } };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	const nr__scan_caps *c;
	char buf[256], *cache = nrtest_tmpdir();
	stack s;
	int rc, pass;

	stack_init(&s);
	stack_add(&s, l0, 5);
	res = scan(&s, NULL, 0, NR_SCAN_SETID | NR_SCAN_CAPS, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(setid_paths(res, buf, sizeof(buf)),
		"bin/both+caps bin/ping+caps bin/ping2+caps bin/su");
	c = caps_of(res, "bin/ping2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->len, 20);
	CU_ASSERT_EQUAL(memcmp(c->data, IMGTEST_CAPS, 20), 0);
	CU_ASSERT_PTR_NULL(caps_of(res, "bin/su"));
	nr_scan_result_free(res);
	/* each flag alone */
	res = scan(&s, NULL, 0, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_STRING_EQUAL(setid_paths(res, buf, sizeof(buf)), "bin/both bin/su");
	nr_scan_result_free(res);
	res = scan(&s, NULL, 0, NR_SCAN_CAPS, &err, &rc);
	CU_ASSERT_STRING_EQUAL(setid_paths(res, buf, sizeof(buf)),
		"bin/both+caps bin/ping+caps bin/ping2+caps");
	nr_scan_result_free(res);
	stack_add(&s, l1, 2);
	stack_add(&s, l2, 1);
	/* the whiteout removes bin/ping, its hard link bin/ping2 stays until a plain file
	 * replaces it; the xattr of hard link member bin/x holds for bin/ls too (one inode).
	 * Twice with a cache: the second run reads the records. */
	setenv("NONROOT_CACHE", cache, 1);
	for (pass = 0; pass < 2; pass++) {
		res = scan(&s, NULL, 0, NR_SCAN_SETID | NR_SCAN_CAPS, &err, &rc);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_STRING_EQUAL(setid_paths(res, buf, sizeof(buf)),
			"bin/both+caps bin/ls+caps bin/su bin/x+caps");
		c = caps_of(res, "bin/ls");
		CU_ASSERT(c != NULL && c->len == 20 && memcmp(c->data, IMGTEST_CAPS, 20) == 0);
		nr_scan_result_free(res);
	}
	unsetenv("NONROOT_CACHE");
	nrtest_rmtree(cache);
	free(cache);
	stack_free(&s);
}

static void test_compression(void)
{
	tent l0[] = { { 'f', "etc/passwd", "gz\n", 0, 0, 0 } };
	tent l1[] = { { 'f', "etc/group", "zst\n", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "etc/group" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	int rc;

	stack_init(&s);
	stack_add_ex(&s, l0, 1, TAR_GZIP, 0, 0);
	stack_add_ex(&s, l1, 1, TAR_ZSTD, 0, 0);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/passwd")->content, "gz\n");
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/group")->content, "zst\n");
	nr_scan_result_free(res);
	/* an unknown media type is refused */
	s.refs[1].media_type = "application/vnd.oci.image.layer.v1.tar+encrypted";
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EUNSUPPORTED);
	CU_ASSERT_PTR_NULL(res);
	stack_free(&s);
}

static void test_no_end_blocks(void)
{
	tent l0[] = { { 'f', "etc/passwd", "p\n", 0, 0, 0 }, { 'f', "etc/group", "g\n", 0, 0, 0 } };
	const char *paths[] = { "etc/passwd", "etc/group" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	int rc;

	stack_init(&s);
	stack_add_ex(&s, l0, 2, TAR_PLAIN, 1, 0);   /* like umoci 0.4.7 insert */
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/group")->content, "g\n");
	nr_scan_result_free(res);
	stack_free(&s);
	/* ... nor the last member's padding (what umoci 0.4.7 insert really writes): whether
	 * that member is read (etc/group) or skipped (etc/passwd only) */
	stack_init(&s);
	stack_add_ex(&s, l0, 2, TAR_PLAIN, 1, 510);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/group")->content, "g\n");
	nr_scan_result_free(res);
	res = scan(&s, paths, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/passwd")->content, "p\n");
	nr_scan_result_free(res);
	stack_free(&s);
}

static void test_cut_short(void)
{
	char big[3000];
	tent l0[] = { { 'f', "etc/passwd", big, 0, 0, 0 } };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	int rc;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	stack_init(&s);
	/* drop the end blocks, the padding and 1000 bytes of content: the digest matches the cut
	 * file, so only the tar reader can tell */
	stack_add_ex(&s, l0, 1, TAR_PLAIN, 1, 1000 + (512 - 2999 % 512));
	res = scan(&s, (const char **)P1, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EINVALID);
	CU_ASSERT_PTR_NULL(res);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, s.digests[0]);
	/* also when the member is not read (skipped) */
	nr_error_clear(&err);
	{
		const char *other[] = { "etc/group" };
		res = scan(&s, other, 1, 0, &err, &rc);
		CU_ASSERT_EQUAL(rc, NR_EINVALID);
		NRTEST_ASSERT_ERR(&err, NR_EINVALID, "cut short");
	}
	stack_free(&s);
}

static void test_tampered(void)
{
	tent l0[] = { { 'f', "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0, 0, 0 } };
	char path[4096];
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	char *buf;
	size_t len;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, l0, 1);
	snprintf(path, sizeof(path), "%s/layer0", s.dir);
	buf = read_abs(path, &len);
	buf[512] = 'R';   /* "root" -> "Root": same size, different digest */
	write_abs(path, buf, len);
	free(buf);
	res = scan(&s, (const char **)P1, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EDIGEST);
	CU_ASSERT_PTR_NULL(res);
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, s.digests[0]);
	/* a size that differs from the descriptor */
	nr_error_clear(&err);
	s.refs[0].size = len + 1;
	res = scan(&s, (const char **)P1, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EDIGEST);
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, "size");
	stack_free(&s);
}

static void test_too_big(void)
{
	tent l0[] = { { 'f', "etc/passwd", "0123456789", 0, 0, 0 } };
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	const nr_scan_entry *e;
	stack s;

	stack_init(&s);
	stack_add(&s, l0, 1);
	req.paths = P1;
	req.npaths = 1;
	req.content_max = 9;
	CU_ASSERT_EQUAL_FATAL(nr__scan_layers(s.refs, 1, &req, &res, NULL), 0);
	e = nr_scan_result_at(res, 0);
	CU_ASSERT_EQUAL(e->type, NR_ENTRY_REGULAR);
	CU_ASSERT_EQUAL(e->size, 10);
	CU_ASSERT_PTR_NULL(e->content);
	CU_ASSERT_TRUE(e->flags & NR_SCAN_ENTRY_TOO_BIG);
	nr_scan_result_free(res);
	stack_free(&s);
}

typedef struct prog {
	size_t calls;
	uint64_t bytes[MAXL], size[MAXL];
	bool monotonic, in_range;
} prog;

/* Layers may be read in parallel (progress calls are serialised but interleaved): check each
 * layer's own sequence. */
static void on_progress(size_t layer, size_t nlayers, uint64_t bytes, uint64_t size, void *p)
{
	prog *g = p;

	if (layer >= nlayers || layer >= MAXL) {
		g->in_range = false;
		return;
	}
	if (bytes < g->bytes[layer])
		g->monotonic = false;
	g->calls++;
	g->bytes[layer] = bytes;
	g->size[layer] = size;
}

static void test_progress(void)
{
	tent l0[] = { { 'f', "etc/passwd", "p\n", 0, 0, 0 } };
	tent l1[] = { { 'f', "etc/group", "g\n", 0, 0, 0 } };
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	prog g;
	stack s;

	memset(&g, 0, sizeof(g));
	g.monotonic = g.in_range = true;
	stack_init(&s);
	stack_add(&s, l0, 1);
	stack_add_ex(&s, l1, 1, TAR_GZIP, 0, 0);
	req.paths = P1;
	req.npaths = 1;
	req.progress = on_progress;
	req.payload = &g;
	CU_ASSERT_EQUAL_FATAL(nr__scan_layers(s.refs, s.n, &req, &res, NULL), 0);
	CU_ASSERT_TRUE(g.calls >= 2);
	CU_ASSERT_TRUE(g.monotonic);
	CU_ASSERT_TRUE(g.in_range);
	CU_ASSERT_EQUAL(g.bytes[0], s.sizes[0]);   /* every blob read in full */
	CU_ASSERT_EQUAL(g.size[0], s.sizes[0]);
	CU_ASSERT_EQUAL(g.bytes[1], s.sizes[1]);
	CU_ASSERT_EQUAL(g.size[1], s.sizes[1]);
	nr_scan_result_free(res);
	stack_free(&s);
}

static CU_TestInfo tests[] = {
	{ "progress", test_progress },
	{ "path clean", test_path_clean },
	{ "basic entry", test_basic },
	{ "whiteout and re-add", test_whiteout_readd },
	{ "whiteout in the same layer", test_whiteout_same_layer },
	{ "opaque directory", test_opaque },
	{ "symlinks inside the root", test_symlinks },
	{ "symlinked directory", test_symlinked_dir },
	{ "hard links", test_hardlinks },
	{ "hostile member names", test_hostile_names },
	{ "setid files", test_setid },
	{ "gzip and zstd", test_compression },
	{ "tar without end blocks", test_no_end_blocks },
	{ "member cut short", test_cut_short },
	{ "tampered layer", test_tampered },
	{ "content limit", test_too_big },
	{ "file capabilities", test_caps },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "layers", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
