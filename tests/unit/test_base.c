/*
 * test_base.c: errors, buffers, the parse cursor, strict numbers and atomic file writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nrtest.h"
#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "fileio.h"

static void test_error_first_wins(void)
{
	nr_error err = NR_ERROR_INIT;
	char text[128];

	CU_ASSERT_EQUAL(nr__error_set(&err, NR_EINVALID, "etc/passwd", 3, 7, "bad %s", "uid"),
		NR_EINVALID);
	CU_ASSERT_EQUAL(nr__error_set(&err, NR_ENOMEM, "other", 1, 1, "later"), NR_ENOMEM);
	CU_ASSERT_EQUAL(err.code, NR_EINVALID);
	CU_ASSERT_STRING_EQUAL(err.source, "etc/passwd");
	CU_ASSERT_EQUAL(err.line, 3);
	nr_error_format(&err, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "etc/passwd:3:7: bad uid");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(err.code, 0);
	CU_ASSERT_EQUAL(nr__error_set(NULL, NR_EIO, NULL, 0, 0, "x"), NR_EIO);
	CU_ASSERT_STRING_EQUAL(nr_strerror(NR_EDIGEST), "digest mismatch");
	CU_ASSERT_STRING_EQUAL(nr_strerror(12345), "unknown error");
	CU_ASSERT_STRING_EQUAL(nr_version(), NR_VERSION);
}

static void test_error_format_parts(void)
{
	nr_error err = NR_ERROR_INIT;
	char text[16];
	size_t need;

	nr__error_set(&err, NR_ENOTFOUND, NULL, 0, 0, "unable to find user app");
	need = nr_error_format(&err, text, sizeof(text));
	CU_ASSERT_EQUAL(need, strlen("unable to find user app"));
	CU_ASSERT_EQUAL(strlen(text), sizeof(text) - 1); /* truncated, terminated */
	nr_error_clear(&err);
	nr__error_set(&err, NR_EIO, "blobs/sha256/ab", 0, 0, "open: %s", strerror(ENOENT));
	{
		char t2[128];
		nr_error_format(&err, t2, sizeof(t2));
		CU_ASSERT_STRING_EQUAL(t2, "blobs/sha256/ab: open: No such file or directory");
	}
}

static void test_buf(void)
{
	nr__buf b = NR__BUF_INIT;
	char *s;
	size_t len, i;

	CU_ASSERT_EQUAL(nr__buf_puts(&b, "abc"), 0);
	CU_ASSERT_EQUAL(nr__buf_printf(&b, ":%d:", 1654), 0);
	CU_ASSERT_EQUAL(nr__buf_putc(&b, 'x'), 0);
	CU_ASSERT_STRING_EQUAL(b.ptr, "abc:1654:x");
	for (i = 0; i < 10000; i++)
		CU_ASSERT_EQUAL_FATAL(nr__buf_put(&b, "0123456789", 10), 0);
	CU_ASSERT_EQUAL(b.size, 10 + 100000);
	nr__buf_truncate(&b, 3);
	s = nr__buf_detach(&b, &len);
	CU_ASSERT_STRING_EQUAL(s, "abc");
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_PTR_NULL(b.ptr);
	free(s);
	s = nr__buf_detach(&b, &len);   /* empty buffer detaches as "" */
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);
	CU_ASSERT_EQUAL(nr__buf_grow(&b, SIZE_MAX), NR_ENOMEM);   /* overflow is caught */
	CU_ASSERT_EQUAL(nr__buf_puts(&b, "x"), NR_ENOMEM);        /* and sticky */
	CU_ASSERT_PTR_NULL(nr__buf_detach(&b, NULL));
	nr__buf_dispose(&b);
}

static void test_cursor_lines(void)
{
	const char text[] = "a\r\n\nlast";
	nr__cursor c;
	const char *line;
	size_t n, eol;

	nr__cursor_init(&c, text, sizeof(text) - 1);
	CU_ASSERT_TRUE(nr__cursor_line(&c, &line, &n, &eol));
	CU_ASSERT_EQUAL(n, 2);   /* "\r" kept in the content */
	CU_ASSERT_EQUAL(eol, 1);
	CU_ASSERT_EQUAL(c.line, 2);
	CU_ASSERT_TRUE(nr__cursor_line(&c, &line, &n, &eol));
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_TRUE(nr__cursor_line(&c, &line, &n, &eol));
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(eol, 0);
	CU_ASSERT_NSTRING_EQUAL(line, "last", 4);
	CU_ASSERT_FALSE(nr__cursor_line(&c, &line, &n, &eol));
	nr__cursor_init(&c, NULL, 5);
	CU_ASSERT_FALSE(nr__cursor_line(&c, &line, &n, &eol));
}

static void test_split(void)
{
	const char *f[7];
	size_t l[7];
	const char s[] = "odd:x:111:112::/home/odd:::::";

	CU_ASSERT_EQUAL(nr__split_fields(s, strlen(s), ':', f, l, 7), 7);
	CU_ASSERT_EQUAL(l[0], 3);
	CU_ASSERT_EQUAL(l[4], 0);
	CU_ASSERT_EQUAL(l[6], 4);   /* the last field keeps the rest: "::::" */
	CU_ASSERT_NSTRING_EQUAL(f[6], "::::", 4);
	CU_ASSERT_EQUAL(nr__split_fields("abc", 3, ':', f, l, 7), 1);
	CU_ASSERT_EQUAL(nr__split_fields("", 0, ':', f, l, 7), 1);
	CU_ASSERT_EQUAL(l[0], 0);
}

static void test_numbers(void)
{
	uint32_t v = 7;
	uint64_t w;

	CU_ASSERT_EQUAL(nr__parse_u32("1654", 4, UINT32_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, 1654);
	CU_ASSERT_EQUAL(nr__parse_u32("2147483647", 10, 2147483647u, &v), 0);
	CU_ASSERT_EQUAL(nr__parse_u32("2147483648", 10, 2147483647u, &v), NR_ERANGE);
	CU_ASSERT_EQUAL(nr__parse_u32("99999999999999999999999", 23, UINT32_MAX, &v), NR_ERANGE);
	CU_ASSERT_EQUAL(nr__parse_u32("", 0, UINT32_MAX, &v), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_u32("+1", 2, UINT32_MAX, &v), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_u32("-1", 2, UINT32_MAX, &v), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_u32(" 1", 2, UINT32_MAX, &v), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_u32("0x10", 4, UINT32_MAX, &v), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_u32("12a", 3, UINT32_MAX, &v), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__parse_u64("18446744073709551615", 20, UINT64_MAX, &w), 0);
	CU_ASSERT_EQUAL(w, UINT64_MAX);
	CU_ASSERT_EQUAL(nr__parse_u64("18446744073709551616", 20, UINT64_MAX, &w), NR_ERANGE);
	CU_ASSERT_EQUAL(nr__parse_u32("007", 3, UINT32_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, 7);
	CU_ASSERT_TRUE(nr__span_has_ctrl("a\tb", 3));
	CU_ASSERT_TRUE(nr__span_has_ctrl("a\x7f", 2));
	CU_ASSERT_FALSE(nr__span_has_ctrl("h\xc3\xa9", 3));
	CU_ASSERT_TRUE(nr__span_eq("app", 3, "app"));
	CU_ASSERT_FALSE(nr__span_eq("app", 2, "app"));
}

static void test_atomic_write(void)
{
	char *dir = nrtest_tmpdir(), path[4096], *buf = NULL;
	nr_error err = NR_ERROR_INIT;
	struct stat st;
	size_t len;
	int dfd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/passwd", dir);
	CU_ASSERT_EQUAL(nr__file_write_atomic(path, "root:x:0:0::/root:/bin/sh\n", 26, 0644, &err), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	/* Replacing keeps the old mode. */
	CU_ASSERT_EQUAL(nr__file_write_atomic(path, "new\n", 4, 0644, &err), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_EQUAL(nr__file_read_at(&buf, &len, dfd, "passwd", 0, 100, NULL, &err), 0);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT_STRING_EQUAL(buf, "new\n");
	free(buf);
	/* Over the limit: refused before reading. */
	CU_ASSERT_EQUAL(nr__file_read_at(&buf, &len, dfd, "passwd", 0, 3, "etc/passwd", &err),
		NR_ETOOBIG);
	NRTEST_ASSERT_ERR(&err, NR_ETOOBIG, "etc/passwd: file is 4 bytes, over the limit of 3");
	/* A FIFO is refused without blocking. */
	nr_error_clear(&err);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CU_ASSERT_EQUAL(mkfifo(path, 0600), 0);
	CU_ASSERT_EQUAL(nr__file_read_at(&buf, &len, dfd, "fifo", 0, 100, NULL, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "not a regular file (a FIFO)");
	/* A directory is not replaced. */
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(mkdirat(dfd, "sub", 0755), 0);
	CU_ASSERT_EQUAL(nr__file_write_atomic_at(dfd, "sub", "x", 1, 0644, NULL, &err), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__file_read_at(&buf, &len, dfd, "sub", 0, 100, NULL, NULL), NR_EINVALID);
	close(dfd);
	nrtest_rmtree(dir);
	free(dir);
}

static CU_TestInfo base_tests[] = {
	{ "error first wins", test_error_first_wins },
	{ "error format", test_error_format_parts },
	{ "buffer", test_buf },
	{ "cursor lines", test_cursor_lines },
	{ "split fields", test_split },
	{ "strict numbers", test_numbers },
	{ "atomic write", test_atomic_write },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "base", NULL, NULL, NULL, NULL, base_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
