/*
 * buf.h: a growable byte buffer with overflow-checked size math (after libgit2's git_str).
 * The content is always NUL-terminated when ptr != NULL, so it can be handed out as a string.
 */
#ifndef NR_BUF_H
#define NR_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct nr_buf {
	char *ptr;
	size_t size;   /* bytes used, not counting the terminating NUL */
	size_t asize;  /* bytes allocated */
	int oom;       /* sticky: an allocation failed; every later call is a no-op */
} nr_buf;

#define NR_BUF_INIT { NULL, 0, 0, 0 }

int nr_buf_grow(nr_buf *b, size_t extra);      /* room for `extra` more bytes + NUL */
int nr_buf_put(nr_buf *b, const void *data, size_t len);
int nr_buf_puts(nr_buf *b, const char *s);
int nr_buf_putc(nr_buf *b, char c);
int nr_buf_printf(nr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nr_buf_vprintf(nr_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void nr_buf_truncate(nr_buf *b, size_t len);
/* Hand the content to the caller (free with free()/nr_free()); the buffer is reset.
 * Returns "" (allocated) for an empty buffer; NULL when out of memory. */
char *nr_buf_detach(nr_buf *b, size_t *len);
void nr_buf_dispose(nr_buf *b);

#endif
