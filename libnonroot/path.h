/*
 * path.h: lexical path cleaning (path.c). Not installed.
 */
#ifndef NR_PATH_H
#define NR_PATH_H

#include <stddef.h>

#include "buf.h"

/* Clean a path lexically inside a root: leading '/', "." and empty components dropped, ".."
 * clamped at the root; "" is the root. Appends to out (which is truncated first). */
int nr__path_clean(nr__buf *out, const char *path, size_t len);

#endif
