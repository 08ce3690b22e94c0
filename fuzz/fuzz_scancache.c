/*
 * fuzz_scancache: arbitrary bytes as layer-scan cache records (nr__lrec_parse in
 * libnonroot/scancache.c). A record on disk is MAGIC, digest, entries, HMAC-SHA256 under the
 * user's key. Each input is tried twice: as it is (almost always refused: the MAC), and with
 * a valid MAC appended under a fixed key, so the field parser sees every input. Properties:
 * the input with one MAC byte flipped is refused; a parsed record re-encodes to bytes that
 * parse again into the same number of entries, and encoding is then a fixed point; every
 * entry's strings are as long as they say.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "scancache.h"

static const unsigned char key[NR_SCANCACHE_KEY] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

/* The digest stored in a record (after MAGIC: u32 length + bytes), as a string. */
static char *stored_digest(const char *p, size_t len)
{
	uint32_t n;
	char *d;

	if (len < 12)
		return NULL;
	memcpy(&n, p + 8, 4);
	if (n > len - 12 || (d = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(d, p + 12, n);
	d[n] = '\0';
	return d;
}

static void check_entries(const nr__lrec *r)
{
	size_t i;

	for (i = 0; i < nr__lrec_count(r); i++) {
		const nr__lent *e = nr__lrec_get(r, i);
		FUZZ_ASSERT(e->path != NULL, "entry %zu without a path", i);
		FUZZ_ASSERT(e->path[e->plen] == '\0', "path not terminated at its length");
		if (e->content)
			FUZZ_ASSERT(e->content[e->content_len] == '\0', "content not terminated");
		if (e->caps)
			FUZZ_ASSERT(e->caps[e->caps_len] == '\0', "capabilities not terminated");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *buf = malloc(size + 32), *digest = NULL;
	nr__lrec *r, *r2 = NULL;
	nr__buf b1 = NR__BUF_INIT, b2 = NR__BUF_INIT;

	if (buf == NULL)
		return 0;
	if (size)
		memcpy(buf, data, size);
	/* as it is: refused unless it happens to carry a valid MAC */
	r = nr__lrec_parse(buf, size, NULL, key);
	nr__lrec_free(r);
	/* with a valid MAC */
	if (HMAC(EVP_sha256(), key, sizeof(key), data, size, md, &mdlen) == NULL) {
		free(buf);
		return 0;
	}
	memcpy(buf + size, md, 32);
	r = nr__lrec_parse(buf, size + 32, NULL, key);
	buf[size + 31] ^= 1;
	FUZZ_ASSERT(nr__lrec_parse(buf, size + 32, NULL, key) == NULL,
		"a record with a wrong MAC was accepted");
	buf[size + 31] ^= 1;
	if (r == NULL)
		goto done;
	check_entries(r);
	digest = stored_digest(buf, size);
	FUZZ_ASSERT(digest != NULL, "parsed a record whose digest cannot be read");
	/* a record is bound to its digest: another digest refuses it */
	{
		nr__lrec *other = nr__lrec_parse(buf, size + 32, "sha256:other", key);
		FUZZ_ASSERT(other == NULL || strcmp(digest, "sha256:other") == 0,
			"record accepted for another digest");
		nr__lrec_free(other);
	}
	if (nr__lrec_encode(&b1, digest, r, key) < 0)
		goto done;
	r2 = nr__lrec_parse(b1.ptr, b1.size, digest, key);
	FUZZ_ASSERT(r2 != NULL, "a re-encoded record does not parse");
	FUZZ_ASSERT(nr__lrec_count(r2) == nr__lrec_count(r), "entry count changed: %zu -> %zu",
		nr__lrec_count(r), nr__lrec_count(r2));
	if (nr__lrec_encode(&b2, digest, r2, key) == 0)
		FUZZ_ASSERT(b1.size == b2.size && memcmp(b1.ptr, b2.ptr, b1.size) == 0,
			"encoding is not a fixed point");
done:
	nr__lrec_free(r);
	nr__lrec_free(r2);
	nr__buf_dispose(&b1);
	nr__buf_dispose(&b2);
	free(digest);
	free(buf);
	return 0;
}
