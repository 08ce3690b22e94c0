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
#define NR_VERSION_MINOR 2
/** Patch version of these headers. */
#define NR_VERSION_PATCH 0
/** Version string of these headers (nr_version() gives the library's). */
#define NR_VERSION "0.2.0"
/** The headers' version as one number, MAJOR * 10000 + MINOR * 100 + PATCH (0.2.0 is 200),
 *  for comparisons in the preprocessor; nr_version_number() gives the library's. */
#define NR_VERSION_NUMBER (NR_VERSION_MAJOR * 10000 + NR_VERSION_MINOR * 100 + NR_VERSION_PATCH)
/** True when these headers are version @p major.@p minor.@p patch or later:
 *  `#if NR_VERSION_CHECK(0, 2, 0)` guards code that needs a 0.2 function. */
#define NR_VERSION_CHECK(major, minor, patch) \
	(NR_VERSION_NUMBER >= (major) * 10000 + (minor) * 100 + (patch))

/** The first unprivileged port: a port below it needs root or CAP_NET_BIND_SERVICE (Linux's
 *  default net.ipv4.ip_unprivileged_port_start). The default threshold of every function and
 *  options struct that takes one (nr_urls_options, nr_audit_options, nr_patch_options). */
#define NR_UNPRIVILEGED_PORT_START 1024

/** The one "auto" value of a user or group id in an options struct: the library chooses
 *  (nr_adduser_options.uid / gid: a free id; nr_patch_options.uid / gid: 1654, the gid the
 *  uid). */
#define NR_ID_AUTO UINT32_MAX

NR_BEGIN_DECL

/** @return the library's version string ("MAJOR.MINOR.PATCH"); static, never NULL. */
NR_EXTERN(const char *) nr_version(void);

/** @return the library's version as NR_VERSION_NUMBER computes it (MAJOR * 10000 +
 *  MINOR * 100 + PATCH): compare it with NR_VERSION_NUMBER to detect a program running on an
 *  older library than the headers it was built with. */
NR_EXTERN(unsigned int) nr_version_number(void);

/** Free memory that a libnonroot function returned as owned by the caller (strings, buffers).
 *  NULL is a no-op. Needed by FFIs, whose free() may not be the library's. */
NR_EXTERN(void) nr_free(void *p);

NR_END_DECL

#endif
