/*
 * error.c: nr_error handling and the small allocation wrappers.
 */
#include <errno.h>
#include <stdio.h>

#include "internal.h"

const char *nr_version(void)
{
	return NR_VERSION;
}

unsigned int nr_version_number(void)
{
	return NR_VERSION_NUMBER;
}

void nr_error_clear(nr_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

const char *nr_strerror(int code)
{
	switch (code) {
	case NR_OK: return "success";
	case NR_ERROR: return "error";
	case NR_EINVALID: return "invalid input";
	case NR_ENOTFOUND: return "not found";
	case NR_ERANGE: return "out of range";
	case NR_EIO: return "input/output error";
	case NR_ENOMEM: return "out of memory";
	case NR_EEXISTS: return "already exists";
	case NR_ECONFLICT: return "conflict";
	case NR_EUNSUPPORTED: return "not supported";
	case NR_EDIGEST: return "digest mismatch";
	case NR_ETOOBIG: return "too big";
	case NR_EESCAPE: return "path escapes its root";
	case NR_EARG: return "invalid argument";
	default: return "unknown error";
	}
}

int nr__error_setv(nr_error *err, int code, const char *source, size_t line, size_t column,
	const char *fmt, va_list ap)
{
	if (err == NULL || err->code != 0)
		return code;
	err->code = code;
	err->line = line;
	err->column = column;
	snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return code;
}

int nr__error_set(nr_error *err, int code, const char *source, size_t line, size_t column,
	const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nr__error_setv(err, code, source, line, column, fmt, ap);
	va_end(ap);
	return code;
}

int nr__error_errno(nr_error *err, int errnum, const char *source, const char *what)
{
	int code = errnum == ENOMEM ? NR_ENOMEM : NR_EIO;

	return nr__error_set(err, code, source, 0, 0, "%s: %s", what, strerror(errnum));
}

void nr__error_reset(nr_error *err)
{
	nr_error_clear(err);
}

int nr__check_version(nr_error *err, const char *type, unsigned int version,
	unsigned int current)
{
	if (version >= 1 && version <= current)
		return 0;
	return nr__error_set(err, NR_EARG, NULL, 0, 0,
		"invalid argument: %s version %u (this libnonroot knows versions 1 to %u)", type,
		version, current);
}

int nr__error_oom(nr_error *err)
{
	return nr__error_set(err, NR_ENOMEM, NULL, 0, 0, "out of memory");
}

size_t nr_error_format(const nr_error *err, char *buf, size_t size)
{
	int n;

	if (err == NULL || err->code == 0)
		n = snprintf(buf, size, "no error");
	else if (err->source[0] && err->line && err->column)
		n = snprintf(buf, size, "%s:%zu:%zu: %s", err->source, err->line, err->column,
			err->message);
	else if (err->source[0] && err->line)
		n = snprintf(buf, size, "%s:%zu: %s", err->source, err->line, err->message);
	else if (err->source[0])
		n = snprintf(buf, size, "%s: %s", err->source, err->message);
	else if (err->line)
		n = snprintf(buf, size, "line %zu: %s", err->line, err->message);
	else
		n = snprintf(buf, size, "%s", err->message[0] ? err->message : nr_strerror(err->code));
	return n < 0 ? 0 : (size_t)n;
}

void nr_free(void *p)
{
	free(p);
}

void *nr__malloc(size_t n)
{
	return malloc(n ? n : 1);
}

void *nr__calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size ? size : 1);
}

void *nr__realloc(void *p, size_t n)
{
	return realloc(p, n ? n : 1);
}

char *nr__strndup(const char *s, size_t n)
{
	char *d;

	if (n == SIZE_MAX || (d = nr__malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *nr__strdup(const char *s)
{
	return nr__strndup(s, strlen(s));
}

int nr__array_grow(void **arr, size_t *alloc, size_t need, size_t esz)
{
	size_t n = *alloc ? *alloc : 8, bytes;
	void *p;

	if (need <= *alloc)
		return 0;
	while (n < need) {
		if (NR_MUL_OVERFLOW(&n, n, (size_t)2))
			return NR_ENOMEM;
	}
	if (NR_MUL_OVERFLOW(&bytes, n, esz) || (p = nr__realloc(*arr, bytes)) == NULL)
		return NR_ENOMEM;
	*arr = p;
	*alloc = n;
	return 0;
}
