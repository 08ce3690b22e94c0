"""A root filesystem directory (rootfs.h): confined file access and useradd."""
from typing import Any, List, NamedTuple, Optional, Sequence

from ._native import ffi, lib
from ._util import (Handle, Text, call, call_file, check_rc, cstr, new_object, owned_bytes,
                    to_bytes)
from .errors import FileNotFound, NotFound
from .accounts import USER_ID_MAX, USER_ID_MIN, ExecUser, _exec_user, _userspec_options

__all__ = ["RootFS", "AddUserResult"]


class AddUserResult(NamedTuple):
    """What RootFS.add_user() did: the ids, and which files and directories it created."""
    uid: int
    gid: int
    existed: bool
    group_created: bool
    home_created: bool
    shadow_updated: bool
    gshadow_updated: bool


class RootFS(Handle):
    """A container root filesystem on the host. Every path is resolved inside it as the
    container would see it (symlinks and ".." never leave the root)."""
    _factory = "RootFS.open()"
    _dir = ""

    @classmethod
    def open(cls, directory: str, no_openat2: bool = False) -> "RootFS":
        """Open a root directory (FileNotFound when it does not exist); no_openat2 forces
        the portable resolver instead of openat2(RESOLVE_IN_ROOT)."""
        r = cls._open(directory, no_openat2)
        r._dir = directory
        return r

    def _repr_fields(self) -> str:
        return "%r openat2=%s" % (self._dir, self.uses_openat2)

    @classmethod
    def _open(cls, directory: str, no_openat2: bool) -> "RootFS":
        opts = ffi.new("nr_rootfs_options *")
        check_rc(lib.nr_rootfs_options_init(opts, lib.NR_ROOTFS_OPTIONS_VERSION))
        if no_openat2:
            opts.flags = lib.NR_ROOTFS_NO_OPENAT2
            return cls._wrap(new_object(lib.nr_rootfs_open_ext, "nr_rootfs",
                                        lib.nr_rootfs_free, cstr(directory), opts,
                                        caller=call_file))
        return cls._wrap(new_object(lib.nr_rootfs_open, "nr_rootfs", lib.nr_rootfs_free,
                                    cstr(directory), caller=call_file))

    @property
    def uses_openat2(self) -> bool:
        """Whether paths are resolved with openat2(RESOLVE_IN_ROOT)."""
        return bool(lib.nr_rootfs_uses_openat2(self._ptr))

    def read_file(self, path: str, max_size: int = 0) -> bytes:
        """A regular file's content (at most max_size bytes; 0: 10 MiB)."""
        out = ffi.new("char **")
        n = ffi.new("size_t *")
        try:
            call(lib.nr_rootfs_read_file, out, n, self._ptr, cstr(path), max_size)
        except NotFound as e:   # the only thing looked up is the file
            raise FileNotFound(e.message, code=e.code, line=e.line, column=e.column,
                               source=e.source) from None
        return owned_bytes(out, n)

    def write_file(self, path: str, data: Text, mode: int = 0o644) -> None:
        """Atomically replace or create a file (an existing one keeps its mode and owner)."""
        raw = to_bytes(data)
        call(lib.nr_rootfs_write_file, self._ptr, cstr(path), raw, len(raw), mode)

    def exists(self, path: str) -> bool:
        """Whether path exists inside the root (a dangling symlink does not)."""
        return call(lib.nr_rootfs_exists, self._ptr, cstr(path)) == 1

    def mkdir(self, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
        """Create a directory (and missing parents); AlreadyExists when it exists."""
        call(lib.nr_rootfs_mkdir, self._ptr, cstr(path), mode, uid, gid)

    def add_user(self, name: str, uid: Optional[int] = None, gid: Optional[int] = None,
                 home: Optional[str] = None, shell: Optional[str] = None,
                 gecos: Optional[str] = None, create_home: bool = False,
                 exist_ok: bool = False, id_first: int = USER_ID_MIN,
                 id_last: int = USER_ID_MAX, shadow_days: Optional[int] = None
                 ) -> AddUserResult:
        """useradd with user groups into etc/passwd, etc/group (and etc/shadow, etc/gshadow
        when present). uid/gid None: chosen in id_first..id_last."""
        opts = ffi.new("nr_adduser_options *")
        check_rc(lib.nr_adduser_options_init(opts, lib.NR_ADDUSER_OPTIONS_VERSION))
        keep: List[Any] = []

        def s(v: Optional[str]) -> Any:
            if v is None:
                return ffi.NULL
            keep.append(ffi.new("char[]", to_bytes(v)))
            return keep[-1]
        opts.name, opts.home, opts.shell, opts.gecos = s(name), s(home), s(shell), s(gecos)
        opts.uid = lib.NR_ID_AUTO if uid is None else uid
        opts.gid = lib.NR_ID_AUTO if gid is None else gid
        opts.flags = ((lib.NR_ADDUSER_CREATE_HOME if create_home else 0) |
                      (lib.NR_ADDUSER_EXIST_OK if exist_ok else 0))
        opts.id_first, opts.id_last = id_first, id_last
        opts.shadow_days = lib.NR_DAYS_AUTO if shadow_days is None else shadow_days
        res = ffi.new("nr_adduser_result *")
        call(lib.nr_rootfs_add_user, res, self._ptr, opts)
        return AddUserResult(int(res.uid), int(res.gid), bool(res.existed), bool(res.group_created),
                             bool(res.home_created), bool(res.shadow_updated),
                             bool(res.gshadow_updated))

    def resolve_user(self, spec: str, uid: int = 0, gid: int = 0, home: str = "/",
                     additional_gids: Sequence[int] = ()) -> ExecUser:
        """Resolve an OCI User spec against the root's etc/passwd and etc/group (runc)."""
        opts, _keep = _userspec_options(uid, gid, home, additional_gids)
        out = ffi.new("nr_exec_user *")
        call(lib.nr_rootfs_resolve_user, out, self._ptr, cstr(spec), opts)
        return _exec_user(out)
