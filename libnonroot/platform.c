/*
 * platform.c: platform strings ("os/arch[/variant]"): building, matching, checking.
 */
#include "image_model.h"

char *nr__platform_string(const char *os, const char *arch, const char *variant)
{
	nr_buf b = NR_BUF_INIT;

	nr_buf_printf(&b, "%s/%s", os && *os ? os : "unknown", arch && *arch ? arch : "unknown");
	if (variant && *variant)
		nr_buf_printf(&b, "/%s", variant);
	return nr_buf_detach(&b, NULL);
}

bool nr__platform_matches(const char *want, const char *have)
{
	size_t n = strlen(want);

	if (strcmp(want, have) == 0)
		return true;
	/* "linux/arm64" matches "linux/arm64/v8" */
	return strncmp(want, have, n) == 0 && have[n] == '/' &&
		memchr(want, '/', n) != NULL && strchr(strchr(want, '/') + 1, '/') == NULL;
}

int nr__check_platform(const char *p, nr_error *err)
{
	size_t n = strlen(p), slashes = 0, i;

	for (i = 0; i < n; i++) {
		if (p[i] == '/') {
			if (i == 0 || p[i - 1] == '/' || i == n - 1)
				slashes = 99;
			slashes++;
		} else if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
			p[i] == '_' || p[i] == '-' || p[i] == '.')) {
			slashes = 99;
		}
	}
	if (slashes < 1 || slashes > 2)
		return nr__error_set(err, NR_EARG, "--platform", 0, 0,
			"invalid platform '%s' (want os/arch[/variant])", p);
	return 0;
}
