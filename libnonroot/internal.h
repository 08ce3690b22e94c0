/*
 * internal.h: helpers shared by every libnonroot source file. Not installed.
 */
#ifndef NR_INTERNAL_H
#define NR_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nonroot.h"

/* Overflow-checked size arithmetic: evaluate to true on overflow. */
#define NR_ADD_OVERFLOW(out, a, b) __builtin_add_overflow((a), (b), (out))
#define NR_MUL_OVERFLOW(out, a, b) __builtin_mul_overflow((a), (b), (out))

#define NR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Reject a NULL argument with NR_EARG naming it. Use before anything is owned. */
#define NR_ASSERT_ARG(arg, err) do { \
	if ((arg) == NULL) \
		return nr__error_set((err), NR_EARG, NULL, 0, 0, "invalid argument: %s is NULL", #arg); \
} while (0)

/*
 * Set *err (when non-NULL and still unset: the first error wins).
 * @return code, so callers can write `return nr__error_set(...)`.
 */
int nr__error_set(nr_error *err, int code, const char *source, size_t line, size_t column,
	const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int nr__error_setv(nr_error *err, int code, const char *source, size_t line, size_t column,
	const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
/* errno-based: message is "<what>: <strerror(errnum)>", code NR_EIO (NR_ENOMEM for ENOMEM). */
int nr__error_errno(nr_error *err, int errnum, const char *source, const char *what);
int nr__error_oom(nr_error *err);
/* Reset the caller's error on entry of a public function taking an nr_error: a struct reused
 * from an earlier failed call would otherwise keep its stale message after a success (and,
 * the first error winning, hide a new failure's). Every public entry point calls it first. */
void nr__error_reset(nr_error *err);
/* The one version check of every versioned options struct: accepts 1..current (a program
 * built against older headers passes an older struct, whose fields are a prefix of the
 * current one; the caller reads the newer fields only when version says they are there).
 * @return 0, or NR_EARG naming the struct: "invalid argument: nr_audit_options version 7
 *         (this libnonroot knows versions 1 to 1)". */
int nr__check_version(nr_error *err, const char *type, unsigned int version,
	unsigned int current);

/* Allocation goes through these, so the allocation-failure test can wrap malloc/realloc. */
void *nr__malloc(size_t n);
void *nr__calloc(size_t n, size_t size);
void *nr__realloc(void *p, size_t n);
char *nr__strndup(const char *s, size_t n);
char *nr__strdup(const char *s);
/* Grow *arr (element size esz) to hold at least `need` elements; doubles. 0 or NR_ENOMEM. */
int nr__array_grow(void **arr, size_t *alloc, size_t need, size_t esz);

/* True when [s, s+n) has a NUL byte. */
static inline bool nr__has_nul(const char *s, size_t n)
{
	return n > 0 && memchr(s, '\0', n) != NULL;
}

#endif
