/*
 * fuzz_procobs: the /proc parsers of `nonroot verify` (cli/procobs.c): /proc/PID/status and
 * /proc/PID/net/tcp{,6}. Input: the first byte picks status (even) or tcp/tcp6 (odd, bit 1
 * the family); the rest is the file. Properties: never reads out of bounds; a parsed socket
 * is in state LISTEN with a printable address; the count never exceeds the array.
 */
#include "fuzz.h"
#include "../cli/procobs.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	procobs_status st;
	procobs_listen l[8];
	size_t n = 0, k;
	char *text;

	if (size < 1)
		return 0;
	text = fuzz_strndup(data + 1, size - 1);
	if ((data[0] & 1) == 0) {
		if (procobs_parse_status(text, size - 1, &st) == 0 && st.no_new_privs > 1)
			abort();
	} else {
		(void)procobs_parse_tcp(text, size - 1, (data[0] & 2) ? 6 : 4, l, 8, &n);
		if (n > 8)
			abort();
		for (k = 0; k < n; k++)
			if (memchr(l[k].addr, '\0', sizeof(l[k].addr)) == NULL)
				abort();
	}
	free(text);
	return 0;
}
