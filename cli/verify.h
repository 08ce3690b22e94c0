/*
 * verify.h: the engine of `nonroot verify` (cmd_verify.c) and `nonroot patch --verify`:
 * unpack the image into a private directory as a hardened bundle (nr_image_bundle), start it
 * with an OCI runtime (runc by default), watch its init process through /proc (uid/gid,
 * capabilities, NoNewPrivs, listening sockets of its network namespace, exit status, output
 * tail), optionally GET / on each listening port from inside its network namespace, and say
 * whether it works as non-root. Everything is removed when done, also on timeout and on
 * SIGINT/SIGTERM/SIGHUP.
 */
#ifndef NR_CLI_VERIFY_H
#define NR_CLI_VERIFY_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "nonroot.h"

#define VERIFY_MAX_PORTS 64

typedef struct verify_opts {
	const char *runtime;      /* name on PATH or a path; NULL: "runc" */
	double timeout;           /* seconds; <= 0: 10 */
	uint16_t ports[VERIFY_MAX_PORTS];   /* --port (override the image's expected ports) */
	size_t nports;
	int http;                 /* GET / on each listening expected port */
	int json;                 /* --format json */
	int quiet;                /* -q (text): nothing on a pass, only the FAIL lines on a failure */
	const char *platform;     /* --platform */
	const nr_image_open_options *open;   /* registry options (docker://); NULL: defaults */
	FILE *out;                /* the report; NULL: stdout */
} verify_opts;

/* Option codes shared by verify and patch --verify (getopt long-option values). */
enum { VERIFY_O_RUNTIME = 2000, VERIFY_O_TIMEOUT, VERIFY_O_PORT, VERIFY_O_HTTP };

/* Apply one of the VERIFY_O_* options. @return 0, or 2 after printing a usage error for cmd. */
int cli_verify_parse(verify_opts *o, int opt, const char *arg, const char *cmd);

/* Verify one image. Prints the report on stdout (errors on stderr).
 * @return 0 proven, 1 the proof failed, 2 cannot run (usage, input, runtime missing, not
 *         root); a signal that interrupted it is re-raised after the cleanup. */
int cli_verify_image(const char *ref, const verify_opts *o);

#endif
