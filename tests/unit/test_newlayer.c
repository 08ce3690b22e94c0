/*
 * test_newlayer.c: the reproducible patch layer: content, order, owners, modes, fixed mtime,
 * gzip header without name/time, digest/diff_id against an independent SHA-256, determinism.
 */
#include <archive.h>
#include <archive_entry.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nrtest.h"
#include "internal.h"
#include "buf.h"
#include "newlayer.h"

static int mem_sink(void *ctx, const void *buf, size_t len, nr_error *err)
{
	nr__buf *b = ctx;
	(void)err;
	return nr__buf_put(b, buf, len);
}

static int fail_sink(void *ctx, const void *buf, size_t len, nr_error *err)
{
	int *calls = ctx;
	(void)buf;
	(void)len;
	if (++*calls >= 1)
		return nr__error_set(err, NR_EIO, "blobs/tmp", 0, 0, "write: No space left on device");
	return 0;
}

static void sha_hex(char out[72], const void *p, size_t n)
{
	unsigned char md[32];
	size_t i;

	SHA256(p, n, md);
	strcpy(out, "sha256:");
	for (i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static char *gunzip(const char *p, size_t n, size_t *outlen)
{
	z_stream z;
	nr__buf b = NR__BUF_INIT;
	unsigned char tmp[4096];
	int zr;

	memset(&z, 0, sizeof(z));
	CU_ASSERT_EQUAL_FATAL(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zr = inflate(&z, Z_NO_FLUSH);
		CU_ASSERT_FATAL(zr == Z_OK || zr == Z_STREAM_END);
		nr__buf_put(&b, tmp, sizeof(tmp) - z.avail_out);
	} while (zr != Z_STREAM_END);
	inflateEnd(&z);
	return nr__buf_detach(&b, outlen);
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/sbin/nologin\n";
static const char shadow[] = "root:*:19000:0:99999:7:::\napp:!:19000::::::\n";

static void fill(nr__layer_entry e[4])
{
	memset(e, 0, 4 * sizeof(*e));
	e[0] = (nr__layer_entry){ "home/app", NR__LAYER_DIR, 0755, 1654, 1654, NULL, 0 };
	e[1] = (nr__layer_entry){ "etc/shadow", NR__LAYER_FILE, 0640, 0, 42, shadow, sizeof(shadow) - 1 };
	e[2] = (nr__layer_entry){ "etc/passwd", NR__LAYER_FILE, 0644, 0, 0, passwd, sizeof(passwd) - 1 };
	e[3] = (nr__layer_entry){ "usr/bin/su", NR__LAYER_FILE, 04755, 0, 0, "", 0 };
}

static void test_gzip_layer(void)
{
	nr__layer_entry e[4];
	nr__buf b = NR__BUF_INIT;
	nr__layer_result r;
	nr_error err = NR_ERROR_INIT;
	char hex[72], *tar;
	size_t tarlen;
	struct archive *a;
	struct archive_entry *ae;
	const char *want[] = { "etc/passwd", "etc/shadow", "home/app/", "usr/bin/su" };
	int i = 0;

	fill(e);
	CU_ASSERT_EQUAL_FATAL(nr__newlayer_write(e, 4, 1704067200, 1, mem_sink, &b, &r, &err), 0);
	CU_ASSERT_EQUAL(r.size, b.size);
	sha_hex(hex, b.ptr, b.size);
	CU_ASSERT_STRING_EQUAL(r.digest, hex);
	/* gzip header: magic, deflate, no flags (no FNAME), MTIME 0 */
	CU_ASSERT_EQUAL((unsigned char)b.ptr[0], 0x1f);
	CU_ASSERT_EQUAL((unsigned char)b.ptr[1], 0x8b);
	CU_ASSERT_EQUAL(b.ptr[3], 0);
	CU_ASSERT_EQUAL(memcmp(b.ptr + 4, "\0\0\0\0", 4), 0);
	tar = gunzip(b.ptr, b.size, &tarlen);
	CU_ASSERT_EQUAL(tarlen, r.tar_size);
	sha_hex(hex, tar, tarlen);
	CU_ASSERT_STRING_EQUAL(r.diff_id, hex);

	a = archive_read_new();
	archive_read_support_format_tar(a);
	CU_ASSERT_EQUAL_FATAL(archive_read_open_memory(a, tar, tarlen), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		CU_ASSERT_FATAL(i < 4);
		CU_ASSERT_STRING_EQUAL(archive_entry_pathname(ae), want[i]);
		CU_ASSERT_EQUAL(archive_entry_mtime(ae), 1704067200);
		CU_ASSERT(archive_entry_uname(ae) == NULL || *archive_entry_uname(ae) == '\0');
		CU_ASSERT(archive_entry_gname(ae) == NULL || *archive_entry_gname(ae) == '\0');
		if (i == 0) {
			char content[256] = "";
			CU_ASSERT_EQUAL(archive_entry_filetype(ae), AE_IFREG);
			CU_ASSERT_EQUAL(archive_entry_perm(ae), 0644);
			CU_ASSERT_EQUAL(archive_read_data(a, content, sizeof(content)), (la_ssize_t)strlen(passwd));
			CU_ASSERT_STRING_EQUAL(content, passwd);
		} else if (i == 1) {
			CU_ASSERT_EQUAL(archive_entry_perm(ae), 0640);
			CU_ASSERT_EQUAL(archive_entry_gid(ae), 42);
		} else if (i == 2) {
			CU_ASSERT_EQUAL(archive_entry_filetype(ae), AE_IFDIR);
			CU_ASSERT_EQUAL(archive_entry_perm(ae), 0755);
			CU_ASSERT_EQUAL(archive_entry_uid(ae), 1654);
			CU_ASSERT_EQUAL(archive_entry_gid(ae), 1654);
		} else {
			CU_ASSERT_EQUAL(archive_entry_perm(ae), 04755);
			CU_ASSERT_EQUAL(archive_entry_size(ae), 0);
		}
		i++;
	}
	CU_ASSERT_EQUAL(i, 4);
	archive_read_free(a);
	free(tar);
	nr__buf_dispose(&b);
}

static void test_deterministic(void)
{
	nr__layer_entry e[4], rev[4];
	nr__buf b1 = NR__BUF_INIT, b2 = NR__BUF_INIT, b3 = NR__BUF_INIT;
	nr__layer_result r1, r2, r3, rt;
	int i;

	fill(e);
	for (i = 0; i < 4; i++)
		rev[i] = e[3 - i];
	CU_ASSERT_EQUAL(nr__newlayer_write(e, 4, 1000, 1, mem_sink, &b1, &r1, NULL), 0);
	CU_ASSERT_EQUAL(nr__newlayer_write(rev, 4, 1000, 1, mem_sink, &b2, &r2, NULL), 0);
	CU_ASSERT_STRING_EQUAL(r1.digest, r2.digest);
	CU_ASSERT_STRING_EQUAL(r1.diff_id, r2.diff_id);
	CU_ASSERT_EQUAL(b1.size, b2.size);
	CU_ASSERT_EQUAL(memcmp(b1.ptr, b2.ptr, b1.size), 0);
	/* another mtime: another layer */
	CU_ASSERT_EQUAL(nr__newlayer_write(e, 4, 1001, 1, mem_sink, &b3, &r3, NULL), 0);
	CU_ASSERT_STRING_NOT_EQUAL(r1.diff_id, r3.diff_id);
	/* uncompressed: digest == diff_id */
	nr__buf_truncate(&b3, 0);
	CU_ASSERT_EQUAL(nr__newlayer_write(e, 4, 1000, 0, mem_sink, &b3, &rt, NULL), 0);
	CU_ASSERT_STRING_EQUAL(rt.digest, rt.diff_id);
	CU_ASSERT_STRING_EQUAL(rt.diff_id, r1.diff_id);
	CU_ASSERT_EQUAL(rt.size, rt.tar_size);
	nr__buf_dispose(&b1);
	nr__buf_dispose(&b2);
	nr__buf_dispose(&b3);
}

static void test_refused(void)
{
	nr__layer_entry e[2];
	nr__layer_result r;
	nr__buf b = NR__BUF_INIT;
	nr_error err = NR_ERROR_INIT;
	int calls = 0;
	const char *bad[] = { "/etc/passwd", "../etc/passwd", "etc/../x", "etc/", "", "./etc", "a//b" };
	size_t i;

	memset(e, 0, sizeof(e));
	e[0] = (nr__layer_entry){ "etc/passwd", NR__LAYER_FILE, 0644, 0, 0, "x", 1 };
	e[1] = e[0];
	CU_ASSERT_EQUAL(nr__newlayer_write(e, 2, 0, 1, mem_sink, &b, &r, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "duplicate entry 'etc/passwd'");
	CU_ASSERT_EQUAL(b.size, 0);   /* refused before anything is written */
	for (i = 0; i < NR_ARRAY_SIZE(bad); i++) {
		nr_error_clear(&err);
		e[0].path = bad[i];
		CU_ASSERT_EQUAL(nr__newlayer_write(e, 1, 0, 1, mem_sink, &b, &r, &err), NR_EINVALID);
		NRTEST_ASSERT_ERR(&err, NR_EINVALID, "invalid entry path");
	}
	e[0].path = "etc/passwd";
	CU_ASSERT_EQUAL(nr__newlayer_write(e, 1, -1, 1, mem_sink, &b, &r, NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr__newlayer_write(e, 1, 0, 1, NULL, &b, &r, NULL), NR_EARG);
	/* A sink failure is reported as is, and the result is cleared. */
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__newlayer_write(e, 1, 0, 0, fail_sink, &calls, &r, &err), NR_EIO);
	NRTEST_ASSERT_ERR(&err, NR_EIO, "No space left on device");
	CU_ASSERT_EQUAL(r.digest[0], '\0');
	/* An empty layer is valid (two end blocks). */
	CU_ASSERT_EQUAL(nr__newlayer_write(NULL, 0, 0, 0, mem_sink, &b, &r, NULL), 0);
	CU_ASSERT(r.tar_size >= 1024);
	CU_ASSERT_STRING_EQUAL(nr__newlayer_media_type(0, 1), "application/vnd.oci.image.layer.v1.tar+gzip");
	CU_ASSERT_STRING_EQUAL(nr__newlayer_media_type(1, 1), "application/vnd.docker.image.rootfs.diff.tar.gzip");
	nr__buf_dispose(&b);
}

static CU_TestInfo newlayer_tests[] = {
	{ "gzip layer content", test_gzip_layer },
	{ "deterministic", test_deterministic },
	{ "refused inputs", test_refused },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "newlayer", NULL, NULL, NULL, NULL, newlayer_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
