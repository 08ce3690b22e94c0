/*
 * bench_inflate: inflate one gzip file held in memory with zlib and with ISA-L's igzip
 * (when built with it); print the output MB/s of each and the ratio.
 * Usage: bench_inflate FILE.gz [zlib|isal]   (one of them only: for `time`'s CPU figures)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#ifdef NR_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define OUT (256u * 1024u)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t with_zlib(const unsigned char *in, size_t n, unsigned char *out)
{
	z_stream z;
	size_t total = 0;
	int r;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 31) != Z_OK)
		return 0;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = out;
		z.avail_out = OUT;
		r = inflate(&z, Z_NO_FLUSH);
		total += OUT - z.avail_out;
	} while (r == Z_OK);
	inflateEnd(&z);
	return r == Z_STREAM_END ? total : 0;
}

#ifdef NR_HAVE_ISAL
static size_t with_isal(const unsigned char *in, size_t n, unsigned char *out)
{
	static struct inflate_state st;
	size_t total = 0;

	isal_inflate_init(&st);
	st.crc_flag = ISAL_GZIP;
	st.next_in = (unsigned char *)in;
	st.avail_in = (uint32_t)n;
	while (st.block_state != ISAL_BLOCK_FINISH) {
		st.next_out = out;
		st.avail_out = OUT;
		if (isal_inflate(&st) < 0)
			return 0;
		total += OUT - st.avail_out;
		if (st.avail_out == OUT && st.avail_in == 0)
			break;
	}
	return total;
}
#endif

int main(int argc, char **argv)
{
	FILE *f;
	unsigned char *in, *out = malloc(OUT);
	long n;
	size_t got;
	double t, tz, ti = 0;

	if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL)
		return 2;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	in = malloc((size_t)n);
	if (fread(in, 1, (size_t)n, f) != (size_t)n)
		return 2;
	fclose(f);
	if (argc > 2 && strcmp(argv[2], "isal") == 0) {
#ifdef NR_HAVE_ISAL
		return with_isal(in, (size_t)n, out) ? 0 : 1;
#else
		return 2;
#endif
	}
	t = now();
	got = with_zlib(in, (size_t)n, out);
	tz = now() - t;
	printf("inflate_bytes=%zu\ninflate_zlib_mbps=%.0f\n", got, (double)got / 1e6 / tz);
	if (argc > 2)
		return 0;
#ifdef NR_HAVE_ISAL
	t = now();
	if (with_isal(in, (size_t)n, out) != got)
		return 1;
	ti = now() - t;
	printf("inflate_isal_mbps=%.0f\ninflate_ratio=%.2f\n", (double)got / 1e6 / ti, tz / ti);
#endif
	(void)ti;
	return 0;
}
