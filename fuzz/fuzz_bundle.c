/*
 * fuzz_bundle: a runtime config.json through nr_bundle_parse() (no directory) and
 * nr_bundle_harden() with the default options and with allow_low_ports + the port sysctl.
 * Properties: a failed harden leaves the document unchanged; a successful one dumps a
 * document that parses again and is already hardened (a second harden changes nothing);
 * reports format as JSON that jansson-free code can at least terminate.
 */
#include "fuzz.h"

static char *dump(const nr_bundle *b, size_t *len)
{
	nr_error err = NR_ERROR_INIT;
	char *out = NULL;

	FUZZ_ASSERT(nr_bundle_serialize(&out, len, b, &err) == 0, "dump: %s", err.message);
	FUZZ_ASSERT(strlen(out) == *len, "dump length");
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nr_error err = NR_ERROR_INIT;
	nr_bundle *b = NULL;
	int rc, variant;

	rc = nr_bundle_parse(&b, (const char *)data, size, NULL, &err);
	fuzz_check_error(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(b == NULL, "object on failure");
		return 0;
	}
	(void)nr_bundle_root_path(b);
	nr_bundle_free(b);

	for (variant = 0; variant < 2; variant++) {
		nr_bundle_harden_options opts = NR_BUNDLE_HARDEN_OPTIONS_INIT;
		nr_bundle_report *rep = NULL;
		char *before, *after, *text = NULL;
		size_t lb, la, lt;

		b = NULL;
		nr_error_clear(&err);
		FUZZ_ASSERT(nr_bundle_parse(&b, (const char *)data, size, NULL, &err) == 0, "reparse");
		if (variant) {
			opts.allow_low_ports = 1;
			opts.unprivileged_port_start = 0;
			opts.allow_root = (size & 1);
		}
		before = dump(b, &lb);
		nr_error_clear(&err);
		rc = nr_bundle_harden(&rep, b, &opts, &err);
		fuzz_check_error(rc, &err);
		after = dump(b, &la);
		if (rc < 0) {
			FUZZ_ASSERT(rep == NULL, "report on failure");
			FUZZ_ASSERT(la == lb && memcmp(before, after, la) == 0,
				"failed harden changed the bundle");
		} else {
			nr_bundle *b2 = NULL;
			nr_bundle_report *rep2 = NULL;
			FUZZ_ASSERT(nr_bundle_report_to_json(&text, &lt, rep, &err) == 0, "report json");
			nr_free(text);
			FUZZ_ASSERT(nr_bundle_report_to_text(&text, &lt, rep, &err) == 0, "report text");
			nr_free(text);
			if (nr_bundle_report_changes(rep) == 0)
				FUZZ_ASSERT(la == lb && memcmp(before, after, la) == 0,
					"0 changes reported but the document changed");
			nr_error_clear(&err);
			FUZZ_ASSERT(nr_bundle_parse(&b2, after, la, NULL, &err) == 0,
				"hardened document does not parse: %s", err.message);
			nr_error_clear(&err);
			rc = nr_bundle_harden(&rep2, b2, &opts, &err);
			FUZZ_ASSERT(rc == 0, "second harden failed: %s", err.message);
			FUZZ_ASSERT(nr_bundle_report_changes(rep2) == 0,
				"second harden changed %zu fields", nr_bundle_report_changes(rep2));
			nr_bundle_report_free(rep2);
			nr_bundle_free(b2);
		}
		nr_bundle_report_free(rep);
		nr_free(before);
		nr_free(after);
		nr_bundle_free(b);
	}
	return 0;
}
