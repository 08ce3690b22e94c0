/*
 * fuzz_imgconfig: an image config JSON through nr_imgconfig_parse(), the getters and every
 * edit (User, Env, ExposedPorts and Healthcheck port maps, append_layer). Properties:
 *  - serialize(parse(x)) parses again and serializes to the same text (a fixed point);
 *  - after the edits the result still parses, and the edits are visible in it.
 */
#include "fuzz.h"

static char *reparse(const char *json, size_t len, size_t *outlen)
{
	nr_imgconfig *c = NULL;
	nr_error err = NR_ERROR_INIT;
	char *out = NULL;
	int rc = nr_imgconfig_parse(&c, json, len, &err);

	FUZZ_ASSERT(rc == 0, "serialized config does not parse: %s (%s)", err.message, json);
	FUZZ_ASSERT(nr_imgconfig_serialize(&out, outlen, c, &err) == 0, "serialize");
	nr_imgconfig_free(c);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t from[] = { 80, 443 }, to[] = { 8080, 8443 };
	nr_error err = NR_ERROR_INIT;
	nr_imgconfig *cfg = NULL;
	char *s1 = NULL, *s2 = NULL, *hc = NULL;
	size_t l1 = 0, l2 = 0, i, n;
	int rc;

	rc = nr_imgconfig_parse(&cfg, (const char *)data, size, &err);
	fuzz_check_error(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(cfg == NULL, "object on failure");
		return 0;
	}
	FUZZ_ASSERT(nr_imgconfig_serialize(&s1, &l1, cfg, &err) == 0, "serialize");
	FUZZ_ASSERT(strlen(s1) == l1, "length");
	s2 = reparse(s1, l1, &l2);
	FUZZ_ASSERT(l1 == l2 && memcmp(s1, s2, l1) == 0, "not a fixed point:\n%s\n%s", s1, s2);
	nr_free(s1);
	nr_free(s2);

	/* Getters. */
	FUZZ_ASSERT(nr_imgconfig_user(cfg) != NULL, "user NULL");
	(void)nr_imgconfig_string(cfg, "config.WorkingDir");
	(void)nr_imgconfig_string(cfg, "os");
	n = nr_imgconfig_env_count(cfg);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(nr_imgconfig_env_at(cfg, i) != NULL, "env %zu", i);
	FUZZ_ASSERT(nr_imgconfig_env_at(cfg, n) == NULL, "env out of range");
	(void)nr_imgconfig_env_get(cfg, "ASPNETCORE_URLS");
	n = nr_imgconfig_exposed_count(cfg);
	for (i = 0; i < n; i++) {
		const char *k = nr_imgconfig_exposed_at(cfg, i), *proto = NULL;
		uint16_t port;
		nr_error e2 = NR_ERROR_INIT;
		FUZZ_ASSERT(k != NULL, "exposed %zu", i);
		fuzz_check_error(nr_imgconfig_parse_port_key(&port, &proto, k, &e2), &e2);
	}
	n = nr_imgconfig_diff_id_count(cfg);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(nr_imgconfig_diff_id_at(cfg, i) != NULL, "diff_id %zu", i);
	(void)nr_imgconfig_history_count(cfg);
	(void)nr_imgconfig_history_in_step(cfg);
	rc = nr_imgconfig_healthcheck(&hc, cfg, &err);
	fuzz_check_error(rc, &err);
	nr_free(hc);

	/* Edits, each checked. */
	nr_error_clear(&err);
	rc = nr_imgconfig_set_user(cfg, "1654:1654", &err);
	fuzz_check_error(rc, &err);
	if (rc == 0)
		FUZZ_ASSERT(strcmp(nr_imgconfig_user(cfg), "1654:1654") == 0, "user not set");
	nr_error_clear(&err);
	rc = nr_imgconfig_env_set(cfg, "ASPNETCORE_HTTP_PORTS", "8080", &err);
	fuzz_check_error(rc, &err);
	if (rc >= 0) {
		const char *v = nr_imgconfig_env_get(cfg, "ASPNETCORE_HTTP_PORTS");
		FUZZ_ASSERT(v && strcmp(v, "8080") == 0, "env not set");
	}
	nr_error_clear(&err);
	rc = nr_imgconfig_map_exposed(cfg, from, to, 2, (int)(size & 1), &err);
	fuzz_check_error(rc, &err);
	nr_error_clear(&err);
	rc = nr_imgconfig_map_healthcheck(cfg, from, to, 2, &err);
	fuzz_check_error(rc, &err);
	nr_error_clear(&err);
	n = nr_imgconfig_diff_id_count(cfg);
	rc = nr_imgconfig_append_layer(cfg,
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"2024-01-01T00:00:00Z", "nonroot patch", NULL, &err);
	fuzz_check_error(rc, &err);
	if (rc >= 0)
		FUZZ_ASSERT(nr_imgconfig_diff_id_count(cfg) == n + 1, "layer not appended");

	FUZZ_ASSERT(nr_imgconfig_serialize(&s1, &l1, cfg, &err) == 0, "serialize after edits");
	s2 = reparse(s1, l1, &l2);
	FUZZ_ASSERT(l1 == l2 && memcmp(s1, s2, l1) == 0, "edited: not a fixed point");
	nr_free(s1);
	nr_free(s2);
	nr_imgconfig_free(cfg);
	return 0;
}
