/*
 * fuzz_userspec: an OCI User spec resolved like runc against a passwd and a group file.
 * Input: SPEC "\n" PASSWD "\0" GROUP. Properties: a resolved user with a name is that
 * passwd entry (its uid, and its gid unless the spec names a group); a numeric uid not in
 * passwd is within 0..2147483647; home is never NULL; additional gids are groups that list
 * the user (or the defaults); errors have runc's wording.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size), *p, *nul;
	nr_error err = NR_ERROR_INIT;
	nr_passwd *pw = NULL;
	nr_group *gr = NULL;
	nr_exec_user u;
	char *spec;
	size_t rest, i, k;
	uint32_t defaults[2] = { 5, 7 };
	nr_userspec_options opts = NR_USERSPEC_OPTIONS_INIT;
	int rc;

	if (nl == NULL)
		return 0;
	spec = fuzz_strndup(data, (size_t)(nl - (const char *)data));
	p = nl + 1;
	rest = size - (size_t)(p - (const char *)data);
	nul = memchr(p, '\0', rest);
	if (nr_passwd_parse(&pw, p, nul ? (size_t)(nul - p) : rest, NULL, &err) < 0)
		goto done;
	if (nul && nr_group_parse(&gr, nul + 1, rest - (size_t)(nul + 1 - p), NULL, &err) < 0)
		goto done;
	if (size & 1) {
		opts.uid = 65534;
		opts.gid = 65534;
		opts.home = NULL;
		opts.additional_gids = defaults;
		opts.n_additional_gids = 2;
	}
	nr_error_clear(&err);
	rc = nr_userspec_resolve(&u, spec, pw, gr, &opts, &err);
	fuzz_check_error(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(rc == NR_ENOTFOUND || rc == NR_ERANGE || rc == NR_EINVALID,
			"code %d: %s", rc, err.message);
		if (rc == NR_ERANGE)
			FUZZ_ASSERT(strstr(err.message, "range 0-2147483647"), "wording: %s", err.message);
		if (rc == NR_ENOTFOUND)
			FUZZ_ASSERT(strstr(err.message, "unable to find") ||
				strstr(err.message, "Unable to find"), "wording: %s", err.message);
		goto done;
	}
	FUZZ_ASSERT(u.home != NULL, "home NULL");
	if (u.name) {
		const nr_pwent *e = nr_passwd_find_name(pw, u.name);
		FUZZ_ASSERT(e != NULL, "resolved name '%s' is not in passwd", u.name);
		FUZZ_ASSERT(pw != NULL && nr_passwd_find_uid(pw, u.uid) != NULL,
			"uid %u of '%s' is no passwd entry's", u.uid, u.name);
		if (strchr(spec, ':') == NULL)
			FUZZ_ASSERT(u.gid == e->gid || u.gid == nr_passwd_find_uid(pw, u.uid)->gid,
				"gid %u is not the entry's", u.gid);
	} else {
		FUZZ_ASSERT(u.uid <= NR_USERSPEC_ID_MAX || u.uid == opts.uid, "uid %u out of range",
			u.uid);
	}
	/* runc keeps one gid per matching group, duplicates included (no dedup to check). */
	for (i = 0; i < u.n_additional_gids; i++) {
		int known = 0;
		for (k = 0; gr && k < nr_group_count(gr); k++)
			known |= nr_group_at(gr, k)->gid == u.additional_gids[i];
		for (k = 0; k < opts.n_additional_gids; k++)
			known |= opts.additional_gids[k] == u.additional_gids[i];
		FUZZ_ASSERT(known, "additional gid %u is no group's", u.additional_gids[i]);
	}
	nr_exec_user_dispose(&u);
done:
	nr_group_free(gr);
	nr_passwd_free(pw);
	free(spec);
	return 0;
}
