/*
 * image.c: an opened image's life and its public face: nr_image_open() and nr_image_write()
 * dispatching to the transports, nr_image_free(), and the accessors of the model
 * (image_model.h). The rest of the image code, by job:
 *   image_model.c    the model's records (layers added, manifests disposed of)
 *   image_scan.c     nr_image_scan(), nr_image_read_file()
 *   image_edit.c     nr_image_set_config(), nr_image_add_layer()
 *   image_write.c    nr_image_write()'s checks, OCI layout and archive writers, what was written
 *   reference.c      image references (transport:path[:tag])
 *   layout_read.c    OCI layouts and OCI archives (index.json, nested indexes, manifests)
 *   docker_read.c    docker-archive manifest.json
 *   archive_unpack.c archives unpacked into a private directory
 *   layout_write.c   writing an OCI layout (staged blobs, new manifests and index)
 *   tar_write.c      writing a directory tree back as an archive
 *   docker_write.c   writing a docker-archive (layers, manifest.json, legacy tags)
 *
 * Model: every image is read through an OCI-style tree in a directory (`dirfd`): the layout
 * directory itself for `oci:`, or the archive unpacked into a private temp dir for
 * `oci-archive:` and `docker-archive:`. A docker-archive's manifest.json entry is turned into
 * a manifest with Docker schema2 media types whose blobs are found by their member paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_model.h"
#include "fileio.h"
#include "jsonload.h"
#include "registry.h"

/* ---- life ------------------------------------------------------------------------------- */

void nr_image_free(nr_image *img)
{
	size_t i;

	if (img == NULL)
		return;
	for (i = 0; i < img->nm; i++)
		nr__manifest_dispose(&img->m[i]);
	free(img->m);
	for (i = 0; i < img->nnx; i++) {
		json_decref(img->nx[i].json);
		free(img->nx[i].digest);
	}
	free(img->nx);
	for (i = 0; i < img->nmembers; i++) {
		free(img->members[i].name);
		free(img->members[i].link);
	}
	free(img->members);
	free(img->top);
	json_decref(img->index);
	json_decref(img->docker);
	free(img->written_mt);
	if (img->dirfd >= 0)
		close(img->dirfd);
	if (img->unpack)
		nr__rmtree(img->unpack);
	free(img->unpack);
	nr__staging_dispose(&img->staging);
	nr__registry_free(img->reg);
	nr__reg_conf_dispose(&img->reg_conf);
	nr__reg_ref_dispose(&img->rref);
	free(img->path);
	free(img->tag);
	free(img->tmpdir);
	free(img);
}

int nr_image_open_options_init(nr_image_open_options *opts, unsigned int version)
{
	static const nr_image_open_options def = NR_IMAGE_OPEN_OPTIONS_INIT;

	if (opts == NULL || (version != NR_IMAGE_OPEN_OPTIONS_VERSION && version != 1))
		return NR_EARG;
	if (version == 1) {
		/* a version-1 struct ends after tmpdir */
		opts->version = 1;
		opts->platform = NULL;
		opts->tmpdir = NULL;
		return 0;
	}
	*opts = def;
	return 0;
}

/* A new image with the options' settings (tmpdir, registry settings). */
static int image_new(nr_image **out, const nr_image_open_options *opts, nr_error *err)
{
	nr_image *img;

	if ((*out = img = nr__calloc(1, sizeof(*img))) == NULL)
		return nr__error_oom(err);
	img->dirfd = -1;
	img->staging.dirfd = -1;
	if (opts && opts->tmpdir && (img->tmpdir = nr__strdup(opts->tmpdir)) == NULL)
		return nr__error_oom(err);
	img->staging.tmpdir = img->tmpdir;
	img->reg_conf.insecure = opts && opts->version >= 2 && !opts->tls_verify;
	if (opts && opts->version >= 2 &&
	    ((opts->creds && (img->reg_conf.creds = nr__strdup(opts->creds)) == NULL) ||
	     (opts->authfile && (img->reg_conf.authfile = nr__strdup(opts->authfile)) == NULL) ||
	     (opts->cert_dir && (img->reg_conf.cert_dir = nr__strdup(opts->cert_dir)) == NULL)))
		return nr__error_oom(err);
	return 0;
}

/* oci:DIR: an OCI layout directory. */
static int open_oci_dir(nr_image *img, const char *platform, nr_error *err)
{
	struct stat st;

	img->dirfd = open(img->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (img->dirfd < 0)
		return errno == ENOENT ?
			nr__error_set(err, NR_ENOTFOUND, img->path, 0, 0, "no such directory") :
			errno == ENOTDIR && stat(img->path, &st) == 0 && S_ISREG(st.st_mode) ?
			nr__error_set(err, NR_EINVALID, img->path, 0, 0, "oci: wants an OCI "
				"layout directory, this is a file: did you mean oci-archive:%s%s%s?",
				img->path, img->tag ? ":" : "", img->tag ? img->tag : "") :
			nr__error_errno(err, errno, img->path, "open");
	if (fstatat(img->dirfd, "oci-layout", &st, 0) < 0)
		return nr__error_set(err, NR_EINVALID, img->path, 0, 0,
			"not an OCI image layout (no oci-layout file)");
	return nr__open_layout(img, platform, err);
}

/* A hybrid docker archive (Docker 25+): read the OCI side, keep manifest.json in step. */
static int open_hybrid(nr_image *img, const char *platform, nr_error *err)
{
	char *tag = img->tag;
	char *text = NULL;
	size_t len;
	int error;

	if ((error = nr__file_read_at(&text, &len, img->dirfd, "manifest.json", O_NOFOLLOW,
			NR_JSON_BLOB_MAX, "manifest.json", err)) < 0)
		return error;
	error = nr__json_load(&img->docker, text, len, "manifest.json", "invalid JSON: ", err);
	free(text);
	if (error < 0)
		return error;
	if (!json_is_array(img->docker))
		return nr__error_set(err, NR_EINVALID, "manifest.json", 0, 0, "not a JSON array");
	if (tag && tag[0] == '@')
		img->tag = NULL;
	error = nr__open_layout(img, platform, err);
	img->tag = tag;
	if (error == 0)
		error = nr__check_hybrid(img, platform, err);
	return error;
}

/* oci-archive:FILE, docker-archive:FILE or an archive of either kind (transport -1): unpacked
 * into a private directory, then read by what it holds. */
static int open_archive(nr_image *img, const char *platform, nr_error *err)
{
	bool has_index, has_docker;
	struct stat st;
	int error;

	if (img->transport != -1 && stat(img->path, &st) == 0 && S_ISDIR(st.st_mode))
		return nr__error_set(err, NR_EINVALID, img->path, 0, 0, "%s: wants an "
			"archive file, this is a directory: did you mean oci:%s%s%s?",
			img->transport == NR_TRANSPORT_OCI_ARCHIVE ? "oci-archive" :
			"docker-archive", img->path, img->tag ? ":" : "",
			img->tag ? img->tag : "");
	if ((error = nr__unpack_archive(img, err)) < 0)
		return error;
	has_index = fstatat(img->dirfd, "index.json", &st, 0) == 0;
	has_docker = fstatat(img->dirfd, "manifest.json", &st, 0) == 0;
	if (img->transport == -1)
		img->transport = has_index ? NR_TRANSPORT_OCI_ARCHIVE :
			has_docker ? NR_TRANSPORT_DOCKER_ARCHIVE : 0;
	if (img->transport == NR_TRANSPORT_OCI_ARCHIVE) {
		if (!has_index)
			return nr__error_set(err, NR_EINVALID, img->path, 0, 0,
				"not an OCI archive (no index.json)");
		return nr__open_layout(img, platform, err);
	}
	if (img->transport != NR_TRANSPORT_DOCKER_ARCHIVE)
		return nr__error_set(err, NR_EINVALID, img->path, 0, 0,
			"not an image archive (neither index.json nor manifest.json)");
	img->hybrid = has_index && has_docker;
	if (!has_docker)
		return nr__error_set(err, NR_EINVALID, img->path, 0, 0,
			"not a docker archive (no manifest.json)");
	return img->hybrid ? open_hybrid(img, platform, err) : nr__open_docker(img, platform, err);
}

int nr_image_open(nr_image **out, const char *ref, const nr_image_open_options *opts,
	nr_error *err)
{
	nr_image *img = NULL;
	const char *platform = NULL;
	int error;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	NR_ASSERT_ARG(ref, err);
	if (opts && (error = nr__check_version(err, "nr_image_open_options", opts->version,
	    NR_IMAGE_OPEN_OPTIONS_VERSION)) < 0)
		return error;
	if (opts && opts->platform) {
		if ((error = nr__check_platform(opts->platform, err)) < 0)
			return error;
		platform = opts->platform;
	}
	if ((error = image_new(&img, opts, err)) < 0 ||
	    (error = nr__ref_parse(ref, &img->transport, &img->path, &img->tag, err)) < 0)
		goto fail;
	if (img->transport == NR_TRANSPORT_DOCKER) {
		if ((error = nr__reg_ref_parse(&img->rref, img->path, err)) == 0)
			error = nr__open_registry(img, platform, err);
	} else if (img->transport == NR_TRANSPORT_OCI) {
		error = open_oci_dir(img, platform, err);
	} else {
		error = open_archive(img, platform, err);
	}
	if (error < 0)
		goto fail;
	*out = img;
	return 0;
fail:
	nr_image_free(img);
	return error;
}

/* ---- accessors ------------------------------------------------------------------------------ */

nr_image_transport nr_image_transport_of(const nr_image *img)
{
	return img ? img->transport : NR_TRANSPORT_NONE;
}

size_t nr_image_count(const nr_image *img)
{
	return img ? img->nm : 0;
}

const char *nr_image_platform_at(const nr_image *img, size_t i)
{
	return img && i < img->nm ? img->m[i].platform : NULL;
}

const char *nr_image_manifest_media_type(const nr_image *img, size_t i)
{
	return img && i < img->nm ? img->m[i].media_type : NULL;
}

const char *nr_image_config(size_t *len, const nr_image *img, size_t i)
{
	if (img == NULL || i >= img->nm)
		return NULL;
	if (len)
		*len = img->m[i].config_len;
	return img->m[i].config;
}

const nr_descriptor *nr_image_config_descriptor(const nr_image *img, size_t i)
{
	return img && i < img->nm ? &img->m[i].config_pub : NULL;
}

size_t nr_image_layer_count(const nr_image *img, size_t i)
{
	return img && i < img->nm ? img->m[i].nlayers : 0;
}

const nr_descriptor *nr_image_layer_at(const nr_image *img, size_t i, size_t j)
{
	if (img == NULL || i >= img->nm || j >= img->m[i].nlayers)
		return NULL;
	return &img->m[i].layers[j].pub;
}

int nr_image_write_options_init(nr_image_write_options *opts, unsigned int version)
{
	static const nr_image_write_options def = NR_IMAGE_WRITE_OPTIONS_INIT;

	if (opts == NULL || version != NR_IMAGE_WRITE_OPTIONS_VERSION)
		return NR_EARG;
	*opts = def;
	return 0;
}

const nr_descriptor *nr_image_written(const nr_image *img)
{
	return img && img->written ? &img->written_pub : NULL;
}

const nr_descriptor *nr_image_written_manifest(const nr_image *img, size_t i)
{
	return img && i < img->nm && img->m[i].written ? &img->m[i].written_pub : NULL;
}

int nr_image_write(nr_image *img, const char *dest, const nr_image_write_options *opts,
	nr_error *err)
{
	int transport = 0, error;
	char *dpath = NULL, *dtag = NULL;
	const char *tag;
	json_t *new_index = NULL, **tops = NULL;
	size_t ntops = 0, k;
	bool to_registry;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	to_registry = (dest == NULL && img->transport == NR_TRANSPORT_DOCKER) ||
		(dest && strncmp(dest, "docker://", 9) == 0);
	/* a registry source is read whole before it is written anywhere but a registry */
	if (!to_registry && img->reg && (error = nr__registry_fetch_all(img, err)) < 0)
		return error;
	if ((error = nr__write_check(img, dest, opts, &transport, &dpath, &dtag, &tag, err)) < 0)
		return error;
	ntops = img->index ? img->ntop : 1;
	if ((tops = nr__calloc(ntops + 1, sizeof(*tops))) == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = nr__prepare(img, &new_index, tops, err)) < 0)
		goto done;
	/* a registry: the edited top descriptor(s), then push */
	if (to_registry)
		error = nr__write_registry(img, dest ? dest + 9 : NULL, tag, tops, ntops, err);
	else if (transport == NR_TRANSPORT_OCI)
		error = nr__write_oci(img, dest, dpath, tag, new_index, tops, ntops, err);
	else
		error = nr__write_archive(img, dest, transport, dpath, tag, new_index, tops, ntops,
			err);
	if (error == 0)
		error = nr__record_written(img, tops, ntops,
			transport == NR_TRANSPORT_DOCKER_ARCHIVE, err);
done:
	for (k = 0; tops && k < ntops; k++)
		json_decref(tops[k]);
	free(tops);
	json_decref(new_index);
	free(dpath);
	free(dtag);
	return error;
}
