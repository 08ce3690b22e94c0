/** @file
 * names.h: account name rules (shadow-utils).
 *
 * New user and group names follow shadow-utils' chkname. The default rules are the ones
 * that useradd/groupadd never let through, even with --badname: a name is rejected when it
 * is empty, "." or "..", starts with '-', contains any of ` "#',/:;`, a control character
 * (C0, DEL, or C1 written in UTF-8: U+0080..U+009F) or a NUL byte, consists only of ASCII digits, or is longer than NR_NAME_MAX
 * bytes (LOGIN_NAME_MAX - 1 on Linux/glibc). Everything else, including UTF-8 and '$', is
 * accepted. NR_NAME_STRICT adds shadow's default pattern (useradd without --badname):
 * `[a-zA-Z0-9_.][a-zA-Z0-9_.-]*$?`.
 */
#ifndef NONROOT_NAMES_H
#define NONROOT_NAMES_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

/** Longest accepted user or group name in bytes (sysconf(_SC_LOGIN_NAME_MAX) - 1 on glibc). */
#define NR_NAME_MAX 255

/**
 * Check a new user or group name against shadow-utils' rules (see the file comment).
 * @param name  the name, not necessarily NUL-terminated
 * @param len   its length in bytes (an embedded NUL makes the name invalid)
 * @param err   optional; on failure source is "name" and the message says which rule
 *              failed and quotes the name, e.g. `invalid name '-x': must not start with '-'`
 * @return 0 when valid, NR_EINVALID otherwise (NR_EARG when name is NULL)
 */
NR_EXTERN(int) nr_name_check(const char *name, size_t len, nr_error *err);

/** Flag for nr_name_check_flags(): also require `[a-zA-Z0-9_.][a-zA-Z0-9_.-]*$?`. */
#define NR_NAME_STRICT 1u

/**
 * nr_name_check() with flags (0 or NR_NAME_STRICT).
 * @return 0 when valid, NR_EINVALID otherwise, NR_EARG for a NULL name or unknown flags
 */
NR_EXTERN(int) nr_name_check_flags(const char *name, size_t len, unsigned flags, nr_error *err);

NR_END_DECL

#endif
