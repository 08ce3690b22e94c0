/*
 * reference.c: image references: oci:DIR[:TAG], oci-archive:FILE[:TAG],
 * docker-archive:FILE[:NAME:TAG], docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (parsed further by
 * registry_read.c) and bare paths.
 */
#include <errno.h>
#include <sys/stat.h>

#include "image_model.h"

int nr__ref_parse(const char *ref, int *transport, char **path, char **tag, nr_error *err)
{
	const char *rest, *colon;
	struct stat st;

	*path = *tag = NULL;
	*transport = 0;
	if (strncmp(ref, "oci:", 4) == 0)
		*transport = NR_TRANSPORT_OCI, rest = ref + 4;
	else if (strncmp(ref, "oci-archive:", 12) == 0)
		*transport = NR_TRANSPORT_OCI_ARCHIVE, rest = ref + 12;
	else if (strncmp(ref, "docker://", 9) == 0) {
		/* path: everything after the prefix; registry_read.c splits it */
		*transport = NR_TRANSPORT_DOCKER;
		if (ref[9] == '\0')
			return nr__error_set(err, NR_EINVALID, ref, 0, 0, "reference has no repository");
		return (*path = nr__strdup(ref + 9)) == NULL ? nr__error_oom(err) : 0;
	} else if (strncmp(ref, "docker-archive:", 15) == 0)
		*transport = NR_TRANSPORT_DOCKER_ARCHIVE, rest = ref + 15;
	else
		rest = ref;
	if (*transport == 0) {
		/* A bare path: never split at ':' (paths may hold one). */
		if ((*path = nr__strdup(rest)) == NULL)
			return nr__error_oom(err);
		if (stat(rest, &st) < 0)
			return nr__error_errno(err, errno, rest, "stat");
		if (S_ISDIR(st.st_mode)) {
			*transport = NR_TRANSPORT_OCI;
			return 0;
		}
		*transport = -1;   /* an archive: sniffed after unpacking */
		return 0;
	}
	colon = strchr(rest, ':');
	if (*rest == '\0' || colon == rest)
		return nr__error_set(err, NR_EINVALID, ref, 0, 0, "reference has no path");
	if ((*path = nr__strndup(rest, colon ? (size_t)(colon - rest) : strlen(rest))) == NULL)
		return nr__error_oom(err);
	if (colon) {
		if (colon[1] == '\0')
			return nr__error_set(err, NR_EINVALID, ref, 0, 0, "empty tag after ':'");
		if ((*tag = nr__strdup(colon + 1)) == NULL)
			return nr__error_oom(err);
	}
	return 0;
}
