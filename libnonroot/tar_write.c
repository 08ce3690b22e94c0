/*
 * tar_write.c: cloning the unpacked tree and writing a directory tree back as a tar archive
 * (archive members that were links written back as links).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image_model.h"
#include "fileio.h"

/* "sha256:<hex>" when rel names a blob of a layout (blobs/sha256/<64 hex>), else NULL. */
static const char *blob_digest(const char *rel, char out[NR_DIGEST_SIZE])
{
	const char *p = strstr(rel, "blobs/sha256/");

	if (p == NULL || (p != rel && p[-1] != '/'))
		return NULL;
	snprintf(out, NR_DIGEST_SIZE, "sha256:%.64s", p + 13);
	return strlen(p + 13) == 64 && nr__digest_check(out, NULL, NULL, NULL) == 0 ? out : NULL;
}

/* Clone the unpacked tree into dir `to` with hard links (no symlinks exist in it); blobs
 * are verified against their names. */
int nr__clone_tree(int from, int to, const char *rel, nr_error *err)
{
	DIR *d;
	struct dirent *de;
	int fd, error = 0;
	char sub[4096], digest[NR_DIGEST_SIZE];

	fd = openat(from, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return nr__error_errno(err, errno, rel, "open directory");
	}
	while ((de = readdir(d)) != NULL && error == 0) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (fstatat(from, sub, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, sub, 0755) < 0 && errno != EEXIST)
				error = nr__error_errno(err, errno, sub, "mkdir");
			else
				error = nr__clone_tree(from, to, sub, err);
		} else if (S_ISREG(st.st_mode)) {
			error = nr__file_copy_at(from, sub, to, sub, blob_digest(sub, digest),
				err);
		}
	}
	closedir(d);
	return error;
}

typedef struct tarw {
	struct archive *a;
	int dfd;
	nr_image *img;     /* members written back as links; NULL: none */
	nr_error *err;
} tarw;

/* A leftover temp file of nr__temp_create_at (".<stem>.nr-<pid>-<24 hex>"). */
static bool is_temp_name(const char *name)
{
	long pid;

	return nr__temp_name_parse(name, NULL, &pid);
}

/* A layout blob: always written as a regular file (its content), never as a link. */
static bool is_blob_name(const char *name)
{
	return strncmp(name, "blobs/", 6) == 0 || strstr(name, "/blobs/") != NULL;
}

static const member *find_member(const nr_image *img, const char *name)
{
	size_t i;

	for (i = 0; img && i < img->nmembers; i++)
		if (img->members[i].type != 'f' && !is_blob_name(img->members[i].name) &&
		    strcmp(img->members[i].name, name) == 0)
			return &img->members[i];
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tar_dir(tarw *t, const char *rel);

/* The names in directory rel of the tree, sorted, temp files left out (*names: caller frees
 * the *n names and the array, also on failure). */
static int list_names(tarw *t, const char *rel, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *de;
	size_t an = 0;
	int fd, error = 0;

	fd = openat(t->dfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return nr__error_errno(t->err, errno, rel, "open directory");
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (is_temp_name(de->d_name))
			continue;
		if (nr__array_grow((void **)names, &an, *n + 1, sizeof(char *)) < 0 ||
		    ((*names)[*n] = nr__strdup(de->d_name)) == NULL) {
			error = nr__error_oom(t->err);
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (error == 0)
		qsort(*names, *n, sizeof(char *), cmp_names);
	return error;
}

/* Regular file sub of the tree: its header (e, filled in but for the type) and content. */
static int tar_file(tarw *t, struct archive_entry *e, const char *sub, const struct stat *st)
{
	char buf[65536];
	ssize_t r;
	int in, error = 0;

	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, st->st_size);
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		return nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
			archive_error_string(t->a));
	if ((in = openat(t->dfd, sub, O_RDONLY | O_CLOEXEC)) < 0)
		return nr__error_errno(t->err, errno, sub, "open");
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (archive_write_data(t->a, buf, (size_t)r) != r) {
			error = nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
				archive_error_string(t->a));
			break;
		}
	close(in);
	return error;
}

/* Path sub of the tree: a directory (and what it holds) or a regular file; a member written
 * back as a link at the end, a name gone meanwhile and anything else are left out. */
static int tar_path(tarw *t, const char *sub)
{
	struct stat st;
	struct archive_entry *e;
	int error = 0;

	if (fstatat(t->dfd, sub, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (find_member(t->img, sub) != NULL)
		return 0;   /* written as a link at the end */
	if ((e = archive_entry_new()) == NULL)
		return nr__error_oom(t->err);
	archive_entry_set_pathname(e, sub);
	archive_entry_set_mtime(e, st.st_mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (S_ISDIR(st.st_mode)) {
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		if (archive_write_header(t->a, e) != ARCHIVE_OK)
			error = nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
				archive_error_string(t->a));
		archive_entry_free(e);
		return error < 0 ? error : tar_dir(t, sub);
	}
	if (S_ISREG(st.st_mode))
		error = tar_file(t, e, sub, &st);
	archive_entry_free(e);
	return error;
}

static int tar_dir(tarw *t, const char *rel)
{
	char **names = NULL, sub[4096];
	size_t n = 0, i;
	int error;

	error = list_names(t, rel, &names, &n);
	for (i = 0; i < n && error == 0; i++) {
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		error = tar_path(t, sub);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

/* Tar directory `dfd` into `path` (temp file + rename). Members of `img` that were links in
 * the source archive are written back as links. */
/* The source archive's links (members of `links` that were symlinks or hard links), written
 * back as links; a blob that was a link must have been written by tar_dir. */
static int tar_links(tarw *t, nr_image *links, const char *path, nr_error *err)
{
	size_t i;
	int error = 0;

	for (i = 0; links && i < links->nmembers; i++) {
		member *mb = &links->members[i];
		struct archive_entry *e;
		if (mb->type == 'f')
			continue;
		if (is_blob_name(mb->name)) {
			if (!mb->done)
				/* a link to nothing in the archive: the blob is not there */
				return nr__error_set(err, NR_EINVALID, mb->name, 0, 0,
					"blob is a link to '%s', which is not a file in the archive",
					mb->link);
			continue;   /* written as a regular file by tar_dir */
		}
		if (!mb->done)
			continue;
		if ((e = archive_entry_new()) == NULL)
			return nr__error_oom(err);
		archive_entry_set_pathname(e, mb->name);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		if (mb->type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, mb->link);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, mb->link);
		}
		if (archive_write_header(t->a, e) != ARCHIVE_OK)
			error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s",
				archive_error_string(t->a));
		archive_entry_free(e);
		if (error < 0)
			return error;
	}
	return 0;
}

/* The directory of path (slash: its last '/', or NULL), opened into *pfd. */
static int open_parent(const char *path, const char *slash, int *pfd, nr_error *err)
{
	if (slash) {
		char *dir = nr__strndup(path, slash == path ? 1 : (size_t)(slash - path));
		if (dir == NULL)
			return nr__error_oom(err);
		*pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(dir);
	} else {
		*pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (*pfd < 0)
		return nr__error_errno(err, errno, path, "open directory");
	return 0;
}

/* Tar directory `dfd` into `path` (temp file + rename). Members of `img` that were links in
 * the source archive are written back as links. */
int nr__tar_tree(int dfd, nr_image *links, const char *path, nr_error *err)
{
	tarw t;
	char tmp[320];
	const char *slash = strrchr(path, '/'), *leaf = slash ? slash + 1 : path;
	int error = 0, fd = -1, pfd = -1;
	bool have_tmp = false;

	memset(&t, 0, sizeof(t));
	t.dfd = dfd;
	t.img = links;
	t.err = err;
	if (*leaf == '\0')
		return nr__error_set(err, NR_EINVALID, path, 0, 0, "not a file name");
	/* The temp file: a new file with a random name next to the destination (whose
	 * directory may be writable by others), renamed over it when complete. */
	if ((error = open_parent(path, slash, &pfd, err)) < 0)
		return error;
	/* what a killed earlier run on this destination left (its pid is gone) */
	nr__temp_remove_stale_at(pfd, leaf, NULL);
	if ((fd = nr__temp_create_at(pfd, leaf, 0644, false, tmp, sizeof(tmp), path, err)) < 0) {
		error = fd;
		goto done;
	}
	have_tmp = true;
	if ((t.a = archive_write_new()) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	archive_write_set_format_pax_restricted(t.a);
	archive_write_set_bytes_in_last_block(t.a, 1);
	if (archive_write_open_fd(t.a, fd) != ARCHIVE_OK) {
		error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s", archive_error_string(t.a));
		goto done;
	}
	if ((error = tar_dir(&t, "")) < 0 || (error = tar_links(&t, links, path, err)) < 0)
		goto done;
	if (archive_write_close(t.a) != ARCHIVE_OK) {
		error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s", archive_error_string(t.a));
		goto done;
	}
	if (fsync(fd) < 0) {
		error = nr__error_errno(err, errno, path, "fsync");
		goto done;
	}
	if (renameat(pfd, tmp, pfd, leaf) < 0) {
		error = nr__error_errno(err, errno, path, "rename");
	} else {
		have_tmp = false;
		nr__temp_untrack_at(tmp);
	}
done:
	if (t.a)
		archive_write_free(t.a);
	if (fd >= 0)
		close(fd);
	if (have_tmp) {
		unlinkat(pfd, tmp, 0);
		nr__temp_untrack_at(tmp);
	}
	if (pfd >= 0)
		close(pfd);
	return error;
}
