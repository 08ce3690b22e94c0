"""Account files and user specs (names.h, passwd.h, group.h, shadow.h, userspec.h).

Every file class parses losslessly: str(obj) gives the input back byte for byte until an
edit, and an edit rewrites only the lines it touches."""
from typing import (Any, Callable, Iterator, List, Mapping, NamedTuple, Optional, Sequence,
                    Tuple, Type, TypeVar, Union)

from ._native import ffi, lib
from ._util import (Handle, Text, call, check_rc, cstr, new_object, owned_string, text,
                    to_bytes)
from .errors import NonrootError, error_from

__all__ = ["PwEnt", "GrEnt", "SpEnt", "SgEnt", "Passwd", "Group", "Shadow", "GShadow",
           "ExecUser", "check_name", "resolve_user", "additional_gids", "shadow_days_now",
           "SYS_ID_MIN", "SYS_ID_MAX", "USER_ID_MIN", "USER_ID_MAX"]

SYS_ID_MIN = lib.NR_SYS_ID_MIN
SYS_ID_MAX = lib.NR_SYS_ID_MAX
USER_ID_MIN = lib.NR_USER_ID_MIN
USER_ID_MAX = lib.NR_USER_ID_MAX


class PwEnt(NamedTuple):
    """One /etc/passwd entry (a copy): name:passwd:uid:gid:gecos:dir:shell, and its 1-based
    line in the file."""
    name: str
    passwd: str
    uid: int
    gid: int
    gecos: str
    dir: str
    shell: str
    line: int


class GrEnt(NamedTuple):
    """One /etc/group entry (a copy): name:passwd:gid:members, and its line."""
    name: str
    passwd: str
    gid: int
    members: List[str]
    line: int


class SpEnt(NamedTuple):
    """One /etc/shadow entry (a copy): the nine fields as text, and its line."""
    name: str
    passwd: str
    lastchg: str
    min: str
    max: str
    warn: str
    inact: str
    expire: str
    flag: str
    line: int


class SgEnt(NamedTuple):
    """One /etc/gshadow entry (a copy): name:passwd:admins:members, and its line."""
    name: str
    passwd: str
    admins: str
    members: str
    line: int


def _s(p: Any) -> str:
    return text(p) or ""


def _pwent(e: Any) -> Optional[PwEnt]:
    if e == ffi.NULL:
        return None
    return PwEnt(_s(e.name), _s(e.passwd), int(e.uid), int(e.gid), _s(e.gecos), _s(e.dir),
                 _s(e.shell), int(e.line))


def _grent(e: Any) -> Optional[GrEnt]:
    if e == ffi.NULL:
        return None
    return GrEnt(_s(e.name), _s(e.passwd), int(e.gid),
                 [_s(e.members[i]) for i in range(e.nmembers)], int(e.line))


def _spent(e: Any) -> Optional[SpEnt]:
    if e == ffi.NULL:
        return None
    return SpEnt(_s(e.name), _s(e.passwd), _s(e.lastchg), _s(e.min), _s(e.max), _s(e.warn),
                 _s(e.inact), _s(e.expire), _s(e.flag), int(e.line))


def _sgent(e: Any) -> Optional[SgEnt]:
    if e == ffi.NULL:
        return None
    return SgEnt(_s(e.name), _s(e.passwd), _s(e.admins), _s(e.members), int(e.line))


def _problems(fn: Callable[..., int], *args: Any) -> List[NonrootError]:
    """fn(&problems, &count, *args, err): the problems as (unraised) exceptions."""
    arr = ffi.new("nr_error **")
    count = ffi.new("size_t *")
    call(fn, arr, count, *args)
    try:
        return [error_from(arr[0][i].code, arr[0][i]) for i in range(count[0])]
    finally:
        lib.nr_free(arr[0])


def _ptr(obj: Optional[Handle]) -> Any:
    return ffi.NULL if obj is None else obj._ptr


E = TypeVar("E", PwEnt, GrEnt, SpEnt, SgEnt)
F = TypeVar("F", bound="_File[Any]")


class _File(Handle, Mapping[str, E]):
    """Common shape of the account files: a read-only mapping of name to entry (the first
    entry of a name, as getpwnam), lossless str(), `entries` in file order."""
    _ctype = ""
    _factory = "parse()"
    # set per class: the C functions (cffi's are builtins, so they are not bound as methods)
    _parse: Callable[..., int]
    _free: Callable[[Any], None]
    _write: Callable[..., int]
    _count: Callable[[Any], int]
    _entry: Callable[[Any, int], Any]
    _find: Callable[[Any, bytes], Any]

    @staticmethod
    def _conv(e: Any) -> Optional[E]:
        raise NotImplementedError

    @classmethod
    def parse(cls: Type[F], data: Text = "", source: Optional[str] = None) -> F:
        """Parse the file's text (str or bytes); source names it in errors ("etc/passwd")."""
        raw = to_bytes(data)
        return cls._wrap(new_object(cls._parse, cls._ctype, cls._free, raw, len(raw),
                                    cstr(source)))

    def __str__(self) -> str:
        return owned_string(self._write, self._ptr) or ""

    def __bytes__(self) -> bytes:
        return str(self).encode("utf-8", "surrogateescape")

    @property
    def entries(self) -> List[E]:
        """Every entry (copies), in file order, duplicates included."""
        ptr = self._ptr
        out: List[E] = []
        for i in range(self._count(ptr)):
            e = self._conv(self._entry(ptr, i))
            if e is not None:
                out.append(e)
        return out

    def _lookup(self, name: object) -> Optional[E]:
        if not isinstance(name, (str, bytes)):
            return None
        return self._conv(self._find(self._ptr, to_bytes(name)))

    def __getitem__(self, name: str) -> E:
        e = self._lookup(name)
        if e is None:
            raise KeyError(name)
        return e

    def __contains__(self, name: object) -> bool:
        return self._lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        """The names, in file order (each once)."""
        seen = set()
        for e in self.entries:
            if e.name not in seen:
                seen.add(e.name)
                yield e.name

    def __len__(self) -> int:
        return len(set(e.name for e in self.entries))

    def _repr_fields(self) -> str:
        names = list(self)
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return "%d entries: %s" % (len(names), shown)


class Passwd(_File[PwEnt]):
    """/etc/passwd (lossless). Lookups return PwEnt tuples (copies)."""
    _ctype = "nr_passwd"
    _parse = lib.nr_passwd_parse
    _free = lib.nr_passwd_free
    _conv = staticmethod(_pwent)
    _find = lib.nr_passwd_find_name

    _write = lib.nr_passwd_serialize
    _count = lib.nr_passwd_count
    _entry = lib.nr_passwd_at

    def find_name(self, name: str) -> Optional[PwEnt]:
        """The first entry named name, or None."""
        return _pwent(lib.nr_passwd_find_name(self._ptr, cstr(name)))

    def find_uid(self, uid: int) -> Optional[PwEnt]:
        """The first entry with this uid, or None."""
        return _pwent(lib.nr_passwd_find_uid(self._ptr, uid))

    def add_user(self, name: str, uid: int, gid: Optional[int] = None, gecos: str = "",
                 home: str = "", shell: str = "", passwd: str = "x") -> PwEnt:
        """Add name:passwd:uid:gid:gecos:home:shell (gid defaults to uid); the new entry."""
        ent = ffi.new("nr_pwent *")
        keep = [ffi.new("char[]", to_bytes(v)) for v in (name, passwd, gecos, home, shell)]
        ent.name, ent.passwd, ent.gecos, ent.dir, ent.shell = keep
        ent.uid = uid
        ent.gid = uid if gid is None else gid
        call(lib.nr_passwd_add, self._ptr, ent)
        return self[name]

    def next_free_id(self, first: int = USER_ID_MIN, last: int = USER_ID_MAX,
                     group: Optional["Group"] = None) -> int:
        """A uid no entry has (nor, with group, any gid), searched first..last."""
        out = ffi.new("uint32_t *")
        call(lib.nr_passwd_next_free_id, out, self._ptr, _ptr(group), first, last)
        return int(out[0])

    def check(self, group: Optional["Group"] = None) -> List[NonrootError]:
        """pwck-style problems (each an InvalidInput naming its line); [] when clean."""
        return _problems(lib.nr_passwd_check, self._ptr, _ptr(group))


class Group(_File[GrEnt]):
    """/etc/group (lossless)."""
    _ctype = "nr_group"
    _parse = lib.nr_group_parse
    _free = lib.nr_group_free
    _conv = staticmethod(_grent)
    _find = lib.nr_group_find_name

    _write = lib.nr_group_serialize
    _count = lib.nr_group_count
    _entry = lib.nr_group_at

    def find_name(self, name: str) -> Optional[GrEnt]:
        """The first group named name, or None."""
        return _grent(lib.nr_group_find_name(self._ptr, cstr(name)))

    def find_gid(self, gid: int) -> Optional[GrEnt]:
        """The first group with this gid, or None."""
        return _grent(lib.nr_group_find_gid(self._ptr, gid))

    def add_group(self, name: str, gid: int, members: Sequence[str] = (),
                  passwd: str = "x") -> GrEnt:
        """Add name:passwd:gid:members; the new entry."""
        ent = ffi.new("nr_grent *")
        keep = [ffi.new("char[]", to_bytes(v)) for v in (name, passwd)]
        mem = [ffi.new("char[]", to_bytes(m)) for m in members]
        arr = ffi.new("const char *[]", mem + [ffi.NULL])
        ent.name, ent.passwd = keep
        ent.gid = gid
        ent.members = arr
        ent.nmembers = len(mem)
        call(lib.nr_group_add, self._ptr, ent)
        return self[name]

    def add_member(self, group: str, member: str) -> None:
        """Add member to group's member list (nothing to do when it is one already)."""
        call(lib.nr_group_add_member, self._ptr, cstr(group), cstr(member))

    def next_free_gid(self, first: int = USER_ID_MIN, last: int = USER_ID_MAX) -> int:
        """A gid no group has, searched first..last (NotFound when there is none)."""
        out = ffi.new("uint32_t *")
        call(lib.nr_group_next_free_gid, out, self._ptr, first, last)
        return int(out[0])

    def check(self, passwd: Optional[Passwd] = None) -> List[NonrootError]:
        """grpck-style problems (InvalidInput each); [] when clean."""
        return _problems(lib.nr_group_check, self._ptr, _ptr(passwd))


class Shadow(_File[SpEnt]):
    """/etc/shadow (lossless)."""
    _ctype = "nr_shadow"
    _parse = lib.nr_shadow_parse
    _free = lib.nr_shadow_free
    _conv = staticmethod(_spent)
    _find = lib.nr_shadow_find_name

    _write = lib.nr_shadow_serialize
    _count = lib.nr_shadow_count
    _entry = lib.nr_shadow_at

    def find_name(self, name: str) -> Optional[SpEnt]:
        """The first entry named name, or None."""
        return _spent(lib.nr_shadow_find_name(self._ptr, cstr(name)))

    def add(self, name: str, days: Optional[int] = None) -> SpEnt:
        """Add a locked entry for name, last changed `days` after 1970 (default: today;
        a negative number leaves the field empty)."""
        call(lib.nr_shadow_add, self._ptr, cstr(name),
             shadow_days_now() if days is None else days)
        return self[name]

    def check(self, passwd: Optional[Passwd] = None) -> List[NonrootError]:
        """pwck-style problems of the shadow file (InvalidInput each); [] when clean."""
        return _problems(lib.nr_shadow_check, self._ptr, _ptr(passwd))


class GShadow(_File[SgEnt]):
    """/etc/gshadow (lossless)."""
    _ctype = "nr_gshadow"
    _parse = lib.nr_gshadow_parse
    _free = lib.nr_gshadow_free
    _conv = staticmethod(_sgent)
    _find = lib.nr_gshadow_find_name

    _write = lib.nr_gshadow_serialize
    _count = lib.nr_gshadow_count
    _entry = lib.nr_gshadow_at

    def find_name(self, name: str) -> Optional[SgEnt]:
        """The first entry named name, or None."""
        return _sgent(lib.nr_gshadow_find_name(self._ptr, cstr(name)))

    def add(self, name: str) -> SgEnt:
        """Add a locked entry for group name; the new entry."""
        call(lib.nr_gshadow_add, self._ptr, cstr(name))
        return self[name]

    def add_member(self, group: str, member: str) -> None:
        """Add member to group's member list (nothing to do when it is one already)."""
        call(lib.nr_gshadow_add_member, self._ptr, cstr(group), cstr(member))

    def check(self, group: Optional[Group] = None) -> List[NonrootError]:
        """grpck-style problems of the gshadow file (InvalidInput each); [] when clean."""
        return _problems(lib.nr_gshadow_check, self._ptr, _ptr(group))


def shadow_days_now() -> int:
    """Days since 1970-01-01 (SOURCE_DATE_EPOCH when set, as shadow-utils)."""
    out = ffi.new("int64_t *")
    call(lib.nr_shadow_days_now, out)
    return int(out[0])


def check_name(name: str, strict: bool = False) -> None:
    """Raise InvalidInput unless name is a valid new user/group name (shadow-utils rules)."""
    raw = to_bytes(name)
    if strict:   # shadow's default pattern too (useradd without --badname)
        call(lib.nr_name_check_flags, raw, len(raw), lib.NR_NAME_STRICT)
    else:
        call(lib.nr_name_check, raw, len(raw))


class ExecUser(NamedTuple):
    """A resolved OCI User spec, as runc's GetExecUser returns it."""
    uid: int
    gid: int
    additional_gids: List[int]
    home: str
    name: Optional[str]


def _as(cls: Type[F], value: Union[F, Text, None]) -> Optional[F]:
    if value is None or isinstance(value, cls):
        return value
    assert isinstance(value, (str, bytes))
    return cls.parse(value)


def resolve_user(spec: str, passwd: Union[Passwd, Text, None] = None,
                 group: Union[Group, Text, None] = None, uid: int = 0, gid: int = 0,
                 home: str = "/", additional_gids: Sequence[int] = ()) -> ExecUser:
    """Resolve an image config's User ("app", "1654:1654", "app:staff", ...) against passwd
    and group (objects or file text; None when the image has no such file). The keyword
    defaults are runc's. NotFound / OutOfRange carry runc's wording."""
    pw = _as(Passwd, passwd)
    gr = _as(Group, group)
    opts, _keep = _userspec_options(uid, gid, home, additional_gids)
    out = ffi.new("nr_exec_user *")
    call(lib.nr_userspec_resolve, out, cstr(spec), _ptr(pw), _ptr(gr), opts)
    return _exec_user(out)


def _userspec_options(uid: int, gid: int, home: str,
                      additional_gids: Sequence[int]) -> Tuple[Any, Any]:
    """nr_userspec_options (and what its pointers point to: keep it alive with it)."""
    opts = ffi.new("nr_userspec_options *")
    check_rc(lib.nr_userspec_options_init(opts, lib.NR_USERSPEC_OPTIONS_VERSION))
    keep = (ffi.new("char[]", to_bytes(home)),
            ffi.new("uint32_t[]", list(additional_gids) or [0]))
    opts.uid, opts.gid, opts.home = uid, gid, keep[0]
    opts.additional_gids = keep[1]
    opts.n_additional_gids = len(additional_gids)
    return opts, keep


def _exec_user(out: Any) -> ExecUser:
    """Copy a resolved nr_exec_user, then dispose of it."""
    try:
        return ExecUser(int(out.uid), int(out.gid),
                        [int(out.additional_gids[i]) for i in range(out.n_additional_gids)],
                        text(out.home) or "", text(out.name))
    finally:
        lib.nr_exec_user_dispose(out)


def additional_gids(groups: Sequence[str], group: Union[Group, Text, None] = None) -> List[int]:
    """runc's GetAdditionalGroups: names or numeric gids to gids (first-seen order)."""
    gr = _as(Group, group)
    keep = [ffi.new("char[]", to_bytes(g)) for g in groups]
    arr = ffi.new("const char *[]", keep or [ffi.NULL])
    out = ffi.new("uint32_t **")
    n = ffi.new("size_t *")
    call(lib.nr_userspec_additional_gids, out, n, _ptr(gr), arr, len(keep))
    try:
        return [int(out[0][i]) for i in range(n[0])]
    finally:
        lib.nr_free(out[0])
