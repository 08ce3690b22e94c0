/*
 * test_blobs.c: digests, verified blob reads, the staging area and file copies.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imgtest.h"
#include "fileio.h"

#define EMPTY_SHA "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_digest_check(void)
{
	nr_error err = NR_ERROR_INIT;
	char hex[65];

	CU_ASSERT_EQUAL(nr__digest_check(ABC_SHA, hex, "f", &err), 0);
	CU_ASSERT_STRING_EQUAL(hex, &ABC_SHA[7]);
	CU_ASSERT_EQUAL(nr__digest_check("sha512:abcd", NULL, "layers[0]", &err), NR_EUNSUPPORTED);
	NRTEST_ASSERT_ERR(&err, NR_EUNSUPPORTED, "layers[0]");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__digest_check("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		NULL, "f", &err), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__digest_check("sha256:../../../etc/passwd", NULL, NULL, NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__digest_check(ABC_SHA "0", NULL, NULL, NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__digest_check("sha256:", NULL, NULL, NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__digest_check("nonsense", NULL, NULL, NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr__digest_check(NULL, NULL, NULL, NULL), NR_EINVALID);
}

static void test_digest_of(void)
{
	char d[72], path[96];

	CU_ASSERT_EQUAL(nr__digest_of("", 0, d, NULL), 0);
	CU_ASSERT_STRING_EQUAL(d, EMPTY_SHA);
	CU_ASSERT_EQUAL(nr__digest_of("abc", 3, d, NULL), 0);
	CU_ASSERT_STRING_EQUAL(d, ABC_SHA);
	CU_ASSERT_EQUAL(nr__blob_path(ABC_SHA, path, NULL), 0);
	CU_ASSERT_STRING_EQUAL(path, "blobs/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_blob_read(void)
{
	char *dir = nrtest_tmpdir(), path[4096], *out = NULL;
	nr_error err = NR_ERROR_INIT;
	size_t len = 0;
	int dfd;

	snprintf(path, sizeof(path), "%s/b", dir);
	write_abs(path, "abc", 3);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_EQUAL(nr__blob_read(&out, &len, dfd, "b", ABC_SHA, 3, 100, &err), 0);
	CU_ASSERT_STRING_EQUAL(out, "abc");
	CU_ASSERT_EQUAL(len, 3);
	free(out);
	CU_ASSERT_EQUAL(nr__blob_read(&out, &len, dfd, "b", ABC_SHA, UINT64_MAX, 100, &err), 0);
	free(out);
	/* wrong digest */
	CU_ASSERT_EQUAL(nr__blob_read(&out, &len, dfd, "b", EMPTY_SHA, 3, 100, &err), NR_EDIGEST);
	CU_ASSERT_PTR_NULL(out);
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, EMPTY_SHA);
	nr_error_clear(&err);
	/* wrong size */
	CU_ASSERT_EQUAL(nr__blob_read(&out, &len, dfd, "b", ABC_SHA, 4, 100, &err), NR_EDIGEST);
	NRTEST_ASSERT_ERR(&err, NR_EDIGEST, "size");
	nr_error_clear(&err);
	/* over the limit */
	CU_ASSERT_EQUAL(nr__blob_read(&out, &len, dfd, "b", ABC_SHA, 3, 2, &err), NR_ETOOBIG);
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__blob_read(&out, &len, dfd, "b", ABC_SHA, UINT64_MAX, 2, &err),
		NR_ETOOBIG);
	nr_error_clear(&err);
	/* missing */
	CU_ASSERT_EQUAL(nr__blob_read(&out, &len, dfd, "nope", ABC_SHA, 3, 100, &err), NR_ENOTFOUND);
	NRTEST_ASSERT_ERR(&err, NR_ENOTFOUND, "blob missing");
	close(dfd);
	nrtest_rmtree(dir);
	free(dir);
}

static void test_staging_and_writer(void)
{
	nr__staging st = { NULL, -1, NULL };
	nr_error err = NR_ERROR_INIT;
	char d[72];
	uint64_t size = 0;
	char *path;

	CU_ASSERT_FALSE(nr__staging_has(&st, ABC_SHA, NULL));
	CU_ASSERT_EQUAL(nr__staging_put(&st, "abc", 3, d, &err), 0);
	CU_ASSERT_STRING_EQUAL(d, ABC_SHA);
	CU_ASSERT_TRUE(nr__staging_has(&st, ABC_SHA, &size));
	CU_ASSERT_EQUAL(size, 3);
	CU_ASSERT_FALSE(nr__staging_has(&st, EMPTY_SHA, NULL));
	CU_ASSERT_FALSE(nr__staging_has(&st, "sha256:../x", NULL));
	path = nr__strdup(st.path);
	nr__staging_dispose(&st);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);   /* removed */
	free(path);
}

static void test_copy(void)
{
	char *dir = nrtest_tmpdir(), path[4096], *buf;
	nr_error err = NR_ERROR_INIT;
	size_t len;
	int dfd;

	snprintf(path, sizeof(path), "%s/src", dir);
	write_abs(path, "content", 7);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_EQUAL(nr__mkdirs_at(dfd, "a/b/c", &err), 0);
	CU_ASSERT_EQUAL(nr__file_copy_at(dfd, "src", dfd, "a/b/c/dst", NULL, &err), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/dst", dir);
	buf = read_abs(path, &len);
	CU_ASSERT_STRING_EQUAL(buf, "content");
	free(buf);
	/* an existing target is left alone (content-addressed) */
	CU_ASSERT_EQUAL(nr__file_copy_at(dfd, "missing", dfd, "a/b/c/dst", NULL, &err), 0);
	CU_ASSERT_NOT_EQUAL(nr__file_copy_at(dfd, "missing", dfd, "a/x", NULL, &err), 0);
	close(dfd);
	nrtest_rmtree(dir);
	free(dir);
}

/* With a digest: an existing target is verified before reuse (a planted same-named file is
 * replaced), a source that does not hash to the digest is refused, nothing is left behind. */
static void test_copy_verified(void)
{
	char *dir = nrtest_tmpdir(), path[4096], *buf;
	nr_error err = NR_ERROR_INIT;
	size_t len;
	int dfd;

	snprintf(path, sizeof(path), "%s/src", dir);
	write_abs(path, "abc", 3);
	snprintf(path, sizeof(path), "%s/bad", dir);
	write_abs(path, "abd", 3);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_EQUAL(nr__mkdirs_at(dfd, "out", &err), 0);
	snprintf(path, sizeof(path), "%s/out/dst", dir);
	write_abs(path, "xyz", 3);   /* planted: right name, wrong content */
	CU_ASSERT_EQUAL(nr__file_copy_at(dfd, "src", dfd, "out/dst", ABC_SHA, &err), 0);
	buf = read_abs(path, &len);
	CU_ASSERT_STRING_EQUAL(buf, "abc");
	free(buf);
	CU_ASSERT_EQUAL(nr__file_copy_at(dfd, "bad", dfd, "out/new", ABC_SHA, &err), NR_EDIGEST);
	snprintf(path, sizeof(path), "%s/out/new", dir);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	/* a source that is not ours is copied (not linked) and the copy verified */
	snprintf(path, sizeof(path), "%s/src", dir);
	CU_ASSERT_EQUAL(chmod(path, 0666), 0);
	CU_ASSERT_EQUAL(nr__file_copy_at(dfd, "src", dfd, "out/copy", ABC_SHA, &err), 0);
	{
		struct stat a, b;
		CU_ASSERT_EQUAL(fstatat(dfd, "src", &a, 0), 0);
		CU_ASSERT_EQUAL(fstatat(dfd, "out/copy", &b, 0), 0);
		CU_ASSERT_NOT_EQUAL(a.st_ino, b.st_ino);
		CU_ASSERT_EQUAL(b.st_mode & 07777, 0644);
	}
	{
		/* only the two targets are in out/: no temp file left */
		DIR *d = opendir(strcat(strcpy(path, dir), "/out"));
		struct dirent *de;
		int n = 0;
		while (d && (de = readdir(d)) != NULL)
			n += de->d_name[0] != '.';
		if (d)
			closedir(d);
		CU_ASSERT_EQUAL(n, 2);
	}
	close(dfd);
	nrtest_rmtree(dir);
	free(dir);
}

/* Directories on the way to a target are never followed through a symlink. */
static void test_copy_no_symlinked_dirs(void)
{
	char *dir = nrtest_tmpdir(), *outside = nrtest_tmpdir(), path[4096];
	nr_error err = NR_ERROR_INIT;
	int dfd;

	snprintf(path, sizeof(path), "%s/src", dir);
	write_abs(path, "abc", 3);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	CU_ASSERT_EQUAL(symlink(outside, path), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_EQUAL(nr__mkdirs_at(dfd, "blobs/sha256", &err), NR_EINVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "symlink"));
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr__file_copy_at(dfd, "src", dfd, "blobs/x", ABC_SHA, &err), NR_EINVALID);
	snprintf(path, sizeof(path), "%s/x", outside);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	close(dfd);
	nrtest_rmtree(dir);
	nrtest_rmtree(outside);
	free(dir);
	free(outside);
}

static void test_temp_names(void)
{
	char name[128];
	long pid = -1;

	CU_ASSERT_EQUAL(nr__temp_name(name, sizeof(name), "y.tar"), 0);
	CU_ASSERT_TRUE(nr__temp_name_parse(name, "y.tar", &pid));
	CU_ASSERT_EQUAL(pid, (long)getpid());
	CU_ASSERT_FALSE(nr__temp_name_parse(name, "y.ta", &pid));
	CU_ASSERT_FALSE(nr__temp_name_parse(name, "x.tar", &pid));
	CU_ASSERT_TRUE(nr__temp_name_parse(name, NULL, &pid));
	CU_ASSERT_TRUE(nr__temp_name_parse(".y.tar.nr-0123456789abcdef01234567", "y.tar", &pid));
	CU_ASSERT_EQUAL(pid, 0);
	CU_ASSERT_TRUE(nr__temp_name_parse(".a1.nr-77-0123456789abcdef01234567", "a1", &pid));
	CU_ASSERT_EQUAL(pid, 77);
	CU_ASSERT_FALSE(nr__temp_name_parse(".y.tar.nr-077-0123456789abcdef01234567", "y.tar", &pid));
	CU_ASSERT_FALSE(nr__temp_name_parse(".y.tar.nr-12-0123456789abcdef0123456", "y.tar", &pid));
	CU_ASSERT_FALSE(nr__temp_name_parse("y.tar.nr-12-0123456789abcdef01234567", "y.tar", &pid));
	CU_ASSERT_FALSE(nr__temp_name_parse(".y.tar.xx-12-0123456789abcdef01234567", "y.tar", &pid));
	CU_ASSERT_FALSE(nr__temp_name_parse(".y.tar.nr-12-0123456789ABCDEF01234567", "y.tar", &pid));
}

/* A file of a dead pid goes; a live pid's, another stem's, a symlink, a directory stay. */
static void test_temp_stale(void)
{
	char *dir = nrtest_tmpdir(), dead[32], live[32], p[4096];
	const char *hex = "0123456789abcdef01234567";
	pid_t child;
	int dfd, st, lockfd;
	struct stat sb;
	uint64_t bytes = 0;

	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &st, 0);
	snprintf(dead, sizeof(dead), "%ld", (long)child);
	snprintf(live, sizeof(live), "%ld", (long)getppid());
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(dfd >= 0);
#define MK(fmt, a) do { snprintf(p, sizeof(p), "%s/" fmt, dir, a, hex); \
		CU_ASSERT_EQUAL(close(open(p, O_CREAT | O_WRONLY, 0600)), 0); } while (0)
	MK(".y.tar.nr-%s-%s", dead);
	MK(".y.tar.nr-%s-%s", live);
	MK(".z.tar.nr-%s-%s", dead);
#undef MK
	snprintf(p, sizeof(p), "%s/y.tar.nr-tmp-%s", dir, dead);
	CU_ASSERT_EQUAL(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);
	snprintf(p, sizeof(p), "%s/.y.tar.nr-%s-abcdefabcdefabcdefabcdef", dir, dead);
	CU_ASSERT_EQUAL(symlink("/nonexistent", p), 0);
	/* a dead pid's file whose lock is held (a live writer in another pid namespace) */
	snprintf(p, sizeof(p), "%s/.y.tar.nr-%s-fedcba9876543210fedcba98", dir, dead);
	lockfd = open(p, O_CREAT | O_RDWR, 0600);
	CU_ASSERT_FATAL(lockfd >= 0);
	CU_ASSERT_EQUAL(flock(lockfd, LOCK_EX), 0);
	CU_ASSERT_EQUAL(nr__temp_remove_stale_at(dfd, "y.tar", &bytes), 2);
	snprintf(p, sizeof(p), "%s/.y.tar.nr-%s-%s", dir, dead, hex);
	CU_ASSERT_NOT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/y.tar.nr-tmp-%s", dir, dead);
	CU_ASSERT_NOT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/.y.tar.nr-%s-%s", dir, live, hex);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/.z.tar.nr-%s-%s", dir, dead, hex);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/.y.tar.nr-%s-abcdefabcdefabcdefabcdef", dir, dead);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/.y.tar.nr-%s-fedcba9876543210fedcba98", dir, dead);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	close(lockfd);
	/* its lock released: now it goes */
	CU_ASSERT_EQUAL(nr__temp_remove_stale_at(dfd, "y.tar", NULL), 1);
	CU_ASSERT_NOT_EQUAL(lstat(p, &sb), 0);
	close(dfd);
	nrtest_rmtree(dir);
	free(dir);
}

static long dead_pid(void)
{
	int st;
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	waitpid(child, &st, 0);
	return (long)child;
}

static void mkfile(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(data, f);
	fclose(f);
}

/* $TMPDIR/nonroot-<what>-<pid>-XXXXXX of a dead pid goes, with its content but nothing a
 * symlink in it points to; a live pid's, a locked one's, an older name, a symlink stay. */
static void test_temp_stale_dirs(void)
{
	char *dir = nrtest_tmpdir(), p[4096], q[4096];
	long dead = dead_pid();
	uint64_t bytes = 0;
	struct stat sb;
	int lockfd;

	snprintf(p, sizeof(p), "%s/outside", dir);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/outside/keep", dir);
	mkfile(p, "keep");
	/* the dead run's tree: files, a read-only subdirectory, symlinks out */
	snprintf(p, sizeof(p), "%s/nonroot-archive-%ld-AbC123", dir, dead);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/nonroot-archive-%ld-AbC123/sub", dir, dead);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/nonroot-archive-%ld-AbC123/sub/f", dir, dead);
	mkfile(p, "0123456789");
	snprintf(p, sizeof(p), "%s/nonroot-archive-%ld-AbC123/sub", dir, dead);
	CU_ASSERT_EQUAL(chmod(p, 0500), 0);
	snprintf(p, sizeof(p), "%s/nonroot-archive-%ld-AbC123/g", dir, dead);
	mkfile(p, "abc");
	snprintf(q, sizeof(q), "%s/outside", dir);
	snprintf(p, sizeof(p), "%s/nonroot-archive-%ld-AbC123/link", dir, dead);
	CU_ASSERT_EQUAL(symlink(q, p), 0);
	/* a live pid's, a locked one's, the older name without a pid, a symlink to outside */
	snprintf(p, sizeof(p), "%s/nonroot-out-%ld-xyz789", dir, (long)getpid());
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/nonroot-blobs-%ld-LOCKED", dir, dead);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	lockfd = open(p, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_FATAL(lockfd >= 0);
	CU_ASSERT_EQUAL(flock(lockfd, LOCK_EX), 0);
	snprintf(p, sizeof(p), "%s/nonroot-archive-AbC123", dir);
	CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/nonroot-registry-%ld-LINKED", dir, dead);
	CU_ASSERT_EQUAL(symlink(q, p), 0);

	CU_ASSERT_EQUAL(nr__temp_remove_stale_dirs(dir, &bytes), 1);
	CU_ASSERT_EQUAL(bytes, 13);
	snprintf(p, sizeof(p), "%s/nonroot-archive-%ld-AbC123", dir, dead);
	CU_ASSERT_NOT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/outside/keep", dir);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/nonroot-out-%ld-xyz789", dir, (long)getpid());
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/nonroot-blobs-%ld-LOCKED", dir, dead);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/nonroot-archive-AbC123", dir);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	snprintf(p, sizeof(p), "%s/nonroot-registry-%ld-LINKED", dir, dead);
	CU_ASSERT_EQUAL(lstat(p, &sb), 0);
	CU_ASSERT_TRUE(S_ISLNK(sb.st_mode));
	close(lockfd);
	CU_ASSERT_EQUAL(nr__temp_remove_stale_dirs(dir, NULL), 1);   /* the unlocked one */
	CU_ASSERT_TRUE(nr__temp_dir_name_parse("nonroot-out-12-aB3xYz", &dead));
	CU_ASSERT_EQUAL(dead, 12);
	CU_ASSERT_FALSE(nr__temp_dir_name_parse("nonroot-out-012-aB3xYz", &dead));
	CU_ASSERT_FALSE(nr__temp_dir_name_parse("nonroot-out-12-aB3xY", &dead));
	CU_ASSERT_FALSE(nr__temp_dir_name_parse("nonroot-out-aB3xYz", &dead));
	CU_ASSERT_FALSE(nr__temp_dir_name_parse("nonroot-verify-12-aB3.Yz", &dead));
	nrtest_rmtree(dir);
	free(dir);
}

static CU_TestInfo tests[] = {
	{ "digest check", test_digest_check },
	{ "digest of", test_digest_of },
	{ "verified blob read", test_blob_read },
	{ "staging", test_staging_and_writer },
	{ "file copy", test_copy },
	{ "file copy verifies against the digest", test_copy_verified },
	{ "file copy never follows symlinked dirs", test_copy_no_symlinked_dirs },
	{ "temp file names carry the pid", test_temp_names },
	{ "stale temp files of dead writers are removed", test_temp_stale },
	{ "stale temp dirs of dead runs are removed", test_temp_stale_dirs },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "blobs", NULL, NULL, NULL, NULL, tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
