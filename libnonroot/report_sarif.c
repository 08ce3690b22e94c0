/*
 * report_sarif.c: the audit as a SARIF 2.1.0 document (nr_audit_to_sarif), built over the
 * public accessors so that the CLI, Python, Java and Perl all print the same bytes.
 * Written with nr__buf, not jansson: the member order and the escaping are the ones
 * `nonroot audit --format sarif` has always printed (docs/ci-sarif.md).
 */
#include <string.h>

#include "internal.h"
#include "buf.h"

/* s as a JSON string: '"', '\\', \n, \r, \t escaped, the other control bytes and DEL as
 * \u00XX; every other byte (UTF-8 included) as it is. NULL is "". */
static void put_str(nr__buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	nr__buf_putc(b, '"');
	for (; *p; p++) {
		switch (*p) {
		case '"': nr__buf_puts(b, "\\\""); break;
		case '\\': nr__buf_puts(b, "\\\\"); break;
		case '\n': nr__buf_puts(b, "\\n"); break;
		case '\r': nr__buf_puts(b, "\\r"); break;
		case '\t': nr__buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				nr__buf_printf(b, "\\u%04x", *p);
			else
				nr__buf_putc(b, (char)*p);
		}
	}
	nr__buf_putc(b, '"');
}

/* tool.driver: name, versions and every rule (reportingDescriptor). */
static void put_driver(nr__buf *b)
{
	size_t k, nr = nr_audit_rule_count();

	nr__buf_printf(b, "\"tool\":{\"driver\":{\"name\":\"nonroot\",\"version\":\"%s\","
		"\"semanticVersion\":\"%s\",\"informationUri\":"
		"\"https://github.com/libnonroot/libnonroot\",\"rules\":[", nr_version(), nr_version());
	for (k = 0; k < nr; k++) {
		const nr_audit_rule *r = nr_audit_rule_at(k);
		nr__buf_printf(b, "%s{\"id\":\"%s\",\"name\":", k ? "," : "", r->id);
		put_str(b, r->name);
		nr__buf_puts(b, ",\"shortDescription\":{\"text\":");
		put_str(b, r->summary);
		nr__buf_puts(b, "},\"fullDescription\":{\"text\":");
		put_str(b, r->summary);
		nr__buf_puts(b, "},\"help\":{\"text\":");
		put_str(b, r->help);
		nr__buf_printf(b, "},\"defaultConfiguration\":{\"level\":\"%s\"}}",
			nr_level_name(r->level));
	}
	nr__buf_puts(b, "]}}");
}

/* One result: the rule, the level, the message, the location (a config field as a logical
 * location, a path in the image's root filesystem as a physical one), the fingerprint,
 * baselineState with a baseline, and properties. */
static void put_result(nr__buf *b, const nr_finding *f, const char *image, int baseline)
{
	size_t idx, nr = nr_audit_rule_count();
	const char *loc = f->location ? f->location : "";

	for (idx = 0; idx < nr && strcmp(nr_audit_rule_at(idx)->id, f->id) != 0; idx++)
		;
	nr__buf_printf(b, "{\"ruleId\":\"%s\",\"ruleIndex\":%zu,\"level\":\"%s\","
		"\"message\":{\"text\":", f->id, idx, nr_level_name(f->level));
	put_str(b, f->message);
	nr__buf_puts(b, "},\"locations\":[{");
	if (strncmp(loc, "config.", 7) == 0) {
		const char *dot = strrchr(loc, '.');
		nr__buf_puts(b, "\"logicalLocations\":[{\"name\":");
		put_str(b, dot && dot[1] ? dot + 1 : loc);
		nr__buf_puts(b, ",\"fullyQualifiedName\":");
		put_str(b, loc);
		nr__buf_puts(b, ",\"kind\":\"member\"}]");
	} else {
		nr__buf_puts(b, "\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
		put_str(b, loc);
		nr__buf_puts(b, "}}");
	}
	nr__buf_printf(b, "}],\"partialFingerprints\":{\"nonroot/v1\":\"%s\"}",
		f->fingerprint ? f->fingerprint : "");
	if (baseline)
		nr__buf_printf(b, ",\"baselineState\":\"%s\"", f->baseline ? "unchanged" : "new");
	nr__buf_puts(b, ",\"properties\":{\"platform\":");
	put_str(b, f->platform);
	nr__buf_puts(b, ",\"location\":");
	put_str(b, loc);
	nr__buf_puts(b, ",\"image\":");
	put_str(b, image);
	nr__buf_puts(b, ",\"fix\":");
	put_str(b, f->fix);
	nr__buf_puts(b, "}}");
}

int nr_audit_to_sarif(char **out, size_t *len, const nr_audit *a, const char *image,
	int exit_code, int baseline, nr_error *err)
{
	nr__buf b = NR__BUF_INIT, id = NR__BUF_INIT;
	size_t k, n;

	nr__error_reset(err);
	NR_ASSERT_ARG(out, err);
	*out = NULL;
	if (len)
		*len = 0;
	NR_ASSERT_ARG(a, err);
	if (image == NULL)
		image = "";
	n = nr_audit_count(a);
	nr__buf_puts(&b, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
		"\"version\":\"2.1.0\",\"runs\":[{");
	put_driver(&b);
	/* "category/": one category per image, so code scanning keeps each image's results
	 * apart and compares a run with the previous one of the same image */
	nr__buf_puts(&b, ",\"automationDetails\":{\"id\":");
	nr__buf_printf(&id, "nonroot-audit/%s/", image);
	put_str(&b, id.ptr);
	b.oom |= id.oom;
	nr__buf_dispose(&id);
	nr__buf_printf(&b, "},\"invocations\":[{\"executionSuccessful\":true,\"exitCode\":%d}],"
		"\"artifacts\":[{\"location\":{\"uri\":", exit_code);
	put_str(&b, image);
	nr__buf_puts(&b, "},\"description\":{\"text\":\"the audited image\"}}],\"results\":[");
	for (k = 0; k < n; k++) {
		if (k)
			nr__buf_putc(&b, ',');
		put_result(&b, nr_audit_at(a, k), image, baseline);
	}
	nr__buf_puts(&b, "]}]}");
	if (b.oom || (*out = nr__buf_detach(&b, len)) == NULL) {
		nr__buf_dispose(&b);
		return nr__error_oom(err);
	}
	return 0;
}
