/*
 * bench_urls: parse ASPNETCORE_URLS-style bindings. Two loops over the same list:
 * nr_url_parse() per URL ("url") and nr_bindings_from_env() over the whole variable ("env").
 * Prints bindings per second (best of 5). Under callgrind, run with ITERS = 0 and ITERS = N and
 * divide the difference of instruction counts by N * bindings (bench/run does).
 * Usage: bench_urls [ITERS (200000)] [url|env|both]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nonroot.h"

static const char *const urls[] = {
	"http://+:80", "https://localhost:443", "http://0.0.0.0:5000", "http://[::1]:8080",
	"https://example.com:8443/", "http://*:8081", "http://10.1.2.3:9000", "https://[fe80::1]:7443",
};
#define NURLS (sizeof(urls) / sizeof(urls[0]))

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_url(long iters, size_t *lens)
{
	long k;
	size_t i;
	int bad = 0;

	for (k = 0; k < iters; k++)
		for (i = 0; i < NURLS; i++) {
			nr_url u;
			bad |= nr_url_parse(&u, urls[i], lens[i], NULL);
			__asm__ volatile("" : : "r"(&u) : "memory");
		}
	return bad;
}

static int run_env(long iters, const char *const *envp)
{
	long k;

	for (k = 0; k < iters; k++) {
		nr_bindings *b = NULL;
		if (nr_bindings_from_env(&b, envp, NULL, NULL) < 0 || nr_bindings_count(b) != NURLS)
			return 1;
		nr_bindings_free(b);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	const char *mode = argc > 2 ? argv[2] : "both";
	size_t lens[NURLS], i, off;
	char var[1024];
	const char *envp[2] = { var, NULL };
	int r;

	off = (size_t)snprintf(var, sizeof(var), "ASPNETCORE_URLS=");
	for (i = 0; i < NURLS; i++) {
		lens[i] = strlen(urls[i]);
		off += (size_t)snprintf(var + off, sizeof(var) - off, "%s%s", i ? ";" : "", urls[i]);
	}
	if (strcmp(mode, "url") == 0)
		return run_url(iters, lens);
	if (strcmp(mode, "env") == 0)
		return run_env(iters, envp);
	for (r = 0; r < 2; r++) {
		double best = 1e9;
		int k;
		for (k = 0; k < 5; k++) {
			double t0 = now(), t;
			if ((r == 0 ? run_url(iters, lens) : run_env(iters / 4 + 1, envp)) != 0) {
				fprintf(stderr, "bench_urls: parse failed\n");
				return 1;
			}
			t = now() - t0;
			if (t < best)
				best = t;
		}
		printf("urls_%s_bindings_per_sec=%.0f\n", r == 0 ? "parse" : "env",
			(double)(r == 0 ? iters : iters / 4 + 1) * NURLS / best);
	}
	return 0;
}
