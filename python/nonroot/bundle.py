"""OCI runtime bundles (bundle.h): harden config.json for a non-root run."""
import json as _json
from typing import Any, Callable, Dict, Optional, Tuple

from ._native import ffi, lib
from ._util import (Handle, Text, call, call_file, check_rc, cstr, new_object, owned_string,
                    to_bytes, text)

__all__ = ["Bundle", "BundleReport"]


def _options(user: Optional[str], allow_low_ports: bool, unprivileged_port_start: int,
             allow_root: bool, dry_run: bool) -> Tuple[Any, Any]:
    opts = ffi.new("nr_bundle_harden_options *")
    check_rc(lib.nr_bundle_harden_options_init(opts, lib.NR_BUNDLE_HARDEN_OPTIONS_VERSION))
    # the char[] must outlive the call: returned with opts and held by the caller
    keep = ffi.NULL if user is None else ffi.new("char[]", to_bytes(user))
    opts.user = keep
    opts.allow_low_ports = int(allow_low_ports)
    opts.unprivileged_port_start = unprivileged_port_start
    opts.allow_root = int(allow_root)
    opts.dry_run = int(dry_run)
    return opts, keep


class BundleReport(Handle):
    """What hardening changed and what the bundle still grants."""
    _factory = "Bundle.harden() / Bundle.harden_dir()"

    def _repr_fields(self) -> str:
        return "changes=%d written=%s" % (self.changes, self.written)

    @property
    def changes(self) -> int:
        """The number of changes made (or, in a dry run, that would be made)."""
        return int(lib.nr_bundle_report_changes(self._ptr))

    @property
    def written(self) -> bool:
        """Whether config.json was written."""
        return bool(lib.nr_bundle_report_written(self._ptr))

    def json(self) -> str:
        """The report as JSON text."""
        return owned_string(lib.nr_bundle_report_to_json, self._ptr) or ""

    def text(self) -> str:
        """The report as human-readable text."""
        return owned_string(lib.nr_bundle_report_to_text, self._ptr) or ""

    def to_dict(self) -> Dict[str, Any]:
        """The report as a dict (json() parsed)."""
        d: Dict[str, Any] = _json.loads(self.json())
        return d

    def __str__(self) -> str:
        return self.text()


def _report(fn: Callable[..., int], *args: Any) -> BundleReport:
    out = ffi.new("nr_bundle_report **")
    (call_file if fn is lib.nr_bundle_harden_dir else call)(fn, out, *args)
    return BundleReport._wrap(ffi.gc(out[0], lib.nr_bundle_report_free))


class Bundle(Handle):
    """An OCI runtime bundle: its config.json (and directory, when opened from one)."""
    _factory = "Bundle.open() / Bundle.parse()"

    @classmethod
    def open(cls, directory: str) -> "Bundle":
        """Read DIR/config.json (FileNotFound when it does not exist)."""
        return cls._wrap(new_object(lib.nr_bundle_open, "nr_bundle", lib.nr_bundle_free,
                                    cstr(directory), caller=call_file))

    @classmethod
    def parse(cls, config_json: Text, directory: Optional[str] = None) -> "Bundle":
        """A bundle from config.json text (directory: where it would be saved)."""
        data = to_bytes(config_json)
        return cls._wrap(new_object(lib.nr_bundle_parse, "nr_bundle", lib.nr_bundle_free,
                                    data, len(data), cstr(directory)))

    def _repr_fields(self) -> str:
        return "root=%r" % (self.root_path,)

    @property
    def root_path(self) -> Optional[str]:
        """root.path of config.json."""
        return text(lib.nr_bundle_root_path(self._ptr))

    def dump(self) -> str:
        """config.json as it would be saved."""
        return owned_string(lib.nr_bundle_serialize, self._ptr) or ""

    def __str__(self) -> str:
        return self.dump()

    def save(self) -> None:
        """Write config.json back (atomically) to the bundle directory."""
        call(lib.nr_bundle_write, self._ptr)

    def harden(self, user: Optional[str] = None, allow_low_ports: bool = False,
               unprivileged_port_start: int = -1, allow_root: bool = False) -> BundleReport:
        """Harden in memory (save() writes it); see nr_bundle_harden()."""
        opts, _keep = _options(user, allow_low_ports, unprivileged_port_start, allow_root,
                               False)
        return _report(lib.nr_bundle_harden, self._ptr, opts)

    @staticmethod
    def harden_dir(directory: str, user: Optional[str] = None, allow_low_ports: bool = False,
                   unprivileged_port_start: int = -1, allow_root: bool = False,
                   dry_run: bool = False) -> BundleReport:
        """Open, harden and (unless dry_run or unchanged) save the bundle in directory."""
        opts, _keep = _options(user, allow_low_ports, unprivileged_port_start, allow_root,
                               dry_run)
        return _report(lib.nr_bundle_harden_dir, cstr(directory), opts)
