/*
 * report_text.c: the audit as text for people (nr_audit_to_text), as `nonroot audit` prints
 * it, built over the public accessors so that every binding prints the same lines. Text from
 * the image (the reference, users, messages, paths) is made safe for a terminal: control
 * bytes and bytes that are not UTF-8 appear as \xHH.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "buf.h"

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

/* s[0..n) with what is not printable ASCII or UTF-8 as \xHH. */
static void put_safen(nr__buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			nr__buf_putc(b, (char)p[i++]);
		} else if (p[i] >= 0x80 && (k = utf8_ok(p + i, n - i)) > 0) {
			nr__buf_put(b, p + i, k);
			i += k;
		} else {
			nr__buf_printf(b, "\\x%02x", p[i++]);
		}
	}
}

static void put_safe(nr__buf *b, const char *s)
{
	put_safen(b, s ? s : "", s ? strlen(s) : 0);
}

/* NR008 and NR015: one line per platform, listing the files (NR015 with their capabilities,
 * from the message "file /PATH has file capabilities CAPS (mode ...)"). */
static void put_file_group(nr__buf *b, const nr_audit *a, size_t i, int quiet, const char *id,
	const char *noun, const char *nouns)
{
	static const char caps_at[] = " has file capabilities ";
	size_t k, n = nr_audit_count(a), count = 0, inbase = 0;
	int level = NR_LEVEL_NONE;
	bool caps = !strcmp(id, "NR015");

	for (k = 0; k < n; k++) {
		const nr_finding *f = nr_audit_at(a, k);
		if (f->manifest != i || strcmp(f->id, id) != 0)
			continue;
		count++;
		inbase += f->baseline != 0;
		if ((int)f->level > level)
			level = (int)f->level;
	}
	if (count == 0)
		return;
	if (quiet)
		nr__buf_printf(b, "%s: ", nr_audit_platform_at(a, i));
	else
		nr__buf_puts(b, "  ");
	nr__buf_printf(b, "%s %-7s %zu %s:", id, nr_level_name((nr_level)level), count,
		count > 1 ? nouns : noun);
	for (k = 0; k < n; k++) {
		const nr_finding *f = nr_audit_at(a, k);
		const char *c, *m;
		if (f->manifest != i || strcmp(f->id, id) != 0)
			continue;
		c = caps ? strstr(f->message, caps_at) : NULL;
		m = c ? strstr(c, " (mode ") : NULL;
		nr__buf_puts(b, " /");
		put_safe(b, f->location);
		if (c && m) {
			c += strlen(caps_at);
			nr__buf_puts(b, " (");
			put_safen(b, c, (size_t)(m - c));
			nr__buf_putc(b, ')');
		}
		if (inbase && inbase < count && f->baseline)
			nr__buf_puts(b, " [baseline]");
	}
	nr__buf_printf(b, "%s\n", inbase == count ? " [baseline]" : "");
	if (!quiet)
		nr__buf_printf(b, "          fix: %s Or accept them: allow-setid in .nonroot.yaml "
			"(--allow-setid PATH).\n", nr_audit_rule_get(id)->help);
}

/* The findings of platform i but the grouped ones; @return how many it has (grouped too). */
static size_t put_findings(nr__buf *b, const nr_audit *a, size_t i, int quiet)
{
	size_t k, n = nr_audit_count(a), count = 0;

	for (k = 0; k < n; k++) {
		const nr_finding *f = nr_audit_at(a, k);
		if (f->manifest != i)
			continue;
		count++;
		if (!strcmp(f->id, "NR008") || !strcmp(f->id, "NR015"))
			continue;
		if (quiet)
			nr__buf_printf(b, "%s: ", nr_audit_platform_at(a, i));
		else
			nr__buf_puts(b, "  ");
		nr__buf_printf(b, "%s %-7s ", f->id, nr_level_name(f->level));
		put_safe(b, f->message);
		nr__buf_puts(b, f->baseline ? " [baseline]\n" : "\n");
		if (!quiet) {
			nr__buf_puts(b, "          fix: ");
			put_safe(b, f->fix);
			nr__buf_putc(b, '\n');
		}
	}
	return count;
}

int nr_audit_to_text(char **out, size_t *len, const nr_audit *a, const char *image, int quiet,
	nr_error *err)
{
	nr__buf b = NR__BUF_INIT;
	size_t i, np, sup;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if (len)
		*len = 0;
	NR_ASSERT_ARG(a, err);
	np = nr_audit_platform_count(a);
	for (i = 0; i < np; i++) {
		const char *u = nr_audit_user(a, i);
		if (!quiet) {
			put_safe(&b, image);
			nr__buf_printf(&b, " (%s): User %s", nr_audit_platform_at(a, i), *u ? "'" : "");
			put_safe(&b, *u ? u : "not set");
			nr__buf_puts(&b, *u ? "'\n" : "\n");
		}
		if (put_findings(&b, a, i, quiet) == 0 && !quiet)
			nr__buf_puts(&b, "  clean: no findings\n");
		put_file_group(&b, a, i, quiet, "NR008", "set-uid/set-gid file",
			"set-uid/set-gid files");
		put_file_group(&b, a, i, quiet, "NR015", "file with file capabilities",
			"files with file capabilities");
	}
	sup = nr_audit_suppressed_count(a);
	if (!quiet && sup > 0)
		nr__buf_printf(&b, "(%zu finding%s accepted by the config or options)\n", sup,
			sup > 1 ? "s" : "");
	if (b.oom || (*out = nr__buf_detach(&b, len)) == NULL) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	return 0;
}
