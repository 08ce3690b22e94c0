/*
 * test_audit.c: audit rules, data-driven from tests/data/audit/<case>/:
 *   config.json, passwd (optional), group (optional), setid (optional: "PATH MODE UID GID
 *   [CAPS]" lines, mode octal, CAPS the security.capability xattr in hex), home (optional: "PATH d|f UID GID" lines: what the image has),
 *   expected: one line per finding in order, "ID LEVEL LOCATION | message substring".
 * Plus the rule table (stable ids, levels) and the SARIF level names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrtest.h"
#include "internal.h"
#include "audit_internal.h"

typedef struct homes {
	char path[8][128];
	int type[8];
	uint64_t uid[8], gid[8];
	size_t n;
} homes;

static int lookup(void *ctx, const char *path, int *type, uint64_t *uid, uint64_t *gid,
	nr_error *err)
{
	homes *h = ctx;
	size_t k;
	(void)err;

	*type = NR_ENTRY_NONE;
	for (k = 0; k < h->n; k++) {
		if (!strcmp(h->path[k], path)) {
			*type = h->type[k];
			*uid = h->uid[k];
			*gid = h->gid[k];
		}
	}
	return 0;
}

static void run_case(const char *dir, const char *name, void *payload)
{
	char path[512], *config, *passwd, *group, *setidtxt, *hometxt, *expected, *line, *save;
	size_t clen, plen = 0, glen = 0, k, nexp = 0;
	nr__audit_setid setid[8];
	char setpath[8][128], capshex[8][128], caps[8][64];
	nr__audit_facts f;
	homes h;
	nr_audit *a;
	nr_error err = NR_ERROR_INIT;
	(void)payload;

	memset(&f, 0, sizeof(f));
	memset(&h, 0, sizeof(h));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	config = nrtest_read(path, &clen);
	snprintf(path, sizeof(path), "%s/passwd", dir);
	passwd = nrtest_read_opt(path, &plen);
	snprintf(path, sizeof(path), "%s/group", dir);
	group = nrtest_read_opt(path, &glen);
	snprintf(path, sizeof(path), "%s/setid", dir);
	setidtxt = nrtest_read_opt(path, NULL);
	snprintf(path, sizeof(path), "%s/home", dir);
	hometxt = nrtest_read_opt(path, NULL);
	snprintf(path, sizeof(path), "%s/expected", dir);
	expected = nrtest_read(path, NULL);

	f.platform = "linux/amd64";
	f.config = config;
	f.config_len = clen;
	f.passwd = passwd;
	f.passwd_len = plen;
	f.group = group;
	f.group_len = glen;
	f.threshold = 1024;
	for (line = setidtxt ? strtok_r(setidtxt, "\n", &save) : NULL; line && f.nsetid < 8;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned mode;
		unsigned long long u, g;
		int got;
		size_t ncaps = 0;
		capshex[f.nsetid][0] = '\0';
		got = sscanf(line, "%127s %o %llu %llu %127s", setpath[f.nsetid], &mode, &u, &g,
			capshex[f.nsetid]);
		CU_ASSERT_FATAL(got == 4 || got == 5);
		for (k = 0; got == 5 && capshex[f.nsetid][2 * k] && k < sizeof(caps[0]); k++) {
			unsigned byte;
			CU_ASSERT_EQUAL_FATAL(sscanf(capshex[f.nsetid] + 2 * k, "%2x", &byte), 1);
			caps[f.nsetid][k] = (char)byte;
			ncaps++;
		}
		setid[f.nsetid] = (nr__audit_setid){ setpath[f.nsetid], mode, u, g,
			got == 5 ? caps[f.nsetid] : NULL, ncaps };
		f.nsetid++;
	}
	f.setid = setid;
	for (line = hometxt ? strtok_r(hometxt, "\n", &save) : NULL; line && h.n < 8;
	     line = strtok_r(NULL, "\n", &save)) {
		char t;
		unsigned long long u, g;
		CU_ASSERT_EQUAL_FATAL(sscanf(line, "%127s %c %llu %llu", h.path[h.n], &t, &u, &g), 4);
		h.type[h.n] = t == 'd' ? NR_ENTRY_DIRECTORY : NR_ENTRY_REGULAR;
		h.uid[h.n] = u;
		h.gid[h.n] = g;
		h.n++;
	}
	f.lookup = lookup;
	f.lookup_ctx = &h;

	a = nr__audit_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	if (nr__audit_eval(a, &f, &err) < 0) {
		fprintf(stderr, "\n  %s: %s\n", name, err.message);
		CU_FAIL("audit failed");
	}
	for (line = strtok_r(expected, "\n", &save), k = 0; line; line = strtok_r(NULL, "\n", &save), k++) {
		const nr_finding *fd = nr_audit_at(a, k);
		char head[256], *bar = strstr(line, " | ");
		nexp++;
		if (fd == NULL) {
			fprintf(stderr, "\n  %s: missing finding %s\n", name, line);
			CU_FAIL("missing finding");
			continue;
		}
		snprintf(head, sizeof(head), "%s %s %s", fd->id, nr_level_name(fd->level), fd->location);
		if (bar)
			*bar = '\0';
		if (strcmp(head, line) != 0 || (bar && !strstr(fd->message, bar + 3))) {
			fprintf(stderr, "\n  %s: finding %zu is\n    %s | %s\n  expected\n    %s | %s\n",
				name, k, head, fd->message, line, bar ? bar + 3 : "");
			CU_FAIL("finding differs");
		}
		CU_ASSERT(strlen(fd->fix) > 0);
		CU_ASSERT_STRING_EQUAL(fd->platform, "linux/amd64");
	}
	if (nr_audit_count(a) != nexp) {
		for (k = nexp; k < nr_audit_count(a); k++)
			fprintf(stderr, "\n  %s: unexpected %s %s %s | %s\n", name, nr_audit_at(a, k)->id,
				nr_level_name(nr_audit_at(a, k)->level), nr_audit_at(a, k)->location,
				nr_audit_at(a, k)->message);
		CU_FAIL("wrong number of findings");
	}
	CU_ASSERT_EQUAL(nr_audit_platform_count(a), 1);
	CU_ASSERT_EQUAL(nr_audit_max_level(a) == NR_LEVEL_NONE, nexp == 0);
	nr_audit_free(a);
	free(config);
	free(passwd);
	free(group);
	free(setidtxt);
	free(hometxt);
	free(expected);
}

static void test_cases(void)
{
	CU_ASSERT(nrtest_each_case("audit", run_case, NULL) >= 15);
}

static void test_rules(void)
{
	/* stable ids, ascending */
	static const char *const ids[] = { "NR001", "NR002", "NR003", "NR004", "NR005", "NR006",
		"NR007", "NR008", "NR009", "NR010", "NR011", "NR012", "NR013", "NR014",
		"NR015" };
	size_t k;
	const char *id;

	CU_ASSERT_EQUAL(nr_audit_rule_count(), NR_ARRAY_SIZE(ids));
	for (k = 0; k < nr_audit_rule_count() && k < NR_ARRAY_SIZE(ids); k++) {
		const nr_audit_rule *r = nr_audit_rule_at(k);
		id = ids[k];
		CU_ASSERT_STRING_EQUAL(r->id, id);
		CU_ASSERT_PTR_EQUAL(nr_audit_rule_get(id), r);
		CU_ASSERT(strlen(r->summary) > 10 && strlen(r->help) > 10);
	}
	CU_ASSERT_STRING_EQUAL(nr_audit_rule_get("NR001")->name, "runs-as-root");
	CU_ASSERT_EQUAL(nr_audit_rule_get("NR001")->level, NR_LEVEL_ERROR);
	CU_ASSERT_STRING_EQUAL(nr_audit_rule_get("NR014")->name, "root-group");
	CU_ASSERT_STRING_EQUAL(nr_audit_rule_get("NR015")->name, "file-capabilities");
	CU_ASSERT_EQUAL(nr_audit_rule_get("NR015")->level, NR_LEVEL_WARNING);
	CU_ASSERT_PTR_NULL(nr_audit_rule_at(NR_ARRAY_SIZE(ids)));
	CU_ASSERT_PTR_NULL(nr_audit_rule_get("NR999"));
	CU_ASSERT_STRING_EQUAL(nr_level_name(NR_LEVEL_WARNING), "warning");
	CU_ASSERT_STRING_EQUAL(nr_level_name(7), "?");
}

static void test_caps_text(void)
{
	static const struct { const char *hex, *text; } cases[] = {
		/* revision 2, effective, cap_net_bind_service permitted */
		{ "0100000200040000000000000000000000000000", "cap_net_bind_service=ep" },
		/* revision 1, not effective: cap_chown,cap_kill permitted and inheritable */
		{ "000000012100000021000000", "cap_chown,cap_kill=ip" },
		/* revision 3 (namespaced root uid): cap_sys_admin p, cap_bpf (39) i */
		{ "010000030000200000000000000000008000000000000000", "cap_sys_admin=ep cap_bpf=i" },
		/* a bit past the known names */
		{ "0100000200000000000000000000004000000000", "cap_62=ep" },
		{ "01000002000000000000000000000000000000", "undecodable, 19 bytes" },
		{ "01000004000400000000000000000000000000000000", "undecodable, 22 bytes" },
		{ "", "undecodable, 0 bytes" },
		{ "0100000200000000000000000000000000000000", "none (empty set)" },
	};
	char bin[64], out[128], tiny[8];
	size_t k, i, n;

	for (k = 0; k < NR_ARRAY_SIZE(cases); k++) {
		n = strlen(cases[k].hex) / 2;
		for (i = 0; i < n; i++) {
			unsigned byte;
			CU_ASSERT_EQUAL_FATAL(sscanf(cases[k].hex + 2 * i, "%2x", &byte), 1);
			bin[i] = (char)byte;
		}
		nr__caps_text(out, sizeof(out), bin, n);
		CU_ASSERT_STRING_EQUAL(out, cases[k].text);
	}
	/* truncated to the buffer, always terminated */
	n = 20;
	memcpy(bin, "\x01\x00\x00\x02\xff\xff\xff\xff\x00\x00\x00\x00\xff\x01\x00\x00"
		"\x00\x00\x00\x00", n);
	nr__caps_text(tiny, sizeof(tiny), bin, n);
	CU_ASSERT_EQUAL(strlen(tiny), sizeof(tiny) - 1);
	nr__caps_text(out, sizeof(out), bin, n);
	CU_ASSERT_EQUAL(strlen(out), sizeof(out) - 1);
}

static void test_bad_config(void)
{
	nr__audit_facts f;
	nr_audit *a = nr__audit_new();
	nr_error err = NR_ERROR_INIT;
	nr_audit_options o;

	memset(&f, 0, sizeof(f));
	f.config = "{\"config\":{\"Env\":[1]}}";
	f.config_len = strlen(f.config);
	CU_ASSERT_EQUAL(nr__audit_eval(a, &f, &err), NR_EINVALID);
	NRTEST_ASSERT_ERR(&err, NR_EINVALID, "config.Env[0]");
	nr_audit_free(a);
	nr_audit_free(NULL);
	CU_ASSERT_EQUAL(nr_audit_options_init(&o, NR_AUDIT_OPTIONS_VERSION), 0);
	CU_ASSERT_EQUAL(o.threshold, 1024);
	CU_ASSERT_EQUAL(nr_audit_options_init(&o, 99), NR_EARG);
	CU_ASSERT_EQUAL(nr_image_audit(&a, NULL, NULL, &err), NR_EARG);
}

/* nr_audit_to_sarif(): the document the CLI prints for --format sarif, checked parsed and
 * byte by byte where the escaping matters. */
/* An audit of User 0 and a set-uid /usr/bin/su and /bin/ping (with capabilities). */
static nr_audit *root_audit(void)
{
	static const char config[] = "{\"config\":{\"User\":\"0\"}}";
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n";
	static const char caps[] = "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00";
	nr__audit_setid setid[2] = { { "usr/bin/su", 04755, 0, 0, NULL, 0 },
		{ "bin/ping", 0755, 0, 0, caps, sizeof(caps) - 1 } };
	nr_error err = NR_ERROR_INIT;
	nr__audit_facts f;
	nr_audit *a = nr__audit_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	memset(&f, 0, sizeof(f));
	f.platform = "linux/amd64";
	f.config = config;
	f.config_len = sizeof(config) - 1;
	f.passwd = passwd;
	f.passwd_len = sizeof(passwd) - 1;
	f.setid = setid;
	f.nsetid = 2;
	f.threshold = 1024;
	CU_ASSERT_EQUAL_FATAL(nr__audit_eval(a, &f, &err), 0);
	return a;
}

static void test_sarif(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_audit *a = root_audit();
	json_t *doc, *run, *results, *r;
	char *out = NULL;
	size_t len = 0, k, got = 0;

	CU_ASSERT_EQUAL(nr_audit_to_sarif(NULL, NULL, a, "x", 0, 0, &err), NR_EARG);
	CU_ASSERT_EQUAL(nr_audit_to_sarif(&out, &len, NULL, "x", 0, 0, &err), NR_EARG);
	CU_ASSERT_PTR_NULL(out);

	CU_ASSERT_EQUAL_FATAL(nr_audit_to_sarif(&out, &len, a, "oci:/t\"a\tb:1", 1, 0, &err), 0);
	CU_ASSERT_EQUAL(len, strlen(out));
	CU_ASSERT(strncmp(out, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
		"\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"nonroot\"", 120) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"automationDetails\":{\"id\":"
		"\"nonroot-audit/oci:/t\\\"a\\tb:1/\"}"));
	CU_ASSERT_PTR_NULL(strstr(out, "baselineState"));
	CU_ASSERT(out[len - 1] == '}');
	doc = json_loads(out, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	run = json_array_get(json_object_get(doc, "runs"), 0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(json_object_get(json_object_get(run,
		"tool"), "driver"), "rules")), nr_audit_rule_count());
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(json_object_get(run,
		"invocations"), 0), "exitCode")), 1);
	results = json_object_get(run, "results");
	CU_ASSERT_EQUAL(json_array_size(results), nr_audit_count(a));
	json_array_foreach(results, k, r) {
		const char *id = json_string_value(json_object_get(r, "ruleId"));
		json_t *loc = json_array_get(json_object_get(r, "locations"), 0);
		CU_ASSERT_STRING_EQUAL(id, nr_audit_at(a, k)->id);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(r,
			"partialFingerprints"), "nonroot/v1")), nr_audit_at(a, k)->fingerprint);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(r,
			"properties"), "image")), "oci:/t\"a\tb:1");
		if (!strcmp(id, "NR001")) {
			json_t *l = json_array_get(json_object_get(loc, "logicalLocations"), 0);
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(l, "name")), "User");
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(l,
				"fullyQualifiedName")), "config.User");
			CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "ruleIndex")), 0);
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "level")), "error");
			got++;
		} else if (!strcmp(id, "NR008")) {
			CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(
				json_object_get(loc, "physicalLocation"), "artifactLocation"), "uri")),
				"usr/bin/su");
			CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "ruleIndex")), 7);
			got++;
		}
	}
	CU_ASSERT_EQUAL(got, 2);
	json_decref(doc);
	nr_free(out);

	/* with a baseline: every result has a baselineState ("new": none was in it) */
	CU_ASSERT_EQUAL_FATAL(nr_audit_to_sarif(&out, NULL, a, NULL, 0, 1, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"baselineState\":\"new\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"automationDetails\":{\"id\":\"nonroot-audit//\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"exitCode\":0}"));
	nr_free(out);
	nr_audit_free(a);
}

/* nr_audit_to_text(): the lines `nonroot audit` prints, NR008 and NR015 grouped, and the
 * reference made safe for a terminal. */
static void test_text(void)
{
	nr_error err = NR_ERROR_INIT;
	nr_audit *a = root_audit();
	char *out = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL(nr_audit_to_text(NULL, NULL, a, "x", 0, &err), NR_EARG);
	CU_ASSERT_EQUAL(nr_audit_to_text(&out, &len, NULL, "x", 0, &err), NR_EARG);
	CU_ASSERT_EQUAL_FATAL(nr_audit_to_text(&out, &len, a, "oci:t\x1b[1m\xff:1", 0, &err), 0);
	CU_ASSERT_EQUAL(len, strlen(out));
	CU_ASSERT(strncmp(out, "oci:t\\x1b[1m\\xff:1 (linux/amd64): User '0'\n"
		"  NR001 error   User '0' runs as root (uid 0)\n          fix: Add a non-root user", 120) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n  NR008 warning 1 set-uid/set-gid file: /usr/bin/su\n"
		"          fix: Remove the set-id bit"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n  NR015 warning 1 file with file capabilities: "
		"/bin/ping (cap_net_raw=ep)\n          fix: "));
	CU_ASSERT(len > 0 && out[len - 1] == '\n');
	CU_ASSERT_PTR_NULL(strstr(out, "accepted by the config"));
	nr_free(out);
	CU_ASSERT_EQUAL_FATAL(nr_audit_to_text(&out, &len, a, "x", 1, &err), 0);
	CU_ASSERT_STRING_EQUAL(out, "linux/amd64: NR001 error   User '0' runs as root (uid 0)\n"
		"linux/amd64: NR008 warning 1 set-uid/set-gid file: /usr/bin/su\n"
		"linux/amd64: NR015 warning 1 file with file capabilities: /bin/ping (cap_net_raw=ep)\n");
	nr_free(out);
	nr_audit_free(a);
}

static CU_TestInfo audit_tests[] = {
	{ "data cases", test_cases },
	{ "rule table", test_rules },
	{ "capability text", test_caps_text },
	{ "bad config", test_bad_config },
	{ "SARIF document", test_sarif },
	{ "text report", test_text },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
	{ "audit", NULL, NULL, NULL, NULL, audit_tests },
	CU_SUITE_INFO_NULL
};

int main(void)
{
	return nrtest_main(suites);
}
