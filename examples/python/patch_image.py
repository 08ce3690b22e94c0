#!/usr/bin/env python3
"""Audit an image, make it run as non-root, write it, and show what Kestrel will bind.

    python3 patch_image.py IMAGE DEST     e.g. oci:./app:latest oci:./app:nonroot
"""
import sys

import nonroot


def main(ref: str, dest: str) -> int:
    with nonroot.Image.open(ref) as img:     # closed (temporary files removed) on exit
        for f in img.audit():
            print(f"before: {f.level} {f.id} {f.location}: {f.message}")
        try:
            report = img.patch()              # user app, 1654:1654, ports 80:8080,443:8443
        except nonroot.NonrootError as e:     # e.g. nonroot.Conflict naming the other account
            print(f"cannot patch: {e}", file=sys.stderr)
            return 1
        for c in report:
            print(f"change: {c.what} {c.target}: {c.before} -> {c.after}")
        img.write(dest)

    with nonroot.Image.open(dest) as patched, patched.config() as cfg:
        env = dict(e.split("=", 1) for e in cfg.env)
        who = nonroot.resolve_user(cfg.user, patched.read_file("etc/passwd"),
                                   patched.read_file("etc/group"))
        listen = ", ".join(b.url for b in nonroot.effective_bindings(env))
        print(f"patched: {dest} runs as {who.uid}:{who.gid} ({who.name}), listens on {listen}, "
              f"audit: {patched.audit().max_level}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
