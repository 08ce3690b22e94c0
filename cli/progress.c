/*
 * progress.c: the layer-scan progress bar (see progress.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

void cli_progress_init(cli_progress *p, const char *what)
{
	const char *force = getenv("NONROOT_PROGRESS");

	memset(p, 0, sizeof(*p));
	p->what = what;
	p->on = force ? strcmp(force, "0") != 0 : isatty(STDERR_FILENO) == 1;
	p->nmanifests = 1;
}

void cli_progress_cb(size_t layer, size_t nlayers, uint64_t layer_bytes, uint64_t layer_size,
	void *payload)
{
	cli_progress *p = payload;
	char bar[31];
	unsigned pct;
	size_t fill, k;

	if (p == NULL || !p->on)
		return;
	/* Redraw at most every 256 KiB of a layer, and at its end. */
	if (layer_bytes != layer_size && layer_bytes - p->last < 256 * 1024 && layer_bytes >= p->last)
		return;
	p->last = layer_bytes;
	pct = layer_size ? (unsigned)(layer_bytes * 100 / layer_size) : 100;
	if (pct > 100)
		pct = 100;
	fill = pct * 30 / 100;
	for (k = 0; k < 30; k++)
		bar[k] = k < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r%s: layer %zu/%zu [%s] %3u%% %.1f/%.1f MB ", p->what, layer + 1,
		nlayers, bar, pct, (double)layer_bytes / 1e6, (double)layer_size / 1e6);
	fflush(stderr);
	p->drawn = true;
	if (layer_bytes == layer_size)
		p->last = 0;
}

void cli_progress_done(cli_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}
