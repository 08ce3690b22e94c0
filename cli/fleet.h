/*
 * fleet.h: several images in one call (`nonroot audit|patch IMAGE... | --from FILE`).
 *
 * Each image is handled by a worker process (fork) running the command's one-image path,
 * at most --jobs at once (default: the CPUs, at most 4), all sharing the layer-scan cache
 * (whose writes are atomic, so concurrent workers are safe). A worker's stdout and stderr
 * go to private temp files; the parent prints them in argument order, as soon as every
 * earlier image is done, so reports never interleave. The exit status is the worst one
 * (2 over 1 over 0). With --format json the output is one document:
 *   {"images":[{"image":REF,"exit":N,"report":<the command's JSON document or null>,
 *               "error":<its error text or null>}, ...]}
 */
#ifndef NR_CLI_FLEET_H
#define NR_CLI_FLEET_H

#include <stddef.h>

enum { CLI_O_FROM = 1200, CLI_O_JOBS };

#define CLI_FLEET_LONGOPTS \
	{ "from", required_argument, NULL, CLI_O_FROM }, \
	{ "jobs", required_argument, NULL, 'j' }

#define CLI_FLEET_USAGE \
	"  --from FILE          read IMAGE references from FILE, one per line ('-': stdin;\n" \
	"                       blank lines and # comments skipped), besides the arguments\n" \
	"  -j, --jobs N         images handled at once (default: CPUs, at most 4)\n"

typedef struct cli_fleet {
	const char *from;     /* --from FILE, or NULL */
	unsigned long jobs;   /* 0: default */
	int json;             /* one JSON document for all images */
} cli_fleet;

/* The value cli_fleet_run() returns in the process that must handle one image. */
#define CLI_FLEET_ONE (-1)

/*
 * Collect the references (args, then --from). One reference and no --from: returns
 * CLI_FLEET_ONE at once with *ref set (no fork). Else runs the workers: in each worker it
 * returns CLI_FLEET_ONE with *ref set (the caller goes on with that image and returns its
 * exit status, which ends the worker); in the parent it returns the worst exit status after
 * printing every report.
 */
int cli_fleet_run(const char *cmd, const cli_fleet *f, int nargs, char **args,
	const char **ref);

#endif
