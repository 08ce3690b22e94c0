"""libnonroot for Python: make container images run as a non-root user.

A thin layer over the C library (CFFI, API mode): every function maps types and turns a
negative return code into a NonrootError subclass. Objects owning a C object (Image, Passwd,
RootFS, ...) are made by factory functions (Image.open, Passwd.parse, ...), are context
managers and have close(); otherwise the garbage collector frees them.

    with nonroot.Image.open("oci:./app:latest") as img:
        for finding in img.audit():
            print(finding.level, finding.id, finding.message)
"""
from ._native import ffi, lib
from .errors import (AlreadyExists, Conflict, DigestMismatch, FileNotFound, InvalidArgument,
                     InvalidInput, IOFailure, NonrootError, NotFound, OutOfMemory, OutOfRange,
                     PathEscape, TooBig, Unsupported)
from .imgconfig import ImageConfig, parse_port_key
from .bundle import Bundle, BundleReport
from .urls import (UNPRIVILEGED_PORT_START, Binding, Bindings, PortMap, Url,
                   effective_bindings, parse_url, parse_urls, rewrite_urls, urls_key_of)
from .accounts import (USER_ID_MAX, USER_ID_MIN, SYS_ID_MAX, SYS_ID_MIN, ExecUser, GrEnt,
                       Group, GShadow, Passwd, PwEnt, SgEnt, Shadow, SpEnt, additional_gids,
                       check_name, resolve_user, shadow_days_now)
from .rootfs import AddUserResult, RootFS
from .image import (LEVELS, Audit, AuditConfig, AuditRule, BlobWriter, Descriptor, Finding,
                    Image, PatchChange, PatchReport, ScanEntry, ScanResult, audit_rule,
                    audit_rules)

__all__ = [
    "version", "version_number", "version_check", "VERSION_NUMBER", "UNPRIVILEGED_PORT_START",
    "strerror", "NonrootError", "InvalidInput", "NotFound", "OutOfRange",
    "IOFailure", "OutOfMemory", "AlreadyExists", "Conflict", "Unsupported", "DigestMismatch",
    "TooBig", "PathEscape", "InvalidArgument", "FileNotFound",
    "ImageConfig", "parse_port_key", "Bundle", "BundleReport",
    "Url", "Binding", "Bindings", "PortMap", "parse_url", "parse_urls", "effective_bindings",
    "urls_key_of", "rewrite_urls",
    "Image", "Descriptor", "ScanEntry", "ScanResult", "BlobWriter", "PatchChange", "PatchReport",
    "Audit", "AuditConfig", "AuditRule", "Finding", "audit_rules", "audit_rule", "LEVELS",
    "Passwd", "Group", "Shadow", "GShadow", "PwEnt", "GrEnt", "SpEnt", "SgEnt", "ExecUser",
    "resolve_user", "additional_gids", "check_name", "shadow_days_now",
    "SYS_ID_MIN", "SYS_ID_MAX", "USER_ID_MIN", "USER_ID_MAX", "RootFS", "AddUserResult",
]

__version__ = "0.2.0"


def version() -> str:
    """The version of the loaded libnonroot ("MAJOR.MINOR.PATCH")."""
    return str(ffi.string(lib.nr_version()).decode("ascii"))


# The version of the headers the extension was built with (NR_VERSION_NUMBER).
VERSION_NUMBER: int = int(lib.NR_VERSION_NUMBER)


def version_number() -> int:
    """The loaded libnonroot's version as one number, MAJOR * 10000 + MINOR * 100 + PATCH
    (nr_version_number(); 0.2.0 is 200)."""
    return int(lib.nr_version_number())


def version_check(major: int, minor: int = 0, patch: int = 0) -> bool:
    """Whether the loaded libnonroot is version MAJOR.MINOR.PATCH or later (as the C macro
    NR_VERSION_CHECK does for the headers)."""
    return version_number() >= major * 10000 + minor * 100 + patch


def strerror(code: int) -> str:
    """The English name of an NR_E* code ("invalid input", ...)."""
    return str(ffi.string(lib.nr_strerror(code)).decode("ascii"))
