/*
 * fuzz_layer_scan: arbitrary bytes as image layers through the image engine's streaming scan
 * (nr__scan_layers in libnonroot/layers.c: libarchive with every filter, tar format,
 * whiteouts, opaque dirs, hard and symbolic links). The first byte picks how the rest is cut
 * into 1-3 layers and which paths are requested. The blobs are written to a private
 * directory with their true digests, so failures come from the tar/compression paths, not
 * from digest checks. Properties: every requested path has an entry, returned content is as
 * long as it says, set-id listings are sorted, errors carry a message.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "image_internal.h"

static int dirfd_ = -1;

static void write_blob(const char *name, const uint8_t *p, size_t n)
{
	int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) < 0) {
		perror("fuzz_layer_scan: write blob");
		abort();
	}
}

static char dir_[64];

static void cleanup(void)
{
	static const char *const names[] = { "l0", "l1", "l2" };
	size_t i;

	for (i = 0; i < NR_ARRAY_SIZE(names); i++)
		unlinkat(dirfd_, names[i], 0);
	rmdir(dir_);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *bases[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < NR_ARRAY_SIZE(bases) && dirfd_ < 0; i++) {
		if (bases[i] == NULL)
			continue;
		snprintf(dir_, sizeof(dir_), "%s/nr-fuzz-layer-XXXXXX", bases[i]);
		if (mkdtemp(dir_) != NULL)
			dirfd_ = open(dir_, O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd_ < 0)
		abort();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[3] = { "l0", "l1", "l2" };
	static const char *const paths_a[] = { "etc/passwd", "/etc/group", "etc/shadow",
		"usr/sbin/nologin", "/", "home/app" };
	static const char *const paths_b[] = { "a", "a/b/c", "../../etc/passwd", "x/" };
	static const char *const mts[] = { "application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar" };
	char digests[3][NR_DIGEST_SIZE];
	nr__layer_ref refs[3];
	nr_scan_request req = NR_SCAN_REQUEST_INIT;
	nr_scan_result *res = NULL;
	nr_error err = NR_ERROR_INIT;
	size_t nl, i, off = 0, k;
	int rc;

	if (size < 1 || dirfd_ < 0)
		return 0;
	memset(refs, 0, sizeof(refs));   /* fields not set below (fetch) are NULL */
	/* Cut the rest in nl parts of equal length (the last takes the remainder). */
	nl = 1 + (data[0] & 3) % 3;
	data++, size--;
	for (i = 0; i < nl; i++) {
		size_t n = i + 1 < nl ? size / nl : size - off;
		write_blob(names[i], data + off, n);
		if (nr__digest_of(data + off, n, digests[i], &err) < 0)
			abort();
		refs[i].dirfd = dirfd_;
		refs[i].relpath = names[i];
		refs[i].digest = digests[i];
		refs[i].size = n;
		refs[i].media_type = mts[(data[-1] >> 2) & 3];
		off += n;
	}
	if (data[-1] & 0x10) {
		req.paths = paths_b;
		req.npaths = NR_ARRAY_SIZE(paths_b);
	} else {
		req.paths = paths_a;
		req.npaths = NR_ARRAY_SIZE(paths_a);
	}
	req.flags = (data[-1] & 0x20) ? NR_SCAN_SETID | NR_SCAN_CAPS : 0;
	req.content_max = (data[-1] & 0x40) ? 16 : 0;
	rc = nr__scan_layers(refs, nl, &req, &res, &err);
	fuzz_check_error(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(res == NULL, "result on failure");
		return 0;
	}
	FUZZ_ASSERT(nr_scan_result_count(res) <= req.npaths, "more entries than requested");
	for (i = 0; i < req.npaths; i++) {
		const nr_scan_entry *e = nr_scan_result_get(res, req.paths[i]);
		FUZZ_ASSERT(e != NULL, "no entry for %s", req.paths[i]);
		FUZZ_ASSERT(e->path && e->resolved, "entry strings");
		if (e->content) {
			FUZZ_ASSERT(e->type == NR_ENTRY_REGULAR, "content on a non-file");
			FUZZ_ASSERT(e->content[e->content_len] == '\0', "content not terminated");
			if (req.content_max)
				FUZZ_ASSERT(e->content_len <= req.content_max, "content over the limit");
		}
		FUZZ_ASSERT(e->layer < nl || e->type == NR_ENTRY_NONE, "layer %zu", e->layer);
	}
	for (k = 0; k + 1 < nr_scan_result_setid_count(res); k++)
		FUZZ_ASSERT(strcmp(nr_scan_result_setid_at(res, k)->path,
			nr_scan_result_setid_at(res, k + 1)->path) <= 0, "set-id list not sorted");
	nr_scan_result_free(res);
	return 0;
}
