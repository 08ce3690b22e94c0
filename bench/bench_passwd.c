/*
 * bench_passwd: parse an N-entry passwd file with nr_passwd_parse() and with glibc's
 * fgetpwent() over the same bytes (fmemopen), best of R rounds each; print MB/s and the ratio.
 * Also checks that the libnonroot parse is lossless (nr_passwd_serialize() gives the same bytes).
 * Usage: bench_passwd [ENTRIES (100000)] [ROUNDS (5)]
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nonroot.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000, len = 0, cap, i, olen;
	int rounds = argc > 2 ? atoi(argv[2]) : 5, r;
	double best_nr = 1e9, best_glibc = 1e9, mb;
	size_t count_nr = 0, count_glibc = 0;
	char *buf, *out = NULL;
	nr_error err = NR_ERROR_INIT;

	cap = n * 96 + 64;
	if ((buf = malloc(cap)) == NULL)
		return 2;
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
			"user%zu:x:%zu:%zu:User number %zu,,,:/home/user%zu:/bin/bash\n",
			i, 10000 + i, 10000 + i % 5000, i, i);
	mb = (double)len / 1e6;
	for (r = 0; r < rounds; r++) {
		nr_passwd *pw = NULL;
		double t0 = now(), t;
		if (nr_passwd_parse(&pw, buf, len, "bench", &err) < 0) {
			fprintf(stderr, "bench_passwd: %s\n", err.message);
			return 1;
		}
		t = now() - t0;
		if (t < best_nr)
			best_nr = t;
		count_nr = nr_passwd_count(pw);
		if (r == 0) {
			if (nr_passwd_serialize(&out, &olen, pw, &err) < 0 || olen != len ||
			    memcmp(out, buf, len) != 0) {
				fprintf(stderr, "bench_passwd: round trip is not lossless\n");
				return 1;
			}
			free(out);
		}
		nr_passwd_free(pw);
	}
	for (r = 0; r < rounds; r++) {
		FILE *f = fmemopen(buf, len, "r");
		double t0 = now(), t;
		size_t c = 0;
		if (f == NULL)
			return 2;
		while (fgetpwent(f) != NULL)
			c++;
		t = now() - t0;
		fclose(f);
		if (t < best_glibc)
			best_glibc = t;
		count_glibc = c;
	}
	if (count_nr != n || count_glibc != n) {
		fprintf(stderr, "bench_passwd: counted %zu (libnonroot) and %zu (glibc) of %zu\n",
			count_nr, count_glibc, n);
		return 1;
	}
	printf("passwd_entries=%zu bytes=%zu\n", n, len);
	printf("passwd_nonroot_mbps=%.1f\n", mb / best_nr);
	printf("passwd_glibc_mbps=%.1f\n", mb / best_glibc);
	printf("passwd_ratio=%.2f\n", best_glibc / best_nr);
	return 0;
}
