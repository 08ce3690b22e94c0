"""CFFI build script (API mode): compiles nonroot._native against the real public headers.

The declarations below are copied from include/nonroot/*.h. Because the generated module
`#include <nonroot.h>`, the C compiler checks every one of them against the real header; the
test tests/test_cdef.py also checks that every NR_EXTERN function is declared here (with the
same signature) or listed in EXCLUDED with a reason.

Where libnonroot is found (first match wins):
  1. NONROOT_INCLUDE_DIR and NONROOT_LIB_DIR;
  2. NONROOT_BUILD_DIR: a CMake build tree (the library in it, the headers from its source dir);
  3. pkg-config libnonroot (an installed library);
  4. this repository: ../include and ../build.
The module gets an rpath to the library's directory, so the installed package finds it.
"""
import os
import re
import subprocess

from cffi import FFI

CDEF = r"""
/* common.h */
#define NR_VERSION_MAJOR ...
#define NR_VERSION_MINOR ...
#define NR_VERSION_PATCH ...
const char * nr_version(void);
void nr_free(void *p);

/* errors.h */
typedef enum nr_error_code {
	NR_OK = 0,
	NR_ERROR = -1,
	NR_EINVALID = -2,
	NR_ENOTFOUND = -3,
	NR_ERANGE = -4,
	NR_EIO = -5,
	NR_ENOMEM = -6,
	NR_EEXISTS = -7,
	NR_ECONFLICT = -8,
	NR_EUNSUPPORTED = -9,
	NR_EDIGEST = -10,
	NR_ETOOBIG = -11,
	NR_EESCAPE = -12,
	NR_EARG = -13
} nr_error_code;
typedef struct nr_error {
	int code;
	size_t line;
	size_t column;
	char source[80];
	char message[256];
} nr_error;
void nr_error_clear(nr_error *err);
const char * nr_strerror(int code);
size_t nr_error_format(const nr_error *err, char *buf, size_t size);

/* imgconfig.h */
typedef struct nr_imgconfig nr_imgconfig;
int nr_imgconfig_parse(nr_imgconfig **out, const char *json, size_t len, nr_error *err);
void nr_imgconfig_free(nr_imgconfig *cfg);
int nr_imgconfig_serialize(char **out, size_t *len, const nr_imgconfig *cfg, nr_error *err);
const char * nr_imgconfig_string(const nr_imgconfig *cfg, const char *path);
const char * nr_imgconfig_user(const nr_imgconfig *cfg);
int nr_imgconfig_set_user(nr_imgconfig *cfg, const char *user, nr_error *err);
size_t nr_imgconfig_env_count(const nr_imgconfig *cfg);
const char * nr_imgconfig_env_at(const nr_imgconfig *cfg, size_t i);
const char * nr_imgconfig_env_get(const nr_imgconfig *cfg, const char *name);
int nr_imgconfig_env_set(nr_imgconfig *cfg, const char *name, const char *value, nr_error *err);
size_t nr_imgconfig_exposed_count(const nr_imgconfig *cfg);
const char * nr_imgconfig_exposed_at(const nr_imgconfig *cfg, size_t i);
int nr_imgconfig_parse_port_key(const char *key, uint16_t *port, const char **proto,
	nr_error *err);
int nr_imgconfig_map_exposed(nr_imgconfig *cfg, const uint16_t *from, const uint16_t *to,
	size_t n, int keep_old, nr_error *err);
int nr_imgconfig_healthcheck(char **out, const nr_imgconfig *cfg, nr_error *err);
int nr_imgconfig_map_healthcheck(nr_imgconfig *cfg, const uint16_t *from, const uint16_t *to,
	size_t n, nr_error *err);
size_t nr_imgconfig_diff_id_count(const nr_imgconfig *cfg);
const char * nr_imgconfig_diff_id_at(const nr_imgconfig *cfg, size_t i);
size_t nr_imgconfig_history_count(const nr_imgconfig *cfg);
int nr_imgconfig_history_in_step(const nr_imgconfig *cfg);
int nr_imgconfig_append_layer(nr_imgconfig *cfg, const char *diff_id, const char *created,
	const char *created_by, const char *comment, nr_error *err);

/* bundle.h */
typedef struct nr_bundle nr_bundle;
typedef struct nr_bundle_report nr_bundle_report;
#define NR_BUNDLE_CONFIG_MAX ...
#define NR_BUNDLE_HARDEN_OPTIONS_VERSION ...
typedef struct nr_bundle_harden_options {
	unsigned int version;
	const char *user;
	int allow_low_ports;
	int unprivileged_port_start;
	int allow_root;
	int dry_run;
	...;
} nr_bundle_harden_options;
int nr_bundle_open(nr_bundle **out, const char *dir, nr_error *err);
int nr_bundle_parse(nr_bundle **out, const char *json, size_t len, const char *dir,
	nr_error *err);
void nr_bundle_free(nr_bundle *b);
const char * nr_bundle_root_path(const nr_bundle *b);
int nr_bundle_dump(char **out, size_t *len, const nr_bundle *b, nr_error *err);
int nr_bundle_save(nr_bundle *b, nr_error *err);
int nr_bundle_harden_options_init(nr_bundle_harden_options *opts, unsigned int version);
int nr_bundle_harden(nr_bundle *b, const nr_bundle_harden_options *opts,
	nr_bundle_report **report, nr_error *err);
int nr_bundle_harden_dir(const char *dir, const nr_bundle_harden_options *opts,
	nr_bundle_report **report, nr_error *err);
size_t nr_bundle_report_changes(const nr_bundle_report *r);
int nr_bundle_report_written(const nr_bundle_report *r);
int nr_bundle_report_json(char **out, size_t *len, const nr_bundle_report *r, nr_error *err);
int nr_bundle_report_text(char **out, size_t *len, const nr_bundle_report *r, nr_error *err);
void nr_bundle_report_free(nr_bundle_report *r);
"""

# NR_EXTERN functions deliberately not declared above, each with the reason.
EXCLUDED = {
}


def _here():
    return os.path.dirname(os.path.abspath(__file__))


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config"] + list(args) + ["libnonroot"], check=True,
                             capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return out or None


def _source_dir_of_build(build_dir):
    cache = os.path.join(build_dir, "CMakeCache.txt")
    try:
        with open(cache, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"libnonroot_SOURCE_DIR:STATIC=(.*)", line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return None


def locate():
    """@return (include_dir, lib_dir) of libnonroot; raises RuntimeError when not found."""
    inc = os.environ.get("NONROOT_INCLUDE_DIR")
    lib = os.environ.get("NONROOT_LIB_DIR")
    build = os.environ.get("NONROOT_BUILD_DIR")
    if build:
        lib = lib or build
        if not inc:
            src = _source_dir_of_build(build)
            if src:
                inc = os.path.join(src, "include")
    if not (inc and lib):
        pinc = _pkg_config("--variable=includedir")
        plib = _pkg_config("--variable=libdir")
        if pinc and plib:
            inc, lib = inc or pinc, lib or plib
    repo = os.path.dirname(_here())
    repo = os.path.dirname(repo)
    inc = inc or os.path.join(repo, "include")
    lib = lib or os.path.join(repo, "build")
    if not os.path.exists(os.path.join(inc, "nonroot.h")):
        raise RuntimeError("libnonroot headers not found in %s: set NONROOT_INCLUDE_DIR or "
                           "NONROOT_BUILD_DIR, or install libnonroot (pkg-config)" % inc)
    if not (os.path.isdir(lib) and any(n.startswith("libnonroot.so") for n in os.listdir(lib))):
        raise RuntimeError("libnonroot.so not found in %s: build it with CMake, or set "
                           "NONROOT_LIB_DIR / NONROOT_BUILD_DIR" % lib)
    return os.path.abspath(inc), os.path.abspath(lib)


ffibuilder = FFI()
ffibuilder.cdef(CDEF)

_inc, _lib = locate()
ffibuilder.set_source(
    "nonroot._native",
    "#include <nonroot.h>\n",
    include_dirs=[_inc],
    library_dirs=[_lib],
    libraries=["nonroot"],
    runtime_library_dirs=[_lib],
    # A cdef that disagrees with the header must fail the build, not warn.
    extra_compile_args=["-Werror=incompatible-pointer-types", "-Werror=int-conversion",
                        "-Werror=implicit-function-declaration",
                        "-Werror=discarded-qualifiers", "-Werror=pointer-sign"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
