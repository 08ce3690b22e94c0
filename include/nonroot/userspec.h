/** @file
 * userspec.h: OCI User spec resolution (as runc/moby GetExecUser).
 *
 * An image config's `User` ("", "name", "uid", "name:group", "uid:gid", "name:gid",
 * "uid:group") is resolved the way runc's libcontainer/user.GetExecUser (and moby's copy
 * in github.com/moby/sys/user) does:
 *   - the spec is split at ':'; the first part is the user, the second the group, any further
 *     parts are ignored;
 *   - a part that parses as a Go integer (optional sign, decimal digits, 64-bit) is an id and
 *     matches by id only, never by name;
 *   - "" matches the passwd entry whose uid is the default uid, if any;
 *   - a user found in passwd gives uid, gid and home (first match wins); an unknown numeric
 *     uid is kept with the default gid and home, and must be in 0..2147483647
 *     (`uids and gids must be in range 0-2147483647`); an unknown name fails with
 *     `unable to find user NAME: no matching entries in passwd file`;
 *   - an explicit group sets the gid the same way (`unable to find group NAME: no matching
 *     entries in group file`) and leaves the additional gids at their defaults; without one,
 *     the additional gids are the gids of every group whose member list names the matched
 *     user (in file order), or the defaults when there is none.
 * Where we differ: passwd/group lines are read as glibc reads them (see passwd.h), so a
 * comment or garbage line never becomes a uid-0 user or a gid-0 group.
 */
#ifndef NONROOT_USERSPEC_H
#define NONROOT_USERSPEC_H

#include "common.h"
#include "errors.h"
#include "passwd.h"
#include "group.h"

NR_BEGIN_DECL

/** Largest uid/gid a numeric spec may name (runc's maxID, for 32-bit compatibility). */
#define NR_USERSPEC_ID_MAX 2147483647u

/** Defaults for nr_userspec_resolve(): what the runtime uses when the files say nothing. */
typedef struct nr_userspec_options {
	unsigned version;                 /**< NR_USERSPEC_OPTIONS_VERSION */
	uint32_t uid;                     /**< default uid (runc: 0) */
	uint32_t gid;                     /**< default gid (runc: 0) */
	const char *home;                 /**< default home (runc: "/"); NULL means "" */
	const uint32_t *additional_gids;  /**< default additional gids (may be NULL) */
	size_t n_additional_gids;         /**< their number */
} nr_userspec_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_USERSPEC_OPTIONS_VERSION 1
/** runc's defaults: uid 0, gid 0, home "/", no additional gids. */
#define NR_USERSPEC_OPTIONS_INIT { NR_USERSPEC_OPTIONS_VERSION, 0, 0, "/", NULL, 0 }

/** Initialise opts to NR_USERSPEC_OPTIONS_INIT (for FFIs). @return 0, or NR_EARG. */
NR_EXTERN(int) nr_userspec_options_init(nr_userspec_options *opts, unsigned version);

/** The resolved user. Owned by the caller after a successful resolve: release with
 *  nr_exec_user_dispose(). */
typedef struct nr_exec_user {
	uint32_t uid;                /**< user id */
	uint32_t gid;                /**< primary group id */
	uint32_t *additional_gids;   /**< array of n_additional_gids (NULL when 0) */
	size_t n_additional_gids;    /**< length of additional_gids */
	char *home;                  /**< never NULL after success */
	char *name;                  /**< the matched passwd entry's name, NULL when none */
	void *reserved[2];     /**< zero; room for fields added later without an ABI break */
} nr_exec_user;

/**
 * Resolve an OCI User spec (see the file comment).
 * @param[out] out  filled on success (zeroed first; on failure it holds nothing to dispose)
 * @param spec      the spec, NUL-terminated ("" for none); NULL is treated as ""
 * @param pw        parsed /etc/passwd, or NULL when the image has none
 * @param gr        parsed /etc/group, or NULL when the image has none
 * @param opts      defaults; NULL means NR_USERSPEC_OPTIONS_INIT
 * @param err optional error details (may be NULL)
 * @return 0; NR_ENOTFOUND (runc's "unable to find ..." wording in err->message);
 *         NR_ERANGE ("uids and gids must be in range 0-2147483647"); NR_ENOMEM; NR_EARG
 */
NR_EXTERN(int) nr_userspec_resolve(nr_exec_user *out, const char *spec, const nr_passwd *pw,
	const nr_group *gr, const nr_userspec_options *opts, nr_error *err);

/** Free what nr_userspec_resolve() put in u and zero it. NULL is a no-op. */
NR_EXTERN(void) nr_exec_user_dispose(nr_exec_user *u);

/**
 * Resolve additional groups given by name or gid, as runc's GetAdditionalGroups: a name or
 * a decimal gid matching a group entry gives its gid (first match); an unmatched numeric
 * value is kept when in 0..2147483647; duplicates are dropped; order is first-seen.
 * @param gr  parsed /etc/group or NULL
 * @param[out] gids  new array owned by the caller (nr_free); NULL when n is 0
 * @param groups group names or numeric gids
 * @param n number of groups
 * @param ngids receives the number of gids
 * @param err optional error details (may be NULL)
 * @return 0; NR_ENOTFOUND (`Unable to find group NAME`); NR_ERANGE; NR_ENOMEM; NR_EARG
 */
NR_EXTERN(int) nr_userspec_additional_gids(uint32_t **gids, size_t *ngids,
	const nr_group *gr, const char *const *groups, size_t n, nr_error *err);

NR_END_DECL

#endif
