/*
 * imgconfig_internal.h: what audit.c needs from imgconfig.c beyond the public API.
 */
#ifndef NR_IMGCONFIG_INTERNAL_H
#define NR_IMGCONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The ports of the http:// and https:// URLs in text (the scheme default when a URL has no
 * port; URLs whose port is not a number are skipped). @return how many were found (at most
 * max are stored). */
size_t nr__text_url_ports(const char *text, uint16_t *ports, size_t max);

struct nr_imgconfig;
/* The strings of config.<field> (an array: "Cmd", "Entrypoint"), borrowed; a non-string
 * element is "". @return the array's length (at most max are stored); 0 when absent. */
size_t nr__imgconfig_strings(const struct nr_imgconfig *cfg, const char *field,
	const char **out, size_t max);
/* The `created` of the last history entry that has one (a string), borrowed; NULL if none. */
const char *nr__imgconfig_last_created(const struct nr_imgconfig *cfg);

#endif
