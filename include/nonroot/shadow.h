/** @file
 * shadow.h: shadow and gshadow files (lossless).
 *
 * A shadow line is an entry when it has a non-empty name and a password field; the seven
 * day/flag fields are kept as text (empty when missing; colons after the 9th field belong
 * to the flag field). A gshadow line is an entry when it has a non-empty name and a password
 * field; admins and members are kept as text (comma lists). Comments, blank lines and NIS
 * lines are kept verbatim. Write reproduces the input byte for byte until changed.
 *
 * New entries are `name:!:DAYS::::::` (shadow; as useradd -r: locked, no aging) and
 * `name:!::` (gshadow), so that pwck/grpck stay clean after adding a user.
 *
 * Lifetime: entries are borrowed until the object is changed or freed.
 */
#ifndef NONROOT_SHADOW_H
#define NONROOT_SHADOW_H

#include "common.h"
#include "errors.h"
#include "passwd.h"
#include "group.h"

NR_BEGIN_DECL

/** A parsed shadow file (opaque). */
typedef struct nr_shadow nr_shadow;
/** A parsed gshadow file (opaque). */
typedef struct nr_gshadow nr_gshadow;

/** One shadow entry; every string is NUL-terminated and never NULL. */
typedef struct nr_spent {
	const char *name;     /**< login name */
	const char *passwd;   /**< hashed password, "!"/"*" when locked */
	const char *lastchg;  /**< days since 1970-01-01 of the last change ("" when unset) */
	const char *min;      /**< the aging fields, as text */
	const char *max;      /**< maximum password age in days */
	const char *warn;     /**< warning period in days */
	const char *inact;    /**< inactivity period in days */
	const char *expire;   /**< account expiry, days since 1970-01-01 */
	const char *flag;     /**< reserved field: the rest of the line */
	size_t line;          /**< 1-based line */
} nr_spent;

/** One gshadow entry. */
typedef struct nr_sgent {
	const char *name;     /**< group name */
	const char *passwd;   /**< hashed password, "!" when none */
	const char *admins;   /**< comma-separated administrators */
	const char *members;  /**< comma-separated members: the rest of the line */
	size_t line;          /**< 1-based line */
} nr_sgent;

/**
 * Days since the epoch for a new entry's "last change" field: SOURCE_DATE_EPOCH / 86400
 * when that environment variable is set (reproducible builds), else the current time.
 * This is the only function of this header that reads the environment.
 * @return 0; NR_EINVALID when SOURCE_DATE_EPOCH is set but not a non-negative decimal
 *         integer (source "SOURCE_DATE_EPOCH")
 */
NR_EXTERN(int) nr_shadow_days_now(int64_t *days, nr_error *err);

/**
 * Parse a shadow file (same contract as nr_passwd_parse; source NULL: "shadow").
 * @param[out] out  owned by the caller (nr_shadow_free)
 * @param buf file content; NULL is allowed when len is 0
 * @param len length of buf in bytes; at most 10 MiB
 * @param source name used in errors and check reports; NULL for a default
 * @param err optional error details (may be NULL)
 */
NR_EXTERN(int) nr_shadow_parse(nr_shadow **out, const char *buf, size_t len, const char *source,
	nr_error *err);
/** Free; NULL is a no-op. */
NR_EXTERN(void) nr_shadow_free(nr_shadow *sh);
/** Serialise (byte-for-byte when unchanged); *out owned by the caller (nr_free). */
NR_EXTERN(int) nr_shadow_serialize(char **out, size_t *len, const nr_shadow *sh, nr_error *err);
/** @return the number of entries. */
NR_EXTERN(size_t) nr_shadow_count(const nr_shadow *sh);
/** @return entry i (borrowed) or NULL. */
NR_EXTERN(const nr_spent *) nr_shadow_at(const nr_shadow *sh, size_t i);
/** @return the first entry named name (borrowed) or NULL. */
NR_EXTERN(const nr_spent *) nr_shadow_find_name(const nr_shadow *sh, const char *name);
/**
 * Add `name:!:DAYS::::::` (before the first NIS line, else at the end).
 * @param days  days since the epoch (see nr_shadow_days_now); < 0 leaves the field empty
 * @param sh the parsed shadow file
 * @param name the user name
 * @param err optional error details (may be NULL)
 * @return 0; NR_EINVALID (bad name); NR_EEXISTS (line named); NR_ENOMEM
 */
NR_EXTERN(int) nr_shadow_add(nr_shadow *sh, const char *name, int64_t days, nr_error *err);
/**
 * Validate like pwck: field counts other than 9, duplicate names, non-numeric day fields,
 * "\r" line ends, and (when pw is given) entries without a passwd entry
 * (`no matching password file entry for 'x'`) and passwd entries without a shadow entry
 * (`user 'x' has no shadow entry`; source and line are then the passwd file's).
 * @param[out] problems  owned by the caller (nr_free); NULL when none
 * @param sh the parsed shadow file
 * @param pw the parsed passwd file
 * @param count receives the number of problems
 * @param err optional error details (may be NULL)
 * @return the number of problems, or NR_ENOMEM / NR_EARG
 */
NR_EXTERN(int) nr_shadow_check(nr_error **problems, size_t *count, const nr_shadow *sh,
	const nr_passwd *pw, nr_error *err);

/** Parse a gshadow file (source NULL: "gshadow"); *out owned by the caller. */
NR_EXTERN(int) nr_gshadow_parse(nr_gshadow **out, const char *buf, size_t len,
	const char *source, nr_error *err);
/** Free; NULL is a no-op. */
NR_EXTERN(void) nr_gshadow_free(nr_gshadow *gs);
/** Serialise (byte-for-byte when unchanged); *out owned by the caller (nr_free). */
NR_EXTERN(int) nr_gshadow_serialize(char **out, size_t *len, const nr_gshadow *gs, nr_error *err);
/** @return the number of entries. */
NR_EXTERN(size_t) nr_gshadow_count(const nr_gshadow *gs);
/** @return entry i (borrowed) or NULL. */
NR_EXTERN(const nr_sgent *) nr_gshadow_at(const nr_gshadow *gs, size_t i);
/** @return the first entry named name (borrowed) or NULL. */
NR_EXTERN(const nr_sgent *) nr_gshadow_find_name(const nr_gshadow *gs, const char *name);
/**
 * Add `name:!::` (before the first NIS line, else at the end).
 * @return 0; NR_EINVALID; NR_EEXISTS; NR_ENOMEM
 */
NR_EXTERN(int) nr_gshadow_add(nr_gshadow *gs, const char *name, nr_error *err);
/**
 * Add member to the members field of group's entry (rewrites that line). No-op when
 * already a member. @return 0; NR_ENOTFOUND; NR_EINVALID; NR_ENOMEM
 */
NR_EXTERN(int) nr_gshadow_add_member(nr_gshadow *gs, const char *group, const char *member,
	nr_error *err);
/**
 * Validate like grpck: field counts other than 4, duplicate names, "\r" line ends, and
 * (when gr is given) entries without a group entry and groups without a gshadow entry.
 * @return the number of problems, or NR_ENOMEM / NR_EARG
 */
NR_EXTERN(int) nr_gshadow_check(nr_error **problems, size_t *count, const nr_gshadow *gs,
	const nr_group *gr, nr_error *err);

NR_END_DECL

#endif
