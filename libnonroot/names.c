/*
 * names.c: shadow-utils name rules (lib/chkname.c, 4.15+): is_valid_user_name and
 * is_valid_group_name without --badname.
 */
#include "internal.h"
#include "parse.h"

/* Quote a name for a message: at most 64 bytes, control characters as '?'. */
static void quote(char *out, size_t size, const char *name, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < size && i < 64; i++) {
		unsigned char c = (unsigned char)name[i];
		out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < len && n + 4 < size) {
		out[n++] = '.';
		out[n++] = '.';
		out[n++] = '.';
	}
	out[n] = '\0';
}

static bool portable(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '.';
}

int nr_name_check_flags(const char *name, size_t len, unsigned flags, nr_error *err)
{
	static const char bad[] = " \"#',/:;";
	char q[80];
	const char *why = NULL;
	size_t i;
	bool digits = true;

	nr__error_reset(err);
	NR_ASSERT_ARG(name, err);
	if (flags & ~NR_NAME_STRICT)
		return nr__error_set(err, NR_EARG, NULL, 0, 0, "invalid argument: unknown flags %#x",
			flags);
	quote(q, sizeof(q), name, len);
	if (len == 0)
		return nr__error_set(err, NR_EINVALID, "name", 0, 0, "invalid name '': empty");
	if (nr__span_eq(name, len, ".") || nr__span_eq(name, len, ".."))
		why = "'.' and '..' are not names";
	else if (name[0] == '-')
		why = "must not start with '-'";
	else if (len > NR_NAME_MAX)
		why = "longer than 255 bytes";
	for (i = 0; why == NULL && i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '\0')
			why = "contains a NUL byte";
		else if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < len &&
		    (unsigned char)name[i + 1] >= 0x80 && (unsigned char)name[i + 1] <= 0x9f))
			why = "contains a control character";   /* C0, DEL or C1 (UTF-8 U+0080..9F) */
		else if (memchr(bad, c, sizeof(bad) - 1) != NULL) {
			return nr__error_set(err, NR_EINVALID, "name", 0, i + 1,
				"invalid name '%s': must not contain '%c'", q, c);
		}
		if (c < '0' || c > '9')
			digits = false;
	}
	if (why == NULL && digits)
		why = "all digits (it would read as a numeric id)";
	if (why == NULL && (flags & NR_NAME_STRICT)) {
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)name[i];
			if (portable(c) || (i > 0 && c == '-') || (i > 0 && i + 1 == len && c == '$'))
				continue;
			why = "not of the form [a-zA-Z0-9_.][a-zA-Z0-9_.-]*$?";
			break;
		}
	}
	if (why)
		return nr__error_set(err, NR_EINVALID, "name", 0, 0, "invalid name '%s': %s", q, why);
	return 0;
}

int nr_name_check(const char *name, size_t len, nr_error *err)
{
	return nr_name_check_flags(name, len, 0, err);
}
