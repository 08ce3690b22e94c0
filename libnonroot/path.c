/*
 * path.c: lexical cleaning of paths inside a root (layer entries, link targets, requested
 * paths): no file system access.
 */
#include <string.h>

#include "internal.h"
#include "path.h"

int nr__path_clean(nr__buf *out, const char *path, size_t len)
{
	size_t i = 0;

	nr__buf_truncate(out, 0);
	if (nr__buf_grow(out, len + 1) < 0)
		return NR_ENOMEM;
	out->ptr[0] = '\0';
	while (i < len) {
		size_t start, n;
		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = i - start;
		if (n == 0 || (n == 1 && path[start] == '.'))
			continue;
		if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
			char *slash;
			if (out->size == 0)
				continue;                   /* clamped at the root */
			slash = memrchr(out->ptr, '/', out->size);
			nr__buf_truncate(out, slash ? (size_t)(slash - out->ptr) : 0);
			continue;
		}
		if (out->size > 0)
			nr__buf_putc(out, '/');
		nr__buf_put(out, path + start, n);
	}
	return out->oom ? NR_ENOMEM : 0;
}
