"""ASPNETCORE_URLS / HTTP(S)_PORTS as Kestrel reads them (urls.h)."""
import ipaddress
import os
from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple, Union

from ._native import ffi, lib
from ._util import Handle, call, check_rc, cstr, new_object, owned_string, text, to_bytes

# The first unprivileged port (NR_UNPRIVILEGED_PORT_START, Linux's default
# net.ipv4.ip_unprivileged_port_start): the default threshold everywhere.
UNPRIVILEGED_PORT_START: int = int(lib.NR_UNPRIVILEGED_PORT_START)

__all__ = ["Url", "Binding", "Bindings", "PortMap", "parse_url", "parse_urls",
           "effective_bindings", "urls_key_of", "rewrite_urls"]

_KEYS = {lib.NR_URLS_KEY_URLS: "urls", lib.NR_URLS_KEY_HTTP_PORTS: "http_ports",
         lib.NR_URLS_KEY_HTTPS_PORTS: "https_ports"}
_KEY_VALUES = {v: k for k, v in _KEYS.items()}
_HOSTS = {"webapp": lib.NR_URLS_HOST_WEBAPP, "generic": lib.NR_URLS_HOST_GENERIC}


class Url(NamedTuple):
    """One URL as Kestrel parses it (BindingAddress.Parse + AddressBinder)."""
    url: str
    scheme: str
    host: str
    port: int               # as Kestrel's int (unvalidated: may be < 0 or > 65535)
    port_text: str
    path_base: str
    kind: str               # "any", "localhost", "ip", "host", "unix", "pipe"
    port_defaulted: bool    # no port in the text: the scheme's default
    port_fallback: bool     # the port was not a number (.NET 8 binds the default)
    address: Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]

    def is_privileged(self, threshold: int = UNPRIVILEGED_PORT_START) -> bool:
        """Whether binding it needs a privileged port (below threshold) on Linux."""
        u, _keep = _parse(self.url)
        return bool(lib.nr_url_is_privileged(u, threshold))

    def validate(self) -> None:
        """Kestrel's checks before binding; raises InvalidInput with its message."""
        u, keep = _parse(self.url)
        call(lib.nr_url_validate, u, keep, len(keep))


def _span(data: bytes, span: Any) -> str:
    return data[span.off:span.off + span.len].decode("utf-8", "surrogateescape")


def _url(data: bytes, u: Any) -> Url:
    addr: Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]] = None
    if u.family == 4:
        addr = ipaddress.IPv4Address(bytes(u.addr[0:4]))
    elif u.family == 6:
        addr = ipaddress.IPv6Address(bytes(u.addr[0:16]))
    return Url(data.decode("utf-8", "surrogateescape"), _span(data, u.scheme),
               _span(data, u.host), int(u.port), _span(data, u.port_text),
               _span(data, u.path_base), text(lib.nr_url_kind_name(u.kind)) or "?",
               bool(u.flags & lib.NR_URL_PORT_DEFAULTED),
               bool(u.flags & lib.NR_URL_PORT_FALLBACK), addr)


def _parse(url: Union[str, bytes]) -> Tuple[Any, bytes]:
    data = to_bytes(url)
    u = ffi.new("nr_url *")
    call(lib.nr_url_parse, u, data, len(data))
    return u, data


def parse_url(url: Union[str, bytes]) -> Url:
    """Parse one URL; InvalidInput with Kestrel's text ("Invalid url: 'http://'")."""
    u, data = _parse(url)
    return _url(data, u)


class Binding(NamedTuple):
    """One effective binding: what Kestrel would listen on."""
    url: str
    parsed: Url
    privileged: bool
    variable: Optional[str]   # the variable it came from; None for the default

    @property
    def scheme(self) -> str:
        """The URL's scheme ("http", "https")."""
        return self.parsed.scheme

    @property
    def host(self) -> str:
        """The URL's host text ("+", "*", "localhost", "[::1]", ...)."""
        return self.parsed.host

    @property
    def port(self) -> int:
        """The port it binds."""
        return self.parsed.port

    @property
    def kind(self) -> str:
        """The kind of host: "any", "localhost", "ip", "host", "unix", "pipe"."""
        return self.parsed.kind


class Bindings(Handle):
    """The effective bindings of an environment (effective_bindings()) or of an image config
    (ImageConfig.bindings()). to_json() is the document `nonroot urls --json` prints."""
    _factory = "effective_bindings() and ImageConfig.bindings()"
    source: str
    bindings: List[Binding]
    warnings: List[str]
    any_privileged: bool

    @classmethod
    def _new(cls, ptr: Any) -> "Bindings":
        self = cls._wrap(ptr)
        self.source = text(lib.nr_urls_source_name(lib.nr_bindings_source(ptr))) or ""
        self.bindings = []
        for i in range(lib.nr_bindings_count(ptr)):
            b = lib.nr_bindings_at(ptr, i)
            data = bytes(ffi.buffer(b.url, b.url_len))
            self.bindings.append(Binding(data.decode("utf-8", "surrogateescape"),
                                         _url(data, b.parsed), bool(b.privileged),
                                         text(b.variable)))
        self.warnings = [text(lib.nr_bindings_warning_at(ptr, i)) or ""
                         for i in range(lib.nr_bindings_warning_count(ptr))]
        self.any_privileged = bool(lib.nr_bindings_any_privileged(ptr))
        return self

    def _repr_fields(self) -> str:
        return "source=%s %r" % (self.source, [b.url for b in self.bindings])

    def variable(self, key: str) -> Optional[Tuple[str, str]]:
        """(name, value) of the variable supplying key ("urls", "http_ports",
        "https_ports"), or None when none is set."""
        value = ffi.new("const char **")
        name = lib.nr_bindings_variable(value, self._ptr, _KEY_VALUES[key])
        if name == ffi.NULL:
            return None
        return text(name) or "", text(value[0]) or ""

    @property
    def ports(self) -> List[int]:
        """The TCP ports of the bindings (sorted, each once)."""
        return sorted({b.port for b in self.bindings if b.kind not in ("unix", "pipe")})

    def to_json(self) -> str:
        """The library's JSON document (nr_bindings_to_json), as `nonroot urls --json`."""
        return owned_string(lib.nr_bindings_to_json, self._ptr) or ""

    def __iter__(self) -> Iterator[Binding]:
        return iter(self.bindings)

    def __len__(self) -> int:
        return len(self.bindings)

    def __getitem__(self, i: int) -> Binding:
        return self.bindings[i]


def effective_bindings(env: Optional[Mapping[str, str]] = None,
                       threshold: int = UNPRIVILEGED_PORT_START, host: str = "webapp",
                       unprefixed: bool = True) -> Bindings:
    """What Kestrel binds for env (default: os.environ). host: "webapp"
    (WebApplication.CreateBuilder) or "generic" (Host.CreateDefaultBuilder)."""
    if env is None:
        env = os.environ
    opts = ffi.new("nr_urls_options *")
    check_rc(lib.nr_urls_options_init(opts, lib.NR_URLS_OPTIONS_VERSION))
    opts.threshold = threshold
    opts.host = _HOSTS[host]
    opts.flags = 0 if unprefixed else lib.NR_URLS_NO_UNPREFIXED
    keep = [ffi.new("char[]", to_bytes(k) + b"=" + to_bytes(v)) for k, v in env.items()]
    envp = ffi.new("const char *[]", keep + [ffi.NULL])
    return Bindings._new(new_object(lib.nr_bindings_from_env, "nr_bindings",
                                    lib.nr_bindings_free, envp, opts))


def parse_urls(value: str, threshold: int = UNPRIVILEGED_PORT_START) -> List[Binding]:
    """The bindings of an ASPNETCORE_URLS value ("http://+:80;https://+:443"), checked as
    Kestrel checks them at start-up (InvalidInput otherwise)."""
    return effective_bindings({"ASPNETCORE_URLS": value}, threshold=threshold).bindings


def urls_key_of(name: str) -> Optional[str]:
    """The key a variable name sets ("urls", "http_ports", "https_ports") or None."""
    data = to_bytes(name)
    return _KEYS.get(int(lib.nr_urls_key_of(data, len(data))))


class PortMap:
    """A port map ("80:8080,443:8443")."""

    def __init__(self, spec: Optional[Union[str, Mapping[int, int]]] = None) -> None:
        self._map = ffi.new("nr_portmap *")
        if spec is None:
            lib.nr_portmap_default(self._map)
        elif isinstance(spec, str):
            data = to_bytes(spec)
            call(lib.nr_portmap_parse, self._map, data, len(data))
        else:
            text_spec = ",".join("%d:%d" % kv for kv in spec.items())
            data = text_spec.encode("ascii")
            call(lib.nr_portmap_parse, self._map, data, len(data))

    @classmethod
    def default(cls) -> "PortMap":
        """The default map: 80:8080,443:8443."""
        return cls(None)

    def lookup(self, port: int) -> Optional[int]:
        """Where port is mapped to, None when it is not mapped."""
        to = int(lib.nr_portmap_lookup(self._map, port))
        return None if to < 0 else to

    def to_dict(self) -> Dict[int, int]:
        """The map as {from: to}."""
        e = self._map.entries
        return {int(getattr(e[i], "from")): int(e[i].to) for i in range(self._map.count)}

    def __str__(self) -> str:
        return ",".join("%d:%d" % kv for kv in self.to_dict().items())

    def __repr__(self) -> str:
        return "nonroot.PortMap(%r)" % str(self)


def rewrite_urls(name: str, value: str, port_map: Optional[Union[PortMap, str]] = None,
                 threshold: int = UNPRIVILEGED_PORT_START,
                 compat: bool = False) -> Tuple[str, int]:
    """(new value, number of ports changed) of a URLS / PORTS variable, only ports changed."""
    if not isinstance(port_map, PortMap):
        port_map = PortMap(port_map)
    data = to_bytes(value)
    out = ffi.new("char **")
    n = ffi.new("size_t *")
    changed = call(lib.nr_urls_rewrite, out, n, cstr(name), data, len(data), port_map._map,
                   threshold, lib.NR_REWRITE_COMPAT if compat else 0)
    try:
        new = ffi.buffer(out[0], n[0])[:].decode("utf-8", "surrogateescape")
    finally:
        lib.nr_free(out[0])
    return str(new), changed
