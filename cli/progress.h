/*
 * progress.h: a one-line progress bar on stderr for layer scans, shown only when stderr is a
 * terminal (quiet otherwise, so logs and pipes stay clean).
 */
#ifndef NR_CLI_PROGRESS_H
#define NR_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "nonroot.h"

typedef struct cli_progress {
	bool on;            /* stderr is a TTY */
	bool drawn;         /* a line is on screen */
	const char *what;   /* "scanning", "patching" */
	size_t manifest, nmanifests;
	uint64_t last;      /* bytes at the last redraw */
} cli_progress;

/* Set up: p->on from isatty(2) (NONROOT_PROGRESS=1 forces it, =0 disables it). */
void cli_progress_init(cli_progress *p, const char *what);
/* The nr_scan_progress_cb; payload is the cli_progress. */
void cli_progress_cb(size_t layer, size_t nlayers, uint64_t layer_bytes, uint64_t layer_size,
	void *payload);
/* Erase the line (before printing results). */
void cli_progress_done(cli_progress *p);

#endif
