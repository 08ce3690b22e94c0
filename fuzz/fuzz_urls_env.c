/*
 * fuzz_urls_env: an environment (input lines "NAME=VALUE") through nr_bindings_from_env() for
 * both host kinds: every binding's URL must parse again to the same port and kind, every
 * warning is a string, and the rewrite of each effective variable with the default port map
 * never crashes. Also nr_urls_key_of() on every name.
 */
#include "fuzz.h"

#define MAX_VARS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	const char *envp[MAX_VARS + 1];
	size_t n = 0, i;
	char *p = text;
	nr_portmap map;
	int host;

	if (size > 0 && memchr(data, '\0', size)) {
		free(text);
		return 0;   /* environment strings are C strings */
	}
	while (n < MAX_VARS && *p) {
		char *nl = strchr(p, '\n');
		const char *eq;
		if (nl)
			*nl = '\0';
		envp[n++] = p;
		eq = strchr(p, '=');
		(void)nr_urls_key_of(p, eq ? (size_t)(eq - p) : strlen(p));
		if (!nl)
			break;
		p = nl + 1;
	}
	envp[n] = NULL;
	nr_portmap_default(&map);

	for (host = 0; host < 2; host++) {
		nr_urls_options opts = NR_URLS_OPTIONS_INIT;
		nr_error err = NR_ERROR_INIT;
		nr_bindings *b = NULL;
		int rc;

		opts.host = host ? NR_URLS_HOST_GENERIC : NR_URLS_HOST_WEBAPP;
		opts.flags = (size & 1) ? NR_URLS_NO_UNPREFIXED : 0;
		rc = nr_bindings_from_env(&b, envp, &opts, &err);
		fuzz_check_error(rc, &err);
		if (rc < 0) {
			FUZZ_ASSERT(b == NULL, "object on failure");
			continue;
		}
		FUZZ_ASSERT(nr_bindings_count(b) > 0, "no binding at all (the default is one)");
		(void)nr_urls_source_name(nr_bindings_source(b));
		for (i = 0; i < nr_bindings_count(b); i++) {
			const nr_binding *bd = nr_bindings_at(b, i);
			nr_error e2 = NR_ERROR_INIT;
			nr_url u;
			FUZZ_ASSERT(bd && bd->url && strlen(bd->url) == bd->url_len, "binding url");
			FUZZ_ASSERT(nr_url_parse(&u, bd->url, bd->url_len, &e2) == 0,
				"binding '%s' does not parse: %s", bd->url, e2.message);
			FUZZ_ASSERT(u.port == bd->parsed.port && u.kind == bd->parsed.kind,
				"binding '%s' parses differently", bd->url);
			FUZZ_ASSERT(bd->privileged == nr_url_is_privileged(&u, 1024), "privileged");
		}
		FUZZ_ASSERT(nr_bindings_at(b, nr_bindings_count(b)) == NULL, "out of range");
		for (i = 0; i < nr_bindings_warning_count(b); i++)
			FUZZ_ASSERT(nr_bindings_warning_at(b, i) != NULL, "warning %zu", i);
		for (int k = 0; k < 3; k++) {
			const char *value = NULL, *name = nr_bindings_variable(&value,b, (nr_urls_key)k);
			char *out = NULL;
			if (name == NULL)
				continue;
			nr_error_clear(&err);
			rc = nr_urls_rewrite(&out, NULL, name, value, value ? strlen(value) : 0, &map,
				1024, (size & 2) ? NR_REWRITE_COMPAT : 0, &err);
			fuzz_check_error(rc, &err);
			FUZZ_ASSERT(rc < 0 || out != NULL, "no output");
			nr_free(out);
		}
		nr_bindings_free(b);
	}
	free(text);
	return 0;
}
