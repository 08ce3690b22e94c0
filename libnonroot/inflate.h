/*
 * inflate.h: the decompressing front of a layer read. gzip layers are inflated here with
 * ISA-L's igzip (when the library is built with it: NR_HAVE_ISAL) and libarchive gets the
 * plain tar stream; anything else (zstd, plain tar, or gzip without ISA-L) passes through
 * unchanged to libarchive's own filters. Not installed.
 */
#ifndef NR_INFLATE_H
#define NR_INFLATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "image_internal.h"

typedef struct nr__inflate nr__inflate;

/* Read from `bs` (borrowed; it keeps hashing every compressed byte). */
int nr__inflate_open(nr__inflate **out, nr__blob_stream *bs, nr_error *err);
/* Next chunk of output (*buf borrowed until the next call). @return bytes, 0 at the end, or a
 * negative NR_E* code: NR_EINVALID for bad gzip data (message says why), or the blob stream's
 * read error. */
ssize_t nr__inflate_read(nr__inflate *z, const void **buf, nr_error *err);
/* Is gzip being inflated here (false: passthrough)? */
bool nr__inflate_active(const nr__inflate *z);
void nr__inflate_free(nr__inflate *z);

#endif
