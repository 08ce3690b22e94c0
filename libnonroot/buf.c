/*
 * buf.c: growable byte buffer.
 */
#include <stdio.h>

#include "internal.h"
#include "buf.h"

int nr__buf_grow(nr__buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (b->oom)
		return NR_ENOMEM;
	if (NR_ADD_OVERFLOW(&need, b->size, extra) || NR_ADD_OVERFLOW(&need, need, (size_t)1))
		goto oom;
	if (need <= b->asize)
		return 0;
	n = b->asize ? b->asize : 64;
	while (n < need) {
		if (NR_ADD_OVERFLOW(&n, n, n / 2 + 1))
			goto oom;
	}
	if ((p = nr__realloc(b->ptr, n)) == NULL)
		goto oom;
	b->ptr = p;
	b->asize = n;
	return 0;
oom:
	b->oom = 1;
	return NR_ENOMEM;
}

int nr__buf_put(nr__buf *b, const void *data, size_t len)
{
	if (nr__buf_grow(b, len) < 0)
		return NR_ENOMEM;
	if (len)
		memcpy(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return 0;
}

int nr__buf_puts(nr__buf *b, const char *s)
{
	return nr__buf_put(b, s, strlen(s));
}

int nr__buf_putc(nr__buf *b, char c)
{
	return nr__buf_put(b, &c, 1);
}

int nr__buf_vprintf(nr__buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || nr__buf_grow(b, (size_t)n) < 0) {
		b->oom = 1;
		return NR_ENOMEM;
	}
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	b->size += (size_t)n;
	return 0;
}

int nr__buf_printf(nr__buf *b, const char *fmt, ...)
{
	va_list ap;
	int error;

	va_start(ap, fmt);
	error = nr__buf_vprintf(b, fmt, ap);
	va_end(ap);
	return error;
}

void nr__buf_truncate(nr__buf *b, size_t len)
{
	if (b->ptr && len < b->size) {
		b->size = len;
		b->ptr[len] = '\0';
	}
}

char *nr__buf_detach(nr__buf *b, size_t *len)
{
	char *p;

	if (b->oom) {
		nr__buf_dispose(b);
		return NULL;
	}
	if (b->ptr == NULL && nr__buf_grow(b, 0) < 0)
		return NULL;
	if (b->size == 0)
		b->ptr[0] = '\0';
	p = b->ptr;
	if (len)
		*len = b->size;
	b->ptr = NULL;
	b->size = b->asize = 0;
	return p;
}

void nr__buf_dispose(nr__buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->size = b->asize = 0;
	b->oom = 0;
}
