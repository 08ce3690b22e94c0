/*
 * imgtest.h: helpers for the image tests (test_layers.c, test_image.c): make small layer tars
 * with libarchive's writer and OCI layouts around them. Header-only (static functions).
 */
#ifndef IMGTEST_H
#define IMGTEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "nrtest.h"
#include "internal.h"
#include "image_internal.h"

/* One tar member: type 'f' file, 'd' dir, 'l' symlink, 'h' hard link. */
typedef struct tent {
	int type;
	const char *path;
	const char *data;     /* file content, or link target */
	unsigned mode;        /* 0: 0644 / 0755 */
	unsigned uid, gid;
} tent;

/* Read a whole file (absolute path); NULL when missing. */
static inline char *read_abs(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static inline void write_abs(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fwrite(data, 1, len, f) == len);
	fclose(f);
}

enum { TAR_PLAIN = 0, TAR_GZIP = 1, TAR_ZSTD = 2 };

/* The security.capability xattr of types 'c' and 'H': vfs_cap_data revision 2, effective,
 * cap_net_raw permitted (setcap cap_net_raw=ep). */
#define IMGTEST_CAPS "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"


/* Write a layer tar to dir/name. cut_end: drop the end-of-archive blocks (umoci insert);
 * cut_bytes > 0: also drop that many bytes more (a member cut short). */
static inline void mklayer_ex(const char *dir, const char *name, const tent *e, size_t n, int comp,
	int cut_end, size_t cut_bytes, char digest[72], uint64_t *size)
{
	char path[4096];
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	size_t i;
	struct stat st;
	char *buf;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	archive_write_set_format_pax_restricted(a);
	if (comp == TAR_GZIP)
		archive_write_add_filter_gzip(a);
	else if (comp == TAR_ZSTD)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	CU_ASSERT_FATAL(archive_write_open_filename(a, path) == ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_uid(ae, e[i].uid);
		archive_entry_set_gid(ae, e[i].gid);
		archive_entry_set_mtime(ae, 1700000000, 0);
		switch (e[i].type) {
		case 'c':   /* a regular file with file capabilities */
			archive_entry_xattr_add_entry(ae, "security.capability", IMGTEST_CAPS, 20);
			/* fall through */
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
			archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data ? e[i].data : ""));
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case 'H':   /* a hard link whose member carries file capabilities */
			archive_entry_xattr_add_entry(ae, "security.capability", IMGTEST_CAPS, 20);
			/* fall through */
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			break;
		}
		CU_ASSERT_FATAL(archive_write_header(a, ae) == ARCHIVE_OK);
		if ((e[i].type == 'f' || e[i].type == 'c') && e[i].data && *e[i].data)
			archive_write_data(a, e[i].data, strlen(e[i].data));
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(ae);
	if (cut_end || cut_bytes) {
		CU_ASSERT_FATAL(stat(path, &st) == 0);
		CU_ASSERT_FATAL(comp == TAR_PLAIN && st.st_size >= 1024);
		CU_ASSERT_FATAL(truncate(path, st.st_size - 1024 - (off_t)cut_bytes) == 0);
	}
	buf = read_abs(path, &len);
	CU_ASSERT_FATAL(nr__digest_of(buf, len, digest, NULL) == 0);
	*size = len;
	free(buf);
}

static inline void mklayer(const char *dir, const char *name, const tent *e, size_t n, int comp,
	char digest[72], uint64_t *size)
{
	mklayer_ex(dir, name, e, n, comp, 0, 0, digest, size);
}

#endif
