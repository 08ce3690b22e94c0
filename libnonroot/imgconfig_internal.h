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

#endif
