"""Container images (image.h): open, read verified blobs, scan the layer stack, write."""
import json
import weakref
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple,
                    Optional, Tuple, Union)

from ._native import ffi, lib
from ._util import (Handle, Progress, call, call_file, call_progress, check_rc, cstr,
                    new_object, owned_bytes, owned_string, text, to_bytes)
from .imgconfig import ImageConfig
from .urls import UNPRIVILEGED_PORT_START, PortMap

__all__ = ["Image", "Descriptor", "ScanEntry", "ScanResult", "BlobWriter", "PatchChange",
           "PatchReport", "Finding", "Audit", "AuditConfig", "AuditRule", "audit_rules",
           "LEVELS"]

_TRANSPORTS = {lib.NR_TRANSPORT_OCI: "oci", lib.NR_TRANSPORT_OCI_ARCHIVE: "oci-archive",
               lib.NR_TRANSPORT_DOCKER_ARCHIVE: "docker-archive", lib.NR_TRANSPORT_DOCKER: "docker"}
_ENTRY_TYPES = {lib.NR_ENTRY_NONE: "none", lib.NR_ENTRY_REGULAR: "regular",
                lib.NR_ENTRY_DIRECTORY: "directory", lib.NR_ENTRY_SYMLINK: "symlink",
                lib.NR_ENTRY_CHAR: "char", lib.NR_ENTRY_BLOCK: "block",
                lib.NR_ENTRY_FIFO: "fifo"}

ProgressFn = Callable[[int, int, int, int], object]
"""progress(layer, nlayers, layer_bytes, layer_size): called while layers are read. An
exception it raises is raised by the call it was given to (see Image.scan)."""


class Descriptor(NamedTuple):
    """An OCI content descriptor: media type, digest ("sha256:..."), size in bytes."""
    media_type: str
    digest: str
    size: int


def _descriptor(d: Any) -> Optional[Descriptor]:
    if d == ffi.NULL:
        return None
    return Descriptor(text(d.media_type) or "", text(d.digest) or "", int(d.size))


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
        """Whether the path exists in the final root filesystem."""
        return self.type != "none"


def _entry(e: Any) -> ScanEntry:
    content = None if e.content == ffi.NULL else bytes(ffi.buffer(e.content, e.content_len))
    return ScanEntry(text(e.path) or "", text(e.resolved), _ENTRY_TYPES.get(e.type, "?"),
                     int(e.mode), int(e.uid), int(e.gid), int(e.size), int(e.mtime), content,
                     text(e.link_target), text(e.hardlink), int(e.layer),
                     bool(e.flags & lib.NR_SCAN_ENTRY_TOO_BIG),
                     bool(e.flags & lib.NR_SCAN_ENTRY_LOOP),
                     bool(e.flags & lib.NR_SCAN_ENTRY_NOTDIR))


class ScanResult(Handle):
    """Entries of the requested paths (in request order) and, on request, set-id files
    (copies); the C result is kept for get() until close()."""
    _factory = "Image.scan()"
    entries: List[ScanEntry]
    setid: List[ScanEntry]

    @classmethod
    def _new(cls, ptr: Any) -> "ScanResult":
        self = cls._wrap(ptr)
        self.entries = [_entry(lib.nr_scan_result_at(ptr, k))
                        for k in range(lib.nr_scan_result_count(ptr))]
        self.setid = [_entry(lib.nr_scan_result_setid_at(ptr, k))
                      for k in range(lib.nr_scan_result_setid_count(ptr))]
        return self

    def _repr_fields(self) -> str:
        return "%d entries, %d set-id" % (len(self.entries), len(self.setid))

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

    def __iter__(self) -> Iterator[ScanEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


class BlobWriter(Handle):
    """A new blob streamed into the image's staging area: write(), then finish(); close()
    (or leaving a `with` block) discards an unfinished blob."""
    _factory = "Image.blob_writer()"
    _image: "Image"

    def _repr_fields(self) -> str:
        return "for %r" % (self._image._ref,)

    def write(self, data: bytes) -> None:
        """Append data to the blob."""
        self._image._ptr  # the image must still be open
        call(lib.nr_blob_writer_write, self._ptr, data, len(data))

    def finish(self) -> Tuple[str, int]:
        """(digest, size) of the finished blob."""
        self._image._ptr
        digest = ffi.new("char[72]")
        size = ffi.new("uint64_t *")
        call(lib.nr_blob_writer_finish, digest, size, self._ptr)
        return str(ffi.string(digest).decode("ascii")), int(size[0])


class PatchChange(NamedTuple):
    """One planned (or made) change of a patch."""
    manifest: int
    platform: str
    what: str                 # "file", "directory", "config", "env", "exposed-port", ...
    target: str               # "etc/passwd", "User", "ASPNETCORE_URLS", "80/tcp", ...
    before: Optional[str]
    after: Optional[str]
    why: str


class _Copied:
    """Base of the results copied out of a C object that is freed at once: no public
    constructor."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("nonroot.%s objects are returned by Image methods, not constructed"
                        % type(self).__name__)


class PatchReport(_Copied):
    """The outcome of Image.patch(): the changes (copied), whether anything changed, and
    the uid/gid the image runs as afterwards."""
    changes: List[PatchChange]
    changed: bool
    uid: int
    gid: int
    dry_run: bool
    platforms: List[str]
    _image: Optional[str]
    _report: Any            # the C report, kept for Image.write() to record the digests
    _json: str

    @classmethod
    def _new(cls, ptr: Any, image: Optional[str] = None) -> "PatchReport":
        self = cls.__new__(cls)
        self.changes = []
        for k in range(lib.nr_patch_report_count(ptr)):
            c = lib.nr_patch_report_at(ptr, k)
            self.changes.append(PatchChange(int(c.manifest), text(c.platform) or "",
                                            text(c.what) or "", text(c.target) or "",
                                            text(c.before), text(c.after), text(c.why) or ""))
        self.changed = bool(lib.nr_patch_report_changed(ptr))
        self.uid = int(lib.nr_patch_report_uid(ptr))
        self.gid = int(lib.nr_patch_report_gid(ptr))
        self.dry_run = bool(lib.nr_patch_report_dry_run(ptr))
        self.platforms = [text(lib.nr_patch_report_platform_at(ptr, i)) or ""
                          for i in range(lib.nr_patch_report_platform_count(ptr))]
        self._image = image
        self._report = ptr
        self._json = owned_string(lib.nr_patch_report_to_json, ptr, cstr(image),
                                  ffi.NULL) or ""
        return self

    def _set_written(self, img: Any, written: str) -> None:
        """Image.write() wrote the patched image to `written`: record its digests
        (nr_patch_report_set_written) and make the JSON document again."""
        call(lib.nr_patch_report_set_written, self._report, img)
        self._json = owned_string(lib.nr_patch_report_to_json, self._report,
                                  cstr(self._image), cstr(written)) or ""

    def to_json(self) -> str:
        """The library's JSON document of the report (nr_patch_report_to_json), as
        `nonroot patch --format json` prints it without the CLI's audit of the result.
        Before Image.write() "written", "result" and each platform's "manifest" are null
        (as for `--dry-run`); after it they are the written reference and digests."""
        return self._json

    def bindings(self, manifest: int = 0, after: bool = False) -> Optional[Dict[str, Any]]:
        """The effective Kestrel bindings document of a platform before (or after) the
        patch, as `nonroot urls --json` prints it; None when Kestrel would refuse them."""
        doc: Dict[str, Any] = json.loads(self._json)["platforms"][manifest]
        return doc["bindings_after" if after else "bindings_before"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return "<nonroot.PatchReport changed=%s uid=%d gid=%d, %d changes>" % (
            self.changed, self.uid, self.gid, len(self.changes))

    def __iter__(self) -> Iterator[PatchChange]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)


LEVELS = ("none", "note", "warning", "error")   # index = nr_level


def _level(v: int) -> str:
    return text(lib.nr_level_name(v)) or "?"


class AuditRule(NamedTuple):
    """An audit rule's static metadata (as SARIF's reportingDescriptor)."""
    id: str
    name: str
    level: str
    summary: str
    help: str


def _rule(r: Any) -> Optional[AuditRule]:
    if r == ffi.NULL:
        return None
    return AuditRule(text(r.id) or "", text(r.name) or "", _level(r.level),
                     text(r.summary) or "", text(r.help) or "")


def audit_rules() -> List[AuditRule]:
    """Every audit rule (static metadata, as in SARIF's tool.driver.rules)."""
    rules = [_rule(lib.nr_audit_rule_at(k)) for k in range(lib.nr_audit_rule_count())]
    return [r for r in rules if r is not None]


def audit_rule(rule_id: str) -> Optional[AuditRule]:
    """The rule with this id ("NR001"), or None."""
    return _rule(lib.nr_audit_rule_get(cstr(rule_id)))


class Finding(NamedTuple):
    """One audit finding: rule id, level, where (manifest, platform, location), message and
    the suggested fix."""
    id: str                   # "NR001"
    level: str                # "note", "warning", "error"
    manifest: int
    platform: str
    location: str             # "config.User", "config.Env.ASPNETCORE_URLS", "usr/bin/su", ...
    message: str
    fix: str
    fingerprint: str = ""     # stable across rebuilds (SARIF partialFingerprints "nonroot/v1")
    baseline: bool = False    # in the baseline of the AuditConfig applied


class AuditConfig(Handle):
    """What a pipeline accepts (nr_audit_config): ignored rules, level overrides, allowed
    set-id paths and a baseline of earlier findings. Pass it to Image.audit(config=...)."""
    _factory = "AuditConfig.new()"

    @classmethod
    def new(cls, text: Optional[str] = None, source: Optional[str] = None) -> "AuditConfig":
        """An empty config, or one with a config file's settings (text)."""
        cfg = cls._wrap(new_object(lib.nr_audit_config_new, "nr_audit_config",
                                   lib.nr_audit_config_free))
        if text is not None:
            cfg.load(text, source)
        return cfg

    def load(self, text: str, source: Optional[str] = None) -> None:
        """Add a config file's settings (JSON, or the YAML subset of docs/audit-config.md)."""
        data = to_bytes(text)
        call(lib.nr_audit_config_load, self._ptr, data, len(data), cstr(source))

    def ignore(self, ids: str) -> None:
        """Drop the findings of these rules ("NR008" or "NR008,NR003")."""
        call(lib.nr_audit_config_ignore, self._ptr, cstr(ids))

    def set_level(self, rule_id: str, level: str) -> None:
        """Override a rule's level: "error", "warning", "note" or "none" (dropped)."""
        call(lib.nr_audit_config_set_level, self._ptr, cstr(rule_id), LEVELS.index(level))

    def allow_setid(self, pattern: str) -> None:
        """Accept set-id files matching pattern ("/usr/bin/su", fnmatch '*')."""
        call(lib.nr_audit_config_allow_setid, self._ptr, cstr(pattern))

    def load_baseline(self, report: str, source: Optional[str] = None) -> None:
        """An earlier audit JSON or SARIF report: its findings no longer count."""
        data = to_bytes(report)
        call(lib.nr_audit_config_load_baseline, self._ptr, data, len(data), cstr(source))


class Audit(_Copied):
    """The findings of Image.audit() (copied), per platform."""
    platforms: List[str]
    users: List[str]
    findings: List[Finding]
    max_level: str
    suppressed: int
    _image: Optional[str]
    _audit: Any             # the C audit, kept for to_sarif()
    _json: str

    @classmethod
    def _new(cls, ptr: Any, image: Optional[str] = None) -> "Audit":
        self = cls.__new__(cls)
        self.platforms = [text(lib.nr_audit_platform_at(ptr, i)) or ""
                          for i in range(lib.nr_audit_platform_count(ptr))]
        self.users = [text(lib.nr_audit_user(ptr, i)) or ""
                      for i in range(len(self.platforms))]
        self.findings = []
        for k in range(lib.nr_audit_count(ptr)):
            f = lib.nr_audit_at(ptr, k)
            self.findings.append(Finding(text(f.id) or "", _level(f.level), int(f.manifest),
                                         text(f.platform) or "", text(f.location) or "",
                                         text(f.message) or "", text(f.fix) or "",
                                         text(f.fingerprint) or "", bool(f.baseline)))
        self.max_level = _level(lib.nr_audit_max_level(ptr))
        self.suppressed = int(lib.nr_audit_suppressed_count(ptr))
        self._json = owned_string(lib.nr_audit_to_json, ptr, cstr(image)) or ""
        self._image = image
        self._audit = ptr
        return self

    def to_json(self) -> str:
        """The library's JSON document of the audit (nr_audit_to_json), as
        `nonroot audit --format json IMAGE` prints it."""
        return self._json

    def to_text(self, quiet: bool = False) -> str:
        """The library's text report of the audit (nr_audit_to_text), as `nonroot audit
        IMAGE` prints it; quiet: the findings only, one line each (`nonroot audit -q`)."""
        return owned_string(lib.nr_audit_to_text, self._audit, cstr(self._image),
                            1 if quiet else 0) or ""

    def to_sarif(self, exit_code: int = 0, baseline: bool = False) -> str:
        """The library's SARIF 2.1.0 document of the audit (nr_audit_to_sarif), as
        `nonroot audit --format sarif IMAGE` prints it: exit_code goes into
        invocations[0].exitCode; baseline (a baseline was applied): every result has a
        baselineState."""
        return owned_string(lib.nr_audit_to_sarif, self._audit, cstr(self._image),
                            exit_code, 1 if baseline else 0) or ""

    def bindings(self, i: int = 0) -> Optional[Dict[str, Any]]:
        """The effective Kestrel bindings document of platform i (as `nonroot urls --json`
        prints it); None when Kestrel would refuse them."""
        doc: Dict[str, Any] = json.loads(self._json)["platforms"][i]
        return doc["bindings"]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return "<nonroot.Audit max_level=%s, %d findings, platforms=%r>" % (
            self.max_level, len(self.findings), self.platforms)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)


class Image(Handle):
    """An opened container image: oci:DIR[:TAG], oci-archive:FILE[:TAG],
    docker-archive:FILE[:NAME:TAG], or a bare path. Use it as a context manager (or call
    close()): closing frees it and removes the temporary directory an archive was unpacked
    into."""
    _factory = "Image.open()"
    _ref = ""

    @classmethod
    def open(cls, ref: str, platform: Optional[str] = None,
             tmpdir: Optional[str] = None, creds: Optional[str] = None,
             authfile: Optional[str] = None, cert_dir: Optional[str] = None,
             tls_verify: bool = True) -> "Image":
        """Open an image reference; platform ("linux/amd64") picks one manifest of an index,
        tmpdir is where archives are unpacked (default $TMPDIR). FileNotFound when the path
        does not exist. For docker://HOST/REPO[:TAG] (a registry, also as a write
        destination): creds "USER:PASSWORD" (default: the auth files), authfile, cert_dir
        (CA *.crt files), tls_verify=False for a local registry (see docs/registry.md)."""
        opts = ffi.new("nr_image_open_options *")
        check_rc(lib.nr_image_open_options_init(opts, lib.NR_IMAGE_OPEN_OPTIONS_VERSION))
        keep = [ffi.new("char[]", to_bytes(s)) if s is not None else ffi.NULL
                for s in (platform, tmpdir, creds, authfile, cert_dir)]
        opts.platform, opts.tmpdir, opts.creds, opts.authfile, opts.cert_dir = keep
        opts.tls_verify = 1 if tls_verify else 0
        img = cls._wrap(new_object(lib.nr_image_open, "nr_image", lib.nr_image_free,
                                   cstr(ref), opts, caller=call_file))
        img._ref = ref
        return img

    @property
    def ref(self) -> str:
        """The reference the image was opened from."""
        return self._ref

    def _repr_fields(self) -> str:
        return "%r transport=%s manifests=%d" % (self._ref, self.transport, len(self))

    @property
    def transport(self) -> str:
        """"oci", "oci-archive", "docker-archive" or "docker" (a registry)."""
        return _TRANSPORTS.get(lib.nr_image_transport_of(self._ptr), "?")

    def __len__(self) -> int:
        """The number of manifests (platforms)."""
        return int(lib.nr_image_count(self._ptr))

    @property
    def platforms(self) -> List[str]:
        """The platform ("linux/amd64") of each manifest."""
        return [text(lib.nr_image_platform_at(self._ptr, i)) or "" for i in range(len(self))]

    def manifest_media_type(self, i: int = 0) -> Optional[str]:
        """Manifest i's media type (OCI or Docker v2), None when i is out of range."""
        return text(lib.nr_image_manifest_media_type(self._ptr, i))

    def config_json(self, i: int = 0) -> Optional[str]:
        """Manifest i's config blob as JSON text, None when i is out of range."""
        n = ffi.new("size_t *")
        p = lib.nr_image_config(n, self._ptr, i)
        return None if p == ffi.NULL else str(ffi.buffer(p, n[0])[:].decode("utf-8"))

    def config(self, i: int = 0) -> ImageConfig:
        """Manifest i's config, parsed for reading or editing (see set_config)."""
        data = self.config_json(i)
        if data is None:
            raise IndexError(i)
        return ImageConfig.parse(data)

    def config_descriptor(self, i: int = 0) -> Optional[Descriptor]:
        """Manifest i's config descriptor."""
        return _descriptor(lib.nr_image_config_descriptor(self._ptr, i))

    def layers(self, i: int = 0) -> List[Descriptor]:
        """Manifest i's layer descriptors, bottom first."""
        out = [_descriptor(lib.nr_image_layer_at(self._ptr, i, j))
               for j in range(lib.nr_image_layer_count(self._ptr, i))]
        return [d for d in out if d is not None]

    def scan(self, paths: Iterable[str], i: int = 0, content_max: int = 0,
             setid: bool = False, progress: Optional[ProgressFn] = None) -> ScanResult:
        """The effective entries of paths in manifest i (one streaming pass). An exception
        raised by progress is raised here (no further progress calls are made)."""
        keep = [ffi.new("char[]", to_bytes(p)) for p in paths]
        arr = ffi.new("const char *[]", keep or [ffi.NULL])
        req = ffi.new("nr_scan_request *")
        req.version = lib.NR_SCAN_REQUEST_VERSION
        req.paths = arr
        req.npaths = len(keep)
        req.content_max = content_max
        req.flags = lib.NR_SCAN_SETID if setid else 0
        prog = _progress(req, progress)
        out = ffi.new("nr_scan_result **")
        try:
            call_progress(prog, lib.nr_image_scan, out, self._ptr, i, req)
        finally:
            res = ffi.gc(out[0], lib.nr_scan_result_free) if out[0] != ffi.NULL else None
        return ScanResult._new(res)

    def unpack(self, directory: str, i: int = 0, rootless: bool = False,
               xattrs: bool = True, progress: Optional[ProgressFn] = None) -> None:
        """Write the final root filesystem of manifest i to directory (new or empty),
        every create confined to it (nr_image_unpack)."""
        opts = ffi.new("nr_unpack_options *")
        check_rc(lib.nr_unpack_options_init(opts, lib.NR_UNPACK_OPTIONS_VERSION))
        if rootless:
            opts.flags |= lib.NR_UNPACK_ROOTLESS
        if not xattrs:
            opts.flags |= lib.NR_UNPACK_NO_XATTRS
        prog = _progress(opts, progress)
        call_progress(prog, lib.nr_image_unpack, self._ptr, i, to_bytes(directory), opts)

    def bundle(self, directory: str, i: int = 0, allow_root: bool = False,
               read_only: bool = False, hostname: Optional[str] = None) -> None:
        """Make a hardened OCI runtime bundle of manifest i in directory (rootfs +
        config.json, as umoci unpack; nr_image_bundle)."""
        opts = ffi.new("nr_bundle_gen_options *")
        check_rc(lib.nr_bundle_gen_options_init(opts, lib.NR_BUNDLE_GEN_OPTIONS_VERSION))
        if allow_root:
            opts.flags |= lib.NR_BUNDLE_GEN_ALLOW_ROOT
        if read_only:
            opts.flags |= lib.NR_BUNDLE_GEN_READONLY_ROOT
        keep = ffi.new("char[]", to_bytes(hostname)) if hostname is not None else ffi.NULL
        opts.hostname = keep
        call(lib.nr_image_bundle, self._ptr, i, to_bytes(directory), opts)

    def read_file(self, path: str, i: int = 0) -> bytes:
        """The content of one effective regular file (symlinks followed), at most 10 MiB."""
        out = ffi.new("char **")
        n = ffi.new("size_t *")
        call(lib.nr_image_read_file, out, n, self._ptr, i, cstr(path))
        return owned_bytes(out, n)

    def blob_writer(self) -> BlobWriter:
        """A writer of a new blob into this image (see BlobWriter)."""
        w = BlobWriter._wrap(new_object(lib.nr_blob_writer_open, "nr_blob_writer",
                                        lib.nr_blob_writer_free, self._ptr))
        w._image = self
        return w

    def add_blob(self, data: bytes) -> Tuple[str, int]:
        """Write data as a new blob: (digest, size)."""
        with self.blob_writer() as w:
            w.write(data)
            return w.finish()

    def set_config(self, config: Union[ImageConfig, str], i: int = 0) -> None:
        """Replace manifest i's config (an ImageConfig or JSON text)."""
        data = to_bytes(str(config))
        call(lib.nr_image_set_config, self._ptr, i, data, len(data))

    def add_layer(self, desc: Descriptor, i: int = 0) -> None:
        """Append a layer (a blob written with blob_writer/add_blob) to manifest i."""
        d = ffi.new("nr_descriptor *")
        keep = (ffi.new("char[]", to_bytes(desc.media_type)),
                ffi.new("char[]", to_bytes(desc.digest)))
        d.media_type, d.digest = keep
        d.size = desc.size
        call(lib.nr_image_add_layer, self._ptr, i, d)

    def audit(self, threshold: int = UNPRIVILEGED_PORT_START,
              progress: Optional[ProgressFn] = None,
              config: Optional[AuditConfig] = None) -> Audit:
        """Audit every manifest; problems of the image are findings, not exceptions. An
        exception raised by progress is raised here. config: what is accepted (ignored
        rules, levels, allowed set-id paths, a baseline), as `nonroot audit --config`."""
        opts = ffi.new("nr_audit_options *")
        check_rc(lib.nr_audit_options_init(opts, lib.NR_AUDIT_OPTIONS_VERSION))
        opts.threshold = threshold
        prog = _progress(opts, progress)
        out = ffi.new("nr_audit **")
        try:
            call_progress(prog, lib.nr_image_audit, out, self._ptr, opts)
        finally:
            res = ffi.gc(out[0], lib.nr_audit_free) if out[0] != ffi.NULL else None
        if config is not None:
            call(lib.nr_audit_apply, res, config._ptr)
        return Audit._new(res, self._ref)   # keeps res (freed by the gc) for to_sarif()

    def patch(self, user: Optional[str] = None, uid: Optional[int] = None,
              gid: Optional[int] = None, home: Optional[str] = None, no_home: bool = False,
              shell: Optional[str] = None,
              ports: Union[PortMap, str, Mapping[int, int], None] = None,
              compat: bool = False, dry_run: bool = False, mtime: Optional[int] = None,
              progress: Optional[ProgressFn] = None) -> PatchReport:
        """Make every manifest run as a non-root user (in memory; write() saves it).
        Defaults: user "app", uid = gid = 1654, home /home/NAME, port map 80:8080,443:8443
        (ports: a PortMap, "FROM:TO,..." or {from: to}); compat keeps the current user and
        adds the new ports alongside the old ones. An exception raised by progress is raised
        here."""
        opts = ffi.new("nr_patch_options *")
        check_rc(lib.nr_patch_options_init(opts, lib.NR_PATCH_OPTIONS_VERSION))
        keep: List[Any] = []

        def s(v: Optional[str]) -> Any:
            if v is None:
                return ffi.NULL
            keep.append(ffi.new("char[]", to_bytes(v)))
            return keep[-1]
        opts.user, opts.home, opts.shell = s(user), s(home), s(shell)
        opts.uid = lib.NR_ID_AUTO if uid is None else uid
        opts.gid = lib.NR_ID_AUTO if gid is None else gid
        opts.no_home = int(no_home)
        if ports is not None:
            pm = ports if isinstance(ports, PortMap) else PortMap(ports)
            keep.append(pm)
            opts.ports = pm._map
        opts.mode = lib.NR_PATCH_COMPAT if compat else lib.NR_PATCH_NONROOT
        opts.dry_run = int(dry_run)
        opts.mtime = -1 if mtime is None else mtime
        prog = _progress(opts, progress)
        out = ffi.new("nr_patch_report **")
        try:
            call_progress(prog, lib.nr_image_patch, out, self._ptr, opts)
        finally:
            res = ffi.gc(out[0], lib.nr_patch_report_free) if out[0] != ffi.NULL else None
        rep = PatchReport._new(res, self._ref)
        if not dry_run:
            # write() records what it wrote in the reports of this image's patches
            reports: List["weakref.ref[PatchReport]"] = self.__dict__.setdefault("_reports", [])
            reports[:] = [r for r in reports if r() is not None] + [weakref.ref(rep)]
        return rep

    def write_check(self, dest: Optional[str] = None, tag: Optional[str] = None) -> None:
        """Check what write() would check (destination, tag grammar, one tag), writing
        nothing: raises the same error write() would."""
        opts = ffi.new("nr_image_write_options *")
        check_rc(lib.nr_image_write_options_init(opts, lib.NR_IMAGE_WRITE_OPTIONS_VERSION))
        keep = ffi.NULL if tag is None else ffi.new("char[]", to_bytes(tag))
        opts.tag = keep
        call(lib.nr_image_write_check, self._ptr, cstr(dest), opts)

    def write(self, dest: Optional[str] = None, tag: Optional[str] = None) -> Optional[str]:
        """Write the (edited) image in place (dest None, oci: only) or to another reference.
        Returns the digest of the written image's manifest or index (nr_image_written(), what
        `nonroot patch --digestfile` writes), None for a docker-archive or when index.json
        lists several entries. The PatchReports of this image's patches (not dry runs)
        record the write: their to_json() then has "written", "result" and the manifests."""
        opts = ffi.new("nr_image_write_options *")
        check_rc(lib.nr_image_write_options_init(opts, lib.NR_IMAGE_WRITE_OPTIONS_VERSION))
        keep = ffi.NULL if tag is None else ffi.new("char[]", to_bytes(tag))
        opts.tag = keep
        call(lib.nr_image_write, self._ptr, cstr(dest), opts)
        for ref in self.__dict__.get("_reports", []):
            rep = ref()
            if rep is not None:
                rep._set_written(self._ptr, self._ref if dest is None else dest)
        d = lib.nr_image_written(self._ptr)
        return None if d == ffi.NULL else text(d.digest)

    def written_manifest(self, i: int = 0) -> Optional[Descriptor]:
        """Manifest i as the last write() wrote it (nr_image_written_manifest()); None
        before a write or for a docker-archive."""
        return _descriptor(lib.nr_image_written_manifest(self._ptr, i))


def _progress(opts: Any, fn: Optional[ProgressFn]) -> Optional[Progress]:
    """Set opts.progress / opts.payload for a Python callable (kept alive by the result)."""
    if fn is None:
        return None
    p = Progress(fn)
    opts.progress = lib._nr_py_scan_progress
    opts.payload = p.handle
    return p
