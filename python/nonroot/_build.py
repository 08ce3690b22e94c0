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
