/*
 * cmd_user.c: nonroot user resolve SPEC (--root DIR | --image IMAGE | --passwd F [--group F])
 * [--json]: what uid, gid, additional gids and home runc would give a container whose
 * config says `User: SPEC`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "regopt.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nonroot user resolve SPEC (--root DIR | --image IMAGE | --passwd FILE\n"
		"                                  [--group FILE]) [--platform OS/ARCH] [--json]\n"
		"Resolve an OCI image User spec (\"\", NAME, UID, NAME:GROUP, UID:GID, ...) the way\n"
		"runc does: numeric parts are ids (0-2147483647), names are looked up in etc/passwd\n"
		"and etc/group, a user without an explicit group gets the groups that list it as\n"
		"additional gids. Defaults when the files say nothing: uid 0, gid 0, home /.\n\n"
		"  --root DIR       a root filesystem: DIR/etc/passwd, DIR/etc/group (symlinks are\n"
		"                   resolved inside DIR; a missing file is an image without one)\n"
		"  --image IMAGE    an image (oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE,\n"
		"                   docker://HOST/REPO[:TAG], or a path): its effective /etc/passwd\n"
		"                   and /etc/group (registry options: --creds, --authfile,\n"
		"                   --tls-verify=false, --cert-dir, as for audit)\n"
		"  --platform P     with --image: the platform to use (default: the first)\n"
		"  --passwd FILE    a passwd file on the host (and --group FILE, optional)\n"
		"  --json           print {\"uid\",\"gid\",\"additional_gids\",\"home\",\"name\"}\n"
		"  -q, --quiet      accepted for symmetry: the answer is all that is printed\n"
		"  -h, --help       this help\n\n"
		"Exit status: 0 resolved, 2 usage error, unreadable file, or a spec runc rejects\n"
		"(e.g. 'unable to find user app: no matching entries in passwd file').\n");
}

/* Read a host file named on the command line (regular, at most 10 MiB). */
static int read_host_file(const char *opt, const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t used = 0;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0)
		return cli_failf("%s: %s: %s", opt, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > NR_ROOTFS_FILE_MAX) {
		close(fd);
		if (S_ISREG(st.st_mode))
			return cli_failf("%s: %s: file is %lld bytes, over the limit of %u", opt, path,
				(long long)st.st_size, NR_ROOTFS_FILE_MAX);
		return cli_failf("%s: %s: not a regular file", opt, path);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return cli_failf("%s: out of memory", opt);
	}
	while (used < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}

static void print_user(const nr_exec_user *u, int json)
{
	size_t i;

	if (json) {
		printf("{\"uid\":%u,\"gid\":%u,\"additional_gids\":[", u->uid, u->gid);
		for (i = 0; i < u->n_additional_gids; i++)
			printf("%s%u", i ? "," : "", u->additional_gids[i]);
		printf("],\"home\":");
		cli_json_string(stdout, u->home);
		printf(",\"name\":");
		if (u->name)
			cli_json_string(stdout, u->name);
		else
			printf("null");
		printf("}\n");
		return;
	}
	printf("uid=%u", u->uid);
	if (u->name)
		printf("(%s)", u->name);
	printf(" gid=%u additional_gids=", u->gid);
	for (i = 0; i < u->n_additional_gids; i++)
		printf("%s%u", i ? "," : "", u->additional_gids[i]);
	printf(" home=%s\n", u->home);
}

/* --image: the effective /etc/passwd and /etc/group of one platform of the image. */
static int resolve_image(const char *spec, const char *ref, const char *platform,
	const nr_image_open_options *reg, nr_exec_user *u, nr_error *err)
{
	nr_image_open_options o = *reg;
	nr_image *img = NULL;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	char *buf = NULL;
	size_t len = 0;
	nr_error tmp = NR_ERROR_INIT;
	int rc;

	o.platform = platform;
	if ((rc = nr_image_open(&img, ref, &o, err)) < 0)
		return rc;
	if (nr_image_count(img) == 0) {
		rc = -1;
		goto done;
	}
	rc = nr_image_read_file(&buf, &len, img, 0, "/etc/passwd", &tmp);
	if (rc == 0)
		rc = nr_passwd_parse(&pw, buf, len, "/etc/passwd", err);
	else if (rc == NR_ENOTFOUND)
		rc = 0;
	else
		*err = tmp;
	nr_free(buf);
	buf = NULL;
	if (rc < 0)
		goto done;
	nr_error_clear(&tmp);
	rc = nr_image_read_file(&buf, &len, img, 0, "/etc/group", &tmp);
	if (rc == 0)
		rc = nr_group_parse(&gr, buf, len, "/etc/group", err);
	else if (rc == NR_ENOTFOUND)
		rc = 0;
	else
		*err = tmp;
	nr_free(buf);
	if (rc < 0)
		goto done;
	rc = nr_userspec_resolve(u, spec, pw, gr, NULL, err);
done:
	nr_group_free(gr);
	nr_passwd_free(pw);
	nr_image_free(img);
	return rc;
}

/* SPEC against host files (--passwd, optional --group): 0, an error code (< 0, in err), or
 * NR_EXIT_USAGE when a file cannot be read (said on stderr). */
static int resolve_files(const char *spec, const char *pwfile, const char *grfile,
	nr_exec_user *u, nr_error *err)
{
	char *pwbuf = NULL, *grbuf = NULL;
	size_t pwlen = 0, grlen = 0;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	int rc;

	if (read_host_file("--passwd", pwfile, &pwbuf, &pwlen) != 0)
		return NR_EXIT_USAGE;
	if (grfile && read_host_file("--group", grfile, &grbuf, &grlen) != 0) {
		free(pwbuf);
		return NR_EXIT_USAGE;
	}
	rc = nr_passwd_parse(&pw, pwbuf, pwlen, pwfile, err);
	if (rc == 0 && grfile)
		rc = nr_group_parse(&gr, grbuf, grlen, grfile, err);
	if (rc == 0)
		rc = nr_userspec_resolve(u, spec, pw, gr, NULL, err);
	nr_group_free(gr);
	nr_passwd_free(pw);
	free(pwbuf);
	free(grbuf);
	return rc;
}

static int cmd_resolve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "image", required_argument, NULL, 'i' },
		{ "platform", required_argument, NULL, 'P' },
		{ "passwd", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		CLI_REGISTRY_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *root = NULL, *image = NULL, *platform = NULL, *pwfile = NULL, *grfile = NULL;
	const char *spec;
	int json = 0, c, rc, sources;
	nr_error err = NR_ERROR_INIT;
	nr_exec_user u;
	nr_image_open_options reg = NR_IMAGE_OPEN_OPTIONS_INIT;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'i': image = optarg; break;
		case 'P': platform = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'g': grfile = optarg; break;
		case 'j': json = 1; break;
		case CLI_O_CREDS: case CLI_O_AUTHFILE: case CLI_O_TLSVERIFY: case CLI_O_CERTDIR:
			if (cli_registry_option("user resolve", c, optarg, &reg) != 0)
				return NR_EXIT_USAGE;
			break;
		case 'q': break;
		case 'h': usage(stdout); return NR_EXIT_OK;
		default: return cli_usage_error("user resolve", "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("user resolve", optind >= argc ? "missing SPEC" :
			"too many arguments");
	spec = argv[optind];
	sources = (root != NULL) + (image != NULL) + (pwfile != NULL);
	if (sources != 1)
		return cli_usage_error("user resolve",
			"give exactly one of --root DIR, --image IMAGE, --passwd FILE");
	if (grfile && !pwfile)
		return cli_usage_error("user resolve", "--group needs --passwd");
	if (platform && !image)
		return cli_usage_error("user resolve", "--platform needs --image");

	if (root) {
		nr_rootfs *rfs = NULL;
		if (nr_rootfs_open(&rfs, root, &err) < 0)
			return cli_fail("user resolve: --root", &err);
		rc = nr_rootfs_resolve_user(&u, rfs, spec, NULL, &err);
		nr_rootfs_free(rfs);
	} else if (image) {
		rc = resolve_image(spec, image, platform, &reg, &u, &err);
		if (rc == -1 && err.code == 0)
			return cli_failf("user resolve: %s: no image for platform %s", image,
				platform ? platform : "(any)");
	} else if ((rc = resolve_files(spec, pwfile, grfile, &u, &err)) > 0) {
		return rc;
	}
	if (rc < 0)
		return cli_fail("user resolve", &err);
	print_user(&u, json);
	nr_exec_user_dispose(&u);
	return NR_EXIT_OK;
}

int nr_cmd_user(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return NR_EXIT_OK;
	}
	if (!strcmp(argv[1], "resolve"))
		return cmd_resolve(argc - 1, argv + 1);
	return cli_usage_error("user", "unknown subcommand '%s'", argv[1]);
}
