/*
 * cacheopt.c: --cache DIR / --no-cache (see cacheopt.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Why the directory `path` is not private to this user, or NULL (also when it is missing:
 * the library makes it 0700). A subdirectory must not be a symlink either. */
static const char *unsafe(const char *path, bool sub, char *why, size_t size)
{
	struct stat st;

	if ((sub ? lstat(path, &st) : stat(path, &st)) < 0)
		return NULL;
	if (!S_ISDIR(st.st_mode))
		snprintf(why, size, "not a directory");
	else if (st.st_uid != geteuid())
		snprintf(why, size, "owned by uid %lu, not by uid %lu", (unsigned long)st.st_uid,
			(unsigned long)geteuid());
	else if (st.st_mode & 022)
		snprintf(why, size, "writable by %s (mode %04o)",
			st.st_mode & 002 ? "others" : "its group", (unsigned)(st.st_mode & 07777));
	else
		return NULL;
	return why;
}

void cli_cache_check(void)
{
	const char *v = getenv("NONROOT_CACHE"), *base;
	static const char *const subs[] = { "", "/layers", "/verified" };
	char dir[4096], path[4200], why[128];
	size_t i;

	if (v == NULL || *v == '\0' || strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		return;
	if (strcmp(v, "auto") != 0)
		snprintf(dir, sizeof(dir), "%s", v);
	else if ((base = getenv("XDG_CACHE_HOME")) != NULL && base[0] == '/')
		snprintf(dir, sizeof(dir), "%s/nonroot", base);
	else if ((base = getenv("HOME")) != NULL && base[0] == '/')
		snprintf(dir, sizeof(dir), "%s/.cache/nonroot", base);
	else
		return;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, subs[i]);
		if (unsafe(path, i > 0, why, sizeof(why))) {
			fprintf(stderr, "nonroot: warning: layer-scan cache %s: %s: not used "
				"(anyone who may write it could forge scan results)\n", path, why);
			setenv("NONROOT_CACHE", "off", 1);
			return;
		}
	}
}
