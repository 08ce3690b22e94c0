/*
 * patch_util.c: small helpers of patch_internal.h shared by patch and audit: image paths made
 * relative, SOURCE_DATE_EPOCH, RFC 3339 times and the new layer's mtime.
 */
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "buf.h"
#include "parse.h"
#include "path.h"
#include "patch_internal.h"

int nr__path_relative(nr__buf *out, const char *path, nr_error *err)
{
	if (nr__path_clean(out, path, strlen(path)) < 0)
		return nr__error_oom(err);
	return 0;
}

int nr__source_date_epoch(int64_t *t, nr_error *err)
{
	const char *v = getenv("SOURCE_DATE_EPOCH");
	uint64_t u;

	*t = -1;
	if (v == NULL)
		return 0;
	if (nr__parse_u64(v, strlen(v), INT64_MAX, &u) < 0)
		return nr__error_set(err, NR_EINVALID, "SOURCE_DATE_EPOCH", 0, 0,
			"SOURCE_DATE_EPOCH is not a number of seconds: '%s'", v);
	*t = (int64_t)u;
	return 0;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int nr__parse_time(const char *s, int64_t *t)
{
	struct tm tm;
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	time_t base;

	if (s == NULL || strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' ||
	    digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
		return NR_EINVALID;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return NR_EINVALID;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return NR_EINVALID;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return NR_EINVALID;
		p += 6;
	} else {
		return NR_EINVALID;
	}
	if (*p != '\0')
		return NR_EINVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	base = timegm(&tm);
	*t = (int64_t)base - sign * (oh * 3600 + om * 60);
	return 0;
}

void nr__format_time(char *buf, size_t size, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int nr__patch_mtime(int64_t *t, const char *created, nr_error *err)
{
	*t = 0;
	if (created == NULL || *created == '\0')
		return 0;
	if (nr__parse_time(created, t) < 0)
		return nr__error_set(err, NR_EINVALID, "created", 0, 0,
			"image config: created is not an RFC 3339 time: '%s' (set SOURCE_DATE_EPOCH)",
			created);
	if (*t < 0)
		*t = 0;
	return 0;
}

bool nr__ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

