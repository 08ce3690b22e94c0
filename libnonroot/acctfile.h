/*
 * acctfile.h: the lossless line store shared by passwd, group, shadow and gshadow.
 * Not installed.
 *
 * Every line of the input is kept as (text, length, terminator); lines that the caller adds
 * or rewrites own their text. Writing concatenates the lines, so an unchanged file comes out
 * byte for byte. A second copy of the input ("fields") is where the parsers cut fields out
 * with NUL bytes, so parsed entries need no allocation per field.
 */
#ifndef NR_ACCTFILE_H
#define NR_ACCTFILE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nonroot/errors.h"

typedef struct nr__aline {
	const char *text;   /* content without the "\n" (a "\r" stays) */
	size_t len;
	size_t eol;         /* 1 when a "\n" follows, 0 for a last line without one */
	char *owned;        /* text allocated for an added or rewritten line, else NULL */
} nr__aline;

typedef struct nr__acct {
	char *input;        /* the parsed input, NUL-terminated */
	char *fields;       /* a copy of input that parsers may cut with NULs */
	size_t len;
	nr__aline *lines;
	size_t nlines, alines;
	char *source;       /* name for errors */
} nr__acct;

typedef enum { NR__LINE_BLANK, NR__LINE_COMMENT, NR__LINE_NIS, NR__LINE_DATA } nr__line_kind;

/* Split input into lines. Rejects NUL bytes (NR_EINVALID naming the line) and > 10 MiB. */
int nr__acct_load(nr__acct *a, const char *buf, size_t len, const char *source,
	const char *default_source, nr_error *err);
void nr__acct_dispose(nr__acct *a);
int nr__acct_write(const nr__acct *a, char **out, size_t *len, nr_error *err);

/* Kind of a line; *skip is the length of its leading white space (as glibc skips it). */
nr__line_kind nr__acct_kind(const char *text, size_t len, size_t *skip);

/* Where a new line goes: before the first NIS line, else at the end (a line index). */
size_t nr__acct_insert_pos(const nr__acct *a);
/* Insert owned text (len bytes, no newline; ownership passes even on failure) as line `at`.
 * A last line without a newline gets one. */
int nr__acct_insert(nr__acct *a, size_t at, char *owned, size_t len, nr_error *err);
/* Replace line `at` with owned text (ownership passes). */
void nr__acct_replace(nr__acct *a, size_t at, char *owned, size_t len);

/* Offset of `p` (a pointer into input) in the fields copy. */
static inline char *nr__acct_field_ptr(const nr__acct *a, const char *p)
{
	return a->fields + (p - a->input);
}

/* Count of sep-separated fields in [s, s+len). */
size_t nr__count_fields(const char *s, size_t len, char sep);

/* True when a new field value is acceptable: no ':', '\n' or other control character. */
bool nr__field_ok(const char *s);

/* A growable list of problems (nr_error records) for the *_check functions. */
typedef struct nr__problems {
	nr_error *v;
	size_t n, alloc;
	bool oom;
} nr__problems;

void nr__problem_add(nr__problems *p, const char *source, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Hand the list to the caller: @return count or NR_ENOMEM (list freed). */
int nr__problems_finish(nr__problems *p, nr_error **out, size_t *count, nr_error *err);

/* Report each later duplicate among refs (sorted in place by name, then line). */
typedef struct nr__name_ref {
	const char *name;
	size_t line;
} nr__name_ref;
void nr__report_duplicates(nr__problems *p, const char *source, nr__name_ref *refs, size_t n,
	const char *what);
/* Sort problems by line, keeping the order of problems on the same line. */
void nr__sort_problems(nr__problems *p);

/* Append item to the comma list in the last field of a line (before a final "\r"):
 * `fields` is the line's field count, `list_field` the 1-based field of the list (missing
 * ':' are added), `have` whether the list has items already. *out is owned; 0 or NR_ENOMEM. */
int nr__append_list_item(char **out, size_t *outlen, const char *text, size_t len,
	size_t fields, size_t list_field, bool have, const char *item);

/* Check a new name (nr_name_check) and report it under `what` ("user name", ...). */
int nr__check_new_name(const char *name, const char *what, nr_error *err);

/* Sorted lookup sets, so the cross-file checks stay O(n log n) on 10 MiB files.
 * nr__nameset_init: 0 or NR_ENOMEM (n == 0 gives a valid empty set). */
typedef struct nr__nameset {
	const char **v;
	size_t n;
} nr__nameset;
int nr__nameset_init(nr__nameset *s, size_t n);              /* room for n names */
void nr__nameset_add(nr__nameset *s, const char *name);      /* before sorting */
void nr__nameset_sort(nr__nameset *s);
bool nr__nameset_has(const nr__nameset *s, const char *name);
void nr__nameset_dispose(nr__nameset *s);

/* Source names of parsed files (for problems that point into another file). */
struct nr_passwd;
struct nr_group;
const char *nr__passwd_source(const struct nr_passwd *pw);
const char *nr__group_source(const struct nr_group *gr);

/* The files' own checks (passwd.c, group.c); the cross-file part is a predicate so that
 * neither file calls the other: accounts.c builds it from the other file (sorted lookups). */
typedef bool (*nr__has_id_fn)(const void *ctx, uint32_t id);
typedef bool (*nr__has_name_fn)(const void *ctx, const char *name);
int nr__passwd_check(const struct nr_passwd *pw, nr__has_id_fn has_gid, const void *ctx,
	nr_error **problems, size_t *count, nr_error *err);
int nr__group_check(const struct nr_group *gr, nr__has_name_fn has_user, const void *ctx,
	nr_error **problems, size_t *count, nr_error *err);

/* accounts.c: sorted name sets of a file's entries (for cross-file checks in shadow.c too). */
int nr__passwd_names(nr__nameset *s, const struct nr_passwd *pw);
int nr__group_names(nr__nameset *s, const struct nr_group *gr);

/*
 * How runc and moby (libcontainer/user, GetExecUser) read passwd and group lines, which is not
 * how nonroot reads them: bufio lines (a final "\r" dropped), passwd lines trimmed of Unicode
 * white space (bytes.TrimSpace; group lines are not), empty lines skipped, nothing else
 * skipped (comments and NIS lines are names too), split at every ':', missing fields empty,
 * numbers by strconv.Atoi with the error ignored: "abc", "" or " 5" is 0, "+5" is 5.
 */
typedef struct nr__go_line {
	const char *name;
	size_t nlen;
	int64_t id;            /* passwd: uid (field 3); group: gid (field 3) */
	int64_t gid;           /* passwd: gid (field 4); group: 0 */
	const char *rest;      /* group: the member list (field 4), else NULL */
	size_t rlen;
} nr__go_line;

/* runc's reading of line l; false when runc skips it (empty). */
bool nr__go_read_line(const nr__aline *l, bool passwd, nr__go_line *out);

/* The first line runc's GetExecUser takes for a user (name, or *uid when uid is not NULL):
 * 1-based line in *line and runc's reading in *out, and whether nonroot reads that line as
 * an entry (*is_entry); 0 when runc takes no line. */
int nr__passwd_go_first(const struct nr_passwd *pw, const char *name, size_t nlen,
	const int64_t *uid, size_t *line, nr__go_line *out, bool *is_entry);
/* Likewise for a group (name, or *gid). */
int nr__group_go_first(const struct nr_group *gr, const char *name, size_t nlen,
	const int64_t *gid, size_t *line, nr__go_line *out, bool *is_entry);
/* The first group line from 0-based line `from` on that runc reads as listing user `name`
 * but nonroot does not read as an entry: its 1-based line (the `from` of the next call),
 * runc's reading in *out; 0 when none. */
int nr__group_go_hidden_member(const struct nr_group *gr, const char *name, size_t from,
	size_t *line, nr__go_line *out);
/* The first passwd line that runc reads as user `name` but nonroot does not read as an
 * entry; 0 when none. */
int nr__passwd_go_hidden_name(const struct nr_passwd *pw, const char *name, size_t *line,
	nr__go_line *out);

#endif
