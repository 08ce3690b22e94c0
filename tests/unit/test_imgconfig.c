/*
 * test_imgconfig.c: image config read/edit, data-driven from tests/data/imgconfig:
 *   valid/<case>/{input.json, ops, output.json}: apply ops, compare the serialization
 *   invalid/<case>/{input.json, error}: parsing fails with an error whose text contains `error`
 * ops: one per line, "OP ARG": user U | env NAME VALUE | expose MAP | expose-keep MAP |
 *      health MAP | layer DIFFID CREATED CREATED_BY... | expect-ret N | expect-user U |
 *      expect-env NAME VALUE|nil | expect-health TEXT|nil | expect-in-step 0|1 |
 *      expect-exposed KEY (the first key) | expect-created T | expect-string PATH VALUE
 * MAP is "80:8080,443:8443".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrtest.h"
#include "internal.h"

static size_t parse_map(const char *s, uint16_t *from, uint16_t *to, size_t max)
{
	size_t n = 0;
	unsigned a, b;
	int used;

	while (n < max && sscanf(s, "%u:%u%n", &a, &b, &used) == 2) {
		from[n] = (uint16_t)a;
		to[n] = (uint16_t)b;
		n++;
		s += used;
		if (*s != ',')
			break;
		s++;
	}
	return n;
}

static void trim_nl(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void run_valid(const char *dir, const char *name, void *payload)
{
	char path[512], *input, *ops, *expected, *out = NULL, *line, *save = NULL;
	size_t len;
	nr_imgconfig *cfg = NULL;
	nr_error err = NR_ERROR_INIT;
	int ret = 0, lineno = 0;
	(void)payload;

	snprintf(path, sizeof(path), "%s/input.json", dir);
	input = nrtest_read(path, &len);
	snprintf(path, sizeof(path), "%s/ops", dir);
	ops = nrtest_read(path, NULL);
	snprintf(path, sizeof(path), "%s/output.json", dir);
	expected = nrtest_read(path, NULL);
	trim_nl(expected);
	if (nr_imgconfig_parse(&cfg, input, len, &err) < 0) {
		fprintf(stderr, "\n  %s: parse failed: %s\n", name, err.message);
		CU_FAIL("valid case does not parse");
		goto done;
	}
	for (line = strtok_r(ops, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char op[32], *arg = strchr(line, ' '), *arg2;
		uint16_t from[16], to[16];
		size_t n;
		bool ok = true;

		lineno++;
		n = arg ? (size_t)(arg - line) : strlen(line);
		snprintf(op, sizeof(op), "%.*s", (int)n, line);
		arg = arg ? arg + 1 : line + strlen(line);
		arg2 = strchr(arg, ' ');
		if (!strcmp(op, "user")) {
			ret = nr_imgconfig_set_user(cfg, arg, &err);
		} else if (!strcmp(op, "env")) {
			*arg2 = '\0';
			ret = nr_imgconfig_env_set(cfg, arg, arg2 + 1, &err);
		} else if (!strcmp(op, "expose") || !strcmp(op, "expose-keep")) {
			n = parse_map(arg, from, to, 16);
			ret = nr_imgconfig_map_exposed(cfg, from, to, n, op[6] == '-', &err);
		} else if (!strcmp(op, "health")) {
			n = parse_map(arg, from, to, 16);
			ret = nr_imgconfig_map_healthcheck(cfg, from, to, n, &err);
		} else if (!strcmp(op, "layer")) {
			char *created, *by;
			*arg2 = '\0';
			created = arg2 + 1;
			by = strchr(created, ' ');
			*by++ = '\0';
			ret = nr_imgconfig_append_layer(cfg, arg, created, by, NULL, &err);
		} else if (!strcmp(op, "expect-ret")) {
			ok = ret == atoi(arg);
		} else if (!strcmp(op, "expect-user")) {
			ok = !strcmp(nr_imgconfig_user(cfg), arg);
		} else if (!strcmp(op, "expect-env")) {
			const char *v;
			*arg2 = '\0';
			v = nr_imgconfig_env_get(cfg, arg);
			ok = !strcmp(arg2 + 1, "nil") ? v == NULL : (v && !strcmp(v, arg2 + 1));
		} else if (!strcmp(op, "expect-health")) {
			char *h = NULL;
			CU_ASSERT_EQUAL(nr_imgconfig_healthcheck(&h, cfg, &err), 0);
			ok = !strcmp(arg, "nil") ? h == NULL : (h && !strcmp(h, arg));
			if (!ok)
				fprintf(stderr, "\n  health: %s\n", h ? h : "(null)");
			free(h);
		} else if (!strcmp(op, "expect-in-step")) {
			ok = nr_imgconfig_history_in_step(cfg) == atoi(arg);
		} else if (!strcmp(op, "expect-exposed")) {
			const char *k = nr_imgconfig_exposed_at(cfg, 0);
			ok = k && !strcmp(k, arg);
		} else if (!strcmp(op, "expect-created")) {
			const char *c = nr_imgconfig_string(cfg, "created");
			ok = c && !strcmp(c, arg);
		} else if (!strcmp(op, "expect-string")) {
			const char *c;
			*arg2 = '\0';
			c = nr_imgconfig_string(cfg, arg);
			ok = c && !strcmp(c, arg2 + 1);
		} else {
			fprintf(stderr, "\n  %s: unknown op %s\n", name, op);
			ok = false;
		}
		if (ret < 0 && strncmp(op, "expect", 6) != 0) {
			fprintf(stderr, "\n  %s: ops line %d failed: %s\n", name, lineno, err.message);
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "\n  %s: ops line %d failed (ret %d)\n", name, lineno, ret);
			CU_FAIL("an op or expectation failed");
		}
	}
	CU_ASSERT_EQUAL(nr_imgconfig_serialize(&out, &len, cfg, &err), 0);
	CU_ASSERT_EQUAL(len, strlen(out));
	if (strcmp(out, expected) != 0) {
		fprintf(stderr, "\n  %s:\n  got      %s\n  expected %s\n", name, out, expected);
		CU_FAIL("serialized config differs");
	}
done:
	nr_imgconfig_free(cfg);
	free(out);
	free(input);
	free(ops);
	free(expected);
}

static void run_invalid(const char *dir, const char *name, void *payload)
{
	char path[512], *input, *expected, text[512];
	size_t len;
	nr_imgconfig *cfg = (nr_imgconfig *)1;
	nr_error err = NR_ERROR_INIT;
	(void)payload;

	snprintf(path, sizeof(path), "%s/input.json", dir);
	input = nrtest_read(path, &len);
	snprintf(path, sizeof(path), "%s/error", dir);
	expected = nrtest_read(path, NULL);
	trim_nl(expected);
	CU_ASSERT_EQUAL(nr_imgconfig_parse(&cfg, input, len, &err), NR_EINVALID);
	CU_ASSERT_PTR_NULL(cfg);
	nr_error_format(&err, text, sizeof(text));
	if (strstr(text, expected) == NULL) {
		fprintf(stderr, "\n  %s: error <%s> lacks <%s>\n", name, text, expected);
		CU_FAIL("error text");
	}
	free(input);
	free(expected);
}

static void test_valid_cases(void)
{
	CU_ASSERT(nrtest_each_case("imgconfig/valid", run_valid, NULL) >= 6);
}

static void test_invalid_cases(void)
{
	CU_ASSERT(nrtest_each_case("imgconfig/invalid", run_invalid, NULL) >= 6);
}

static void test_port_keys(void)
{
	uint16_t port = 1;
	const char *proto = NULL;
	nr_error err = NR_ERROR_INIT;

	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, &proto, "80/tcp", &err), 0);
	CU_ASSERT_EQUAL(port, 80);
	CU_ASSERT_STRING_EQUAL(proto, "tcp");
	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, &proto, "53/udp", &err), 0);
	CU_ASSERT_STRING_EQUAL(proto, "udp");
	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, &proto, "443", &err), 0);
	CU_ASSERT_EQUAL(port, 443);
	CU_ASSERT_STRING_EQUAL(proto, "tcp");
	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, NULL, "8000-8010/tcp", &err),
		NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "config.ExposedPorts: image config: invalid port '8000-8010/tcp'");
	nr_error_clear(&err);
	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, NULL, "65536/tcp", &err), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, NULL, "80/", NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, NULL, "80/TCP", NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_parse_port_key(&port, NULL, "", NULL), NR_EINVALID);
}

static void test_edits_refused(void)
{
	nr_imgconfig *cfg = NULL;
	nr_error err = NR_ERROR_INIT;
	const char j[] = "{\"config\":{\"Env\":[\"A=1\"]}}";

	CU_ASSERT_EQUAL_FATAL(nr_imgconfig_parse(&cfg, j, strlen(j), &err), 0);
	CU_ASSERT_EQUAL(nr_imgconfig_env_set(cfg, "A=B", "1", &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "invalid environment variable name 'A=B'");
	CU_ASSERT_EQUAL(nr_imgconfig_env_set(cfg, "", "1", NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_env_set(cfg, "B", "x\ny", NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_set_user(cfg, "app\n", NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_append_layer(cfg, "sha256:xyz", NULL, NULL, NULL, NULL),
		NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_append_layer(cfg, "sha256:ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB",
		NULL, NULL, NULL, NULL), NR_EINVALID);
	CU_ASSERT_EQUAL(nr_imgconfig_set_user(NULL, "x", NULL), NR_EARG);
	CU_ASSERT_EQUAL(nr_imgconfig_env_count(cfg), 1);
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_env_at(cfg, 0), "A=1");
	CU_ASSERT_PTR_NULL(nr_imgconfig_env_at(cfg, 1));
	CU_ASSERT_EQUAL(nr_imgconfig_exposed_count(cfg), 0);
	CU_ASSERT_PTR_NULL(nr_imgconfig_exposed_at(cfg, 0));
	CU_ASSERT_PTR_NULL(nr_imgconfig_string(cfg, "config.Env"));
	CU_ASSERT_PTR_NULL(nr_imgconfig_string(cfg, "nope.deeper"));
	CU_ASSERT_EQUAL(nr_imgconfig_diff_id_count(cfg), 0);
	CU_ASSERT_EQUAL(nr_imgconfig_history_in_step(cfg), 1);
	nr_imgconfig_free(cfg);
	nr_imgconfig_free(NULL);
}

/* A struct field spelled other than exactly, with no exact key beside it, is the field as Go's
 * encoding/json reads it (ASCII case, U+017F for 's', U+212A for 'k'): runc would run this
 * config as uid 0 with ENV's variables. An edit writes the one exact key and drops the other. */
static void test_go_field_folding(void)
{
	nr_imgconfig *cfg = NULL;
	char *out = NULL;
	size_t len = 0;
	const char j[] = "{\"CONFIG\":{\"u\xc5\xbf" "er\":\"0\",\"ENV\":[\"A=1\"],"
		"\"Wor\xe2\x84\xaaingDir\":\"/w\",\"Exposedports\":{\"80/tcp\":{}}},"
		"\"RootFS\":{\"type\":\"layers\",\"DIFF_IDS\":[\"sha256:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]}}";

	CU_ASSERT_EQUAL_FATAL(nr_imgconfig_parse(&cfg, j, strlen(j), NULL), 0);
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_user(cfg), "0");
	CU_ASSERT_EQUAL(nr_imgconfig_env_count(cfg), 1);
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_env_get(cfg, "A"), "1");
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_string(cfg, "config.WorkingDir"), "/w");
	CU_ASSERT_EQUAL(nr_imgconfig_exposed_count(cfg), 1);
	CU_ASSERT_EQUAL(nr_imgconfig_diff_id_count(cfg), 1);
	CU_ASSERT_EQUAL(nr_imgconfig_set_user(cfg, "1654:1654", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(nr_imgconfig_serialize(&out, &len, cfg, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"User\":\"1654:1654\""));
	CU_ASSERT_PTR_NULL(strstr(out, "u\xc5\xbf" "er"));
	nr_imgconfig_free(cfg);
	cfg = NULL;
	/* what was written parses again (no two keys Go reads as one) and says the same */
	CU_ASSERT_EQUAL_FATAL(nr_imgconfig_parse(&cfg, out, len, NULL), 0);
	CU_ASSERT_STRING_EQUAL(nr_imgconfig_user(cfg), "1654:1654");
	CU_ASSERT_EQUAL(nr_imgconfig_env_count(cfg), 1);
	free(out);
	nr_imgconfig_free(cfg);
}

static CU_TestInfo imgconfig_tests[] = {
	{ "struct fields read as Go reads them", test_go_field_folding },
	{ "valid cases", test_valid_cases },
	{ "invalid cases", test_invalid_cases },
	{ "ExposedPorts keys", test_port_keys },
	{ "edits refused", test_edits_refused },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "imgconfig", NULL, NULL, NULL, NULL, imgconfig_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
