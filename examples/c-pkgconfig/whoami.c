/*
 * whoami.c: libnonroot from C, built against the INSTALLED library.
 *
 * Resolves an OCI image User spec the way runc does, and says where an ASP.NET Core app would
 * listen for an environment, and whether that needs root:
 *
 *   cc whoami.c $(pkg-config --cflags --libs libnonroot) -o whoami
 *   ./whoami app ASPNETCORE_URLS=http://+:80
 *
 * The passwd/group content is built in, to stay self-contained; a real tool would read an
 * image's with nr_image_scan() or a root filesystem's with nr_rootfs_*().
 */
#include <stdio.h>
#include <string.h>

#include <nonroot.h>

static const char passwd_text[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"app:x:1654:1654::/home/app:/sbin/nologin\n";
static const char group_text[] =
	"root:x:0:\n"
	"app:x:1654:\n"
	"web:x:2000:app\n";

static int fail(const char *what, int rc, const nr_error *err)
{
	char line[512];

	nr_error_format(err, line, sizeof(line));
	fprintf(stderr, "whoami: %s: %s: %s\n", what, nr_strerror(rc), line);
	return 2;
}

int main(int argc, char **argv)
{
	nr_error err = NR_ERROR_INIT;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_exec_user u;
	nr_bindings *b = NULL;
	int rc, status = 0;
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "usage: whoami USER-SPEC [NAME=VALUE ...]\n");
		return 2;
	}
	printf("libnonroot %s\n", nr_version());

	/* Every call returns 0 or a negative NR_E* code and fills the caller's nr_error. */
	if ((rc = nr_passwd_parse(&pw, passwd_text, strlen(passwd_text), "etc/passwd", &err)) < 0 ||
	    (rc = nr_group_parse(&gr, group_text, strlen(group_text), "etc/group", &err)) < 0) {
		status = fail("parse", rc, &err);
		goto out;
	}
	if ((rc = nr_userspec_resolve(&u, argv[1], pw, gr, NULL, &err)) < 0) {
		status = fail(argv[1], rc, &err);   /* runc's wording: "unable to find user ..." */
		goto out;
	}
	printf("user %s: uid=%u gid=%u home=%s groups=", argv[1], (unsigned)u.uid, (unsigned)u.gid,
		u.home);
	for (i = 0; i < u.n_additional_gids; i++)
		printf("%s%u", i ? "," : "", (unsigned)u.additional_gids[i]);
	printf("\n");
	nr_exec_user_dispose(&u);

	/* argv[2..] is an environment: NULL-terminated NAME=VALUE strings. */
	if ((rc = nr_bindings_from_env(&b, (const char *const *)argv + 2, NULL, &err)) < 0) {
		status = fail("bindings", rc, &err);
		goto out;
	}
	for (i = 0; i < nr_bindings_count(b); i++) {
		const nr_binding *bd = nr_bindings_at(b, i);
		printf("listen %s%s\n", bd->url, bd->privileged ? " (privileged: needs root)" : "");
	}
	if (nr_bindings_any_privileged(b))
		status = 1;
out:
	nr_bindings_free(b);
	nr_group_free(gr);
	nr_passwd_free(pw);
	return status;
}
