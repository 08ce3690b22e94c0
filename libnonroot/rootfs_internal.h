/*
 * rootfs_internal.h: the confined resolution of rootfs.c for other library files
 * (unpack.c, rootfs_accounts.c). Not installed.
 */
#ifndef NR_ROOTFS_INTERNAL_H
#define NR_ROOTFS_INTERNAL_H

#include "internal.h"

/* The root directory's path as opened (borrowed), for messages. */
const char *nr__rootfs_path(const nr_rootfs *rfs);

/* The root directory's fd (borrowed). */
int nr__rootfs_fd(const nr_rootfs *rfs);

/* Open directory `path` (relative, "" is the root) with every symlink followed inside the
 * root (openat2 RESOLVE_IN_ROOT, else the O_NOFOLLOW walk).
 * @return an O_RDONLY|O_DIRECTORY fd owned by the caller, or -errno. */
int nr__rootfs_open_dir(const nr_rootfs *rfs, const char *path);

#endif
