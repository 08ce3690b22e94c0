"""Type mapping shared by the wrappers: str <-> char *, owned strings, out-parameters."""
from typing import Any, Callable, Mapping, Optional, Tuple, Union

from ._native import ffi, lib
from .errors import check, error_from, new_error

Text = Union[str, bytes]


def to_bytes(value: Text) -> bytes:
    """UTF-8 bytes of a str (bytes pass through)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def cstr(value: Optional[Text]) -> Any:
    """A char * argument: NULL for None."""
    return ffi.NULL if value is None else to_bytes(value)


def text(ptr: Any) -> Optional[str]:
    """A borrowed C string as str (copied); None for NULL."""
    if ptr == ffi.NULL:
        return None
    return ffi.string(ptr).decode("utf-8", "surrogateescape")


def call(fn: Callable[..., int], *args: Any) -> int:
    """Call fn(*args, err) and raise on a negative return; the return value otherwise."""
    err = new_error()
    return check(fn(*args, err), err)


def check_rc(rc: int) -> int:
    """For the few functions without an nr_error: raise on a negative return code."""
    if rc < 0:
        raise error_from(rc, new_error())
    return rc


def new_object(fn: Callable[..., int], ctype: str, free: Callable[[Any], None],
               *args: Any) -> Any:
    """fn(&out, *args, err) for an owned object: the pointer, freed by ffi.gc."""
    out = ffi.new(ctype + " **")
    call(fn, out, *args)
    return ffi.gc(out[0], free)


def owned_string(fn: Callable[..., int], *args: Any, with_len: bool = True,
                 out_last: bool = False) -> Optional[str]:
    """fn(&out[, &len], *args, err) -- or fn(*args, &out, &len, err) with out_last -- for a
    string owned by the caller (freed with nr_free)."""
    out = ffi.new("char **")
    n = ffi.new("size_t *")
    outs = (out, n) if with_len else (out,)
    if out_last:
        call(fn, *args, *outs)
    else:
        call(fn, *outs, *args)
    if out[0] == ffi.NULL:
        return None
    try:
        data = ffi.buffer(out[0], n[0])[:] if with_len else ffi.string(out[0])
    finally:
        lib.nr_free(out[0])
    return data.decode("utf-8", "surrogateescape")


def port_map(mapping: Mapping[int, int]) -> Tuple[Any, Any, int]:
    """A {from: to} port map as the (const uint16_t *from, const uint16_t *to, size_t n) triple."""
    items = sorted(mapping.items())
    for a, b in items:
        if not (0 <= a <= 65535 and 0 <= b <= 65535):
            raise ValueError("port out of range: %r" % ((a, b),))
    src = ffi.new("uint16_t[]", [a for a, _ in items] or [0])
    dst = ffi.new("uint16_t[]", [b for _, b in items] or [0])
    return src, dst, len(items)
