/*
 * rootfs.h: file access confined to a root directory.
 */
#ifndef NONROOT_ROOTFS_H
#define NONROOT_ROOTFS_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

NR_END_DECL

#endif
