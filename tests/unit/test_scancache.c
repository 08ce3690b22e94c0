/*
 * test_scancache.c: the fast paths of the layer scan (scancache.c, inflate.c): the layer-scan
 * cache (written after a verified read, used without reading the blob, damaged or short
 * entries ignored, missing content re-read), the cache directory setting, gzip with several
 * members (ISA-L path), many layers read in parallel with errors reported in layer order.
 */
#include <sys/stat.h>
#include <zlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "imgtest.h"
#include "scancache.h"

#define MAXL 12

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

static void stack_add(stack *s, const tent *e, size_t n, int comp)
{
	size_t k = s->n++;
	static const char *const mts[] = { "application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd" };

	snprintf(s->names[k], sizeof(s->names[k]), "layer%zu", k);
	mklayer(s->dir, s->names[k], e, n, comp, s->digests[k], &s->sizes[k]);
	s->refs[k].dirfd = s->dirfd;
	s->refs[k].relpath = s->names[k];
	s->refs[k].digest = s->digests[k];
	s->refs[k].size = s->sizes[k];
	s->refs[k].media_type = mts[comp];
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
	nr_error_clear(err);
	*rc = nr__scan_layers(s->refs, s->n, &req, &res, err);
	return res;
}

static char *cache_file(const char *cache, const char *digest)
{
	char *p = malloc(4096);
	snprintf(p, 4096, "%s/layers/%s.scan", cache, digest + 7);
	return p;
}

static void overwrite_same_size(const char *dir, const char *name, char fill)
{
	char path[4096];
	struct stat st;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CU_ASSERT_FATAL(stat(path, &st) == 0);
	buf = malloc((size_t)st.st_size);
	memset(buf, fill, (size_t)st.st_size);
	f = fopen(path, "wb");
	CU_ASSERT_FATAL(f != NULL);
	fwrite(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	free(buf);
}

static const tent L0[] = { { 'd', "etc", NULL, 0, 0, 0 },
	{ 'f', "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644, 0, 0 },
	{ 'f', "etc/hosts", "127.0.0.1 localhost\n", 0644, 0, 0 },
	{ 'f', "usr/bin/su", "su", 04755, 0, 0 } };
static const tent L1[] = { { 'f', "etc/.wh.hosts", "", 0, 0, 0 },
	{ 'f', "etc/group", "root:x:0:\n", 0644, 0, 0 } };
static const tent L2[] = { { 'f', "etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n", 0644, 0, 0 } };

static void check_result(nr_scan_result *res)
{
	const nr_scan_entry *e = nr_scan_result_get(res, "etc/passwd");

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->layer, 2);
	CU_ASSERT_STRING_EQUAL(e->content, L2[0].data);
	e = nr_scan_result_get(res, "etc/group");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(e->content, "root:x:0:\n");
	CU_ASSERT_EQUAL(nr_scan_result_setid_count(res), 1);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_setid_at(res, 0)->path, "usr/bin/su");
}

static void test_cache(void)
{
	const char *paths[] = { "etc/passwd", "etc/group" }, *hosts[] = { "etc/hosts" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	char *cache = nrtest_tmpdir(), *cf;
	struct stat st;
	stack s;
	size_t k;
	int rc;

	stack_init(&s);
	stack_add(&s, L0, 4, TAR_GZIP);
	stack_add(&s, L1, 2, TAR_ZSTD);
	stack_add(&s, L2, 1, TAR_PLAIN);
	setenv("NONROOT_CACHE", cache, 1);
	/* cold: every layer read and cached */
	res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	check_result(res);
	nr_scan_result_free(res);
	for (k = 0; k < 3; k++) {
		cf = cache_file(cache, s.digests[k]);
		CU_ASSERT(stat(cf, &st) == 0 && st.st_size > 0);
		free(cf);
	}
	/* warm: the layers are not inflated again, but every blob is still verified: twice
	 * (hashed, then remembered by its stat state), then garbage of the same size in place of
	 * a cached layer is refused, and the good blob put back is accepted again */
	for (k = 0; k < 2; k++) {
		res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		check_result(res);
		nr_scan_result_free(res);
	}
	{
		char p[4096], *keep;
		size_t klen = 0;
		snprintf(p, sizeof(p), "%s/%s", s.dir, s.names[0]);
		keep = read_abs(p, &klen);
		overwrite_same_size(s.dir, s.names[0], 'x');
		nr_error_clear(&err);
		res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
		CU_ASSERT_EQUAL(rc, NR_EDIGEST);
		CU_ASSERT_PTR_NULL(res);
		NRTEST_ASSERT_ERR(&err, NR_EDIGEST, "does not match its digest");
		write_abs(p, keep, klen);
		free(keep);
		nr_error_clear(&err);
		res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		check_result(res);
		nr_scan_result_free(res);
	}
	/* ... and a missing blob is an error */
	{
		char p[4096], *keep;
		size_t klen = 0;
		snprintf(p, sizeof(p), "%s/%s", s.dir, s.names[1]);
		keep = read_abs(p, &klen);
		unlink(p);
		res = scan(&s, paths, 2, 0, &err, &rc);
		CU_ASSERT_EQUAL(rc, NR_ENOTFOUND);
		CU_ASSERT_PTR_NULL(res);
		write_abs(p, keep, klen);
		free(keep);
	}
	overwrite_same_size(s.dir, s.names[0], 'x');   /* layer 0 is garbage for what follows */
	/* a path whose content the cached record lacks: that layer is read again */
	res = scan(&s, hosts, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EDIGEST);   /* layer 0 is garbage now: read, so caught */
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, s.digests[0]);
	nr_scan_result_free(res);
	/* without the cache, the garbage is caught too */
	setenv("NONROOT_CACHE", "off", 1);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EDIGEST);
	nr_scan_result_free(res);
	unsetenv("NONROOT_CACHE");
	stack_free(&s);
	nrtest_rmtree(cache);
	free(cache);
}

static void test_cache_damaged(void)
{
	const char *paths[] = { "etc/passwd", "etc/group" }, *hosts[] = { "etc/hosts" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	char *cache = nrtest_tmpdir(), *cf, *data;
	size_t len = 0;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, L0, 4, TAR_GZIP);
	stack_add(&s, L1, 2, TAR_GZIP);
	stack_add(&s, L2, 1, TAR_GZIP);
	setenv("NONROOT_CACHE", cache, 1);
	res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	nr_scan_result_free(res);
	/* flip a byte in the middle of layer 2's entry: ignored (verified on read) and rewritten */
	cf = cache_file(cache, s.digests[2]);
	data = read_abs(cf, &len);
	CU_ASSERT_FATAL(data != NULL && len > 100);
	data[len / 2] ^= 0x20;
	write_abs(cf, data, len);
	res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	check_result(res);
	nr_scan_result_free(res);
	free(data);
	data = read_abs(cf, &len);
	CU_ASSERT_FATAL(data != NULL);
	CU_ASSERT_EQUAL(memcmp(data, "NRSCAN4\n", 8), 0);
	/* cut short: ignored too */
	write_abs(cf, data, len - 40);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	nr_scan_result_free(res);
	/* a record of another layer under this name: ignored (the digest is inside) */
	{
		char *other = cache_file(cache, s.digests[0]);
		size_t olen = 0;
		char *odata = read_abs(other, &olen);
		write_abs(cf, odata, olen);
		res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		check_result(res);
		nr_scan_result_free(res);
		free(odata);
		free(other);
	}
	/* content of a path not asked for before (etc/hosts: whited out above) */
	res = scan(&s, hosts, 1, 0, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc/hosts")->type, NR_ENTRY_NONE);
	nr_scan_result_free(res);
	/* a cache hit still holds the layer to its diff_id (kept in the record) */
	s.refs[2].diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EINVALID);
	CU_ASSERT(strstr(err.message, "the config's diff_id is sha256:0000") != NULL);
	nr_scan_result_free(res);
	s.refs[2].diff_id = NULL;
	unsetenv("NONROOT_CACHE");
	free(data);
	free(cf);
	stack_free(&s);
	nrtest_rmtree(cache);
	free(cache);
}

/* Replace "root:" by "toor:" in layer 2's record, then make its trailer: a plain sha256 of
 * the payload (what anyone can compute), or the HMAC under the cache's key. */
static void forge(const char *cache, const char *digest, bool with_key)
{
	char *cf = cache_file(cache, digest), *data, kp[4096], *key;
	size_t len = 0, klen = 0, i;
	unsigned int mdlen = 0;

	data = read_abs(cf, &len);
	CU_ASSERT_FATAL(data != NULL && len > 40);
	for (i = 0; i + 5 < len - 32; i++)
		if (memcmp(data + i, "root:", 5) == 0)
			memcpy(data + i, "toor:", 5);
	if (with_key) {
		snprintf(kp, sizeof(kp), "%s/key", cache);
		key = read_abs(kp, &klen);
		CU_ASSERT_FATAL(key != NULL && klen == 32);
		HMAC(EVP_sha256(), key, 32, (unsigned char *)data, len - 32,
			(unsigned char *)data + len - 32, &mdlen);
		free(key);
	} else {
		EVP_Digest(data, len - 32, (unsigned char *)data + len - 32, &mdlen, EVP_sha256(),
			NULL);
	}
	write_abs(cf, data, len);
	free(data);
	free(cf);
}

static bool passwd_forged(stack *s)
{
	const char *paths[] = { "etc/passwd" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	bool forged;
	int rc;

	res = scan(s, paths, 1, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	forged = strncmp(nr_scan_result_get(res, "etc/passwd")->content, "toor:", 5) == 0;
	nr_scan_result_free(res);
	return forged;
}

/* Issue 18, class 4: a record is used only when this user's nonroot wrote it (HMAC under
 * the per-user key), and only from a cache directory that nobody else may write. */
static void test_cache_forged(void)
{
	char *cache = nrtest_tmpdir(), kp[4096];
	struct stat st;
	stack s;

	stack_init(&s);
	stack_add(&s, L0, 4, TAR_GZIP);
	stack_add(&s, L1, 2, TAR_GZIP);
	stack_add(&s, L2, 1, TAR_PLAIN);
	setenv("NONROOT_CACHE", cache, 1);
	CU_ASSERT_FALSE(passwd_forged(&s));
	snprintf(kp, sizeof(kp), "%s/key", cache);
	CU_ASSERT_FATAL(stat(kp, &st) == 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, 32);
	/* a record with a checksum anyone can compute: not used */
	forge(cache, s.digests[2], false);
	CU_ASSERT_FALSE(passwd_forged(&s));
	/* one with the right MAC is used (the test knows the key: it is this user's cache) ... */
	forge(cache, s.digests[2], true);
	CU_ASSERT_TRUE(passwd_forged(&s));
	/* ... but not from a directory others may write, nor one owned by another user */
	CU_ASSERT_EQUAL(chmod(cache, 0777), 0);
	CU_ASSERT_FALSE(passwd_forged(&s));
	CU_ASSERT_EQUAL(chmod(cache, 0700), 0);
	CU_ASSERT_TRUE(passwd_forged(&s));
	snprintf(kp, sizeof(kp), "%s/layers", cache);
	CU_ASSERT_EQUAL(chmod(kp, 0770), 0);
	CU_ASSERT_FALSE(passwd_forged(&s));
	CU_ASSERT_EQUAL(chmod(kp, 0700), 0);
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(cache, 65534, 65534), 0);
		CU_ASSERT_FALSE(passwd_forged(&s));
		CU_ASSERT_EQUAL(chown(cache, 0, 0), 0);
	}
	/* a key readable by others is not a key */
	snprintf(kp, sizeof(kp), "%s/key", cache);
	CU_ASSERT_EQUAL(chmod(kp, 0644), 0);
	CU_ASSERT_FALSE(passwd_forged(&s));
	unsetenv("NONROOT_CACHE");
	stack_free(&s);
	nrtest_rmtree(cache);
	free(cache);
}

static void test_cache_dir(void)
{
	char *d;

	unsetenv("NONROOT_CACHE");
	CU_ASSERT_PTR_NULL(nr__scancache_dir());
	setenv("NONROOT_CACHE", "off", 1);
	CU_ASSERT_PTR_NULL(nr__scancache_dir());
	setenv("NONROOT_CACHE", "", 1);
	CU_ASSERT_PTR_NULL(nr__scancache_dir());
	setenv("NONROOT_CACHE", "/some/dir", 1);
	d = nr__scancache_dir();
	CU_ASSERT_STRING_EQUAL(d, "/some/dir");
	free(d);
	setenv("NONROOT_CACHE", "auto", 1);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	d = nr__scancache_dir();
	CU_ASSERT_STRING_EQUAL(d, "/xdg/nonroot");
	free(d);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	d = nr__scancache_dir();
	CU_ASSERT_STRING_EQUAL(d, "/home/u/.cache/nonroot");
	free(d);
	unsetenv("NONROOT_CACHE");
}

/* A gzip layer of two members (the tar split in the middle), as `cat a.gz b.gz` makes. */
static void gzip_member(const char *in, size_t n, unsigned char **out, size_t *outlen)
{
	z_stream z;
	size_t cap = n + 1024;

	memset(&z, 0, sizeof(z));
	CU_ASSERT_FATAL(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	*out = realloc(*out, *outlen + cap);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	z.next_out = *out + *outlen;
	z.avail_out = (uInt)cap;
	CU_ASSERT_FATAL(deflate(&z, Z_FINISH) == Z_STREAM_END);
	*outlen += cap - z.avail_out;
	deflateEnd(&z);
}

static void test_gzip_members(void)
{
	const char *paths[] = { "etc/passwd", "etc/group" };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	unsigned char *gz = NULL;
	size_t gzlen = 0, tlen = 0;
	char p[4096], *tar;
	stack s;
	int rc;

	stack_init(&s);
	stack_add(&s, L0, 4, TAR_PLAIN);
	stack_add(&s, L1, 2, TAR_PLAIN);
	stack_add(&s, L2, 1, TAR_GZIP);
	/* layer 1 becomes two gzip members split inside a header */
	snprintf(p, sizeof(p), "%s/%s", s.dir, s.names[1]);
	tar = read_abs(p, &tlen);
	gzip_member(tar, 700, &gz, &gzlen);
	gzip_member(tar + 700, tlen - 700, &gz, &gzlen);
	write_abs(p, (const char *)gz, gzlen);
	CU_ASSERT_FATAL(nr__digest_of(gz, gzlen, s.digests[1], NULL) == 0);
	s.sizes[1] = s.refs[1].size = gzlen;
	s.refs[1].media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
	res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	check_result(res);
	nr_scan_result_free(res);
	/* a damaged deflate stream with a matching digest: a readable error naming the layer */
	gz[gzlen / 2] ^= 0xff;
	gz[gzlen / 2 + 1] ^= 0xff;
	write_abs(p, (const char *)gz, gzlen);
	CU_ASSERT_FATAL(nr__digest_of(gz, gzlen, s.digests[1], NULL) == 0);
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, s.digests[1]);
	nr_scan_result_free(res);
	free(tar);
	free(gz);
	stack_free(&s);
}

/* Many layers at once (workers run ahead): the result is the sequential one, and of two bad
 * layers the lower one is reported. */
static void test_many_layers(void)
{
	const char *paths[] = { "etc/passwd", "etc/group" };
	tent filler[] = { { 'f', "usr/share/doc/x", "some text\n", 0, 0, 0 } };
	nr_error err = NR_ERROR_INIT;
	nr_scan_result *res;
	stack s;
	size_t k;
	int rc;

	stack_init(&s);
	stack_add(&s, L0, 4, TAR_GZIP);
	stack_add(&s, L1, 2, TAR_GZIP);
	for (k = 2; k < 10; k++)
		stack_add(&s, filler, 1, k % 2 ? TAR_GZIP : TAR_ZSTD);
	stack_add(&s, L2, 1, TAR_GZIP);
	res = scan(&s, paths, 2, NR_SCAN_SETID, &err, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(nr_scan_result_get(res, "etc/passwd")->layer, 10);
	CU_ASSERT_STRING_EQUAL(nr_scan_result_get(res, "etc/passwd")->content, L2[0].data);
	CU_ASSERT_EQUAL(nr_scan_result_setid_count(res), 1);
	nr_scan_result_free(res);
	overwrite_same_size(s.dir, s.names[7], 'y');
	s.refs[4].media_type = "application/x-unknown";
	overwrite_same_size(s.dir, s.names[9], 'z');
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EUNSUPPORTED);
	NRTEST_ASSERT_ERR(&err, NR_EUNSUPPORTED, s.digests[4]);
	nr_scan_result_free(res);
	s.refs[4].media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
	res = scan(&s, paths, 2, 0, &err, &rc);
	CU_ASSERT_EQUAL(rc, NR_EDIGEST);
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, s.digests[7]);
	nr_scan_result_free(res);
	stack_free(&s);
}

static CU_TestInfo tests[] = {
	{ "forged records and unsafe cache directories", test_cache_forged },
	{ "layer-scan cache", test_cache },
	{ "damaged cache entries", test_cache_damaged },
	{ "cache directory", test_cache_dir },
	{ "gzip members (ISA-L path)", test_gzip_members },
	{ "many layers in parallel", test_many_layers },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "scancache", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	unsetenv("NONROOT_CACHE");
	return nrtest_main(suites);
}
