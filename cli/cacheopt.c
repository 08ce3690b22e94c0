/*
 * cacheopt.c: --cache DIR / --no-cache (see cacheopt.h).
 */
#include <stdlib.h>

#include "cacheopt.h"

void cli_cache_default(void)
{
	setenv("NONROOT_CACHE", "auto", 0);
}

void cli_cache_option(int opt, const char *arg)
{
	if (opt == CLI_O_CACHE)
		setenv("NONROOT_CACHE", arg && *arg ? arg : "off", 1);
	else
		setenv("NONROOT_CACHE", "off", 1);
}
