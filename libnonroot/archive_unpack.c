/*
 * archive_unpack.c: unpacking an oci-archive or docker-archive into a private directory,
 * members checked and links recorded so writing can put them back as links.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image_model.h"
#include "fileio.h"

static int add_member(nr_image *img, const char *name, int type, const char *link)
{
	member *mb;

	if (nr__array_grow((void **)&img->members, &img->amembers, img->nmembers + 1,
			sizeof(*mb)) < 0)
		return NR_ENOMEM;
	mb = &img->members[img->nmembers];
	mb->name = nr__strdup(name);
	mb->link = link ? nr__strdup(link) : NULL;
	mb->type = type;
	mb->done = false;
	if (mb->name == NULL || (link && mb->link == NULL)) {
		free(mb->name);
		free(mb->link);
		return NR_ENOMEM;
	}
	img->nmembers++;
	return 0;
}

/* Make the directories above `name` (cleaned, relative to img->dirfd). */
static int mkdirs_parent(nr_image *img, char *name, nr_error *err)
{
	char *slash = strrchr(name, '/');
	int error = 0;

	if (slash) {
		*slash = '\0';
		error = nr__mkdirs_at(img->dirfd, name, err);
		*slash = '/';
	}
	return error;
}

/*
 * An uncompressed archive: copy the member's bytes in the kernel (reflinked where the file
 * system can), then skip them. 1: copied; 0: not copied (the file is emptied again: read it
 * through libarchive instead); < 0: an error.
 */
static int copy_in_kernel(nr_image *img, struct archive *a, struct archive_entry *e,
	int rawfd, int fd, const char *name, nr_error *err)
{
	off_t off = (off_t)archive_filter_bytes(a, 0);
	int64_t left = archive_entry_size(e);

	while (left > 0) {
		ssize_t n = copy_file_range(rawfd, &off, fd, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= n;
	}
	if (left == 0) {
		if (archive_read_data_skip(a) < ARCHIVE_WARN)
			return nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"member %s: %s", name, archive_error_string(a));
		return 1;
	}
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return nr__error_errno(err, errno, name, "unpack");
	return 0;
}

/* A regular file member into img->dirfd (its directories made). */
static int write_member(nr_image *img, struct archive *a, struct archive_entry *e, int rawfd,
	char *name, nr_error *err)
{
	char buf[65536];
	int fd, error = 0;

	if ((error = mkdirs_parent(img, name, err)) < 0)
		return error;
	fd = openat(img->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return nr__error_errno(err, errno, name, "unpack");
	if (rawfd >= 0 && archive_filter_count(a) == 1 &&
	    archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE &&
	    archive_entry_sparse_count(e) == 0 && archive_entry_size_is_set(e) &&
	    (error = copy_in_kernel(img, a, e, rawfd, fd, name, err)) != 0)
		goto done;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
		int rc;
		if (n < 0) {
			error = nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"member %s: %s", name, archive_error_string(a));
			goto done;
		}
		if (n == 0)
			break;
		if ((rc = nr__write_all(fd, buf, (size_t)n)) < 0) {
			error = nr__error_errno(err, -rc, name, "unpack");
			goto done;
		}
	}
done:
	close(fd);
	return error < 0 ? error : 0;
}

/* Every member of the archive: directories made, regular files written, links recorded. */
static int read_members(nr_image *img, struct archive *a, int rawfd, nr__buf *name,
	nr_error *err)
{
	struct archive_entry *e;
	int error, r;

	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *pn = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
		mode_t ft = archive_entry_filetype(e);
		if (r < ARCHIVE_WARN)
			return nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"cannot read the archive: %s", archive_error_string(a));
		if (nr__path_clean(name, pn ? pn : "", pn ? strlen(pn) : 0) < 0)
			return nr__error_oom(err);
		if (name->size == 0)
			continue;
		if (hl || ft == AE_IFLNK) {
			const char *l = hl ? hl : archive_entry_symlink(e);
			if (add_member(img, name->ptr, hl ? 'h' : 'l', l ? l : "") < 0)
				return nr__error_oom(err);
			continue;
		}
		if (ft == AE_IFDIR) {
			if ((error = nr__mkdirs_at(img->dirfd, name->ptr, err)) < 0)
				return error;
			continue;
		}
		if (ft != AE_IFREG)
			continue;
		if (add_member(img, name->ptr, 'f', NULL) < 0)
			return nr__error_oom(err);
		if ((error = write_member(img, a, e, rawfd, name->ptr, err)) < 0)
			return error;
	}
	return 0;
}

/* Links become hard links inside the unpack dir (chains resolved in a few rounds). */
static int link_members(nr_image *img, nr__buf *name, nr__buf *target, nr_error *err)
{
	int error, pass;
	size_t i;

	for (pass = 0; pass < 8; pass++) {
		bool progress = false, left = false;
		for (i = 0; i < img->nmembers; i++) {
			member *mb = &img->members[i];
			struct stat st;
			if (mb->type == 'f' || mb->done)
				continue;
			if (mb->type == 'h') {
				if (nr__path_clean(target, mb->link, strlen(mb->link)) < 0)
					return nr__error_oom(err);
			} else {
				const char *slash = strrchr(mb->name, '/');
				nr__buf_truncate(name, 0);
				if (mb->link[0] != '/' && slash)
					nr__buf_put(name, mb->name, (size_t)(slash - mb->name));
				nr__buf_putc(name, '/');
				nr__buf_puts(name, mb->link);
				if (name->oom || nr__path_clean(target, name->ptr, name->size) < 0)
					return nr__error_oom(err);
			}
			if (fstatat(img->dirfd, target->ptr, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode)) {
				left = true;
				continue;
			}
			if ((error = mkdirs_parent(img, mb->name, err)) < 0)
				return error;
			unlinkat(img->dirfd, mb->name, 0);
			if (linkat(img->dirfd, target->ptr, img->dirfd, mb->name, 0) < 0)
				return nr__error_errno(err, errno, mb->name, "link");
			mb->done = true;
			progress = true;
		}
		if (!left || !progress)
			break;
	}
	return 0;
}

int nr__unpack_archive(nr_image *img, nr_error *err)
{
	struct archive *a;
	nr__buf name = NR__BUF_INIT, target = NR__BUF_INIT;
	int error = 0, rawfd = -1;

	if ((error = nr__mkdtemp(&img->unpack, img->tmpdir, "archive", err)) < 0)
		return error;
	if ((img->dirfd = open(img->unpack, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, img->unpack, "open");
	if ((a = archive_read_new()) == NULL)
		return nr__error_oom(err);
	NR__ARCHIVE_READ_FILTERS(a);
	archive_read_support_format_tar(a);
	rawfd = open(img->path, O_RDONLY | O_CLOEXEC);
	if (rawfd >= 0 && fstat(rawfd, &img->src_st) == 0)
		img->have_src_st = true;
	if (archive_read_open_filename(a, img->path, 65536) != ARCHIVE_OK)
		error = nr__error_set(err, archive_errno(a) == ENOENT ? NR_ENOTFOUND : NR_EINVALID,
			img->path, 0, 0, "cannot read the archive: %s", archive_error_string(a));
	else if ((error = read_members(img, a, rawfd, &name, err)) == 0)
		error = link_members(img, &name, &target, err);
	archive_read_free(a);
	if (rawfd >= 0)
		close(rawfd);
	nr__buf_dispose(&name);
	nr__buf_dispose(&target);
	return error;
}
