/*
 * fuzz_serverports: program arguments and server configuration files through the
 * privileged-port finders of serverports.c (audit NR012/NR013). Properties:
 *  - the input (split at NUL bytes into arguments) never crashes the argument finder, and
 *    every port it reports is 1..threshold-1 with a NUL-terminated text;
 *  - the same bytes as an nginx, Apache and lighttpd file: the same, with lines in order.
 */
#include "fuzz.h"
#include "serverports.h"

typedef struct seen {
	size_t last;
	int in_order;
} seen;

static int check(void *ctx, size_t where, const char *text, unsigned port)
{
	seen *s = ctx;

	FUZZ_ASSERT(port >= 1 && port < 1024, "port %u", port);
	FUZZ_ASSERT(text != NULL && strlen(text) < 256, "text");
	if (s->in_order) {
		FUZZ_ASSERT(where >= s->last && where >= 1, "line %zu after %zu", where, s->last);
		s->last = where;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *args[64];
	char *copy;
	size_t n = 0, k, start = 0;
	seen s = { 0, 0 };

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (k = 0; k <= size && n < 64; k++) {
		if (k == size || copy[k] == '\0') {
			args[n++] = copy + start;
			start = k + 1;
		}
	}
	FUZZ_ASSERT(nr__args_ports(args, n, 1024, check, &s) == 0, "args");
	for (k = 0; nr__server_config_paths[k]; k++) {
		s.last = 0;
		s.in_order = 1;
		FUZZ_ASSERT(nr__config_ports(nr__server_config_paths[k], (const char *)data, size,
			1024, check, &s) == 0, "config %s", nr__server_config_paths[k]);
	}
	free(copy);
	return 0;
}
