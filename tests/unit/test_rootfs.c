/*
 * test_rootfs.c: confined file access (both resolvers: openat2 and the O_NOFOLLOW walk),
 * symlink escapes, non-regular and oversized files, atomic writes, mkdir, add_user and
 * resolve_user on temporary root filesystems.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nrtest.h"

static char *tmp;       /* the test's scratch directory: tmp/root is the root filesystem */
static char root[4096];
static unsigned mode_flags;   /* 0 (openat2 when available) or NR_ROOTFS_NO_OPENAT2 */

static void put(const char *rel, const char *content)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(content, f);
	fclose(f);
}

static char *get(const char *rel)
{
	char path[4096], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static void mk(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
}

static bool exists_host(const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	return lstat(path, &st) == 0;
}

static void rm_host(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	nrtest_rmtree(path);
	unlink(path);
}

static int setup(void)
{
	if ((tmp = nrtest_tmpdir()) == NULL)
		return 1;
	snprintf(root, sizeof(root), "%s/root", tmp);
	return mkdir(root, 0755);
}

static int teardown(void)
{
	nrtest_rmtree(tmp);
	free(tmp);
	return 0;
}

/* A fresh root for each test: tmp/root with etc/passwd and etc/group; tmp/outside is the
 * host file that must never be read or written through the root. */
static nr_rootfs *fresh(void)
{
	nr_rootfs_options o = NR_ROOTFS_OPTIONS_INIT;
	nr_rootfs *rfs = NULL;
	nr_error err = NR_ERROR_INIT;

	rm_host("root");
	rm_host("outside");
	rm_host("hosthome");
	mk("root");
	mk("root/etc");
	put("root/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	put("root/etc/group", "root:x:0:\n");
	put("outside", "HOST FILE\n");
	o.flags = mode_flags;
	CU_ASSERT_EQUAL(nr_rootfs_open_ext(&rfs, root, &o, &err), 0);
	if (mode_flags & NR_ROOTFS_NO_OPENAT2)
		CU_ASSERT_EQUAL(nr_rootfs_uses_openat2(rfs), 0);
	return rfs;
}

static void expect_read(nr_rootfs *rfs, const char *path, int code, const char *want)
{
	nr_error err = NR_ERROR_INIT;
	char *buf = NULL, text[512];
	size_t len = 0;
	int rc = nr_rootfs_read_file(&buf, &len, rfs, path, 0, &err);

	nr_error_format(&err, text, sizeof(text));
	if (rc != code || (rc == 0 && strcmp(buf, want) != 0) || (rc < 0 && !strstr(text, want))) {
		fprintf(stderr, "\n  [%s] read %s: rc %d (want %d): %s / %s (want %s)\n",
			mode_flags ? "walk" : "openat2", path, rc, code, rc == 0 ? buf : "", text, want);
		CU_FAIL("unexpected read result");
	}
	nr_free(buf);
}

static void t_open_errors(void)
{
	nr_rootfs *rfs = NULL;
	nr_error err = NR_ERROR_INIT;
	char path[4096];

	snprintf(path, sizeof(path), "%s/nope", tmp);
	CU_ASSERT_EQUAL(nr_rootfs_open(&rfs, path, &err), NR_ENOTFOUND);
	CU_ASSERT_PTR_NULL(rfs);
	put("afile", "x");
	snprintf(path, sizeof(path), "%s/afile", tmp);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_rootfs_open(&rfs, path, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "not a directory");
	{
		nr_rootfs_options o = { 7, 0 };
		CU_ASSERT_EQUAL(nr_rootfs_open_ext(&rfs, root, &o, NULL), NR_EARG);
		CU_ASSERT_EQUAL(nr_rootfs_options_init(&o, NR_ROOTFS_OPTIONS_VERSION), 0);
		o.flags = 0x100;
		CU_ASSERT_EQUAL(nr_rootfs_open_ext(&rfs, root, &o, NULL), NR_EARG);
	}
	nr_rootfs_free(NULL);
}

static void t_read_basic(void)
{
	nr_rootfs *rfs = fresh();

	expect_read(rfs, "etc/passwd", 0, "root:x:0:0:root:/root:/bin/sh\n");
	expect_read(rfs, "/etc/passwd", 0, "root:x:0:0:root:/root:/bin/sh\n");
	expect_read(rfs, "/../../etc/./passwd", 0, "root:x:0:0:root:/root:/bin/sh\n");
	expect_read(rfs, "etc/shadow", NR_ENOTFOUND, "etc/shadow: open: No such file");
	expect_read(rfs, "nodir/passwd", NR_ENOTFOUND, "nodir/passwd: resolve: No such file");
	expect_read(rfs, "etc", NR_EINVALID, "etc: not a regular file (a directory)");
	expect_read(rfs, "/", NR_EINVALID, "not a regular file (a directory)");
	expect_read(rfs, "etc/passwd/x", NR_EIO, "Not a directory");
	CU_ASSERT_EQUAL(nr_rootfs_exists(rfs, "etc/passwd", NULL), 1);
	CU_ASSERT_EQUAL(nr_rootfs_exists(rfs, "etc/nope", NULL), 0);
	CU_ASSERT_EQUAL(nr_rootfs_exists(rfs, "nodir/nope", NULL), 0);
	CU_ASSERT_EQUAL(nr_rootfs_exists(rfs, "etc", NULL), 1);
	nr_rootfs_free(rfs);
}

static void t_non_regular_and_big(void)
{
	nr_rootfs *rfs = fresh();
	nr_error err = NR_ERROR_INIT;
	char path[4096], *buf = NULL;
	size_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/etc/shadow", root);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	expect_read(rfs, "etc/shadow", NR_EINVALID, "etc/shadow: not a regular file (a FIFO)");
	/* writing over a FIFO is refused too */
	CU_ASSERT_EQUAL(nr_rootfs_write_file(rfs, "etc/shadow", "x", 1, 0600, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "etc/shadow: refusing to replace a file that is not");
	mk("root/etc/gshadow");
	expect_read(rfs, "etc/gshadow", NR_EINVALID, "not a regular file (a directory)");
	/* 10 MiB + 1 (sparse): over the default cap */
	snprintf(path, sizeof(path), "%s/etc/big", root);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(ftruncate(fd, NR_ROOTFS_FILE_MAX + 1), 0);
	close(fd);
	expect_read(rfs, "etc/big", NR_ETOOBIG, "etc/big: file is 10485761 bytes, over the limit");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_rootfs_read_file(&buf, &len, rfs, "etc/passwd", 5, &err), NR_ETOOBIG);
	CU_ASSERT_PTR_NULL(buf);
	nr_rootfs_free(rfs);
}

static void t_symlink_escape_absolute(void)
{
	nr_rootfs *rfs = fresh();
	nr_error err = NR_ERROR_INIT;
	char *s;

	rm_host("root/etc/passwd");
	ln("/../../outside", "root/etc/passwd");
	/* the container sees ROOT/outside, which does not exist: never the host file */
	expect_read(rfs, "etc/passwd", NR_ENOTFOUND, "No such file");
	put("root/outside", "INSIDE\n");
	expect_read(rfs, "etc/passwd", 0, "INSIDE\n");
	CU_ASSERT_EQUAL(nr_rootfs_write_file(rfs, "etc/passwd", "new\n", 4, 0644, &err), 0);
	s = get("outside");
	CU_ASSERT_STRING_EQUAL(s, "HOST FILE\n");
	free(s);
	s = get("root/outside");
	CU_ASSERT_STRING_EQUAL(s, "new\n");
	free(s);
	/* the symlink itself stays */
	{
		char target[256];
		char path[4096];
		ssize_t n;
		snprintf(path, sizeof(path), "%s/etc/passwd", root);
		n = readlink(path, target, sizeof(target) - 1);
		CU_ASSERT(n > 0);
		target[n > 0 ? n : 0] = '\0';
		CU_ASSERT_STRING_EQUAL(target, "/../../outside");
	}
	nr_rootfs_free(rfs);
}

static void t_symlink_escape_relative(void)
{
	nr_rootfs *rfs = fresh();
	char *s;

	rm_host("root/etc/passwd");
	ln("../../../../../outside", "root/etc/passwd");
	expect_read(rfs, "etc/passwd", NR_ENOTFOUND, "No such file");
	CU_ASSERT_EQUAL(nr_rootfs_write_file(rfs, "etc/passwd", "rel\n", 4, 0644, NULL), 0);
	s = get("outside");
	CU_ASSERT_STRING_EQUAL(s, "HOST FILE\n");
	free(s);
	s = get("root/outside");
	CU_ASSERT_STRING_EQUAL(s, "rel\n");
	free(s);
	nr_rootfs_free(rfs);
}

static void t_symlink_dirs(void)
{
	nr_rootfs *rfs = fresh();
	nr_error err = NR_ERROR_INIT;

	/* etc -> usr/etc (relative), usr/etc/passwd -> ../lib/passwd: physical "..": usr/lib */
	rm_host("root/etc");
	mk("root/usr");
	mk("root/usr/etc");
	mk("root/usr/lib");
	ln("usr/etc", "root/etc");
	ln("../lib/passwd", "root/usr/etc/passwd");
	put("root/usr/lib/passwd", "app:x:1:1:::\n");
	expect_read(rfs, "etc/passwd", 0, "app:x:1:1:::\n");
	/* a directory symlink pointing above the root: stays at the root */
	ln("/../../..", "root/up");
	put("root/passwd", "top\n");
	expect_read(rfs, "up/passwd", 0, "top\n");
	expect_read(rfs, "up/outside", NR_ENOTFOUND, "No such file");
	ln("../../", "root/usr/lib/up2");
	expect_read(rfs, "usr/lib/up2/../../passwd", 0, "top\n");
	/* absolute symlink inside the root */
	ln("/usr/lib/passwd", "root/abs");
	expect_read(rfs, "abs", 0, "app:x:1:1:::\n");
	/* loops */
	ln("loop2", "root/loop1");
	ln("loop1", "root/loop2");
	expect_read(rfs, "loop1", NR_EIO, "Too many levels of symbolic links");
	ln("dloop/x", "root/dloop");
	expect_read(rfs, "dloop/passwd", NR_EIO, "Too many levels of symbolic links");
	CU_ASSERT(nr_rootfs_exists(rfs, "loop1", &err) < 0);
	nr_rootfs_free(rfs);
}

static void t_write_keeps_mode(void)
{
	nr_rootfs *rfs = fresh();
	nr_error err = NR_ERROR_INIT;
	struct stat st;
	char path[4096], *s;

	snprintf(path, sizeof(path), "%s/etc/shadow", root);
	put("root/etc/shadow", "root:*:1::::::\n");
	CU_ASSERT_EQUAL(chmod(path, 0640), 0);
	CU_ASSERT_EQUAL(chown(path, 0, 42), 0);
	CU_ASSERT_EQUAL(nr_rootfs_write_file(rfs, "/etc/shadow", "x\n", 2, 0600, &err), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
	CU_ASSERT_EQUAL(st.st_gid, 42);
	s = get("root/etc/shadow");
	CU_ASSERT_STRING_EQUAL(s, "x\n");
	free(s);
	CU_ASSERT_EQUAL(nr_rootfs_write_file(rfs, "etc/newfile", "n", 1, 0604, &err), 0);
	snprintf(path, sizeof(path), "%s/etc/newfile", root);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0604);
	CU_ASSERT_EQUAL(nr_rootfs_write_file(rfs, "nodir/f", "n", 1, 0644, &err), NR_ENOTFOUND);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_rootfs_write_file(rfs, "etc/..", "n", 1, 0644, &err), NR_EINVALID);
	/* no temp files left behind */
	CU_ASSERT_FALSE(exists_host("root/etc/.passwd.nr-"));
	nr_rootfs_free(rfs);
}

static void t_mkdir(void)
{
	nr_rootfs *rfs = fresh();
	nr_error err = NR_ERROR_INIT;
	struct stat st;
	char path[4096];

	CU_ASSERT_EQUAL(nr_rootfs_mkdir(rfs, "/home/app", 0750, 1654, 1655, &err), 0);
	snprintf(path, sizeof(path), "%s/home/app", root);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0750);
	CU_ASSERT_EQUAL(st.st_uid, 1654);
	CU_ASSERT_EQUAL(st.st_gid, 1655);
	snprintf(path, sizeof(path), "%s/home", root);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, geteuid());
	CU_ASSERT_EQUAL(nr_rootfs_mkdir(rfs, "home/app", 0755, 1, 1, &err), NR_EEXISTS);
	/* through an escaping symlink: created inside */
	ln("/../../hosthome", "root/hh");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_rootfs_mkdir(rfs, "hh/app", 0755, 0, 0, &err), NR_ENOTFOUND);
	mk("root/hosthome");
	CU_ASSERT_EQUAL(nr_rootfs_mkdir(rfs, "hh/app", 0755, 0, 0, NULL), 0);
	CU_ASSERT_TRUE(exists_host("root/hosthome/app"));
	CU_ASSERT_FALSE(exists_host("hosthome"));
	nr_rootfs_free(rfs);
}

static void t_add_user(void)
{
	nr_rootfs *rfs = fresh();
	nr_adduser_options o;
	nr_adduser_result r;
	nr_error err = NR_ERROR_INIT;
	struct stat st;
	char path[4096], *s;

	put("root/etc/shadow", "root:*:19000:0:99999:7:::\n");
	put("root/etc/gshadow", "root:*::\n");
	mk("root/sbin");
	put("root/sbin/nologin", "");
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CU_ASSERT_EQUAL(nr_adduser_options_init(&o, NR_ADDUSER_OPTIONS_VERSION), 0);
	o.name = "app";
	o.uid = 1654;
	o.gid = 1654;
	o.flags = NR_ADDUSER_CREATE_HOME;
	CU_ASSERT_EQUAL_FATAL(nr_rootfs_add_user(&r, rfs, &o, &err), 0);
	CU_ASSERT_EQUAL(r.uid, 1654);
	CU_ASSERT_EQUAL(r.gid, 1654);
	CU_ASSERT_EQUAL(r.group_created, 1);
	CU_ASSERT_EQUAL(r.home_created, 1);
	CU_ASSERT_EQUAL(r.shadow_updated, 1);
	CU_ASSERT_EQUAL(r.gshadow_updated, 1);
	CU_ASSERT_EQUAL(r.existed, 0);
	s = get("root/etc/passwd");
	CU_ASSERT_STRING_EQUAL(s, "root:x:0:0:root:/root:/bin/sh\n"
		"app:x:1654:1654::/home/app:/sbin/nologin\n");
	free(s);
	s = get("root/etc/group");
	CU_ASSERT_STRING_EQUAL(s, "root:x:0:\napp:x:1654:\n");
	free(s);
	s = get("root/etc/shadow");
	CU_ASSERT_STRING_EQUAL(s, "root:*:19000:0:99999:7:::\napp:!:19675::::::\n");
	free(s);
	s = get("root/etc/gshadow");
	CU_ASSERT_STRING_EQUAL(s, "root:*::\napp:!::\n");
	free(s);
	snprintf(path, sizeof(path), "%s/home/app", root);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, 1654);
	CU_ASSERT_EQUAL(st.st_gid, 1654);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);

	/* again: exists (its line named); with EXIST_OK and the same ids: fine */
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_EEXISTS);
	NRTEST_ASSERT_ERR(&err, NR_EEXISTS, "etc/passwd:2: user 'app' exists already (uid 1654, gid 1654)");
	o.flags |= NR_ADDUSER_EXIST_OK;
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), 0);
	CU_ASSERT_EQUAL(r.existed, 1);
	CU_ASSERT_EQUAL(r.home_created, 0);
	o.uid = 1655;
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_EEXISTS);

	/* automatic ids, existing group reused by gid, no home */
	nr_adduser_options_init(&o, NR_ADDUSER_OPTIONS_VERSION);
	o.name = "worker";
	o.gid = 1654;
	o.shell = "/bin/false";
	o.home = "/srv/worker";
	nr_error_clear(&err);
	CU_ASSERT_EQUAL_FATAL(nr_rootfs_add_user(&r, rfs, &o, &err), 0);
	CU_ASSERT_EQUAL(r.uid, 1000);
	CU_ASSERT_EQUAL(r.gid, 1654);
	CU_ASSERT_EQUAL(r.group_created, 0);
	CU_ASSERT_EQUAL(r.home_created, 0);
	CU_ASSERT_FALSE(exists_host("root/srv/worker"));
	s = get("root/etc/passwd");
	CU_ASSERT(strstr(s, "\nworker:x:1000:1654::/srv/worker:/bin/false\n") != NULL);
	free(s);
	s = get("root/etc/gshadow");
	CU_ASSERT_STRING_EQUAL(s, "root:*::\napp:!::\n");
	free(s);

	/* system range, downward like useradd -r: uid = gid */
	nr_adduser_options_init(&o, NR_ADDUSER_OPTIONS_VERSION);
	o.name = "svc";
	o.id_first = NR_SYS_ID_MAX;
	o.id_last = NR_SYS_ID_MIN;
	CU_ASSERT_EQUAL_FATAL(nr_rootfs_add_user(&r, rfs, &o, &err), 0);
	CU_ASSERT_EQUAL(r.uid, 999);
	CU_ASSERT_EQUAL(r.gid, 999);
	s = get("root/etc/group");
	CU_ASSERT(strstr(s, "\nsvc:x:999:\n") != NULL);
	free(s);

	/* conflicts: uid taken, group name with another gid, bad names: nothing written */
	nr_adduser_options_init(&o, NR_ADDUSER_OPTIONS_VERSION);
	o.name = "other";
	o.uid = 1654;
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_ECONFLICT);
	NRTEST_ASSERT_ERR(&err, NR_ECONFLICT, "etc/passwd:2: uid 1654 is already used by user 'app'");
	nr_error_clear(&err);
	o.name = "svc2";
	o.uid = NR_ID_AUTO;
	put("root/etc/group", "root:x:0:\napp:x:1654:\nsvc:x:999:\nsvc2:x:5000:\n");
	o.gid = 6000;
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_ECONFLICT);
	NRTEST_ASSERT_ERR(&err, NR_ECONFLICT, "etc/group:4: group 'svc2' exists already with gid 5000, not 6000");
	nr_error_clear(&err);
	o.name = "bad:name";
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "name: invalid name 'bad:name': must not contain ':'");
	nr_error_clear(&err);
	o.name = "x";
	o.home = "home/x";
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "home: invalid home 'home/x': must be an absolute path");
	nr_error_clear(&err);
	o.home = NULL;
	o.shell = "sh";
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "shell: invalid shell 'sh': must be an absolute path");
	nr_error_clear(&err);
	o.shell = "/bin/sh\n";
	CU_ASSERT_EQUAL(nr_rootfs_add_user(&r, rfs, &o, &err), NR_EINVALID);
	s = get("root/etc/group");
	CU_ASSERT(strstr(s, "\nx:") == NULL);   /* the group was not written either */
	free(s);
	unsetenv("SOURCE_DATE_EPOCH");
	nr_rootfs_free(rfs);
}

static void t_add_user_bare_root(void)
{
	nr_adduser_options o = NR_ADDUSER_OPTIONS_INIT;
	nr_rootfs_options ro = NR_ROOTFS_OPTIONS_INIT;
	nr_rootfs *rfs;
	nr_error err = NR_ERROR_INIT;
	char *s;

	/* scratch image: no etc at all, no shadow, no /sbin/nologin */
	nrtest_rmtree(root);
	mk("root");
	ro.flags = mode_flags;
	CU_ASSERT_EQUAL_FATAL(nr_rootfs_open_ext(&rfs, root, &ro, &err), 0);
	o.name = "app";
	CU_ASSERT_EQUAL_FATAL(nr_rootfs_add_user(NULL, rfs, &o, &err), 0);
	s = get("root/etc/passwd");
	CU_ASSERT_STRING_EQUAL(s, "app:x:1000:1000::/home/app:/bin/false\n");
	free(s);
	s = get("root/etc/group");
	CU_ASSERT_STRING_EQUAL(s, "app:x:1000:\n");
	free(s);
	CU_ASSERT_FALSE(exists_host("root/etc/shadow"));
	/* a FIFO passwd is refused before anything is written */
	{
		char path[4096];
		snprintf(path, sizeof(path), "%s/etc/passwd", root);
		unlink(path);
		CU_ASSERT_EQUAL(mkfifo(path, 0644), 0);
		o.name = "b";
		CU_ASSERT_EQUAL(nr_rootfs_add_user(NULL, rfs, &o, &err), NR_EINVALID);
		NRTEST_ASSERT_ERR(&err, NR_EINVALID, "etc/passwd: not a regular file (a FIFO)");
	}
	nr_rootfs_free(rfs);
}

static void t_resolve_user(void)
{
	nr_rootfs *rfs = fresh();
	nr_error err = NR_ERROR_INIT;
	nr_exec_user u;

	put("root/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/x\n");
	put("root/etc/group", "root:x:0:\napp:x:1654:\nextra:x:50:app\n");
	CU_ASSERT_EQUAL(nr_rootfs_resolve_user(&u, rfs, "app", NULL, &err), 0);
	CU_ASSERT_EQUAL(u.uid, 1654);
	CU_ASSERT_EQUAL(u.gid, 1654);
	CU_ASSERT_STRING_EQUAL(u.home, "/home/app");
	CU_ASSERT_STRING_EQUAL(u.name, "app");
	CU_ASSERT_EQUAL_FATAL(u.n_additional_gids, 1);
	CU_ASSERT_EQUAL(u.additional_gids[0], 50);
	nr_exec_user_dispose(&u);
	CU_ASSERT_EQUAL(nr_rootfs_resolve_user(&u, rfs, "nobody", NULL, &err), NR_ENOTFOUND);
	NRTEST_ASSERT_ERR(&err, NR_ENOTFOUND,
		"unable to find user nobody: no matching entries in passwd file");
	/* no group file: like runc, no groups */
	rm_host("root/etc/group");
	CU_ASSERT_EQUAL(nr_rootfs_resolve_user(&u, rfs, "app", NULL, NULL), 0);
	CU_ASSERT_EQUAL(u.n_additional_gids, 0);
	nr_exec_user_dispose(&u);
	nr_rootfs_free(rfs);
}

#define BOTH(fn) \
	static void fn##_openat2(void) { mode_flags = 0; fn(); } \
	static void fn##_walk(void) { mode_flags = NR_ROOTFS_NO_OPENAT2; fn(); }
BOTH(t_read_basic)
BOTH(t_non_regular_and_big)
BOTH(t_symlink_escape_absolute)
BOTH(t_symlink_escape_relative)
BOTH(t_symlink_dirs)
BOTH(t_write_keeps_mode)
BOTH(t_mkdir)
BOTH(t_add_user)
BOTH(t_add_user_bare_root)
BOTH(t_resolve_user)

static void t_openat2_available(void)
{
	nr_rootfs *rfs;

	mode_flags = 0;
	rfs = fresh();
	/* This kernel (>= 5.6) has openat2; if a sandbox hides it, the walk is used instead. */
	if (!nr_rootfs_uses_openat2(rfs))
		fprintf(stderr, "\n  note: openat2 unavailable here; default mode used the walk\n");
	nr_rootfs_free(rfs);
}

#define T2(fn, name) { name " [openat2]", fn##_openat2 }, { name " [walk]", fn##_walk }
static CU_TestInfo tests[] = {
	{ "open errors and options", t_open_errors },
	{ "openat2 availability", t_openat2_available },
	T2(t_read_basic, "read, missing, directories"),
	T2(t_non_regular_and_big, "FIFO, directory, over 10 MiB"),
	T2(t_symlink_escape_absolute, "symlink escape /../../outside"),
	T2(t_symlink_escape_relative, "symlink escape ../../../outside"),
	T2(t_symlink_dirs, "directory symlinks, absolute links, loops"),
	T2(t_write_keeps_mode, "atomic write keeps mode and owner"),
	T2(t_mkdir, "mkdir with parents and owner"),
	T2(t_add_user, "add user: passwd, group, shadow, gshadow, home"),
	T2(t_add_user_bare_root, "add user to a root without etc"),
	T2(t_resolve_user, "resolve user"),
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "rootfs", setup, teardown, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
