/*
 * app.c: the program every consumer project of tests/consumers builds (pkg-config, CMake
 * package, add_subdirectory, FetchContent, Meson; shared and static). It opens an image and
 * reads its /etc/passwd, so that a static link pulls in what the image code needs (jansson,
 * libarchive, libcrypto, zlib, ISA-L, threads): a missing private dependency is a link error.
 *
 *   app [IMAGE]   prints "libnonroot VERSION" and, with IMAGE, "IMAGE: N passwd entries, root=UID"
 */
#include <stdio.h>
#include <string.h>

#include <nonroot.h>

int main(int argc, char **argv)
{
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	nr_passwd *pw = NULL;
	const nr_pwent *root;
	char *text = NULL, line[512];
	size_t len = 0;
	int rc = 0;

	printf("libnonroot %s (headers %s)\n", nr_version(), NR_VERSION);
	if (argc < 2)
		return strcmp(nr_version(), NR_VERSION) == 0 ? 0 : 1;
	if ((rc = nr_image_open(&img, argv[1], NULL, &err)) < 0 ||
	    (rc = nr_image_read_file(&text, &len, img, 0, "etc/passwd", &err)) < 0 ||
	    (rc = nr_passwd_parse(&pw, text, len, "etc/passwd", &err)) < 0) {
		nr_error_format(&err, line, sizeof(line));
		fprintf(stderr, "app: %s: %s\n", argv[1], line);
		goto done;
	}
	root = nr_passwd_find_name(pw, "root");
	printf("%s: %zu passwd entries, root=%ld\n", argv[1], nr_passwd_count(pw),
		root ? (long)root->uid : -1L);
done:
	nr_passwd_free(pw);
	nr_free(text);
	nr_image_free(img);
	return rc < 0 ? 1 : 0;
}
