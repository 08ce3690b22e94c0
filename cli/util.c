/*
 * util.c: error printing and small helpers shared by the subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_fail(const char *what, const nr_error *err)
{
	char text[512];

	nr_error_format(err, text, sizeof(text));
	if (what && *what)
		fprintf(stderr, "nonroot: %s: %s\n", what, text);
	else
		fprintf(stderr, "nonroot: %s\n", text);
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
