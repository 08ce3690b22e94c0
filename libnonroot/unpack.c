/*
 * unpack.c: nr_image_unpack(): the final root filesystem of one manifest, written to a
 * directory, every create confined to it (see unpack.h).
 *
 * Per layer (streamed from its blob through inflate.c and libarchive, hashed as it is read):
 *   - member names are cleaned lexically ("../x" and "/x" are "x");
 *   - the parent directory is opened inside the target (rootfs.c: openat2 RESOLVE_IN_ROOT or
 *     the O_NOFOLLOW walk), missing parents are made 0755 one component at a time;
 *   - the last component is created relative to that fd with O_EXCL|O_NOFOLLOW (mkdirat,
 *     symlinkat, linkat without AT_SYMLINK_FOLLOW, mknodat), after removing whatever a lower
 *     layer had there (a directory over a directory is kept and only gets the new metadata);
 *   - `.wh.NAME` removes NAME, `.wh..wh..opq` removes the directory's children, except what
 *     this layer itself wrote (a set of this layer's paths, as umoci's upperPaths);
 *   - owners, then xattrs (chown clears security.capability), then modes (chown clears
 *     set-id bits), then times; directory times are set once at the end (their content
 *     changes them while unpacking).
 * Layers are opened by layer_archive.c (decompression bounded against bombs); after the tar
 * the plain stream is read to its end and checked against the config's diff_id (when the
 * config lists one sha256 digest per layer, as the scan checks it), and the blob against its
 * digest; any error removes everything written. One member is written by unpack_member.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpack_internal.h"
#include "layer_archive.h"
#include "mediatype.h"
#include "path.h"
#include "registry.h"

/* ---- one layer ------------------------------------------------------------------------ */

static int apply_layer(upk *u, const nr__layer_ref *ref, size_t li, size_t nlayers,
	const nr_unpack_options *opts)
{
	nr__layer_progress prog = { opts->progress, opts->payload, li, nlayers, NULL };
	nr__layer_archive *la = NULL;
	struct archive *a;
	struct archive_entry *e;
	size_t nmembers = 0;
	int error = 0, r;

	u->digest = ref->digest;
	nr__upk_hmap_clear(&u->upper);
	if (!nr__layer_media_type_ok(ref->media_type))
		return nr__error_set(u->err, NR_EUNSUPPORTED, ref->digest, 0, 0,
			"unsupported layer media type %s", ref->media_type ? ref->media_type : "(none)");
	if ((error = nr__layer_archive_open(&la, ref, &prog, u->err)) < 0) {
		if (la)
			goto check;
		goto done;
	}
	a = nr__layer_archive_reader(la);
	for (;;) {
		const char *name;
		char *p;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN && nr__layer_archive_error(la) == 0 && nmembers > 0 &&
		    nr__archive_truncated(a))
			break;   /* no end-of-archive blocks (umoci 0.4.7 insert): the digest decides */
		if (r < ARCHIVE_WARN) {
			error = nr__layer_archive_error(la) ? nr__layer_archive_error(la) :
				nr__error_set(u->err, NR_EINVALID, ref->digest, 0, 0,
					"layer is not a readable tar or is cut short: %s",
					archive_error_string(a));
			goto check;
		}
		nmembers++;
		name = archive_entry_pathname(e);
		if (nr__path_clean(&u->path, name ? name : "", name ? strlen(name) : 0) < 0 ||
		    (p = nr__strndup(u->path.ptr ? u->path.ptr : "", u->path.size)) == NULL) {
			error = nr__error_oom(u->err);
			goto done;
		}
		error = *p ? nr__upk_apply_member(u, a, e, p, strlen(p)) : nr__upk_apply_root(u, e);
		free(p);
		if (error < 0) {
			if (nr__layer_archive_error(la))
				error = nr__layer_archive_error(la);
			goto check;
		}
	}
check:
	error = nr__layer_archive_finish(la, error, NULL, u->err);
done:
	nr__layer_archive_free(la);
	return error;
}

/* Directory modes (rootless) and times, once every layer is in. */
static int finish_dirs(upk *u)
{
	size_t k;

	nr__upk_cache_drop(u);
	for (k = 0; k < u->dirs.cap; k++) {
		hentry *h = &u->dirs.e[k];
		struct timespec ts[2];
		int fd;
		if (h->key == NULL)
			continue;
		fd = *h->key ? nr__rootfs_open_dir(u->rfs, h->key) :
			openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;   /* removed by a later layer */
		if (u->rootless && h->v.has_mode && fchmod(fd, (mode_t)h->v.mode) < 0) {
			close(fd);
			return nr__upk_fail_io(u, h->key, "chmod", errno);
		}
		ts[0].tv_sec = ts[1].tv_sec = (time_t)h->v.sec;
		ts[0].tv_nsec = ts[1].tv_nsec = h->v.nsec;
		if (futimens(fd, ts) < 0) {
			close(fd);
			return nr__upk_fail_io(u, h->key, "set times", errno);
		}
		close(fd);
	}
	return 0;
}

int nr_unpack_options_init(nr_unpack_options *opts, unsigned int version)
{
	static const nr_unpack_options init = NR_UNPACK_OPTIONS_INIT;

	if (opts == NULL || version != NR_UNPACK_OPTIONS_VERSION)
		return NR_EARG;
	*opts = init;
	return 0;
}

/* Make or open the target dir (new, or existing and empty) as u->rfs; *created: made here. */
static int open_target(upk *u, const char *dir, bool *created, nr_error *err)
{
	DIR *dh;
	struct dirent *d;
	int fd, error;
	bool empty = true;

	*created = false;
	if (mkdir(dir, 0755) == 0)
		*created = true;
	else if (errno != EEXIST)
		return nr__error_errno(err, errno, dir, "mkdir");
	if ((error = nr_rootfs_open(&u->rfs, dir, err)) < 0) {
		if (*created)
			(void)rmdir(dir);
		return error;
	}
	u->rootfd = nr__rootfs_fd(u->rfs);
	if (*created)
		return 0;
	fd = openat(u->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (dh = fdopendir(fd)) == NULL) {
		error = nr__error_errno(err, errno, dir, "open");
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	while ((d = readdir(dh)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			empty = false;
	closedir(dh);
	if (empty)
		return 0;
	error = nr__error_set(err, NR_EEXISTS, dir, 0, 0,
		"not empty: unpack needs a new or empty directory");
fail:
	nr_rootfs_free(u->rfs);
	u->rfs = NULL;
	return error;
}

/*
 * The config's rootfs.diff_ids, when it lists one sha256 digest per layer: each layer's
 * plain stream is then checked against its own, as the scan and containerd check it. A
 * config without such a list leaves the layers to their blob digests alone. *cfg owns the
 * strings (caller frees).
 */
static void set_diff_ids(nr__layer_ref *refs, const manifest *m, json_t **cfg)
{
	json_t *diffs;
	const char *d;
	size_t j;

	if (nr__json_parse(cfg, m->config, m->config_len, "config", NULL) < 0)
		return;
	diffs = nr__jget(nr__jget(*cfg, "rootfs"), "diff_ids");
	if (json_array_size(diffs) != m->nlayers)
		return;
	for (j = 0; j < m->nlayers; j++)
		if ((d = json_string_value(json_array_get(diffs, j))) == NULL ||
		    nr__digest_check(d, NULL, NULL, NULL) < 0)
			return;
	for (j = 0; j < m->nlayers; j++)
		refs[j].diff_id = json_string_value(json_array_get(diffs, j));
}

/* Where each layer's blob is: refs[j] (names: the staging file names, 65 bytes each). */
static int layer_refs(nr_image *img, const manifest *m, nr__layer_ref *refs, char *names,
	int *sfd, nr_error *err)
{
	size_t j;
	int error;

	for (j = 0; j < m->nlayers; j++) {
		const layer *l = &m->layers[j];
		refs[j].digest = l->digest;
		refs[j].media_type = l->media_type;
		refs[j].size = l->size;
		if (l->relpath) {
			refs[j].dirfd = img->dirfd;
			refs[j].relpath = l->relpath;
			/* docker://: the layer is downloaded (digest-checked) into the private
			 * directory unless a scan or an earlier unpack fetched it already */
			if (img->reg && (error = nr__registry_layer_fetch(img, l->digest, l->size,
					l->relpath, err)) < 0)
				return error;
		} else {
			if (*sfd < 0 && (*sfd = nr__staging_fd(&img->staging, err)) < 0)
				return *sfd;
			refs[j].dirfd = *sfd;
			memcpy(names + 65 * j, l->digest + 7, 64);
			refs[j].relpath = names + 65 * j;
		}
	}
	return 0;
}

int nr_image_unpack(nr_image *img, size_t i, const char *dir, const nr_unpack_options *opts,
	nr_error *err)
{
	static const nr_unpack_options dflt = NR_UNPACK_OPTIONS_INIT;
	nr__layer_ref *refs = NULL;
	char *names = NULL;
	json_t *cfg = NULL;
	manifest *m;
	upk u;
	bool created = false;
	size_t j;
	int error = 0, sfd = -1;

	nr__error_reset(err);
	NR_ASSERT_ARG(img, err);
	NR_ASSERT_ARG(dir, err);
	if (opts == NULL)
		opts = &dflt;
	if ((error = nr__check_version(err, "nr_unpack_options", opts->version,
	    NR_UNPACK_OPTIONS_VERSION)) < 0)
		return error;
	if (opts->flags & ~(NR_UNPACK_ROOTLESS | NR_UNPACK_NO_XATTRS))
		return nr__error_set(err, NR_EARG, NULL, 0, 0,
			"invalid argument: nr_unpack_options flags %#x", opts->flags);
	if (i >= img->nm)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "no manifest %zu (the image has %zu)",
			i, img->nm);
	memset(&u, 0, sizeof(u));
	u.cfd = -1;
	u.err = err;
	u.rootless = (opts->flags & NR_UNPACK_ROOTLESS) || geteuid() != 0;
	u.xattrs = !(opts->flags & NR_UNPACK_NO_XATTRS);
	if ((error = open_target(&u, dir, &created, err)) < 0)
		goto done;
	m = &img->m[i];
	if ((refs = nr__calloc(m->nlayers + 1, sizeof(*refs))) == NULL ||
	    (names = nr__calloc(m->nlayers + 1, 65)) == NULL) {
		error = nr__error_oom(err);
		goto fail;
	}
	if ((error = layer_refs(img, m, refs, names, &sfd, err)) < 0)
		goto fail;
	set_diff_ids(refs, m, &cfg);
	if (nr__upk_hmap_put(&u.dirs, "") == NULL) {   /* the root: mtime 0 unless a layer sets it */
		error = nr__error_oom(err);
		goto fail;
	}
	for (j = 0; j < m->nlayers; j++)
		if ((error = apply_layer(&u, &refs[j], j, m->nlayers, opts)) < 0)
			goto fail;
	if ((error = finish_dirs(&u)) < 0)
		goto fail;
	goto done;
fail:
	nr__upk_cache_drop(&u);
	if (u.rfs) {
		if (created) {
			nr_rootfs_free(u.rfs);
			u.rfs = NULL;
			nr__rmtree(dir);
		} else {
			nr__upk_empty_dir(u.rootfd);
		}
	}
done:
	nr__upk_cache_drop(&u);
	nr_rootfs_free(u.rfs);
	nr__upk_hmap_clear(&u.upper);
	nr__upk_hmap_clear(&u.dirs);
	nr__buf_dispose(&u.cpath);
	nr__buf_dispose(&u.path);
	nr__buf_dispose(&u.tmp);
	json_decref(cfg);
	free(refs);
	free(names);
	return error;
}
