/** @file
 * group.h: group files (lossless).
 *
 * Like passwd.h: a line (after optional leading white space) is an entry when it has a
 * non-empty name, a password field and a gid of ASCII digits that fits in 32 bits; the
 * member list is optional and, as in glibc, everything after the 3rd colon: it is split at
 * ',' with empty items and leading white space of items skipped. Comments, blank lines, NIS
 * '+'/'-' lines and lines without a valid gid are kept verbatim and are never entries.
 * nr_group_serialize() reproduces the input byte for byte until the object is changed.
 *
 * Lifetime: nr_grent pointers and their strings are borrowed, valid until the object is
 * changed (nr_group_add, nr_group_add_member) or freed.
 */
#ifndef NONROOT_GROUP_H
#define NONROOT_GROUP_H

#include "common.h"
#include "errors.h"

NR_BEGIN_DECL

/** A parsed group file (opaque). */
typedef struct nr_group nr_group;
struct nr_passwd;

/** One group entry. Strings are NUL-terminated and never NULL. */
typedef struct nr_grent {
	const char *name;              /**< group name */
	const char *passwd;            /**< password field ("x" when in gshadow) */
	uint32_t gid;                  /**< group id */
	const char *const *members;    /**< member names, NULL-terminated (never NULL itself) */
	size_t nmembers;               /**< number of members */
	size_t line;                   /**< 1-based line; ignored by nr_group_add */
} nr_grent;

/**
 * Parse a group file. Same contract as nr_passwd_parse().
 * @param[out] out  new object owned by the caller (free with nr_group_free)
 * @param source    name for errors and reports; NULL: "group"
 * @param buf file content; NULL is allowed when len is 0
 * @param len length of buf in bytes; at most 10 MiB
 * @param err optional error details (may be NULL)
 * @return 0, NR_EINVALID (NUL byte), NR_ETOOBIG (over 10 MiB), NR_ENOMEM or NR_EARG
 */
NR_EXTERN(int) nr_group_parse(nr_group **out, const char *buf, size_t len, const char *source,
	nr_error *err);

/** Free a group object. NULL is a no-op. */
NR_EXTERN(void) nr_group_free(nr_group *gr);

/**
 * Serialise: byte-for-byte the parsed input when unchanged.
 * @param[out] out  new buffer owned by the caller (free with nr_free); len may be NULL
 * @param gr the parsed group file
 * @param len receives the length of *out (may be NULL)
 * @param err optional error details (may be NULL)
 * @return 0, NR_ENOMEM or NR_EARG
 */
NR_EXTERN(int) nr_group_serialize(char **out, size_t *len, const nr_group *gr, nr_error *err);

/** @return the number of entries. */
NR_EXTERN(size_t) nr_group_count(const nr_group *gr);
/** @return entry i (0-based, file order), borrowed; NULL when out of range. */
NR_EXTERN(const nr_grent *) nr_group_at(const nr_group *gr, size_t i);
/** @return the first entry named name, borrowed; NULL when none. */
NR_EXTERN(const nr_grent *) nr_group_find_name(const nr_group *gr, const char *name);
/** @return the first entry with this gid, borrowed; NULL when none. */
NR_EXTERN(const nr_grent *) nr_group_find_gid(const nr_group *gr, uint32_t gid);

/**
 * Add a group. The name must pass nr_name_check(); passwd (NULL: "x") must not contain ':',
 * a newline or a control character; every member must be a valid name without ','; gid must
 * not be 4294967295. The line `name:passwd:gid:m1,m2` goes before the first NIS line, else
 * at the end.
 * @param ent  the group to add (ent->line ignored; members may be NULL when nmembers is 0)
 * @param gr the parsed group file
 * @param err optional error details (may be NULL)
 * @return 0; NR_EINVALID (field named in err->source); NR_EEXISTS (name exists, its line
 *         named); NR_ECONFLICT (gid taken: holder and line named); NR_ENOMEM
 */
NR_EXTERN(int) nr_group_add(nr_group *gr, const nr_grent *ent, nr_error *err);

/**
 * Add a user name to a group's member list (rewrites that one line as
 * `name:passwd:gid:members`). Adding a name that is already a member does nothing.
 * @return 0; NR_ENOTFOUND (no such group); NR_EINVALID (bad member name); NR_ENOMEM
 */
NR_EXTERN(int) nr_group_add_member(nr_group *gr, const char *group, const char *member,
	nr_error *err);

/**
 * Find a free gid from first to last inclusive (downward when first > last).
 * @return 0 with *gid set; NR_ENOTFOUND when the range is full; NR_EARG
 */
NR_EXTERN(int) nr_group_next_free_gid(uint32_t *gid, const nr_group *gr, uint32_t first,
	uint32_t last, nr_error *err);

/**
 * Validate like grpck (read-only): non-entry lines that are not comments, blanks or NIS,
 * field counts other than 4, duplicate names, invalid names, bad gids, empty member names,
 * "\r" line ends, and (when pw is given) members that are not users: `group 'g': no user 'x'`.
 * Problems are nr_error records (code NR_EINVALID, source, line, message).
 * @param pw  optional passwd file (a struct nr_passwd from passwd.h)
 * @param[out] problems  new array owned by the caller (free with nr_free); NULL when none
 * @param gr the parsed group file
 * @param count receives the number of problems
 * @param err optional error details (may be NULL)
 * @return the number of problems (>= 0), or NR_ENOMEM / NR_EARG
 */
NR_EXTERN(int) nr_group_check(nr_error **problems, size_t *count,
	const nr_group *gr, const struct nr_passwd *pw, nr_error *err);

NR_END_DECL

#endif
