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

#include <stdbool.h>
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

/*
 * Open directory `rel` (components separated by '/') below `dirfd` without following a
 * symlink at any component (each is opened O_NOFOLLOW|O_DIRECTORY relative to the previous
 * one); with `create`, missing components are made with `mode`. A component that is a symlink
 * or not a directory is refused (NR_EINVALID naming it). Returns a new fd or a negative code.
 * "" or "." opens dirfd itself again.
 */
int nr__dir_open_at(int dirfd, const char *rel, bool create, mode_t mode, nr_error *err);

/*
 * Create a new file in `dirfd` under an unpredictable name ".<stem>.nr-<24 hex>" (getrandom)
 * with O_EXCL|O_NOFOLLOW, so nothing planted under any name is ever opened or followed.
 * `rw`: open it O_RDWR (else O_WRONLY). The name goes to name[size]. Returns the fd or a
 * negative code naming `source`.
 */
int nr__temp_name(char *out, size_t size, const char *stem);
int nr__temp_create_at(int dirfd, const char *stem, mode_t mode, bool rw, char *name,
	size_t size, const char *source, nr_error *err);

/* Atomically replace `name` (one path component) in directory `dirfd`. */
int nr__file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
	mode_t mode, const char *source, nr_error *err);
/* The same for a path: its directory is opened first. */
int nr__file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	nr_error *err);

/* Write all of buf to fd, retrying on EINTR and short writes. 0 or -errno. */
int nr__write_all(int fd, const void *buf, size_t len);

#endif
