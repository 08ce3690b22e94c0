/*
 * fuzz_passwd: /etc/passwd text through nr_passwd_parse(). Properties:
 *  - lossless: write(parse(x)) == x byte for byte;
 *  - entries never hold ':' or a newline in name/passwd/gecos/dir (the shell takes the rest
 *    of the line, so only a newline is impossible there), and their lines are increasing;
 *  - lookups agree with the entries (first match wins, as glibc);
 *  - nr_passwd_check() terminates with well-formed records;
 *  - adding user app (uid 1654) either fails cleanly or yields a file that parses back with
 *    that entry and one entry more, and writes as a fixed point.
 */
#include "fuzz.h"

static void check_field(const char *s, const char *what, int allow_colon)
{
	FUZZ_ASSERT(s != NULL, "%s NULL", what);
	FUZZ_ASSERT(strchr(s, '\n') == NULL, "newline in %s", what);
	if (!allow_colon)
		FUZZ_ASSERT(strchr(s, ':') == NULL, "':' in %s '%s'", what, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nr_error err = NR_ERROR_INIT, *problems = NULL;
	nr_passwd *pw = NULL, *pw2 = NULL;
	nr_pwent ent;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0, i, n, nprob = 0, last_line = 0;
	uint32_t id;
	int rc;

	rc = nr_passwd_parse(&pw, (const char *)data, size, "etc/passwd", &err);
	fuzz_check_error(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(pw == NULL, "object on failure");
		FUZZ_ASSERT(rc == NR_EINVALID || rc == NR_ETOOBIG, "code %d", rc);
		return 0;
	}
	FUZZ_ASSERT(nr_passwd_serialize(&out, &len, pw, &err) == 0, "write");
	FUZZ_ASSERT(len == size && memcmp(out, data, size) == 0, "not lossless");
	nr_free(out);

	n = nr_passwd_count(pw);
	for (i = 0; i < n; i++) {
		const nr_pwent *e = nr_passwd_at(pw, i), *f;
		FUZZ_ASSERT(e != NULL, "entry %zu", i);
		FUZZ_ASSERT(e->name[0] != '\0', "empty name");
		check_field(e->name, "name", 0);
		check_field(e->passwd, "passwd", 0);
		check_field(e->gecos, "gecos", 0);
		check_field(e->dir, "dir", 0);
		check_field(e->shell, "shell", 1);
		FUZZ_ASSERT(e->line > last_line, "lines not increasing");
		last_line = e->line;
		f = nr_passwd_find_name(pw, e->name);
		FUZZ_ASSERT(f && strcmp(f->name, e->name) == 0 && f->line <= e->line, "find_name");
		f = nr_passwd_find_uid(pw, e->uid);
		FUZZ_ASSERT(f && f->uid == e->uid && f->line <= e->line, "find_uid");
	}
	FUZZ_ASSERT(nr_passwd_at(pw, n) == NULL, "out of range");

	rc = nr_passwd_check(&problems, &nprob, pw, NULL, &err);
	FUZZ_ASSERT(rc >= 0 && (size_t)rc == nprob, "check %d/%zu", rc, nprob);
	for (i = 0; i < nprob; i++) {
		FUZZ_ASSERT(problems[i].code == NR_EINVALID, "problem code");
		FUZZ_ASSERT(problems[i].line >= 1, "problem without a line");
		FUZZ_ASSERT(memchr(problems[i].message, '\0', sizeof(problems[i].message)), "msg");
	}
	nr_free(problems);

	rc = nr_passwd_next_free_id(&id, pw, NULL, 1000, 60000, &err);
	if (rc == 0)
		FUZZ_ASSERT(nr_passwd_find_uid(pw, id) == NULL, "free id %u is taken", id);

	memset(&ent, 0, sizeof(ent));
	ent.name = "app";
	ent.passwd = "x";
	ent.uid = ent.gid = 1654;
	ent.dir = "/home/app";
	ent.shell = "/sbin/nologin";
	nr_error_clear(&err);
	rc = nr_passwd_add(pw, &ent, &err);
	fuzz_check_error(rc, &err);
	if (rc == 0) {
		const nr_pwent *e;
		FUZZ_ASSERT(nr_passwd_count(pw) == n + 1, "count after add");
		FUZZ_ASSERT(nr_passwd_serialize(&out, &len, pw, &err) == 0, "write after add");
		FUZZ_ASSERT(nr_passwd_parse(&pw2, out, len, NULL, &err) == 0, "reparse after add");
		FUZZ_ASSERT(nr_passwd_count(pw2) == n + 1, "reparsed count %zu, want %zu",
			nr_passwd_count(pw2), n + 1);
		e = nr_passwd_find_name(pw2, "app");
		FUZZ_ASSERT(e && e->uid == 1654 && e->gid == 1654, "added entry lost");
		FUZZ_ASSERT(strcmp(e->dir, "/home/app") == 0 && strcmp(e->shell, "/sbin/nologin") == 0,
			"added entry changed");
		FUZZ_ASSERT(nr_passwd_serialize(&out2, &len2, pw2, &err) == 0, "write 2");
		FUZZ_ASSERT(len2 == len && memcmp(out, out2, len) == 0, "not a fixed point");
		nr_free(out);
		nr_free(out2);
		nr_passwd_free(pw2);
	} else {
		FUZZ_ASSERT(rc == NR_EEXISTS || rc == NR_ECONFLICT || rc == NR_ETOOBIG, "add: %d %s",
			rc, err.message);
		FUZZ_ASSERT(nr_passwd_count(pw) == n, "failed add changed the count");
	}
	nr_passwd_free(pw);
	return 0;
}
