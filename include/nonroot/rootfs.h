/** @file
 * rootfs.h: file access confined to a root directory, and adding a user to it.
 *
 * An nr_rootfs is a handle on a directory that holds a container's root filesystem. Every
 * path given to it is resolved inside that directory the way the container would see it:
 * "/" and ".." stop at the root and absolute symlinks start over at the root, so a symlinked
 * /etc/passwd -> /../../outside means ROOT/outside, never a file outside ROOT. Resolution
 * uses openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) when the kernel has it, else (or
 * with NR_ROOTFS_NO_OPENAT2) a component-by-component walk with O_NOFOLLOW that follows
 * each symlink itself, keeping ".." inside the root. The last component of a written file
 * is resolved the same way, so writing through a symlink replaces its target inside ROOT.
 *
 * Lifecycle: nr_rootfs_open() -> read/write/mkdir/add_user -> nr_rootfs_free().
 * A handle holds one directory file descriptor; it may be used from one thread at a time.
 */
#ifndef NONROOT_ROOTFS_H
#define NONROOT_ROOTFS_H

#include "common.h"
#include "errors.h"
#include "userspec.h"

NR_BEGIN_DECL

/** A root filesystem directory (opaque). */
typedef struct nr_rootfs nr_rootfs;

/** Largest file nr_rootfs_read_file() reads when max is 0 (runc/moby's cap on passwd). */
#define NR_ROOTFS_FILE_MAX (10u * 1024u * 1024u)

/** Options for nr_rootfs_open_ext(). */
typedef struct nr_rootfs_options {
	unsigned version;    /**< NR_ROOTFS_OPTIONS_VERSION */
	unsigned flags;      /**< 0 or NR_ROOTFS_NO_OPENAT2 */
} nr_rootfs_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_ROOTFS_OPTIONS_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_ROOTFS_OPTIONS_INIT { NR_ROOTFS_OPTIONS_VERSION, 0 }
/** Never use openat2: always the O_NOFOLLOW walk (for tests and old kernels). */
#define NR_ROOTFS_NO_OPENAT2 1u

/** Initialise opts to NR_ROOTFS_OPTIONS_INIT (for FFIs). @return 0 or NR_EARG. */
NR_EXTERN(int) nr_rootfs_options_init(nr_rootfs_options *opts, unsigned version);

/**
 * Open a root directory.
 * @param[out] out  new handle owned by the caller (nr_rootfs_free)
 * @param dir       path of the directory on the host
 * @param err optional error details (may be NULL)
 * @return 0; NR_ENOTFOUND (no such directory); NR_EINVALID (not a directory); NR_EIO; NR_ENOMEM
 */
NR_EXTERN(int) nr_rootfs_open(nr_rootfs **out, const char *dir, nr_error *err);

/** nr_rootfs_open() with options (NULL: defaults). NR_EARG for an unknown version/flag. */
NR_EXTERN(int) nr_rootfs_open_ext(nr_rootfs **out, const char *dir,
	const nr_rootfs_options *opts, nr_error *err);

/** Close the handle. NULL is a no-op. */
NR_EXTERN(void) nr_rootfs_free(nr_rootfs *rfs);

/** @return 1 when the handle resolves paths with openat2, 0 when with the O_NOFOLLOW walk. */
NR_EXTERN(int) nr_rootfs_uses_openat2(const nr_rootfs *rfs);

/**
 * Read a regular file inside the root.
 * @param path  path inside the root ("etc/passwd" or "/etc/passwd"); names the file in errors
 * @param max   size limit in bytes; 0 means NR_ROOTFS_FILE_MAX
 * @param[out] out  new NUL-terminated buffer owned by the caller (nr_free)
 * @param[out] len  its length (may be NULL)
 * @param rfs the root filesystem
 * @param err optional error details (may be NULL)
 * @return 0; NR_ENOTFOUND (missing file or directory); NR_EINVALID (not a regular file: a
 *         FIFO, a directory, a device); NR_ETOOBIG (over max); NR_EIO (e.g. a symlink loop);
 *         NR_ENOMEM
 */
NR_EXTERN(int) nr_rootfs_read_file(char **out, size_t *len, const nr_rootfs *rfs,
	const char *path, size_t max, nr_error *err);

/**
 * Atomically replace (or create) a file inside the root: temp file in the same directory,
 * fsync, rename. An existing file keeps its mode and owner; a new one gets `mode`. A final
 * symlink is followed inside the root; its target is replaced. Directories are not created.
 * @return 0; NR_ENOTFOUND (a directory on the way is missing); NR_EINVALID (the target is
 *         not a regular file); NR_EIO; NR_ENOMEM
 */
NR_EXTERN(int) nr_rootfs_write_file(nr_rootfs *rfs, const char *path, const void *data,
	size_t len, unsigned mode, nr_error *err);

/**
 * Does path exist inside the root (symlinks followed inside the root)?
 * @return 1 yes, 0 no, or a negative NR_E* code (e.g. NR_EIO for a symlink loop)
 */
NR_EXTERN(int) nr_rootfs_exists(const nr_rootfs *rfs, const char *path, nr_error *err);

/**
 * Create a directory inside the root, creating missing parents (mode 0755, owned by the
 * caller). The directory itself gets `mode` (umask not applied) and owner uid:gid.
 * @return 0; NR_EEXISTS when path exists already (nothing changed); NR_EIO; NR_ENOMEM
 */
NR_EXTERN(int) nr_rootfs_mkdir(nr_rootfs *rfs, const char *path, unsigned mode, uint32_t uid,
	uint32_t gid, nr_error *err);

/** Flags of nr_adduser_options. */
#define NR_ADDUSER_CREATE_HOME 1u   /**< create the home directory (0755, owned uid:gid) */
#define NR_ADDUSER_EXIST_OK    2u   /**< an existing user with the same name whose uid (and
	                                     gid) match the requested ones is not an error */
/** nr_adduser_options.shadow_days: days from nr_shadow_days_now() (SOURCE_DATE_EPOCH). */
#define NR_DAYS_AUTO (-1)

/** What nr_rootfs_add_user() adds. */
typedef struct nr_adduser_options {
	unsigned version;        /**< NR_ADDUSER_OPTIONS_VERSION */
	const char *name;        /**< user name (required; shadow-utils rules) */
	uint32_t uid;            /**< NR_ID_AUTO: the lowest id in [id_first, id_last] free as
	                              uid (and, when a group is created, as gid too) */
	uint32_t gid;            /**< NR_ID_AUTO: the group named `name` if it exists, else a new
	                              group `name` with gid = uid when free; a given gid that has
	                              no group gets a new group `name` */
	const char *home;        /**< NULL: "/home/NAME"; else an absolute path */
	const char *shell;       /**< NULL: "/sbin/nologin" when it exists in the root, else
	                              "/bin/false"; else "" or an absolute path */
	const char *gecos;       /**< NULL: "" */
	unsigned flags;          /**< NR_ADDUSER_* */
	uint32_t id_first;       /**< range for automatic ids (default NR_USER_ID_MIN..MAX; give */
	uint32_t id_last;        /**< NR_SYS_ID_MAX..NR_SYS_ID_MIN to search down like useradd -r) */
	int64_t shadow_days;     /**< "last change" of the shadow entry; NR_DAYS_AUTO; other
	                              negative values leave it empty */
} nr_adduser_options;

/** The struct version this header was written for (the first field of the options). */
#define NR_ADDUSER_OPTIONS_VERSION 1
/** Static initialiser with the defaults (same as the matching *_init() function). */
#define NR_ADDUSER_OPTIONS_INIT { NR_ADDUSER_OPTIONS_VERSION, NULL, NR_ID_AUTO, NR_ID_AUTO, \
	NULL, NULL, NULL, 0, NR_USER_ID_MIN, NR_USER_ID_MAX, NR_DAYS_AUTO }

/** Initialise opts to NR_ADDUSER_OPTIONS_INIT (for FFIs). @return 0 or NR_EARG. */
NR_EXTERN(int) nr_adduser_options_init(nr_adduser_options *opts, unsigned version);

/** What nr_rootfs_add_user() did. */
typedef struct nr_adduser_result {
	uint32_t uid;            /**< the user's uid */
	uint32_t gid;            /**< the user's primary gid */
	int existed;             /**< 1: the user existed already (NR_ADDUSER_EXIST_OK) */
	int group_created;       /**< 1: a group was added */
	int home_created;        /**< 1: the home directory was created */
	int shadow_updated;      /**< 1: etc/shadow was present and got an entry */
	int gshadow_updated;     /**< 1: etc/gshadow was present and got an entry */
	void *reserved[2];     /**< zero; room for fields added later without an ABI break */
} nr_adduser_result;

/**
 * Add a user to the root filesystem, like useradd with user groups: etc/passwd and
 * etc/group (created, mode 0644, when missing; etc/ too), and etc/shadow
 * (`name:!:DAYS::::::`) and etc/gshadow (`name:!::`) when they exist. Every file is read
 * (10 MiB cap, regular files only), changed in memory and checked before anything is
 * written; each is then replaced atomically (gshadow, group, shadow, passwd in that order:
 * the file that makes the account exist comes last). A shadow/gshadow entry of the new
 * name that is already there without its passwd/group entry (what a killed add leaves) is
 * kept, so running the same add again completes it.
 * @param result  optional: what was done
 * @param rfs the root filesystem
 * @param opts options; NULL for the defaults
 * @param err optional error details (may be NULL)
 * @return 0; NR_EINVALID (bad name or field, or an account file that is not a regular
 *         file; file and line named); NR_EEXISTS (user exists, its line named);
 *         NR_ECONFLICT (uid/gid taken, or the group `name` has another gid: holder named);
 *         NR_ENOTFOUND (no free id in the range); NR_ETOOBIG; NR_EIO; NR_ENOMEM; NR_EARG
 */
NR_EXTERN(int) nr_rootfs_add_user(nr_adduser_result *result, nr_rootfs *rfs,
	const nr_adduser_options *opts, nr_error *err);

/**
 * Resolve an OCI User spec against the root's etc/passwd and etc/group (a missing file is
 * an image without it, as runc treats it), see nr_userspec_resolve().
 * @param defaults  NULL: NR_USERSPEC_OPTIONS_INIT (runc's 0:0 and "/")
 * @param[out] out  release with nr_exec_user_dispose()
 * @param rfs the root filesystem
 * @param spec the OCI User spec ("", NAME, UID, NAME:GROUP, UID:GID, ...)
 * @param err optional error details (may be NULL)
 * @return as nr_userspec_resolve(), plus the read errors of nr_rootfs_read_file()
 */
NR_EXTERN(int) nr_rootfs_resolve_user(nr_exec_user *out, const nr_rootfs *rfs,
	const char *spec, const nr_userspec_options *defaults, nr_error *err);

NR_END_DECL

#endif
