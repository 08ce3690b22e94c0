/*
 * cmd_passwd.c: nonroot passwd add --root DIR --user NAME [...]: add a user (and its group)
 * to a root filesystem's etc/passwd, etc/group, etc/shadow and etc/gshadow, like useradd,
 * with every path resolved inside DIR. Built statically (nonroot-static), it is what a
 * Dockerfile RUN calls in a shell-less image.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot passwd add --root DIR --user NAME [--uid N] [--gid N] [--home DIR]\n"
		"                          [--shell PATH] [--gecos TEXT] [--create-home] [--system]\n"
		"                          [--exist-ok]\n"
		"Add a user to DIR/etc/passwd and DIR/etc/group (created when missing), and to\n"
		"DIR/etc/shadow (NAME:!:DAYS::::::) and DIR/etc/gshadow when they exist. Every file\n"
		"is checked first and then replaced atomically; paths are resolved inside DIR (a\n"
		"symlinked /etc/passwd never leads outside it).\n\n"
		"  --root DIR       the root filesystem to edit (required; \"/\" in a RUN step)\n"
		"  --user NAME      the user name (shadow-utils rules; required)\n"
		"  --uid N          the uid (0-2147483647, the range runc accepts); default: the\n"
		"                   lowest free id in 1000-60000 (with --system:\n"
		"                   the highest free in 100-999, like useradd -r); when a group is\n"
		"                   created too, an id free as both uid and gid\n"
		"  --gid N          the primary gid; an existing group with that gid is used, else a\n"
		"                   group NAME is created with it. Default: the group NAME if it\n"
		"                   exists, else a new group NAME with gid = uid when free\n"
		"  --home DIR       home directory (default /home/NAME)\n"
		"  --shell PATH     login shell (default /sbin/nologin if it exists in DIR, else\n"
		"                   /bin/false)\n"
		"  --gecos TEXT     comment field (default empty)\n"
		"  --create-home    create the home directory (0755, owned by the new user)\n"
		"  --system         choose automatic ids in the system range 999..100\n"
		"  --exist-ok       succeed when NAME exists with the requested uid/gid\n"
		"  -q, --quiet      print nothing on success\n"
		"  -h, --help       this help\n\n"
		"The shadow \"last change\" day is SOURCE_DATE_EPOCH/86400 when that is set.\n"
		"Exit status: 0 added (or existing with --exist-ok), 2 usage error, invalid or\n"
		"conflicting input (the file and line are named), or an I/O error.\n");
}

/* What passwd add did, on one line. */
static void print_added(const char *name, const char *root, const nr_adduser_result *res)
{
	if (res->existed) {
		printf("user %s exists already (uid %u, gid %u)%s\n", name, res->uid, res->gid,
			res->home_created ? "; created its home" : "");
		return;
	}
	printf("added user %s (uid %u, gid %u) in %s: etc/passwd", name, res->uid, res->gid,
		root);
	if (res->group_created)
		printf(", etc/group (new group %s)", name);
	if (res->shadow_updated)
		printf(", etc/shadow");
	if (res->gshadow_updated)
		printf(", etc/gshadow");
	if (res->home_created)
		printf("; created the home directory");
	printf("\n");
}

static int cmd_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "uid", required_argument, NULL, 'U' },
		{ "gid", required_argument, NULL, 'G' },
		{ "home", required_argument, NULL, 'd' },
		{ "shell", required_argument, NULL, 's' },
		{ "gecos", required_argument, NULL, 'c' },
		{ "create-home", no_argument, NULL, 'm' },
		{ "system", no_argument, NULL, 'S' },
		{ "exist-ok", no_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	nr_adduser_options o = NR_ADDUSER_OPTIONS_INIT;
	nr_adduser_result res;
	nr_error err = NR_ERROR_INIT;
	nr_rootfs *rfs = NULL;
	const char *root = NULL;
	unsigned long v;
	int c, rc, quiet = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'r': root = optarg; break;
		case 'u': o.name = optarg; break;
		case 'U':
			if (cli_parse_uint("--uid", optarg, 2147483647UL, &v) < 0)
				return NR_EXIT_USAGE;
			o.uid = (uint32_t)v;
			break;
		case 'G':
			if (cli_parse_uint("--gid", optarg, 2147483647UL, &v) < 0)
				return NR_EXIT_USAGE;
			o.gid = (uint32_t)v;
			break;
		case 'd': o.home = optarg; break;
		case 's': o.shell = optarg; break;
		case 'c': o.gecos = optarg; break;
		case 'm': o.flags |= NR_ADDUSER_CREATE_HOME; break;
		case 'S':
			o.id_first = NR_SYS_ID_MAX;
			o.id_last = NR_SYS_ID_MIN;
			break;
		case 'e': o.flags |= NR_ADDUSER_EXIST_OK; break;
		case 'h': usage(stdout); return NR_EXIT_OK;
		default: return cli_usage_error("passwd add", "invalid option");
		}
	}
	if (optind != argc)
		return cli_usage_error("passwd add", "unexpected argument '%s'", argv[optind]);
	if (root == NULL)
		return cli_usage_error("passwd add", "--root DIR is required");
	if (o.name == NULL)
		return cli_usage_error("passwd add", "--user NAME is required");
	if (nr_rootfs_open(&rfs, root, &err) < 0)
		return cli_fail("passwd add: --root", &err);
	rc = nr_rootfs_add_user(&res, rfs, &o, &err);
	nr_rootfs_free(rfs);
	if (rc < 0)
		return cli_fail("passwd add", &err);
	if (!quiet)
		print_added(o.name, root, &res);
	return NR_EXIT_OK;
}

int nr_cmd_passwd(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return NR_EXIT_OK;
	}
	if (!strcmp(argv[1], "add"))
		return cmd_add(argc - 1, argv + 1);
	return cli_usage_error("passwd", "unknown subcommand '%s'", argv[1]);
}
