/*
 * registry_read.c: docker://HOST[:PORT]/REPO[:TAG|@sha256:HEX] references and opening a
 * registry image into the model (see registry.h): the manifest (or index and its platform
 * manifests) and the configs are fetched into a private OCI layout, verified, and read by
 * layout_read.c; layers are fetched only when needed (nr__registry_layer_fetch, called by
 * the scan on a layer-scan cache miss, and nr__registry_fetch_all for file outputs).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_model.h"
#include "fileio.h"

void nr__reg_conf_dispose(nr__reg_conf *c)
{
	nr__reg_secret_free(c->creds);
	free(c->authfile);
	free(c->cert_dir);
	memset(c, 0, sizeof(*c));
}

void nr__reg_ref_dispose(nr__reg_ref *r)
{
	free(r->host);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static bool repo_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		c == '-' || c == '/';
}

bool nr__reg_tag_ok(const char *t, size_t n)
{
	size_t i;

	if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

/* The registry host (s up to its first '/' when that names a host; else docker.io) into
 * out->host; *name: where the repository name starts. */
static int parse_host(nr__reg_ref *out, const char *s, const char **name, nr_error *err)
{
	const char *slash = strchr(s, '/');
	size_t hn, i;

	if (slash && (memchr(s, '.', (size_t)(slash - s)) || memchr(s, ':', (size_t)(slash - s)) ||
	    (slash - s == 9 && strncmp(s, "localhost", 9) == 0))) {
		hn = (size_t)(slash - s);
		*name = slash + 1;
		for (i = 0; i < hn; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' ||
			      s[i] == ':' || s[i] == '[' || s[i] == ']'))
				return nr__error_set(err, NR_EINVALID, s, 0, 0,
					"invalid registry host in reference");
		out->host = nr__strndup(s, hn);
	} else {
		*name = s;
		out->host = nr__strdup("docker.io");
	}
	return out->host ? 0 : nr__error_oom(err);
}

/* out->repo from [name, end): "library/" before a one-component Docker Hub name. */
static int set_repo(nr__reg_ref *out, const char *name, const char *end)
{
	if (strcmp(out->host, "docker.io") == 0 && memchr(name, '/', (size_t)(end - name)) == NULL) {
		char *r = nr__malloc((size_t)(end - name) + 9);
		if (r == NULL)
			return NR_ENOMEM;
		memcpy(r, "library/", 8);
		memcpy(r + 8, name, (size_t)(end - name));
		r[end - name + 8] = '\0';
		out->repo = r;
	} else if ((out->repo = nr__strndup(name, (size_t)(end - name))) == NULL) {
		return NR_ENOMEM;
	}
	return 0;
}

/*
 * As the docker reference grammar (distribution/reference) reads it: the first component is
 * the registry when it has a '.' or ':' or is "localhost", else the registry is docker.io and a
 * one-component name gets "library/". The name is lowercase; a tag follows the last ':' after
 * the last '/'; a digest follows '@'.
 */
int nr__reg_ref_parse(nr__reg_ref *out, const char *s, nr_error *err)
{
	const char *at, *name, *colon, *end;
	size_t i;
	int error;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, "//", 2) == 0)
		s += 2;
	end = s + strlen(s);
	if (*s == '\0')
		return nr__error_set(err, NR_EINVALID, "docker://", 0, 0,
			"reference has no repository: docker://HOST[:PORT]/REPO[:TAG|@DIGEST]");
	if ((error = parse_host(out, s, &name, err)) < 0)
		return error;
	at = strchr(name, '@');
	if (at) {
		if ((out->digest = nr__strdup(at + 1)) == NULL)
			goto oom;
		if ((error = nr__digest_check(out->digest, NULL, s, err)) < 0) {
			/* the code is the check's: an unsupported algorithm (sha512) is not malformed */
			nr__reg_ref_dispose(out);
			return error;
		}
		end = at;
	}
	colon = NULL;
	for (i = (size_t)(end - name); i-- > 0; ) {
		if (name[i] == '/')
			break;
		if (name[i] == ':') {
			colon = name + i;
			break;
		}
	}
	if (colon) {
		if (!nr__reg_tag_ok(colon + 1, (size_t)(end - colon - 1))) {
			nr__reg_ref_dispose(out);
			return nr__error_set(err, NR_EINVALID, s, 0, 0, "invalid tag in reference");
		}
		if (out->digest == NULL &&
		    (out->tag = nr__strndup(colon + 1, (size_t)(end - colon - 1))) == NULL)
			goto oom;
		end = colon;
	}
	if (end == name || name[0] == '/' || end[-1] == '/') {
		nr__reg_ref_dispose(out);
		return nr__error_set(err, NR_EINVALID, s, 0, 0, "reference has no repository name");
	}
	for (i = 0; name + i < end; i++)
		if (!repo_char(name[i]) || (name[i] == '/' && name[i + 1] == '/')) {
			nr__reg_ref_dispose(out);
			return nr__error_set(err, NR_EINVALID, s, 0, 0,
				"invalid repository name (lowercase letters, digits, '.', '_', '-', '/')");
		}
	if (set_repo(out, name, end) < 0)
		goto oom;
	if (out->tag == NULL && out->digest == NULL && (out->tag = nr__strdup("latest")) == NULL)
		goto oom;
	return 0;
oom:
	nr__reg_ref_dispose(out);
	return nr__error_oom(err);
}

/* Store bytes as blobs/sha256/<hex> of the private layout. */
static int store(nr_image *img, const char *digest, const char *body, size_t len,
	nr_error *err)
{
	char path[96];
	int error, bfd;

	if ((error = nr__blob_path(digest, path, err)) < 0)
		return error;
	if (faccessat(img->dirfd, path, F_OK, 0) == 0)
		return 0;
	if ((bfd = openat(img->dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			O_NOFOLLOW)) < 0)
		return nr__error_errno(err, errno, "blobs/sha256", "open");
	error = nr__file_write_atomic_at(bfd, digest + 7, body, len, 0644, digest, err);
	close(bfd);
	return error;
}

static bool is_attestation(const json_t *d)
{
	const char *t = nr__jmap_str(nr__jget(d, "annotations"), "vnd.docker.reference.type");
	return t && strcmp(t, "attestation-manifest") == 0;
}

/* Fetch a manifest by digest (verified) and its config. */
static int fetch_manifest(nr_image *img, const json_t *d, bool config, const char *have,
	size_t have_len, nr_error *err)
{
	const char *mt, *digest, *cmt, *cdigest;
	uint64_t size, csize;
	char *body = NULL, *rmt = NULL, got[NR_DIGEST_SIZE], cpath[96];
	size_t len;
	json_t *mj = NULL;
	int error;

	if ((error = nr__desc_fields(d, &mt, &digest, &size, "index", err)) < 0)
		return error;
	if (have) {
		/* the top manifest, fetched (and verified) already */
		if ((body = nr__malloc(have_len + 1)) == NULL)
			return nr__error_oom(err);
		memcpy(body, have, have_len);
		body[have_len] = '\0';
		len = have_len;
		snprintf(got, sizeof(got), "%s", digest);
	} else if ((error = nr__registry_get_manifest(img->reg, digest, &body, &len, &rmt, got,
			err)) < 0)
		return error;
	if (len != size) {
		error = nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"manifest has %zu bytes, its descriptor says %llu", len,
			(unsigned long long)size);
		goto done;
	}
	if ((error = store(img, got, body, len, err)) < 0 || !config)
		goto done;
	if ((error = nr__json_parse(&mj, body, len, digest, err)) < 0)
		goto done;
	if (!json_is_object(nr__jget(mj, "config")))
		goto done;   /* not an image manifest: layout_read.c says so */
	if ((error = nr__desc_fields(nr__jget(mj, "config"), &cmt, &cdigest, &csize,
			digest, err)) < 0)
		goto done;
	if ((error = nr__blob_path(cdigest, cpath, err)) < 0)
		goto done;
	if (csize > NR_JSON_BLOB_MAX) {
		error = nr__error_set(err, NR_ETOOBIG, cdigest, 0, 0, "config over %u bytes",
			NR_JSON_BLOB_MAX);
		goto done;
	}
	if (faccessat(img->dirfd, cpath, F_OK, 0) != 0)
		error = nr__registry_fetch_blob(img->reg, cdigest, csize, img->dirfd, cpath, err);
done:
	json_decref(mj);
	free(body);
	free(rmt);
	return error;
}

/*
 * Fetch a nested index (descriptor d, verified by its digest) and, recursively, what it lists
 * (manifests with their configs, further indexes), as layout_read.c will read them: at most
 * NR__NESTED_MAX levels and NR__NESTED_TOTAL indexes (*count); beyond, nothing is fetched and
 * layout_read.c refuses the image naming the index.
 */
static int fetch_index(nr_image *img, const json_t *d, size_t depth, size_t *count,
	nr_error *err)
{
	const char *mt, *digest;
	uint64_t size;
	char *body = NULL, *rmt = NULL, got[NR_DIGEST_SIZE];
	size_t len, k;
	json_t *ij = NULL, *e;
	int error;

	if ((error = nr__desc_fields(d, &mt, &digest, &size, "index", err)) < 0)
		return error;
	if (depth >= NR__NESTED_MAX || ++*count > NR__NESTED_TOTAL)
		return 0;
	if ((error = nr__registry_get_manifest(img->reg, digest, &body, &len, &rmt, got,
			err)) < 0)
		return error;
	if (len != size) {
		error = nr__error_set(err, NR_EDIGEST, digest, 0, 0,
			"index has %zu bytes, its descriptor says %llu", len,
			(unsigned long long)size);
		goto done;
	}
	if ((error = store(img, got, body, len, err)) < 0 ||
	    (error = nr__json_parse(&ij, body, len, digest, err)) < 0)
		goto done;
	json_array_foreach(nr__jget(ij, "manifests"), k, e) {
		const char *emt = nr__jstr(e, "mediaType");
		if (emt && nr__is_index_mt(emt))
			error = fetch_index(img, e, depth + 1, count, err);
		else
			error = fetch_manifest(img, e, !is_attestation(e) &&
				(emt == NULL || nr__is_manifest_mt(emt)), NULL, 0, err);
		if (error < 0)
			goto done;
	}
done:
	json_decref(ij);
	free(body);
	free(rmt);
	return error;
}

/* The private layout the registry image is kept in: img->unpack, img->dirfd. */
static int make_private_layout(nr_image *img, nr_error *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int error;

	if ((error = nr__mkdtemp(&img->unpack, img->tmpdir, "registry", err)) < 0)
		return error;
	if ((img->dirfd = open(img->unpack, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return nr__error_errno(err, errno, img->unpack, "open");
	if ((error = nr__mkdirs_at(img->dirfd, "blobs/sha256", err)) < 0 ||
	    (error = nr__file_write_atomic_at(img->dirfd, "oci-layout", layout,
			sizeof(layout) - 1, 0644, "oci-layout", err)) < 0)
		return error;
	return 0;
}

/* What the top (an index, or one manifest: body, len, digest) references. */
static int fetch_top(nr_image *img, json_t *top, const char *mt, const char *digest,
	const char *body, size_t len, nr_error *err)
{
	size_t k, nindex = 0;
	json_t *e, *d;
	int error;

	if (!nr__is_index_mt(mt)) {
		d = json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest,
			"size", (json_int_t)len);
		if (d == NULL)
			return nr__error_oom(err);
		error = fetch_manifest(img, d, true, body, len, err);
		json_decref(d);
		return error;
	}
	json_array_foreach(nr__jget(top, "manifests"), k, e) {
		const char *emt = nr__jstr(e, "mediaType");
		bool want = !is_attestation(e) && (emt == NULL || nr__is_manifest_mt(emt));
		if (emt && nr__is_index_mt(emt)) {
			/* nested indexes: followed like layout_read.c does */
			if ((error = fetch_index(img, e, 0, &nindex, err)) < 0)
				return error;
			continue;
		}
		/* other platforms' configs are still needed by layout_read.c */
		if ((error = fetch_manifest(img, e, want, NULL, 0, err)) < 0)
			return error;
	}
	return 0;
}

int nr__open_registry(nr_image *img, const char *platform, nr_error *err)
{
	char *body = NULL, *mt = NULL, digest[NR_DIGEST_SIZE];
	const char *ref = img->rref.digest ? img->rref.digest : img->rref.tag;
	size_t len;
	json_t *top = NULL, *idx = NULL;
	int error;

	if ((error = nr__registry_new(&img->reg, img->rref.host, img->rref.repo, &img->reg_conf,
			false, NULL, err)) < 0)
		return error;
	if ((error = make_private_layout(img, err)) < 0)
		return error;
	if ((error = nr__registry_get_manifest(img->reg, ref, &body, &len, &mt, digest, err)) < 0)
		return error;
	if ((error = nr__json_parse(&top, body, len, ref, err)) < 0)
		goto done;
	if (mt == NULL || (!nr__is_index_mt(mt) && !nr__is_manifest_mt(mt))) {
		const char *jmt = nr__jstr(top, "mediaType");
		if (mt && strncmp(mt, "application/vnd.docker.distribution.manifest.v1", 48) == 0) {
			error = nr__error_set(err, NR_EUNSUPPORTED, ref, 0, 0,
				"registry %s, repository %s: %s is a Docker schema 1 manifest (not "
				"supported)", img->rref.host, img->rref.repo, ref);
			goto done;
		}
		free(mt);
		mt = nr__strdup(jmt ? jmt : nr__jget(top, "manifests") ? MT_OCI_INDEX :
			MT_OCI_MANIFEST);
		if (mt == NULL) {
			error = nr__error_oom(err);
			goto done;
		}
	}
	if ((error = store(img, digest, body, len, err)) < 0 ||
	    (error = fetch_top(img, top, mt, digest, body, len, err)) < 0)
		goto done;
	idx = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "mediaType",
		MT_OCI_INDEX, "manifests", "mediaType", mt, "digest", digest, "size", (json_int_t)len);
	if (idx == NULL) {
		error = nr__error_oom(err);
		goto done;
	}
	if ((error = nr__write_json_at(img->dirfd, "index.json", idx, err)) < 0)
		goto done;
	{
		char *tag = img->tag;
		img->tag = NULL;
		error = nr__open_layout(img, platform, err);
		img->tag = tag;
	}
done:
	json_decref(top);
	json_decref(idx);
	free(body);
	free(mt);
	return error;
}

int nr__registry_layer_fetch(void *ctx, const char *digest, uint64_t size, const char *relpath,
	nr_error *err)
{
	nr_image *img = ctx;
	struct stat st;

	if (fstatat(img->dirfd, relpath, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == size)
		return 0;   /* fetched (and verified) before */
	return nr__registry_fetch_blob(img->reg, digest, size, img->dirfd, relpath, err);
}

int nr__registry_fetch_all(nr_image *img, nr_error *err)
{
	size_t i, j;
	int error;

	for (i = 0; i < img->nm; i++)
		for (j = 0; j < img->m[i].nlayers; j++) {
			layer *l = &img->m[i].layers[j];
			if (l->relpath && (error = nr__registry_layer_fetch(img, l->digest, l->size,
					l->relpath, err)) < 0)
				return error;
		}
	return 0;
}
