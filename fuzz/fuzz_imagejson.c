/*
 * fuzz_imagejson: index.json, a manifest and an image config from an untrusted layout, through
 * the JSON loader, nr_image_open() and nr_image_audit(). The first input byte picks where the
 * rest goes (index.json, the manifest blob, or the config blob) in a small OCI layout written
 * to a private directory; the other documents are valid and point at each other. Properties:
 *  - the loader refuses a document exactly when some object has two keys equal under Go's
 *    folding (checked here by brute force), or the text is not JSON;
 *  - open and audit either succeed or fail with a well-formed error, and never crash;
 *  - every finding has an id, a level and a message.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"
#include "image_internal.h"
#include "jsonload.h"

static char dir[64];

static void put(const char *rel, const void *data, size_t len)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "wb");
	FUZZ_ASSERT(f != NULL, "open %s", p);
	FUZZ_ASSERT(fwrite(data, 1, len, f) == len || len == 0, "write %s", p);
	fclose(f);
}

/* "sha256:<hex>" of data, as the layout names blobs. */
static void digest_of(const void *data, size_t len, char out[NR_DIGEST_SIZE])
{
	nr_error err = NR_ERROR_INIT;

	FUZZ_ASSERT(nr__digest_of(data, len, out, &err) == 0, "digest: %s", err.message);
}

static void blob(const void *data, size_t len, char digest[NR_DIGEST_SIZE])
{
	char rel[128];

	digest_of(data, len, digest);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	put(rel, data, len);
}

/* Go's folding of one key (as jsonload.c): ASCII case, U+017F -> s, U+212A -> k. */
static size_t fold(const char *s, size_t n, char *o)
{
	size_t i = 0, k = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z') {
			o[k++] = (char)(c + 32);
			i++;
		} else if (c == 0xC5 && i + 1 < n && (unsigned char)s[i + 1] == 0xBF) {
			o[k++] = 's';
			i += 2;
		} else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x84 &&
			   (unsigned char)s[i + 2] == 0xAA) {
			o[k++] = 'k';
			i += 3;
		} else {
			o[k++] = (char)c;
			i++;
		}
	}
	return k;
}

/* Brute force: does any object in v have two keys that fold alike? */
static bool collides(json_t *v)
{
	size_t i;

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if (collides(json_array_get(v, i)))
				return true;
		return false;
	}
	if (!json_is_object(v))
		return false;
	{
		const char *k1, *k2;
		json_t *v1, *v2;
		json_object_foreach(v, k1, v1) {
			size_t l1 = json_object_iter_key_len(json_object_key_to_iter(k1));
			char *f1 = malloc(l1 + 1);
			size_t n1;
			FUZZ_ASSERT(f1 != NULL, "oom");
			n1 = fold(k1, l1, f1);
			json_object_foreach(v, k2, v2) {
				size_t l2 = json_object_iter_key_len(json_object_key_to_iter(k2));
				char *f2;
				bool same;
				if (k2 == k1)
					continue;
				f2 = malloc(l2 + 1);
				FUZZ_ASSERT(f2 != NULL, "oom");
				same = fold(k2, l2, f2) == n1 && memcmp(f1, f2, n1) == 0;
				free(f2);
				if (same) {
					free(f1);
					return true;
				}
			}
			free(f1);
			if (collides(v1))
				return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nr_error err = NR_ERROR_INIT;
	nr_image *img = NULL;
	nr_audit *a = NULL;
	json_t *doc = NULL, *plain;
	json_error_t je;
	char cfgd[NR_DIGEST_SIZE], mand[NR_DIGEST_SIZE], ref[128], buf[2048];
	const char *text;
	size_t len, k;
	int mode, rc;

	if (size == 0)
		return 0;
	mode = data[0] % 3;
	text = (const char *)data + 1;
	len = size - 1;

	/* 1. the loader's rule against brute force */
	rc = nr__json_load(&doc, text, len, "input", "", &err);
	fuzz_check_error(rc, &err);
	plain = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (plain == NULL)
		FUZZ_ASSERT(rc < 0, "accepted what jansson refuses");
	else
		FUZZ_ASSERT((rc < 0) == collides(plain), "refusal %d but collision %d", rc < 0,
			collides(plain));
	json_decref(plain);
	json_decref(doc);

	/* 2. the same text as one document of a layout, opened and audited */
	snprintf(dir, sizeof(dir), "/tmp/nr-fuzz-imagejson-%d", (int)getpid());
	mkdir(dir, 0700);
	snprintf(buf, sizeof(buf), "%s/blobs", dir);
	mkdir(buf, 0700);
	snprintf(buf, sizeof(buf), "%s/blobs/sha256", dir);
	mkdir(buf, 0700);
	put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	if (mode == 2) {
		blob(text, len, cfgd);
	} else {
		static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":"
			"{\"User\":\"1654:1654\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
		blob(cfg, sizeof(cfg) - 1, cfgd);
	}
	if (mode == 1) {
		blob(text, len, mand);
	} else {
		int n = snprintf(buf, sizeof(buf), "{\"schemaVersion\":2,\"mediaType\":"
			"\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
			"\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
			"\"layers\":[]}", cfgd, mode == 2 ? len : (size_t)118);
		blob(buf, (size_t)n, mand);
	}
	if (mode == 0) {
		put("index.json", text, len);
	} else {
		struct stat st;
		char p[512];
		int n;
		snprintf(p, sizeof(p), "%s/blobs/sha256/%s", dir, mand + 7);
		FUZZ_ASSERT(stat(p, &st) == 0, "manifest blob");
		n = snprintf(buf, sizeof(buf), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
			"\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
			"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}", mand,
			(long long)st.st_size);
		put("index.json", buf, (size_t)n);
	}
	snprintf(ref, sizeof(ref), "oci:%s", dir);
	err = (nr_error)NR_ERROR_INIT;
	rc = nr_image_open(&img, ref, NULL, &err);
	fuzz_check_error(rc, &err);
	if (rc == 0) {
		err = (nr_error)NR_ERROR_INIT;
		rc = nr_image_audit(&a, img, NULL, &err);
		fuzz_check_error(rc, &err);
		if (rc == 0) {
			for (k = 0; k < nr_audit_count(a); k++) {
				const nr_finding *f = nr_audit_at(a, k);
				FUZZ_ASSERT(f && f->id && f->message && *f->message, "finding %zu", k);
			}
		}
		nr_audit_free(a);
		nr_image_free(img);
	}
	/* clean the layout */
	{
		DIR *d;
		struct dirent *e;
		snprintf(buf, sizeof(buf), "%s/blobs/sha256", dir);
		if ((d = opendir(buf)) != NULL) {
			while ((e = readdir(d)) != NULL) {
				char p[2400];
				if (e->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", buf, e->d_name);
				unlink(p);
			}
			closedir(d);
		}
		rmdir(buf);
		snprintf(buf, sizeof(buf), "%s/blobs", dir);
		rmdir(buf);
		snprintf(buf, sizeof(buf), "%s/index.json", dir);
		unlink(buf);
		snprintf(buf, sizeof(buf), "%s/oci-layout", dir);
		unlink(buf);
		rmdir(dir);
	}
	return 0;
}
