/*
 * image_write.c: the parts of nr_image_write() (image.c) below its dispatch: the checks made
 * before anything is written (options, tags, the destination), writing into an OCI layout
 * directory (locked), writing an archive (a tree built in a temp dir, then tarred over the
 * destination), and recording what was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_model.h"
#include "fileio.h"

/* Take an exclusive flock on fd, waiting for another nonroot that holds it. */
static int lock_fd(int fd, const char *what, nr_error *err)
{
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return nr__error_errno(err, errno, what, "lock");
	}
	return 0;
}

static bool tag_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A tag every consumer takes: the OCI distribution grammar [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
 * AND the image-spec grammar of org.opencontainers.image.ref.name that skopeo's oci:
 * transport enforces: alphanumerics with single separators ('.', '_', '-' or "--") between
 * them ("UPPER..x", "_x", "x-" and "a:b" are refused). */
static bool tag_ok(const char *t, size_t n)
{
	size_t k = 0;

	if (n == 0 || n > 128)
		return false;
	for (;;) {
		if (k >= n || !tag_alnum(t[k]))
			return false;
		while (k < n && tag_alnum(t[k]))
			k++;
		if (k == n)
			return true;
		if (t[k] == '-' && k + 1 < n && t[k + 1] == '-')
			k += 2;
		else if (t[k] == '.' || t[k] == '_' || t[k] == '-')
			k++;
		else
			return false;
	}
}

static int bad_tag(nr_error *err, const char *where, const char *tag)
{
	return nr__error_set(err, NR_EARG, where, 0, 0, "invalid tag '%s': a tag is 1 to 128 "
		"letters and digits with single separators ('.', '_', '-' or '--') between them "
		"(the OCI distribution grammar, and ref.name as skopeo reads it)", tag);
}

/* Everything nr_image_write() checks before it writes: options, the tag grammar, the
 * destination reference, one tag at most, a docker archive's single platform. On success
 * *transport, *dpath, *dtag (owned) and *tag (borrowed from opts or *dtag) are set. */
int nr__write_check(const nr_image *img, const char *dest, const nr_image_write_options *opts,
	int *transport, char **dpath, char **dtag, const char **tag, nr_error *err)
{
	int error;

	*dpath = *dtag = NULL;
	*tag = opts ? opts->tag : NULL;
	if (opts && (error = nr__check_version(err, "nr_image_write_options", opts->version,
	    NR_IMAGE_WRITE_OPTIONS_VERSION)) < 0)
		return error;
	if (*tag && !tag_ok(*tag, strlen(*tag)))
		return bad_tag(err, "--tag", *tag);
	if ((dest == NULL && img->transport == NR_TRANSPORT_DOCKER) ||
	    (dest && strncmp(dest, "docker://", 9) == 0)) {
		*transport = NR_TRANSPORT_DOCKER;   /* the registry code reads the reference */
		return 0;
	}
	if (dest == NULL) {
		*transport = img->transport;
		if ((*dpath = nr__strdup(img->path)) == NULL)
			return nr__error_oom(err);
		return 0;
	}
	if ((error = nr__ref_parse(dest, transport, dpath, dtag, NULL)) < 0 && *transport <= 0) {
		error = nr__error_set(err, NR_EINVALID, dest, 0, 0,
			"destination must be oci:DIR[:TAG], oci-archive:FILE[:TAG], "
			"docker-archive:FILE[:NAME:TAG] or docker://HOST/REPO[:TAG]");
		goto fail;
	}
	if (*transport == -1) {
		error = nr__error_set(err, NR_EINVALID, dest, 0, 0,
			"destination exists and is not a directory: name its transport "
			"(oci-archive: or docker-archive:)");
		goto fail;
	}
	if (*dtag) {
		/* docker-archive:FILE:NAME:TAG: the tag is what follows the name */
		const char *t = *dtag, *slash = strrchr(t, '/'), *colon;
		if (*transport == NR_TRANSPORT_DOCKER_ARCHIVE) {
			colon = strrchr(slash ? slash : t, ':');
			t = colon ? colon + 1 : NULL;
		}
		if (t && !tag_ok(t, strlen(t))) {
			error = bad_tag(err, dest, t);
			goto fail;
		}
		if (*tag && strcmp(*tag, t ? t : *dtag) != 0 && strcmp(*tag, *dtag) != 0) {
			error = nr__error_set(err, NR_EARG, "--tag", 0, 0, "two tags: the destination "
				"%s names '%s' and --tag names '%s': give one (the destination's tag, or "
				"--tag with a destination without one)", dest, *dtag, *tag);
			goto fail;
		}
		*tag = *dtag;
	}
	if (*transport == NR_TRANSPORT_DOCKER_ARCHIVE && img->nm != 1 &&
	    !(dest == NULL || (img->path && strcmp(*dpath, img->path) == 0))) {
		error = nr__error_set(err, NR_EUNSUPPORTED, dest, 0, 0,
			"a docker archive holds one platform; the image has %zu (pick one with "
			"--platform)", img->nm);
		goto fail;
	}
	return 0;
fail:
	free(*dpath);
	free(*dtag);
	*dpath = *dtag = NULL;
	return error;
}

int nr_image_write_check(const nr_image *img, const char *dest,
	const nr_image_write_options *opts, nr_error *err)
{
	char *dpath = NULL, *dtag = NULL;
	const char *tag;
	int transport, error;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	error = nr__write_check(img, dest, opts, &transport, &dpath, &dtag, &tag, err);
	free(dpath);
	free(dtag);
	return error;
}

/* After a successful write: what was written (nr_image_written(), nr_image_written_manifest()).
 * A docker-archive holds no manifest: nothing is recorded. */
int nr__record_written(nr_image *img, json_t **tops, size_t ntops, bool docker_archive,
	nr_error *err)
{
	size_t i;

	img->written = false;
	for (i = 0; i < img->nm; i++)
		img->m[i].written = false;
	if (docker_archive)
		return 0;
	for (i = 0; i < img->nm; i++) {
		manifest *m = &img->m[i];
		bool staged = m->dirty || m->json == NULL;
		const char *mt = m->json ? m->media_type : MT_OCI_MANIFEST;
		if (!staged && m->digest == NULL)
			continue;
		free(m->written_mt);
		if ((m->written_mt = nr__strdup(mt ? mt : MT_OCI_MANIFEST)) == NULL)
			return nr__error_oom(err);
		snprintf(m->written_digest, sizeof(m->written_digest), "%s",
			staged ? m->staged_digest : m->digest);
		m->written_pub.media_type = m->written_mt;
		m->written_pub.digest = m->written_digest;
		m->written_pub.size = staged ? m->staged_size : m->size;
		m->written = true;
	}
	if (ntops == 1 && tops[0]) {
		const char *mt = nr__jstr(tops[0], "mediaType"), *digest = nr__jstr(tops[0], "digest");
		const json_t *size = nr__jget(tops[0], "size");
		if (digest == NULL || !json_is_integer(size) || json_integer_value(size) < 0)
			return 0;
		free(img->written_mt);
		if ((img->written_mt = nr__strdup(mt ? mt : MT_OCI_MANIFEST)) == NULL)
			return nr__error_oom(err);
		snprintf(img->written_digest, sizeof(img->written_digest), "%s", digest);
		img->written_pub.media_type = img->written_mt;
		img->written_pub.digest = img->written_digest;
		img->written_pub.size = (uint64_t)json_integer_value(size);
		img->written = true;
	}
	return 0;
}

/* Does the write go to the layout or archive the image came from? Only then are its other
 * entries kept (a clone of the unpacked archive); a new destination holds only this image,
 * under the requested tag (issue 12). */
static bool same_dest(const nr_image *img, int transport, const char *dest, const char *dpath)
{
	struct stat a, b;

	if (transport != img->transport)
		return false;
	if (dest == NULL || (dpath && img->path && strcmp(dpath, img->path) == 0))
		return true;
	if (transport == NR_TRANSPORT_OCI)
		return stat(dpath, &a) == 0 && fstat(img->dirfd, &b) == 0 &&
			a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	return img->path && stat(dpath, &a) == 0 && stat(img->path, &b) == 0 &&
		a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int nr__write_oci(nr_image *img, const char *dest, const char *dpath, const char *tag,
	json_t *new_index, json_t **tops, size_t ntops, nr_error *err)
{
	int dfd, error;

	if (same_dest(img, NR_TRANSPORT_OCI, dest, dpath)) {
		/* Writers of one layout take turns (flock on its directory); the index is
		 * re-read under the lock, so concurrent patches both land. */
		if ((error = lock_fd(img->dirfd, img->path, err)) < 0)
			return error;
		error = nr__write_layout(img, img->dirfd, true, tag, new_index, tops, ntops, err);
		flock(img->dirfd, LOCK_UN);
		return error;
	}
	/* A directory made here is opened without following a link (one planted in
	 * its place is refused); an existing one is the user's to name. */
	if (mkdir(dpath, 0755) == 0)
		dfd = open(dpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	else if (errno == EEXIST)
		dfd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		return nr__error_errno(err, errno, dpath, "mkdir");
	if (dfd < 0)
		return nr__error_errno(err, errno, dpath, "open");
	if ((error = lock_fd(dfd, dpath, err)) == 0)
		error = nr__write_layout(img, dfd, false, tag, NULL, tops, ntops, err);
	close(dfd);   /* the lock goes with dfd */
	return error;
}

/* Writing the archive back: under a lock on it (*afd, the caller closes it), and only if it is
 * still the file that was read (else another writer's result would be lost). */
static int lock_unchanged(const nr_image *img, const char *dpath, int *afd, nr_error *err)
{
	struct stat now;
	int error;

	if ((*afd = open(dpath, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0)
		return nr__error_errno(err, errno, dpath, "open");
	if ((error = lock_fd(*afd, dpath, err)) < 0)
		return error;
	if (stat(dpath, &now) < 0 || now.st_dev != img->src_st.st_dev ||
	    now.st_ino != img->src_st.st_ino || now.st_size != img->src_st.st_size ||
	    now.st_mtim.tv_sec != img->src_st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != img->src_st.st_mtim.tv_nsec)
		return nr__error_set(err, NR_ECONFLICT, dpath, 0, 0,
			"the archive changed while it was being patched (another writer?): "
			"run the patch again");
	return 0;
}

/* The archive's tree in dfd (a clone of the unpacked source when `same`): an OCI layout, an
 * updated docker archive (its OCI side too when hybrid) or a new docker archive. */
static int fill_tree(nr_image *img, int dfd, int transport, bool same, const char *dest,
	const char *tag, json_t *new_index, json_t **tops, size_t ntops, nr_error *err)
{
	int error;

	if (transport == NR_TRANSPORT_OCI_ARCHIVE)
		return nr__write_layout(img, dfd, same, tag, new_index, tops, ntops, err);
	if (!same)
		return nr__docker_new_manifest(img, dfd, dest, tag, err);
	if (img->hybrid &&
	    (error = nr__write_layout(img, dfd, true, tag, new_index, tops, ntops, err)) < 0)
		return error;
	return nr__docker_update_manifest(img, dfd, tag, err);
}

int nr__write_archive(nr_image *img, const char *dest, int transport, const char *dpath,
	const char *tag, json_t *new_index, json_t **tops, size_t ntops, nr_error *err)
{
	bool same = same_dest(img, transport, dest, dpath);
	int dfd = -1, afd = -1, error;
	char *tree = NULL;

	/* a tree in a temp dir, then tarred over the destination atomically */
	if ((error = nr__mkdtemp(&tree, img->tmpdir, "out", err)) < 0)
		goto done;
	if ((dfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = nr__error_errno(err, errno, tree, "open");
		goto done;
	}
	if ((same && (error = nr__clone_tree(img->dirfd, dfd, "", err)) < 0) ||
	    (error = fill_tree(img, dfd, transport, same, dest, tag, new_index, tops, ntops,
		err)) < 0)
		goto done;
	if (same && img->have_src_st && img->path && strcmp(dpath, img->path) == 0 &&
	    (error = lock_unchanged(img, dpath, &afd, err)) < 0)
		goto done;
	error = nr__tar_tree(dfd, same ? img : NULL, dpath, err);
done:
	if (dfd >= 0)
		close(dfd);
	if (afd >= 0)
		close(afd);
	if (tree)
		nr__rmtree(tree);
	free(tree);
	return error;
}
