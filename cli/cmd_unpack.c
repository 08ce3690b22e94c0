/*
 * cmd_unpack.c: nonroot unpack IMAGE DIR [--bundle]: the final root filesystem of one
 * platform, every create confined to DIR (nr_image_unpack()); with --bundle, an OCI runtime
 * bundle (DIR/rootfs + a hardened DIR/config.json).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "regopt.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot unpack IMAGE DIR [--bundle [--allow-root] [--read-only]]\n"
		"                             [--platform OS/ARCH[/VARIANT]] [--rootless] [-q]\n"
		"                             [--creds USER:PASSWORD] [--authfile FILE]\n"
		"                             [--tls-verify=false] [--cert-dir DIR]\n"
		"\n"
		"Write the final root filesystem of IMAGE to DIR (new or empty): layers applied in\n"
		"order with OCI whiteouts and opaque directories, owners, modes, times, xattrs where\n"
		"the file system allows, hard links and symlinks. Every create is confined to DIR:\n"
		"a symlink a layer planted (etc -> /) is followed inside DIR, never out of it.\n"
		"Every layer is checked against its digest; on any error DIR is cleaned up.\n"
		"\n"
		"Options:\n"
		"  --bundle         make DIR an OCI runtime bundle like 'umoci unpack': DIR/rootfs\n"
		"                   and DIR/config.json (args from Entrypoint+Cmd, Env, WorkingDir,\n"
		"                   User resolved like runc), hardened: every capability dropped,\n"
		"                   noNewPrivileges, its own network namespace\n"
		"  --allow-root     with --bundle: accept an image that runs as uid 0 (refused\n"
		"                   otherwise)\n"
		"  --read-only      with --bundle: a read-only root filesystem (root.readonly)\n"
		"  --platform P     the platform of a multi-platform image (required when it has\n"
		"                   several)\n"
		"  --rootless       do not change owners, skip device nodes (the default when not\n"
		"                   run as root)\n"
		"  -q, --quiet      print nothing on success\n"
		CLI_REGISTRY_USAGE
		"  -h, --help       this help\n"
		"\n"
		"Exit status: 0 unpacked, 2 usage or input error.\n");
}

/* The image's filesystem into dir: a plain tree, or (bundle) a runtime bundle made with
 * bundle_flags. */
static int unpack_to(nr_image *img, const char *dir, nr_unpack_options *uo, int bundle,
	unsigned bundle_flags, nr_error *err)
{
	nr_bundle_gen_options bo = NR_BUNDLE_GEN_OPTIONS_INIT;

	if (!bundle)
		return nr_image_unpack(img, 0, dir, uo, err);
	bo.unpack = uo;
	bo.flags |= bundle_flags;
	return nr_image_bundle(img, 0, dir, &bo, err);
}

int nr_cmd_unpack(int argc, char **argv)
{
	enum { O_BUNDLE = 256, O_PLATFORM, O_ROOTLESS, O_ALLOW_ROOT, O_READONLY };
	static const struct option longopts[] = {
		{ "bundle", no_argument, NULL, O_BUNDLE },
		{ "allow-root", no_argument, NULL, O_ALLOW_ROOT },
		{ "read-only", no_argument, NULL, O_READONLY },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "rootless", no_argument, NULL, O_ROOTLESS },
		{ "quiet", no_argument, NULL, 'q' },
		CLI_REGISTRY_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr_image_open_options oo = NR_IMAGE_OPEN_OPTIONS_INIT;
	nr_unpack_options uo = NR_UNPACK_OPTIONS_INIT;
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	cli_progress prog;
	const char *ref, *dir;
	int c, bundle = 0, allow_root = 0, readonly = 0, quiet = 0, rc = NR_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE: bundle = 1; break;
		case O_ALLOW_ROOT: allow_root = 1; break;
		case O_READONLY: readonly = 1; break;
		case O_PLATFORM: oo.platform = optarg; break;
		case O_ROOTLESS: uo.flags |= NR_UNPACK_ROOTLESS; break;
		case 'q': quiet = 1; break;
		case CLI_O_CREDS: case CLI_O_AUTHFILE: case CLI_O_TLSVERIFY: case CLI_O_CERTDIR:
			if (cli_registry_option("unpack", c, optarg, &oo) != 0)
				return NR_EXIT_USAGE;
			break;
		case 'h': usage(stdout); return NR_EXIT_OK;
		default: return cli_usage_error("unpack", "invalid option");
		}
	}
	if ((allow_root || readonly) && !bundle)
		return cli_usage_error("unpack", "--allow-root and --read-only go with --bundle");
	if (argc - optind != 2)
		return cli_usage_error("unpack", argc - optind < 2 ? "needs IMAGE and DIR" :
			"too many arguments");
	ref = argv[optind];
	dir = argv[optind + 1];

	if (nr_image_open(&img, ref, &oo, &err) < 0) {
		rc = cli_fail(ref, &err);
		goto done;
	}
	if (nr_image_count(img) != 1) {
		rc = cli_failf("%s: the image has %zu platforms: pick one with --platform", ref,
			nr_image_count(img));
		goto done;
	}
	cli_progress_init(&prog, "unpack");
	uo.progress = cli_progress_cb;
	uo.payload = &prog;
	if (unpack_to(img, dir, &uo, bundle, (allow_root ? NR_BUNDLE_GEN_ALLOW_ROOT : 0) |
	    (readonly ? NR_BUNDLE_GEN_READONLY_ROOT : 0), &err) < 0) {
		cli_progress_done(&prog);
		rc = cli_fail(dir, &err);
		goto done;
	}
	cli_progress_done(&prog);
	if (!quiet)
		printf("unpacked %s (%s) to %s%s\n", ref, nr_image_platform_at(img, 0), dir,
			bundle ? " (runtime bundle: rootfs, config.json)" : "");
	rc = NR_EXIT_OK;
done:
	nr_image_free(img);
	return rc;
}
