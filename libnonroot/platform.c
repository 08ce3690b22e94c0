/*
 * platform.c: platform strings ("os/arch[/variant]"): building, matching, checking.
 */
#include "image_model.h"
#include "parse.h"

char *nr__platform_string(const char *os, const char *arch, const char *variant)
{
	nr__buf b = NR__BUF_INIT;

	nr__buf_printf(&b, "%s/%s", os && *os ? os : "unknown", arch && *arch ? arch : "unknown");
	if (variant && *variant)
		nr__buf_printf(&b, "/%s", variant);
	return nr__buf_detach(&b, NULL);
}

/*
 * Splits "os/arch[/variant]" and normalizes it as containerd's platforms package does:
 * aarch64 = arm64, x86_64 = amd64, arm64/v8 = arm64, arm = arm/v7, amd64/v1 = amd64.
 */
static void platform_norm(const char *p, char *os, char *arch, char *variant, size_t n)
{
	const char *s1 = strchr(p, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;

	snprintf(os, n, "%.*s", (int)(s1 ? (size_t)(s1 - p) : strlen(p)), p);
	snprintf(arch, n, "%.*s", s1 ? (int)(s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1)) : 0,
		s1 ? s1 + 1 : "");
	snprintf(variant, n, "%s", s2 ? s2 + 1 : "");
	if (strcmp(arch, "aarch64") == 0)
		snprintf(arch, n, "arm64");
	else if (strcmp(arch, "x86_64") == 0 || strcmp(arch, "x86-64") == 0)
		snprintf(arch, n, "amd64");
	else if (strcmp(arch, "i386") == 0)
		snprintf(arch, n, "386");
	else if (strcmp(arch, "armhf") == 0) {
		snprintf(arch, n, "arm");
		snprintf(variant, n, "v7");
	} else if (strcmp(arch, "armel") == 0) {
		snprintf(arch, n, "arm");
		snprintf(variant, n, "v6");
	}
	if (strcmp(arch, "arm64") == 0 && (strcmp(variant, "v8") == 0 || strcmp(variant, "8") == 0))
		variant[0] = '\0';
	else if (strcmp(arch, "amd64") == 0 && (strcmp(variant, "v1") == 0 || strcmp(variant, "1") == 0))
		variant[0] = '\0';
	else if (strcmp(arch, "arm") == 0) {
		if (!variant[0])
			snprintf(variant, n, "v7");
		else if (variant[0] >= '5' && variant[0] <= '8' && !variant[1]) {
			variant[1] = variant[0];	/* "7" = "v7" */
			variant[0] = 'v';
			variant[2] = '\0';
		}
	}
}

bool nr__platform_matches(const char *want, const char *have)
{
	char wo[64], wa[64], wv[64], ho[64], ha[64], hv[64];

	if (strcmp(want, have) == 0)
		return true;
	platform_norm(want, wo, wa, wv, sizeof(wo));
	platform_norm(have, ho, ha, hv, sizeof(ho));
	if (strcmp(wo, ho) != 0 || strcmp(wa, ha) != 0)
		return false;
	/* "linux/amd64" matches "linux/amd64/v2"; "linux/arm64/v8" matches "linux/arm64" */
	return !wv[0] || strcmp(wv, hv) == 0;
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

void nr__taglist_add(nr__taglist *t, const char *tag)
{
	size_t k;

	if (tag == NULL || *tag == '\0')
		return;
	for (k = 0; k < t->n; k++)
		if (strcmp(t->seen[k], tag) == 0)
			return;
	if (t->n < sizeof(t->seen) / sizeof(t->seen[0]))
		t->seen[t->n++] = tag;
	else
		t->more = true;
}

char *nr__taglist_str(const nr__taglist *t)
{
	nr__buf b = NR__BUF_INIT;
	char q[200];
	size_t k;

	if (t->n == 0)
		nr__buf_puts(&b, " (it has no tags)");
	for (k = 0; k < t->n; k++) {
		nr__span_quote(q, sizeof(q), t->seen[k], strlen(t->seen[k]), 48);
		nr__buf_printf(&b, "%s%s", k ? ", " : " (tags: ", q);
	}
	if (t->n)
		nr__buf_puts(&b, t->more ? ", ...)" : ")");
	return nr__buf_detach(&b, NULL);
}
