/*
 * fuzz_registry: the docker:// reference parser and the WWW-Authenticate challenge parser.
 * Input: one byte choosing the parser (even: reference, odd: challenge), then the text.
 * Properties: a parsed reference has a host, a repository of [a-z0-9._/-] without "//" or an
 * edge '/', and exactly one of tag and digest; a parsed challenge is Basic or Bearer; an
 * error carries a known code and a message; nothing is read past the given length.
 */
#include "fuzz.h"
#include "internal.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nr_error err = NR_ERROR_INIT;
	char *text;
	size_t i;
	int rc;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		nr__reg_ref r;
		text = fuzz_strndup(data + 1, size - 1);
		rc = nr__reg_ref_parse(&r, text, &err);
		if (rc == 0) {
			FUZZ_ASSERT(r.host && *r.host, "empty host");
			FUZZ_ASSERT(r.repo && *r.repo, "empty repository");
			FUZZ_ASSERT((r.tag == NULL) != (r.digest == NULL), "tag and digest");
			FUZZ_ASSERT(strstr(r.repo, "//") == NULL && r.repo[0] != '/' &&
				r.repo[strlen(r.repo) - 1] != '/', "bad slashes in %s", r.repo);
			for (i = 0; r.repo[i]; i++)
				FUZZ_ASSERT(strchr("abcdefghijklmnopqrstuvwxyz0123456789._-/", r.repo[i]),
					"bad repository char in %s", r.repo);
			nr__reg_ref_dispose(&r);
		} else {
			fuzz_check_error(rc, &err);
		}
		free(text);
	} else {
		nr__reg_challenge c;
		/* an exact-size copy, so ASan sees any read past the length */
		char *exact = malloc(size - 1 ? size - 1 : 1);
		if (exact == NULL)
			return 0;
		memcpy(exact, data + 1, size - 1);
		rc = nr__reg_challenge_parse(&c, exact, size - 1);
		if (rc == 0) {
			FUZZ_ASSERT(c.scheme == 1 || c.scheme == 2, "scheme %d", c.scheme);
			nr__reg_challenge_dispose(&c);
		} else {
			FUZZ_ASSERT(rc == -1 || rc == NR_ENOMEM, "rc %d", rc);
		}
		free(exact);
	}
	return 0;
}
