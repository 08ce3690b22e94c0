"""Type mapping shared by the wrappers: str <-> char *, owned strings, out-parameters, and the
base class of the Python objects that own a C object."""
import errno
import os
from typing import Any, Callable, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from ._native import ffi, lib
from .errors import (FileNotFound, IOFailure, NonrootError, NotFound, check, error_from,
                     new_error)

Text = Union[str, bytes]
H = TypeVar("H", bound="Handle")


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
    return str(ffi.string(ptr).decode("utf-8", "surrogateescape"))


def call(fn: Callable[..., int], *args: Any) -> int:
    """Call fn(*args, err) and raise on a negative return; the return value otherwise."""
    err = new_error()
    return check(fn(*args, err), err)


_ENOENT_TEXT = os.strerror(errno.ENOENT)


def call_file(fn: Callable[..., int], *args: Any) -> int:
    """call() for functions that open a file or directory: an IOFailure reporting ENOENT
    ("open: No such file or directory"), or a NotFound naming a path that does not exist, is
    raised as FileNotFound (also a FileNotFoundError). A NotFound about anything else (a
    user, a tag, a platform) stays a NotFound."""
    try:
        return call(fn, *args)
    except FileNotFound:
        raise
    except (NotFound, IOFailure) as e:
        if isinstance(e, IOFailure):
            if not e.message.endswith(_ENOENT_TEXT):
                raise
        elif not (e.source and os.path.isabs(e.source) and not os.path.lexists(e.source)):
            raise
        raise FileNotFound(e.message, code=e.code, line=e.line, column=e.column,
                           source=e.source) from None


def check_rc(rc: int) -> int:
    """For the few functions without an nr_error: raise on a negative return code."""
    if rc < 0:
        raise error_from(rc, new_error())
    return rc


def new_object(fn: Callable[..., int], ctype: str, free: Callable[[Any], None],
               *args: Any, caller: Callable[..., int] = call) -> Any:
    """fn(&out, *args, err) for an owned object: the pointer, freed by ffi.gc."""
    out = ffi.new(ctype + " **")
    caller(fn, out, *args)
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
    return str(data.decode("utf-8", "surrogateescape"))


def owned_bytes(out: Any, n: Any) -> bytes:
    """The bytes of a (char *, size_t) result owned by the caller, which is freed."""
    try:
        return bytes(ffi.buffer(out[0], n[0])[:])
    finally:
        lib.nr_free(out[0])


def port_map(mapping: Mapping[int, int]) -> Tuple[Any, Any, int]:
    """A {from: to} port map as the (const uint16_t *from, const uint16_t *to, size_t n) triple."""
    items = sorted(mapping.items())
    for a, b in items:
        if not (0 <= a <= 65535 and 0 <= b <= 65535):
            raise ValueError("port out of range: %r" % ((a, b),))
    src = ffi.new("uint16_t[]", [a for a, _ in items] or [0])
    dst = ffi.new("uint16_t[]", [b for _, b in items] or [0])
    return src, dst, len(items)


class Handle:
    """Base of the classes that own a C object: close() frees it now (else the garbage
    collector does), `with` closes it, and using a closed object raises ValueError. Objects
    come from factory functions (Image.open, Passwd.parse, ...): there is no public
    constructor taking a C pointer."""

    _cptr: Any = None
    _factory = "its factory functions"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("nonroot.%s objects are made by %s, not constructed"
                        % (type(self).__name__, self._factory))

    @classmethod
    def _wrap(cls: Type[H], ptr: Any) -> H:
        obj = cls.__new__(cls)
        obj._cptr = ptr
        return obj

    @property
    def _ptr(self) -> Any:
        if self._cptr is None:
            raise ValueError("operation on a closed nonroot.%s" % type(self).__name__)
        return self._cptr

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._cptr is None

    def close(self) -> None:
        """Free the C object now (idempotent); the object is unusable afterwards."""
        ptr, self._cptr = self._cptr, None
        if ptr is not None:
            ffi.release(ptr)

    def __enter__(self: H) -> H:
        self._ptr  # raises when closed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _repr_fields(self) -> str:
        return ""

    def __repr__(self) -> str:
        if self._cptr is None:
            return "<nonroot.%s (closed)>" % type(self).__name__
        fields = self._repr_fields()
        return "<nonroot.%s%s>" % (type(self).__name__, " " + fields if fields else "")


class Progress:
    """A Python progress callable passed to C as (nr_scan_progress_cb, payload). An exception
    it raises is kept, later progress calls are not made, and raise_pending() raises it when
    the C function returns (an exception cannot cross the C frames)."""

    def __init__(self, fn: Callable[[int, int, int, int], object]) -> None:
        self.fn = fn
        self.error: Optional[BaseException] = None
        self.handle = ffi.new_handle(self)

    def __repr__(self) -> str:
        return "<nonroot.Progress %r>" % (self.fn,)

    def raise_pending(self) -> None:
        """Raise the exception the callable raised, if any."""
        if self.error is not None:
            err, self.error = self.error, None
            raise err


@ffi.def_extern()  # type: ignore[misc]
def _nr_py_scan_progress(layer: int, nlayers: int, layer_bytes: int, layer_size: int,
                         payload: Any) -> None:
    p = ffi.from_handle(payload)
    if p.error is not None:
        return
    try:
        p.fn(layer, nlayers, layer_bytes, layer_size)
    except BaseException as e:  # kept, raised by raise_pending() when C returns
        p.error = e


def call_progress(progress: Optional[Progress], fn: Callable[..., int], *args: Any) -> int:
    """call(fn, *args); then the exception of the progress callable, if it raised one (it
    wins over the error of the call, which it chains)."""
    try:
        rc = call(fn, *args)
    except NonrootError:
        if progress is not None:
            progress.raise_pending()
        raise
    if progress is not None:
        progress.raise_pending()
    return rc


def strings(items: List[Optional[str]]) -> List[str]:
    """None-free list of str."""
    return [s or "" for s in items]
