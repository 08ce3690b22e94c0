/*
 * inflate.c: gzip layers inflated by ISA-L (igzip) for libarchive; see inflate.h.
 *
 * igzip inflates 2-3x faster than zlib on the same core. Concatenated gzip members are
 * inflated one after the other (like gzip -d); bytes after the last member that do not start
 * another member are ignored (like libarchive's gzip filter) but still hashed by the blob
 * stream when it is finished.
 */
#include <errno.h>

#include "inflate.h"

#ifdef NR_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define IN_SIZE  (128u * 1024u)
#define OUT_SIZE (256u * 1024u)

struct nr__inflate {
	nr__blob_stream *bs;
	unsigned char *in;
	size_t in_len, in_pos;
	bool eof;            /* the blob stream is at its end */
	bool active;         /* inflating gzip (else passthrough) */
	bool done;           /* the last gzip member is finished */
	bool first;          /* passthrough: the sniffed first chunk is still to be returned */
#ifdef NR_HAVE_ISAL
	unsigned char *out;
	struct inflate_state st;
#endif
};

static ssize_t fill(nr__inflate *z, nr_error *err)
{
	ssize_t r = nr__blob_stream_read(z->bs, z->in, IN_SIZE, err);

	if (r < 0)
		return r;
	z->in_len = (size_t)r;
	z->in_pos = 0;
	if (r == 0)
		z->eof = true;
	return r;
}

#ifdef NR_HAVE_ISAL
static bool use_libarchive(void)
{
	const char *v = getenv("NONROOT_INFLATE");

	return v != NULL && strcmp(v, "libarchive") == 0;
}
#endif

int nr__inflate_open(nr__inflate **out, nr__blob_stream *bs, nr_error *err)
{
	nr__inflate *z;
	ssize_t r;

	*out = NULL;
	if ((z = nr__calloc(1, sizeof(*z))) == NULL || (z->in = nr__malloc(IN_SIZE)) == NULL) {
		free(z);
		return nr__error_oom(err);
	}
	z->bs = bs;
	if ((r = fill(z, err)) < 0) {
		nr__inflate_free(z);
		return (int)r;
	}
#ifdef NR_HAVE_ISAL
	/* NONROOT_INFLATE=libarchive leaves gzip to libarchive's zlib (to measure the two) */
	if (z->in_len >= 2 && z->in[0] == 0x1f && z->in[1] == 0x8b && !use_libarchive()) {
		if ((z->out = nr__malloc(OUT_SIZE)) == NULL) {
			nr__inflate_free(z);
			return nr__error_oom(err);
		}
		isal_inflate_init(&z->st);
		z->st.crc_flag = ISAL_GZIP;
		z->active = true;
	}
#endif
	z->first = !z->active;
	*out = z;
	return 0;
}

bool nr__inflate_active(const nr__inflate *z)
{
	return z->active;
}

#ifdef NR_HAVE_ISAL
static const char *isal_why(int ret)
{
	switch (ret) {
	case ISAL_INVALID_BLOCK: return "invalid deflate block";
	case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
	case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
	case ISAL_INVALID_WRAPPER: return "invalid gzip header";
	case ISAL_INCORRECT_CHECKSUM: return "gzip checksum mismatch";
	default: return "inflate failed";
	}
}

static ssize_t inflate_chunk(nr__inflate *z, const void **buf, nr_error *err)
{
	for (;;) {
		int ret;
		size_t before;

		if (z->done)
			return 0;
		if (z->in_pos == z->in_len && !z->eof) {
			ssize_t r = fill(z, err);
			if (r < 0)
				return r;
		}
		if (z->st.block_state == ISAL_BLOCK_FINISH) {
			/* another member? */
			if (z->in_pos == z->in_len) {
				z->done = true;
				return 0;
			}
			if (z->in_len - z->in_pos < 2 && !z->eof) {
				/* keep it simple: a member boundary split across reads is rare; move the
				 * byte to the front and read more */
				memmove(z->in, z->in + z->in_pos, z->in_len - z->in_pos);
				z->in_len -= z->in_pos;
				z->in_pos = 0;
				ssize_t r = nr__blob_stream_read(z->bs, z->in + z->in_len,
					IN_SIZE - z->in_len, err);
				if (r < 0)
					return r;
				if (r == 0)
					z->eof = true;
				z->in_len += (size_t)r;
				continue;
			}
			if (z->in_len - z->in_pos < 2 || z->in[z->in_pos] != 0x1f ||
			    z->in[z->in_pos + 1] != 0x8b) {
				z->done = true;   /* trailing bytes: ignored, still hashed */
				return 0;
			}
			isal_inflate_reset(&z->st);
			z->st.crc_flag = ISAL_GZIP;
		}
		if (z->in_pos == z->in_len && z->eof)
			return nr__error_set(err, NR_EINVALID, NULL, 0, 0,
				"gzip data is cut short");
		z->st.next_in = z->in + z->in_pos;
		z->st.avail_in = (uint32_t)(z->in_len - z->in_pos);
		z->st.next_out = z->out;
		z->st.avail_out = OUT_SIZE;
		before = z->in_len - z->in_pos;
		ret = isal_inflate(&z->st);
		z->in_pos += before - z->st.avail_in;
		if (ret < 0)
			return nr__error_set(err, NR_EINVALID, NULL, 0, 0, "gzip: %s", isal_why(ret));
		if (z->st.avail_out < OUT_SIZE) {
			*buf = z->out;
			return (ssize_t)(OUT_SIZE - z->st.avail_out);
		}
	}
}
#endif

ssize_t nr__inflate_read(nr__inflate *z, const void **buf, nr_error *err)
{
	ssize_t r;

#ifdef NR_HAVE_ISAL
	if (z->active)
		return inflate_chunk(z, buf, err);
#endif
	if (z->first) {
		z->first = false;
		*buf = z->in;
		return (ssize_t)z->in_len;
	}
	if (z->eof)
		return 0;
	if ((r = fill(z, err)) < 0)
		return r;
	*buf = z->in;
	return r;
}

void nr__inflate_free(nr__inflate *z)
{
	if (z == NULL)
		return;
	free(z->in);
#ifdef NR_HAVE_ISAL
	free(z->out);
#endif
	free(z);
}
