/*
 * util.c: error printing and small helpers shared by the subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Length of the valid UTF-8 sequence at p (n bytes left) that is not a C1 control, else 0. */
static size_t utf8_ok(const unsigned char *p, size_t n)
{
	size_t need, i;

	if (p[0] < 0xC2 || p[0] > 0xF4)
		return 0;
	need = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if (p[0] == 0xC2 && p[1] < 0xA0)
		return 0;           /* U+0080-U+009F: C1 controls (CSI is U+009B) */
	return need;
}

void cli_put_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0, k;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			fputc(p[i++], f);
		} else if (p[i] >= 0x80 && (k = utf8_ok(p + i, n - i)) > 0) {
			fwrite(p + i, 1, k, f);
			i += k;
		} else {
			fprintf(f, "\\x%02x", p[i++]);
		}
	}
}

int cli_fail(const char *what, const nr_error *err)
{
	char text[512];

	nr_error_format(err, text, sizeof(text));
	fputs("nonroot: ", stderr);
	if (what && *what) {
		cli_put_safe(stderr, what);
		fputs(": ", stderr);
	}
	cli_put_safe(stderr, text);
	fputc('\n', stderr);
	return NR_EXIT_USAGE;
}

int cli_failf(const char *fmt, ...)
{
	va_list ap;

	fputs("nonroot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return NR_EXIT_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nonroot %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'nonroot %s --help'.\n", cmd);
	return NR_EXIT_USAGE;
}

int cli_parse_uint(const char *opt, const char *val, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (val == NULL || *val == '\0')
		goto bad;
	for (p = val; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > (max - (unsigned long)(*p - '0')) / 10) {
			cli_failf("%s: %s is out of range (0-%lu)", opt, val, max);
			return -1;
		}
		v = v * 10 + (unsigned long)(*p - '0');
	}
	*out = v;
	return 0;
bad:
	cli_failf("%s: '%s' is not a decimal number", opt, val ? val : "");
	return -1;
}

void cli_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

int cli_read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		return -1;
	for (;;) {
		size_t got;
		if (n == cap) {
			char *nb;
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 1)
				cap = max + 1;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
		if (n > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}
