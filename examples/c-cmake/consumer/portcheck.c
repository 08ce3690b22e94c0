/*
 * portcheck.c: rewrite ASP.NET Core address variables off privileged ports, as
 * `nonroot urls --rewrite 80:8080,443:8443` does, from a CMake project that uses
 * find_package(libnonroot).
 *
 *   ./portcheck 'ASPNETCORE_URLS=http://+:80;https://+:443'
 *   ASPNETCORE_URLS=http://+:8080;https://+:8443
 */
#include <stdio.h>
#include <string.h>

#include <nonroot.h>

int main(int argc, char **argv)
{
	nr_portmap map;
	int i, status = 0;

	nr_portmap_default(&map);   /* 80:8080,443:8443 */
	for (i = 1; i < argc; i++) {
		nr_error err = NR_ERROR_INIT;
		const char *eq = strchr(argv[i], '=');
		char name[128], *out = NULL, line[512];
		size_t outlen = 0;
		int rc;

		if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof(name)) {
			fprintf(stderr, "portcheck: not NAME=VALUE: %s\n", argv[i]);
			return 2;
		}
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		rc = nr_urls_rewrite(&out, &outlen, name, eq + 1, strlen(eq + 1), &map,
			NR_UNPRIVILEGED_PORT_START, 0, &err);
		if (rc < 0) {
			nr_error_format(&err, line, sizeof(line));
			fprintf(stderr, "portcheck: %s: %s\n", nr_strerror(rc), line);
			status = 2;
			continue;
		}
		printf("%s=%s\n", name, out);
		nr_free(out);
	}
	return status;
}
