/*
 * fileio.h: bounded reads and atomic replacement of files.
 *
 * Atomic write: the new content goes to a temp file in the same directory, which gets the
 * mode and owner of the file it replaces (or `mode` for a new file), is fsync'ed, renamed
 * over the target, and the directory is fsync'ed. A crash at any point leaves either the old
 * or the new file, never a partial one; on failure the temp file is removed.
 */
#ifndef NR_FILEIO_H
#define NR_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "nonroot/errors.h"

/* Largest passwd/group/shadow file we read: runc/moby cap these files at 10 MiB. */
#define NR_ACCOUNT_FILE_MAX (10u * 1024u * 1024u)

/*
 * Read a regular file opened by openat(dirfd, name, flags|O_RDONLY|O_CLOEXEC).
 * Non-regular files (FIFO, directory, device) and files over `max` bytes are refused
 * (NR_EINVALID / NR_ETOOBIG) before any content is read. *out is NUL-terminated, owned by
 * the caller. `source` names the file in errors.
 */
int nr__file_read_at(char **out, size_t *len, int dirfd, const char *name, int flags,
	size_t max, const char *source, nr_error *err);
int nr__fd_read_all(char **out, size_t *len, int fd, size_t max, const char *source,
	nr_error *err);

/* Atomically replace `name` (one path component) in directory `dirfd`. */
int nr__file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
	mode_t mode, const char *source, nr_error *err);
/* The same for a path: its directory is opened first. */
int nr__file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	nr_error *err);

/* Write all of buf to fd, retrying on EINTR and short writes. 0 or -errno. */
int nr__write_all(int fd, const void *buf, size_t len);

#endif
