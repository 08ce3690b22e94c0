"""Container images (image.h): open, read verified blobs, scan the layer stack, write."""
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

from ._native import ffi, lib
from ._util import call, check_rc, cstr, new_object, text, to_bytes
from .imgconfig import ImageConfig
from .urls import PortMap

__all__ = ["Image", "Descriptor", "ScanEntry", "ScanResult", "BlobWriter", "PatchChange",
           "PatchReport", "Finding", "Audit", "AuditRule", "audit_rules", "LEVELS"]

_TRANSPORTS = {lib.NR_TRANSPORT_OCI: "oci", lib.NR_TRANSPORT_OCI_ARCHIVE: "oci-archive",
               lib.NR_TRANSPORT_DOCKER_ARCHIVE: "docker-archive"}
_ENTRY_TYPES = {lib.NR_ENTRY_NONE: "none", lib.NR_ENTRY_REGULAR: "regular",
                lib.NR_ENTRY_DIRECTORY: "directory", lib.NR_ENTRY_SYMLINK: "symlink",
                lib.NR_ENTRY_CHAR: "char", lib.NR_ENTRY_BLOCK: "block",
                lib.NR_ENTRY_FIFO: "fifo"}

ProgressFn = Callable[[int, int, int, int], None]


class Descriptor(NamedTuple):
    media_type: str
    digest: str
    size: int


def _descriptor(d) -> Optional[Descriptor]:
    if d == ffi.NULL:
        return None
    return Descriptor(text(d.media_type) or "", text(d.digest) or "", d.size)


class ScanEntry(NamedTuple):
    """The effective state of one path in the final root filesystem."""
    path: str
    resolved: Optional[str]
    type: str                 # "none" (absent), "regular", "directory", "symlink", ...
    mode: int
    uid: int
    gid: int
    size: int
    mtime: int
    content: Optional[bytes]  # regular files within the content limit
    link_target: Optional[str]
    hardlink: Optional[str]
    layer: int
    too_big: bool
    loop: bool
    notdir: bool

    @property
    def exists(self) -> bool:
        return self.type != "none"


def _entry(e) -> ScanEntry:
    content = None if e.content == ffi.NULL else ffi.buffer(e.content, e.content_len)[:]
    return ScanEntry(text(e.path) or "", text(e.resolved), _ENTRY_TYPES.get(e.type, "?"),
                     e.mode, e.uid, e.gid, e.size, e.mtime, content, text(e.link_target),
                     text(e.hardlink), e.layer, bool(e.flags & lib.NR_SCAN_ENTRY_TOO_BIG),
                     bool(e.flags & lib.NR_SCAN_ENTRY_LOOP),
                     bool(e.flags & lib.NR_SCAN_ENTRY_NOTDIR))


class ScanResult:
    """Entries of the requested paths (in request order) and, on request, set-id files.
    The entries are copied out of the C result, which is freed at once."""

    def __init__(self, ptr) -> None:
        self.entries: List[ScanEntry] = [_entry(lib.nr_scan_result_entry(ptr, k))
                                         for k in range(lib.nr_scan_result_count(ptr))]
        self.setid: List[ScanEntry] = [_entry(lib.nr_scan_result_setid(ptr, k))
                                       for k in range(lib.nr_scan_result_setid_count(ptr))]
        self._by_path: Dict[str, ScanEntry] = {e.path: e for e in self.entries}
        self._ptr = ptr

    def get(self, path: str) -> Optional[ScanEntry]:
        """The entry of a requested path (normalised like the request: "/etc/passwd" and
        "etc/passwd" alike), None when it was not requested."""
        e = lib.nr_scan_result_get(self._ptr, cstr(path))
        return None if e == ffi.NULL else _entry(e)

    def __getitem__(self, path: str) -> ScanEntry:
        e = self.get(path)
        if e is None:
            raise KeyError(path)
        return e

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


@ffi.def_extern()
def _nr_py_scan_progress(layer, nlayers, layer_bytes, layer_size, payload):
    fn = ffi.from_handle(payload)
    try:
        fn(layer, nlayers, layer_bytes, layer_size)
    except Exception:  # pragma: no cover - an exception cannot cross the C frames
        pass


class BlobWriter:
    """A new blob streamed into the image's staging area: write(), then finish()."""

    def __init__(self, ptr) -> None:
        self._ptr = ptr

    def write(self, data: bytes) -> None:
        call(lib.nr_blob_writer_write, self._ptr, data, len(data))

    def finish(self) -> Tuple[str, int]:
        """(digest, size) of the finished blob."""
        digest = ffi.new("char[72]")
        size = ffi.new("uint64_t *")
        call(lib.nr_blob_writer_finish, self._ptr, digest, size)
        return ffi.string(digest).decode("ascii"), size[0]

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


class PatchChange(NamedTuple):
    """One planned (or made) change of a patch."""
    manifest: int
    platform: str
    what: str                 # "file", "directory", "config", "env", "exposed-port", ...
    target: str               # "etc/passwd", "User", "ASPNETCORE_URLS", "80/tcp", ...
    before: Optional[str]
    after: Optional[str]
    why: str


class PatchReport:
    """The outcome of Image.patch(): the changes (copied), whether anything changed, and
    the uid/gid the image runs as afterwards."""

    def __init__(self, ptr) -> None:
        self.changes: List[PatchChange] = []
        for k in range(lib.nr_patch_report_count(ptr)):
            c = lib.nr_patch_report_change(ptr, k)
            self.changes.append(PatchChange(c.manifest, text(c.platform) or "",
                                            text(c.what) or "", text(c.target) or "",
                                            text(c.before), text(c.after), text(c.why) or ""))
        self.changed: bool = bool(lib.nr_patch_report_changed(ptr))
        self.uid: int = lib.nr_patch_report_uid(ptr)
        self.gid: int = lib.nr_patch_report_gid(ptr)
        self._ptr = ptr

    def __iter__(self):
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)


LEVELS = ("none", "note", "warning", "error")   # index = nr_level


def _level(v: int) -> str:
    return text(lib.nr_level_name(v)) or "?"


class AuditRule(NamedTuple):
    id: str
    name: str
    level: str
    summary: str
    help: str


def _rule(r) -> Optional[AuditRule]:
    if r == ffi.NULL:
        return None
    return AuditRule(text(r.id) or "", text(r.name) or "", _level(r.level),
                     text(r.summary) or "", text(r.help) or "")


def audit_rules() -> List[AuditRule]:
    """Every audit rule (static metadata, as in SARIF's tool.driver.rules)."""
    return [_rule(lib.nr_audit_rule_at(k)) for k in range(lib.nr_audit_rule_count())]


def audit_rule(rule_id: str) -> Optional[AuditRule]:
    return _rule(lib.nr_audit_rule_find(cstr(rule_id)))


class Finding(NamedTuple):
    id: str                   # "NR001"
    level: str                # "note", "warning", "error"
    manifest: int
    platform: str
    location: str             # "config.User", "config.Env.ASPNETCORE_URLS", "usr/bin/su", ...
    message: str
    fix: str


class Audit:
    """The findings of Image.audit() (copied), per platform."""

    def __init__(self, ptr) -> None:
        self.platforms: List[str] = [text(lib.nr_audit_platform(ptr, i)) or ""
                                     for i in range(lib.nr_audit_platform_count(ptr))]
        self.users: List[str] = [text(lib.nr_audit_user(ptr, i)) or ""
                                 for i in range(len(self.platforms))]
        self.findings: List[Finding] = []
        for k in range(lib.nr_audit_count(ptr)):
            f = lib.nr_audit_finding(ptr, k)
            self.findings.append(Finding(text(f.id) or "", _level(f.level), f.manifest,
                                         text(f.platform) or "", text(f.location) or "",
                                         text(f.message) or "", text(f.fix) or ""))
        self.max_level: str = _level(lib.nr_audit_max_level(ptr))
        self._ptr = ptr

    def __iter__(self):
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)


class Image:
    """An opened container image: oci:DIR[:TAG], oci-archive:FILE[:TAG],
    docker-archive:FILE[:NAME:TAG], or a bare path."""

    def __init__(self, ptr, ref: str) -> None:
        self._ptr = ptr
        self.ref = ref

    @classmethod
    def open(cls, ref: str, platform: Optional[str] = None,
             tmpdir: Optional[str] = None) -> "Image":
        opts = ffi.new("nr_image_open_options *")
        check_rc(lib.nr_image_open_options_init(opts, lib.NR_IMAGE_OPEN_OPTIONS_VERSION))
        keep = [ffi.new("char[]", to_bytes(s)) if s is not None else ffi.NULL
                for s in (platform, tmpdir)]
        opts.platform, opts.tmpdir = keep
        return cls(new_object(lib.nr_image_open, "nr_image", lib.nr_image_free, cstr(ref),
                              opts), ref)

    @property
    def transport(self) -> str:
        return _TRANSPORTS.get(lib.nr_image_transport_of(self._ptr), "?")

    def __len__(self) -> int:
        """The number of manifests (platforms)."""
        return lib.nr_image_count(self._ptr)

    @property
    def platforms(self) -> List[str]:
        return [text(lib.nr_image_platform(self._ptr, i)) or "" for i in range(len(self))]

    def manifest_media_type(self, i: int = 0) -> Optional[str]:
        return text(lib.nr_image_manifest_media_type(self._ptr, i))

    def config_json(self, i: int = 0) -> Optional[str]:
        n = ffi.new("size_t *")
        p = lib.nr_image_config(self._ptr, i, n)
        return None if p == ffi.NULL else ffi.buffer(p, n[0])[:].decode("utf-8")

    def config(self, i: int = 0) -> ImageConfig:
        """Manifest i's config, parsed for reading or editing (see set_config)."""
        data = self.config_json(i)
        if data is None:
            raise IndexError(i)
        return ImageConfig.parse(data)

    def config_descriptor(self, i: int = 0) -> Optional[Descriptor]:
        return _descriptor(lib.nr_image_config_descriptor(self._ptr, i))

    def layers(self, i: int = 0) -> List[Descriptor]:
        return [_descriptor(lib.nr_image_layer(self._ptr, i, j))
                for j in range(lib.nr_image_layer_count(self._ptr, i))]

    def scan(self, paths: Iterable[str], i: int = 0, content_max: int = 0,
             setid: bool = False, progress: Optional[ProgressFn] = None) -> ScanResult:
        """The effective entries of paths in manifest i (one streaming pass)."""
        keep = [ffi.new("char[]", to_bytes(p)) for p in paths]
        arr = ffi.new("const char *[]", keep or [ffi.NULL])
        req = ffi.new("nr_scan_request *")
        req.version = lib.NR_SCAN_REQUEST_VERSION
        req.paths = arr
        req.npaths = len(keep)
        req.content_max = content_max
        req.flags = lib.NR_SCAN_SETID if setid else 0
        handle = None
        if progress is not None:
            handle = ffi.new_handle(progress)
            req.progress = lib._nr_py_scan_progress
            req.payload = handle
        out = ffi.new("nr_scan_result **")
        call(lib.nr_image_scan, self._ptr, i, req, out)
        return ScanResult(ffi.gc(out[0], lib.nr_scan_result_free))

    def read_file(self, path: str, i: int = 0) -> bytes:
        """The content of one effective regular file (symlinks followed), at most 10 MiB."""
        out = ffi.new("char **")
        n = ffi.new("size_t *")
        call(lib.nr_image_read_file, self._ptr, i, cstr(path), out, n)
        try:
            return ffi.buffer(out[0], n[0])[:]
        finally:
            lib.nr_free(out[0])

    def blob_writer(self) -> BlobWriter:
        return BlobWriter(new_object(lib.nr_blob_writer_open, "nr_blob_writer",
                                     lib.nr_blob_writer_free, self._ptr))

    def add_blob(self, data: bytes) -> Tuple[str, int]:
        """Write data as a new blob: (digest, size)."""
        w = self.blob_writer()
        w.write(data)
        return w.finish()

    def set_config(self, config, i: int = 0) -> None:
        """Replace manifest i's config (an ImageConfig or JSON text)."""
        data = to_bytes(str(config))
        call(lib.nr_image_set_config, self._ptr, i, data, len(data))

    def add_layer(self, desc: Descriptor, i: int = 0) -> None:
        d = ffi.new("nr_descriptor *")
        keep = (ffi.new("char[]", to_bytes(desc.media_type)),
                ffi.new("char[]", to_bytes(desc.digest)))
        d.media_type, d.digest = keep
        d.size = desc.size
        call(lib.nr_image_add_layer, self._ptr, i, d)

    def audit(self, threshold: int = 1024,
              progress: Optional[ProgressFn] = None) -> Audit:
        """Audit every manifest; problems of the image are findings, not exceptions."""
        opts = ffi.new("nr_audit_options *")
        check_rc(lib.nr_audit_options_init(opts, lib.NR_AUDIT_OPTIONS_VERSION))
        opts.threshold = threshold
        handle = None
        if progress is not None:
            handle = ffi.new_handle(progress)
            opts.progress = lib._nr_py_scan_progress
            opts.payload = handle
        out = ffi.new("nr_audit **")
        call(lib.nr_image_audit, self._ptr, opts, out)
        return Audit(ffi.gc(out[0], lib.nr_audit_free))

    def patch(self, user: Optional[str] = None, uid: Optional[int] = None,
              gid: Optional[int] = None, home: Optional[str] = None, no_home: bool = False,
              shell: Optional[str] = None, ports=None, compat: bool = False,
              dry_run: bool = False, mtime: Optional[int] = None,
              progress: Optional[ProgressFn] = None) -> PatchReport:
        """Make every manifest run as a non-root user (in memory; write() saves it).
        Defaults: user "app", uid = gid = 1654, home /home/NAME, port map 80:8080,443:8443
        (ports: a PortMap, "FROM:TO,..." or {from: to}); compat keeps the current user and
        adds the new ports alongside the old ones."""
        opts = ffi.new("nr_patch_options *")
        check_rc(lib.nr_patch_options_init(opts, lib.NR_PATCH_OPTIONS_VERSION))
        keep = []

        def s(v):
            if v is None:
                return ffi.NULL
            keep.append(ffi.new("char[]", to_bytes(v)))
            return keep[-1]
        opts.user, opts.home, opts.shell = s(user), s(home), s(shell)
        opts.uid = -1 if uid is None else uid
        opts.gid = -1 if gid is None else gid
        opts.no_home = int(no_home)
        if ports is not None:
            pm = ports if isinstance(ports, PortMap) else PortMap(ports)
            keep.append(pm)
            opts.ports = pm._map
        opts.mode = lib.NR_PATCH_COMPAT if compat else lib.NR_PATCH_NONROOT
        opts.dry_run = int(dry_run)
        opts.mtime = -1 if mtime is None else mtime
        if progress is not None:
            keep.append(ffi.new_handle(progress))
            opts.progress = lib._nr_py_scan_progress
            opts.payload = keep[-1]
        out = ffi.new("nr_patch_report **")
        call(lib.nr_image_patch, self._ptr, opts, out)
        return PatchReport(ffi.gc(out[0], lib.nr_patch_report_free))

    def write(self, dest: Optional[str] = None, tag: Optional[str] = None) -> None:
        """Write the (edited) image in place (dest None, oci: only) or to another reference."""
        opts = ffi.new("nr_image_write_options *")
        check_rc(lib.nr_image_write_options_init(opts, lib.NR_IMAGE_WRITE_OPTIONS_VERSION))
        keep = ffi.NULL if tag is None else ffi.new("char[]", to_bytes(tag))
        opts.tag = keep
        call(lib.nr_image_write, self._ptr, cstr(dest), opts)
