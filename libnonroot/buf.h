/*
 * buf.h: a growable byte buffer with overflow-checked size math (after libgit2's git_str).
 * The content is always NUL-terminated when ptr != NULL, so it can be handed out as a string.
 */
#ifndef NR_BUF_H
#define NR_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct nr__buf {
	char *ptr;
	size_t size;   /* bytes used, not counting the terminating NUL */
	size_t asize;  /* bytes allocated */
	int oom;       /* sticky: an allocation failed; every later call is a no-op */
} nr__buf;

#define NR__BUF_INIT { NULL, 0, 0, 0 }

int nr__buf_grow(nr__buf *b, size_t extra);      /* room for `extra` more bytes + NUL */
int nr__buf_put(nr__buf *b, const void *data, size_t len);
int nr__buf_puts(nr__buf *b, const char *s);
int nr__buf_putc(nr__buf *b, char c);
int nr__buf_printf(nr__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nr__buf_vprintf(nr__buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void nr__buf_truncate(nr__buf *b, size_t len);
/* Hand the content to the caller (free with free()/nr_free()); the buffer is reset.
 * Returns "" (allocated) for an empty buffer; NULL when out of memory. */
char *nr__buf_detach(nr__buf *b, size_t *len);
void nr__buf_dispose(nr__buf *b);

#endif
