/** @file
 * libnonroot - make container images run as a non-root user.
 * common.h: export macro, version, basic types shared by every header.
 */
#ifndef NONROOT_COMMON_H
#define NONROOT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
# define NR_BEGIN_DECL extern "C" {
# define NR_END_DECL }
#else
/** Opens extern "C" in C++ (nothing in C). */
# define NR_BEGIN_DECL
/** Closes NR_BEGIN_DECL. */
# define NR_END_DECL
#endif

/** Declare a public function: exported from the shared library, everything else is hidden. */
#if defined(__GNUC__) || defined(__clang__)
# define NR_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
# define NR_EXTERN(type) extern type
#endif

/** Major version of these headers. */
#define NR_VERSION_MAJOR 0
/** Minor version of these headers. */
#define NR_VERSION_MINOR 1
/** Patch version of these headers. */
#define NR_VERSION_PATCH 0
/** Version string of these headers (nr_version() gives the library's). */
#define NR_VERSION "0.1.0"

NR_BEGIN_DECL

/** @return the library's version string ("MAJOR.MINOR.PATCH"); static, never NULL. */
NR_EXTERN(const char *) nr_version(void);

/** Free memory that a libnonroot function returned as owned by the caller (strings, buffers).
 *  NULL is a no-op. Needed by FFIs, whose free() may not be the library's. */
NR_EXTERN(void) nr_free(void *p);

NR_END_DECL

#endif
