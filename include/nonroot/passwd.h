/** @file
 * passwd.h: passwd files (lossless).
 *
 * An nr_passwd holds every line of a passwd file. Which lines are entries follows what
 * processes in the container see through glibc: after optional leading white space, a line
 * is an entry when it has a non-empty name, a password field, and a uid and a gid of ASCII
 * digits only that fit in 32 bits (4294967295, (uid_t)-1, included). Missing trailing fields
 * (gecos, home, shell) are empty; colons after the 7th field belong to the shell (glibc
 * reads `odd:x:111:112::/home/odd:::::` as uid 111 with shell "::::"). Everything else:
 * blank lines, comments ('#'), NIS compat lines ('+' / '-'), lines with a missing or bad id
 * is kept verbatim but is never an entry; unlike runc's parser, such a line never turns
 * into a uid-0 user. A "\r" before "\n" stays part of the line (and of the last field).
 *
 * nr_passwd_serialize() reproduces the parsed input byte for byte until the object is changed;
 * a change rewrites only the lines it touches. nr_passwd_check() reports, like pwck, what
 * is not canonical.
 *
 * Lifetime: pointers returned by the lookups (nr_pwent and its strings) are borrowed: valid
 * until the object is changed (nr_passwd_add) or freed. Thread-safety: see docs/threading.md.
 */
#ifndef NONROOT_PASSWD_H
#define NONROOT_PASSWD_H

#include "common.h"
#include "errors.h"
#include "group.h"

NR_BEGIN_DECL

/** A parsed passwd file (opaque). */
typedef struct nr_passwd nr_passwd;

/** One passwd entry. Strings are NUL-terminated and never NULL (empty when the field is). */
typedef struct nr_pwent {
	const char *name;     /**< login name */
	const char *passwd;   /**< password field ("x" when in shadow) */
	uint32_t uid;         /**< user id */
	uint32_t gid;         /**< primary group id */
	const char *gecos;    /**< comment field */
	const char *dir;      /**< home directory */
	const char *shell;    /**< login shell: the rest of the line after the 6th colon */
	size_t line;          /**< 1-based line in the parsed input; for nr_passwd_add: ignored;
	                           for entries added later: their line in the written output */
} nr_pwent;

/** System account id range used by useradd -r (SYS_UID_MIN..SYS_UID_MAX). */
#define NR_SYS_ID_MIN 100u
/** Highest id of the system range (useradd -r: 100-999). */
#define NR_SYS_ID_MAX 999u
/** Regular account id range used by useradd (UID_MIN..UID_MAX). */
#define NR_USER_ID_MIN 1000u
/** Highest automatic id of the user range (1000-60000). */
#define NR_USER_ID_MAX 60000u

/**
 * Parse a passwd file.
 * @param[out] out  new object owned by the caller (free with nr_passwd_free); NULL on failure
 * @param buf       file content; NULL is allowed when len is 0 (an empty file)
 * @param len       length of buf in bytes; at most NR_ACCOUNT_FILE_MAX (10 MiB)
 * @param source    name used in errors and check reports (e.g. "etc/passwd"); NULL: "passwd"
 * @param err       optional error details
 * @return 0; NR_EINVALID when buf holds a NUL byte (line named); NR_ETOOBIG over 10 MiB;
 *         NR_ENOMEM; NR_EARG. Malformed lines are not errors (see nr_passwd_check).
 */
NR_EXTERN(int) nr_passwd_parse(nr_passwd **out, const char *buf, size_t len, const char *source,
	nr_error *err);

/** Free a passwd object. NULL is a no-op. */
NR_EXTERN(void) nr_passwd_free(nr_passwd *pw);

/**
 * Serialise the file: byte-for-byte the parsed input when unchanged.
 * @param[out] out  new NUL-terminated buffer owned by the caller (free with nr_free)
 * @param[out] len  its length without the NUL (may be NULL)
 * @param pw the parsed passwd file
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM or NR_EARG
 */
NR_EXTERN(int) nr_passwd_serialize(char **out, size_t *len, const nr_passwd *pw, nr_error *err);

/** @return the number of entries (lines that are entries, see the file comment). */
NR_EXTERN(size_t) nr_passwd_count(const nr_passwd *pw);

/** @return entry i (0-based, in file order), borrowed; NULL when i is out of range. */
NR_EXTERN(const nr_pwent *) nr_passwd_at(const nr_passwd *pw, size_t i);

/** @return the first entry named name (as glibc's getpwnam), borrowed; NULL when none. */
NR_EXTERN(const nr_pwent *) nr_passwd_find_name(const nr_passwd *pw, const char *name);

/** @return the first entry with this uid (as glibc's getpwuid), borrowed; NULL when none. */
NR_EXTERN(const nr_pwent *) nr_passwd_find_uid(const nr_passwd *pw, uint32_t uid);

/**
 * Add an entry. The name must pass nr_name_check(); passwd, gecos, dir and shell (NULL
 * means "x", "", "", "") must not contain ':', a newline or another control character
 * (C0, DEL, or C1 written in UTF-8); uid and gid must not be 4294967295 ((uid_t)-1).
 * The new line `name:passwd:uid:gid:gecos:dir:shell` goes before the first NIS '+'/'-'
 * line (shadow-utils keeps NIS at the end), else at the end (a missing final newline is
 * added to the line before it).
 * @param ent  the entry to add (ent->line is ignored); copied
 * @param pw the parsed passwd file
 * @param err optional error details (may be NULL)
 * @return 0; NR_EINVALID (field named in err->source: "name", "passwd", "gecos", "dir",
 *         "shell", "uid", "gid"); NR_EEXISTS when the name exists (its line named);
 *         NR_ECONFLICT when the uid is taken (the holder's name and line named); NR_ENOMEM
 */
NR_EXTERN(int) nr_passwd_add(nr_passwd *pw, const nr_pwent *ent, nr_error *err);

/**
 * Find a free id: one that no passwd entry has as uid and, when gr is given, no group entry
 * has as gid (so a new user and its group can share the number, as useradd does).
 * Searches from first to last inclusive, upward, or downward when first > last (useradd -r
 * searches NR_SYS_ID_MAX down to NR_SYS_ID_MIN).
 * @param pw  may be NULL (no passwd file); gr may be NULL
 * @param[out] id  the id found
 * @param gr the parsed group file
 * @param first the lowest id to consider
 * @param last the highest id to consider
 * @param err optional error details (may be NULL)
 * @return 0; NR_ENOTFOUND when every id in the range is taken; NR_EARG
 */
NR_EXTERN(int) nr_passwd_next_free_id(uint32_t *id, const nr_passwd *pw, const nr_group *gr,
	uint32_t first, uint32_t last, nr_error *err);

/**
 * Validate the file like pwck (read-only). Each problem is an nr_error with code
 * NR_EINVALID, source = the file's source name, line = its 1-based line, and a message such
 * as `expected 7 fields, found 5`, `invalid uid 'abc'`, `duplicate user name 'app' (first on
 * line 3)`, `invalid user name '-x': must not start with '-'`, `user 'app': no group 1654`
 * (only when gr is given), `line ends with a carriage return`. Comments, blank lines and NIS
 * lines are not problems.
 * @param gr  optional group file: when given, primary gids must exist in it
 * @param[out] problems  new array owned by the caller (free with nr_free); NULL when none
 * @param[out] count     number of problems
 * @param pw the parsed passwd file
 * @param err optional error details (may be NULL)
 * @return the number of problems (>= 0), or NR_ENOMEM / NR_EARG
 */
NR_EXTERN(int) nr_passwd_check(nr_error **problems, size_t *count, const nr_passwd *pw,
	const nr_group *gr, nr_error *err);

NR_END_DECL

#endif
