/*
 * cacheopt.h: --cache DIR / --no-cache for the commands that scan layers (patch, audit).
 * They set $NONROOT_CACHE, which the library reads (libnonroot/scancache.h); without either
 * option the CLI uses the default cache ($XDG_CACHE_HOME/nonroot, else ~/.cache/nonroot)
 * unless NONROOT_CACHE is already set.
 */
#ifndef NR_CLI_CACHEOPT_H
#define NR_CLI_CACHEOPT_H

#include <stdbool.h>

enum { CLI_O_CACHE = 1000, CLI_O_NOCACHE };

#define CLI_CACHE_LONGOPTS \
	{ "cache", required_argument, NULL, CLI_O_CACHE }, \
	{ "no-cache", no_argument, NULL, CLI_O_NOCACHE }

#define CLI_CACHE_USAGE \
	"  --cache DIR          layer-scan cache, keyed by layer digest (default\n" \
	"                       $XDG_CACHE_HOME/nonroot; environment: NONROOT_CACHE=DIR|off)\n" \
	"  --no-cache           read and verify every layer\n"

/* Call before option parsing. */
void cli_cache_default(void);
/* Handle CLI_O_CACHE / CLI_O_NOCACHE. */
void cli_cache_option(int opt, const char *arg);
/* After option parsing: a cache directory (or its layers/, verified/) that is not owned by
 * the user or is group/other-writable is not used, with a warning on stderr (the library
 * ignores it too, silently). */
void cli_cache_check(void);

#endif
