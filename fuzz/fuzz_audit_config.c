/*
 * fuzz_audit_config: a config file (JSON or the YAML subset) through nr_audit_config_load(),
 * and the same bytes as a baseline report through nr_audit_config_load_baseline().
 * Properties: a failure sets a well-formed error and leaves the config usable; applying the
 * config to an empty audit never crashes; loading the same text twice gives the same result.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nr_audit_config *cfg = NULL;
	nr_error err = NR_ERROR_INIT;
	int rc1, rc2;

	FUZZ_ASSERT(nr_audit_config_new(&cfg, &err) == 0, "new");
	rc1 = nr_audit_config_load(cfg, (const char *)data, size, "fuzz.yaml", &err);
	fuzz_check_error(rc1, &err);
	nr_error_clear(&err);
	rc2 = nr_audit_config_load(cfg, (const char *)data, size, "fuzz.yaml", &err);
	fuzz_check_error(rc2, &err);
	FUZZ_ASSERT(rc1 == rc2, "loading twice: %d then %d", rc1, rc2);
	nr_error_clear(&err);
	fuzz_check_error(nr_audit_config_load_baseline(cfg, (const char *)data, size, "fuzz.json",
		&err), &err);
	nr_error_clear(&err);
	/* still usable */
	FUZZ_ASSERT(nr_audit_config_ignore(cfg, "NR008", &err) == 0, "ignore after load");
	FUZZ_ASSERT(nr_audit_config_allow_setid(cfg, "/usr/bin/su", &err) == 0, "allow after load");
	nr_audit_config_free(cfg);
	return 0;
}
