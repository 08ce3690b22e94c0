/** @file
 * errors.h: the error model of libnonroot.
 *
 * Every function that can fail returns 0 (or a non-negative count) on success and a negative
 * NR_E* code on failure, and fills a caller-owned nr_error when one is passed. Like jansson's
 * json_error_t the struct lives on the caller's stack and may be NULL. Every public function
 * that takes one resets it on entry, so one struct can be reused across calls: after a success
 * it reads "no error", after a failure it holds that failure (within one call the first error
 * set wins). Initialise it with NR_ERROR_INIT all the same.
 */
#ifndef NONROOT_ERRORS_H
#define NONROOT_ERRORS_H

#include "common.h"

NR_BEGIN_DECL

/** Return codes. Stable API: values never change. */
typedef enum nr_error_code {
	NR_OK = 0,
	NR_ERROR = -1,        /**< generic failure */
	NR_EINVALID = -2,     /**< malformed input (file, line, field named in nr_error) */
	NR_ENOTFOUND = -3,    /**< a user, group, file, tag or blob does not exist */
	NR_ERANGE = -4,       /**< a number is out of range */
	NR_EIO = -5,          /**< an operating system call failed (errno text in message) */
	NR_ENOMEM = -6,       /**< out of memory */
	NR_EEXISTS = -7,      /**< the thing to add exists already */
	NR_ECONFLICT = -8,    /**< the thing to add conflicts with an existing one */
	NR_EUNSUPPORTED = -9, /**< valid but not supported (media type, transport, ...) */
	NR_EDIGEST = -10,     /**< a blob's digest or size does not match its descriptor */
	NR_ETOOBIG = -11,     /**< input over a documented size limit */
	NR_EESCAPE = -12,     /**< a path would resolve outside its root */
	NR_EARG = -13         /**< invalid argument from the caller (NULL, bad option) */
} nr_error_code;

/** Details of a failure. Caller-owned; see the file comment for the first-error-wins rule. */
typedef struct nr_error {
	int code;             /**< NR_E* code, 0 when no error was set */
	size_t line;          /**< 1-based line in the input, 0 when not applicable */
	size_t column;        /**< 1-based column in the input, 0 when not applicable */
	char source[80];      /**< file, field or digest the error is about ("" when none) */
	char message[256];    /**< one line, no trailing period */
	void *reserved[4];     /**< zero; room for fields added later without an ABI break */
} nr_error;

/** Static initialiser for an nr_error meaning "no error". */
#define NR_ERROR_INIT { 0, 0, 0, "", "", { 0 } }

/** Reset @p err to "no error". NULL is a no-op. */
NR_EXTERN(void) nr_error_clear(nr_error *err);

/** @return a static English name for an NR_E* code ("invalid input", ...); never NULL. */
NR_EXTERN(const char *) nr_strerror(int code);

/**
 * Format @p err as one line: "SOURCE:LINE:COLUMN: MESSAGE" (parts left out when unset).
 * @return the length the full text needs (like snprintf); @p buf is always NUL-terminated
 *         when @p size > 0.
 */
NR_EXTERN(size_t) nr_error_format(const nr_error *err, char *buf, size_t size);

NR_END_DECL

#endif
