/*
 * cmd_cache.c: nonroot cache prune: bound the layer-scan cache (least recently used records
 * first, markers by age) and remove what runs killed with SIGKILL left in $TMPDIR.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cacheopt.h"
#include "../libnonroot/cacheprune.h"

char *nr__scancache_dir(void);   /* libnonroot/scancache.c (static library, internal) */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot cache prune [--max-size SIZE] [--max-age DAYS] [--cache DIR]\n"
		"                           [--dry-run] [-q]\n"
		"\n"
		"Bound the layer-scan cache ($NONROOT_CACHE, else $XDG_CACHE_HOME/nonroot, else\n"
		"~/.cache/nonroot), which only grows otherwise: remove the records not used for more\n"
		"than DAYS, then the least recently used ones until the rest fit in SIZE; remove\n"
		"verification markers not used for more than DAYS, and temp files of dead writers.\n"
		"Also remove the $TMPDIR/nonroot-* directories of runs that no longer exist (killed\n"
		"with SIGKILL). Only files of the user running nonroot with exactly nonroot's names\n"
		"are removed, never through a symlink; a live run's files are never touched.\n"
		"\n"
		"Options:\n"
		"  --max-size SIZE  keep at most SIZE bytes of records (suffix K, M, G; default 256M;\n"
		"                   0 removes every record)\n"
		"  --max-age DAYS   remove what was not used for more than DAYS days (default 90;\n"
		"                   0: no age limit)\n"
		"  --cache DIR      the cache directory (default as above)\n"
		"  --dry-run        print what would be removed, remove nothing\n"
		"  -q, --quiet      print nothing\n"
		"  -h, --help       this help\n"
		"\n"
		"Exit status: 0 pruned (or nothing to prune), 2 usage error or an unsafe or\n"
		"unreadable cache directory.\n");
}

/* "256M", "1G", "4096", "0": bytes, or -1 */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' && mul > 1)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || (v && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

static void human(char *out, size_t size, uint64_t b)
{
	if (b >= (1ull << 30))
		snprintf(out, size, "%.1f GiB", (double)b / (double)(1ull << 30));
	else if (b >= (1ull << 20))
		snprintf(out, size, "%.1f MiB", (double)b / (double)(1ull << 20));
	else if (b >= (1ull << 10))
		snprintf(out, size, "%.1f KiB", (double)b / (double)(1ull << 10));
	else
		snprintf(out, size, "%" PRIu64 " bytes", b);
}

static int cmd_prune(int argc, char **argv)
{
	enum { O_MAX_SIZE = 256, O_MAX_AGE, O_DRY_RUN };
	static const struct option longopts[] = {
		{ "max-size", required_argument, NULL, O_MAX_SIZE },
		{ "max-age", required_argument, NULL, O_MAX_AGE },
		{ "cache", required_argument, NULL, CLI_O_CACHE },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr__prune_opts o = { .max_size = 256ull << 20, .max_age = 90 * 86400, .tmpdirs = true };
	nr__prune_stats st;
	nr_error err = NR_ERROR_INIT;
	unsigned long days;
	char *dir = NULL, a[32], b[32], c2[32];
	const char *cache = NULL, *would;
	int c, quiet = 0, rc;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case O_MAX_SIZE:
			if (parse_size(optarg, &o.max_size) < 0)
				return cli_usage_error("cache prune",
					"--max-size: not a size (like 256M, 1G, 4096)");
			break;
		case O_MAX_AGE:
			if (cli_parse_uint("--max-age", optarg, 100000, &days) != 0)
				return NR_EXIT_USAGE;
			o.max_age = (int64_t)days * 86400;
			break;
		case CLI_O_CACHE:
			if (*optarg == '\0')
				return cli_usage_error("cache prune", "--cache: empty directory name");
			cache = optarg;
			break;
		case O_DRY_RUN: o.dry_run = true; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return NR_EXIT_OK;
		default: return cli_usage_error("cache prune", "invalid option");
		}
	}
	if (optind != argc)
		return cli_usage_error("cache prune", "takes no arguments");
	if (cache)
		dir = strdup(cache);
	else {
		cli_cache_default();
		dir = nr__scancache_dir();   /* NULL: NONROOT_CACHE=off, or no home */
	}
	if (cache && dir == NULL)
		return cli_failf("out of memory");
	if (nr__scancache_prune(dir, &o, &st, &err) < 0) {
		rc = cli_fail(dir, &err);
		free(dir);
		return rc;
	}
	if (!quiet) {
		would = o.dry_run ? "would remove" : "removed";
		human(a, sizeof(a), st.record_bytes);
		human(b, sizeof(b), st.kept_bytes);
		human(c2, sizeof(c2), st.tmpdir_bytes);
		printf("%s: %s %zu layer-scan record%s (%s), %zu verification marker%s, "
			"%zu temp file%s of dead writers\n",
			dir ? dir : "(no layer-scan cache)", would, st.records,
			st.records == 1 ? "" : "s", a, st.markers, st.markers == 1 ? "" : "s",
			st.temps, st.temps == 1 ? "" : "s");
		printf("kept %zu record%s (%s), %zu marker%s\n", st.kept_records,
			st.kept_records == 1 ? "" : "s", b, st.kept_markers,
			st.kept_markers == 1 ? "" : "s");
		printf("%s %zu temp director%s of dead runs in %s (%s)\n", would, st.tmpdirs,
			st.tmpdirs == 1 ? "y" : "ies",
			getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", c2);
	}
	free(dir);
	return NR_EXIT_OK;
}

int nr_cmd_cache(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "prune") == 0)
		return cmd_prune(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return NR_EXIT_OK;
	}
	if (argc < 2)
		return cli_usage_error("cache", "needs a subcommand: prune");
	return cli_usage_error("cache", "unknown subcommand '%s' (known: prune)", argv[1]);
}
