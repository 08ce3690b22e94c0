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
#include <stdint.h>
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
 * Create a new file in `dirfd` under an unpredictable name ".<stem>.nr-<pid>-<24 hex>" (getrandom;
 * the pid tells a later run whether the writer is still alive)
 * with O_EXCL|O_NOFOLLOW, so nothing planted under any name is ever opened or followed.
 * `rw`: open it O_RDWR (else O_WRONLY). The name goes to name[size]. Returns the fd or a
 * negative code naming `source`.
 */
int nr__temp_name(char *out, size_t size, const char *stem);
/* Is `name` a temp file name of nr__temp_name (".<stem>.nr-<pid>-<24 hex>", or the older
 * ".<stem>.nr-<24 hex>", *pid 0)? `stem` NULL: any stem. */
bool nr__temp_name_parse(const char *name, const char *stem, long *pid);
/* Remove the temp files of `stem` in dirfd left by a process that no longer exists (killed
 * with SIGKILL, or a crash): regular files owned by our euid whose pid is dead (ESRCH) and
 * whose lock (flock, taken by nr__temp_create_at for as long as the file is open) nobody holds.
 * A live writer's file, someone else's file, a symlink are left alone. Best effort. Returns
 * the number removed; adds their sizes to *bytes (may be NULL). */
size_t nr__temp_remove_stale_at(int dirfd, const char *stem, uint64_t *bytes);
/* Is `name` a temp dir name of nr__mkdtemp ("nonroot-<what>-<pid>-XXXXXX")? */
bool nr__temp_dir_name_parse(const char *name, long *pid);
/* Remove the nr__mkdtemp directories in `tmpdir` (NULL: $TMPDIR, else /tmp) of dead
 * processes, with the same rules (name, dead pid, our own directory, lock free), relative to
 * directory fds, never following a symlink. Returns the number removed; adds the sizes of the
 * files in them to *bytes (may be NULL). */
size_t nr__temp_remove_stale_dirs(const char *tmpdir, uint64_t *bytes);
/* What nr__temp_remove_stale_dirs would remove (count, *bytes), removing nothing. */
size_t nr__temp_count_stale_dirs(const char *tmpdir, uint64_t *bytes);
int nr__temp_create_at(int dirfd, const char *stem, mode_t mode, bool rw, char *name,
	size_t size, const char *source, nr_error *err);

/*
 * The process-wide list of live temporary files and directories (libnonroot/tempreg.c), so an
 * interrupted program can remove them all. Untrack after removing or renaming. Create and
 * track between nr__temp_lock and nr__temp_unlock (the track calls need the lock held), so
 * that no cleanup runs between the creation and the tracking. The track calls return -1 (errno
 * set) when out of memory: remove what was made and fail. Not async-signal-safe. A file is a name in a directory: nr__temp_track_at keeps its
 * own dup of dirfd. Untrack takes the lock itself.
 */
void nr__temp_lock(void);
void nr__temp_unlock(void);
int nr__temp_track_dir(const char *path);
void nr__temp_untrack_dir(const char *path);
int nr__temp_track_at(int dirfd, const char *name);
void nr__temp_untrack_at(const char *name);
/* Remove every tracked file and directory tree now, and block all tracking for good (call it
 * only right before the process exits, from an ordinary thread, never a signal handler).
 * Returns the number removed. */
size_t nr__temp_remove_all(void);

/* Atomically replace `name` (one path component) in directory `dirfd`. */
int nr__file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
	mode_t mode, const char *source, nr_error *err);
/* The same for a path: its directory is opened first. */
int nr__file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
	nr_error *err);

/* Write all of buf to fd, retrying on EINTR and short writes. 0 or -errno. */
int nr__write_all(int fd, const void *buf, size_t len);

#endif
