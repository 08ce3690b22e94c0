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

/* Clone the unpacked tree into dir `to` with hard links (no symlinks exist in it). */
int nr__clone_tree(int from, int to, const char *rel, nr_error *err)
{
	DIR *d;
	struct dirent *de;
	int fd, error = 0;
	char sub[4096];

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
			error = nr__file_copy_at(from, sub, to, sub, err);
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

static const member *find_member(const nr_image *img, const char *name)
{
	size_t i;

	for (i = 0; img && i < img->nmembers; i++)
		if (img->members[i].type != 'f' && strcmp(img->members[i].name, name) == 0)
			return &img->members[i];
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tar_dir(tarw *t, const char *rel)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, sub[4096];
	size_t n = 0, an = 0, i;
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
		if (strncmp(de->d_name, ".nr-tmp-", 8) == 0 || strstr(de->d_name, ".nr-tmp-"))
			continue;
		if (nr__array_grow((void **)&names, &an, n + 1, sizeof(char *)) < 0 ||
		    (names[n] = nr__strdup(de->d_name)) == NULL) {
			error = nr__error_oom(t->err);
			break;
		}
		n++;
	}
	closedir(d);
	if (error == 0)
		qsort(names, n, sizeof(char *), cmp_names);
	for (i = 0; i < n && error == 0; i++) {
		struct stat st;
		struct archive_entry *e;
		const member *mb;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		if (fstatat(t->dfd, sub, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((mb = find_member(t->img, sub)) != NULL)
			continue;   /* written as a link at the end */
		if ((e = archive_entry_new()) == NULL) {
			error = nr__error_oom(t->err);
			break;
		}
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
			if (error == 0)
				error = tar_dir(t, sub);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			archive_entry_free(e);
			continue;
		}
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, st.st_size);
		if (archive_write_header(t->a, e) != ARCHIVE_OK) {
			error = nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
				archive_error_string(t->a));
		} else {
			int in = openat(t->dfd, sub, O_RDONLY | O_CLOEXEC);
			char buf[65536];
			ssize_t r;
			if (in < 0)
				error = nr__error_errno(t->err, errno, sub, "open");
			while (in >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
				if (archive_write_data(t->a, buf, (size_t)r) != r) {
					error = nr__error_set(t->err, NR_EIO, sub, 0, 0, "tar: %s",
						archive_error_string(t->a));
					break;
				}
			if (in >= 0)
				close(in);
		}
		archive_entry_free(e);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return error;
}

/* Tar directory `dfd` into `path` (temp file + rename). Members of `img` that were links in
 * the source archive are written back as links. */
int nr__tar_tree(int dfd, nr_image *links, const char *path, nr_error *err)
{
	tarw t;
	nr_buf tmp = NR_BUF_INIT;
	size_t i;
	int error = 0, fd = -1;

	memset(&t, 0, sizeof(t));
	t.dfd = dfd;
	t.img = links;
	t.err = err;
	if (nr_buf_printf(&tmp, "%s.nr-tmp-%ld", path, (long)getpid()) < 0)
		return nr__error_oom(err);
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		error = nr__error_errno(err, errno, path, "create");
		goto done;
	}
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
	if ((error = tar_dir(&t, "")) < 0)
		goto done;
	for (i = 0; links && i < links->nmembers; i++) {
		member *mb = &links->members[i];
		struct archive_entry *e;
		if (mb->type == 'f' || !mb->done)
			continue;
		if ((e = archive_entry_new()) == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
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
		if (archive_write_header(t.a, e) != ARCHIVE_OK)
			error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s",
				archive_error_string(t.a));
		archive_entry_free(e);
		if (error < 0)
			goto done;
	}
	if (archive_write_close(t.a) != ARCHIVE_OK) {
		error = nr__error_set(err, NR_EIO, path, 0, 0, "tar: %s", archive_error_string(t.a));
		goto done;
	}
	if (fsync(fd) < 0) {
		error = nr__error_errno(err, errno, path, "fsync");
		goto done;
	}
	if (rename(tmp.ptr, path) < 0)
		error = nr__error_errno(err, errno, path, "rename");
done:
	if (t.a)
		archive_write_free(t.a);
	if (fd >= 0)
		close(fd);
	if (error < 0)
		unlink(tmp.ptr);
	nr_buf_dispose(&tmp);
	return error;
}
