#!/usr/bin/env python3
"""The 0.2 API conventions (docs/library.md, "Changes in 0.2") applied to a C, Python, Java or Perl
tree written for libnonroot 0.1: renames, and output parameters moved first. Run it ONCE, at the
top of a git checkout (it edits the files git lists); a second run would move the arguments again."""
import re, subprocess, sys

RENAMES = {
    # the element k of a list: <list>_at (with <list>_count)
    "nr_passwd_entry": "nr_passwd_at",
    "nr_group_entry": "nr_group_at",
    "nr_shadow_entry": "nr_shadow_at",
    "nr_gshadow_entry": "nr_gshadow_at",
    "nr_scan_result_entry": "nr_scan_result_at",
    "nr_scan_result_setid": "nr_scan_result_setid_at",
    "nr_bindings_get": "nr_bindings_at",
    "nr_bindings_warning": "nr_bindings_warning_at",
    "nr_audit_finding": "nr_audit_at",
    "nr_patch_report_change": "nr_patch_report_at",
    "nr_image_layer": "nr_image_layer_at",
    "nr_image_platform": "nr_image_platform_at",
    "nr_audit_platform": "nr_audit_platform_at",
    "nr_patch_report_platform": "nr_patch_report_platform_at",
    # lookups by key: _get
    "nr_audit_rule_find": "nr_audit_rule_get",
    # to memory: _serialize (to disk: _write)
    "nr_passwd_write": "nr_passwd_serialize",
    "nr_group_write": "nr_group_serialize",
    "nr_shadow_write": "nr_shadow_serialize",
    "nr_gshadow_write": "nr_gshadow_serialize",
    "nr_bundle_dump": "nr_bundle_serialize",
    "nr_bundle_save": "nr_bundle_write",
    # report formats: _to_json / _to_text
    "nr_bundle_report_json": "nr_bundle_report_to_json",
    "nr_bundle_report_text": "nr_bundle_report_to_text",
    # internal helpers: the internal prefix
    "nr_buf": "nr__buf",
    "NR_BUF_INIT": "NR__BUF_INIT",
    "nr_cursor": "nr__cursor",
    "nr_cursor_init": "nr__cursor_init",
    "nr_cursor_line": "nr__cursor_line",
    "nr_parse_u32": "nr__parse_u32",
    "nr_parse_u64": "nr__parse_u64",
    "nr_span_eq": "nr__span_eq",
    "nr_span_has_ctrl": "nr__span_has_ctrl",
    "nr_split_fields": "nr__split_fields",
}
PREFIX_RENAMES = {"nr_buf_": "nr__buf_"}

ARG = r"([^,();]+(?:\([^()]*\))?[^,();]*)"
# out-parameters first: (name, number of arguments before the out-parameters, how many outs)
REORDER = [
    ("nr_passwd_serialize", 1, 2),
    ("nr_group_serialize", 1, 2),
    ("nr_shadow_serialize", 1, 2),
    ("nr_gshadow_serialize", 1, 2),
    ("nr_image_scan", 3, 1),
    ("nr_image_audit", 2, 1),
    ("nr_image_patch", 2, 1),
    ("nr_bundle_harden", 2, 1),
    ("nr_bundle_harden_dir", 2, 1),
    ("nr_passwd_check", 2, 2),
    ("nr_group_check", 2, 2),
    ("nr_shadow_check", 2, 2),
    ("nr_gshadow_check", 2, 2),
    ("nr_image_read_file", 3, 2),
    ("nr_rootfs_read_file", 3, 2),
    ("nr_userspec_additional_gids", 3, 2),
    ("nr_imgconfig_parse_port_key", 1, 2),
    ("nr_rootfs_add_user", 2, 1),
    ("nr_rootfs_resolve_user", 3, 1),
    ("nr_passwd_next_free_id", 4, 1),
    ("nr_group_next_free_gid", 3, 1),
    ("nr_blob_writer_finish", 1, 2),
    ("nr_patch_report_written", 1, 1),
    ("nr_patch_report_descriptor", 3, 2),
    ("nr_bindings_variable", 2, 1),
    ("nr_audit_bindings", 2, 1),
    ("nr_image_config", 2, 1),
]

# the Python package passes the out-parameters through helpers: those calls by hand
PYFIX = [
    ("python/nonroot/accounts.py", "owned_string(self._write, self._ptr, out_last=True)",
     "owned_string(self._write, self._ptr)"),
    ("python/nonroot/accounts.py", '"""fn(*args, &problems, &count, err): the problems',
     '"""fn(&problems, &count, *args, err): the problems'),
    ("python/nonroot/accounts.py", "    call(fn, *args, arr, count)\n",
     "    call(fn, arr, count, *args)\n"),
    ("python/nonroot/accounts.py",
     "call(lib.nr_userspec_additional_gids, _ptr(gr), arr, len(keep), out, n)",
     "call(lib.nr_userspec_additional_gids, out, n, _ptr(gr), arr, len(keep))"),
    ("python/nonroot/bundle.py", "(fn, *args, out)", "(fn, out, *args)"),
    ("python/nonroot/image.py", "lib.nr_image_scan, self._ptr, i, req, out)",
     "lib.nr_image_scan, out, self._ptr, i, req)"),
    ("python/nonroot/image.py", "call(lib.nr_image_read_file, self._ptr, i, cstr(path), out, n)",
     "call(lib.nr_image_read_file, out, n, self._ptr, i, cstr(path))"),
    ("python/nonroot/image.py", "lib.nr_image_audit, self._ptr, opts, out)",
     "lib.nr_image_audit, out, self._ptr, opts)"),
    ("python/nonroot/image.py", "lib.nr_image_patch, self._ptr, opts, out)",
     "lib.nr_image_patch, out, self._ptr, opts)"),
    ("python/nonroot/imgconfig.py", "call(lib.nr_imgconfig_parse_port_key, data, port, proto)",
     "call(lib.nr_imgconfig_parse_port_key, port, proto, data)"),
    ("python/nonroot/rootfs.py", "call(lib.nr_rootfs_read_file, self._ptr, cstr(path), max_size, out, n)",
     "call(lib.nr_rootfs_read_file, out, n, self._ptr, cstr(path), max_size)"),
    ("python/nonroot/rootfs.py", "call(lib.nr_rootfs_add_user, self._ptr, opts, res)",
     "call(lib.nr_rootfs_add_user, res, self._ptr, opts)"),
    ("python/nonroot/accounts.py",
     "call(lib.nr_passwd_next_free_id, self._ptr, _ptr(group), first, last, out)",
     "call(lib.nr_passwd_next_free_id, out, self._ptr, _ptr(group), first, last)"),
    ("python/nonroot/accounts.py", "call(lib.nr_group_next_free_gid, self._ptr, first, last, out)",
     "call(lib.nr_group_next_free_gid, out, self._ptr, first, last)"),
    ("python/nonroot/image.py", "call(lib.nr_blob_writer_finish, self._ptr, digest, size)",
     "call(lib.nr_blob_writer_finish, digest, size, self._ptr)"),
    ("python/nonroot/rootfs.py", "call(lib.nr_rootfs_resolve_user, self._ptr, cstr(spec), opts, out)",
     "call(lib.nr_rootfs_resolve_user, out, self._ptr, cstr(spec), opts)"),
]

def reorder(text):
    for name, before, outs in REORDER:
        pat = r"\b" + name + r"\(" + r",".join([r"(\s*)" + ARG] * (before + outs)) + r"(?=\s*[,)])"
        def fix(m):
            g = m.groups()
            sp = [g[2 * k] for k in range(before + outs)]
            args = [g[2 * k + 1] for k in range(before + outs)]
            new = args[before:] + args[:before]
            return name + "(" + ",".join(sp[k] + new[k].strip() if k else new[k].strip()
                                         for k in range(len(new)))
        text = re.sub(pat, fix, text)
    return text

def main():
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
    skip = ("fuzz/corpus/", "abi/", "tests/data/", "scripts/rename-api.py")
    exts = (".c", ".h", ".py", ".i", ".java", ".pl", ".t", ".md", ".1", ".sh", ".bash",
            ".txt", ".map", ".in", ".toml", ".cmake", ".pm")
    changed = 0
    names = sorted(RENAMES, key=len, reverse=True)
    word = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    pref = re.compile(r"\b(" + "|".join(map(re.escape, PREFIX_RENAMES)) + r")(?=\w)")
    for f in files:
        if f.startswith(skip) or not (f.endswith(exts) or f.endswith("CMakeLists.txt")):
            continue
        try:
            old = open(f, encoding="utf-8").read()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        new = word.sub(lambda m: RENAMES[m.group(1)], old)
        new = pref.sub(lambda m: PREFIX_RENAMES[m.group(1)], new)
        if f.endswith((".c", ".h", ".py", ".java", ".pl", ".t", ".i")):
            new = reorder(new)
        if new != old:
            open(f, "w", encoding="utf-8").write(new)
            changed += 1
    for f, a, b in PYFIX:
        t = open(f, encoding="utf-8").read()
        if a in t:
            open(f, "w", encoding="utf-8").write(t.replace(a, b))
        elif b not in t:
            print(f"rename-api: {f}: neither the old nor the new text of {a!r}")
    print(f"rename-api: {changed} files changed")

main()
