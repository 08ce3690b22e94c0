#!/usr/bin/env python3
"""hostile_layer.py OUT.tar: one layer that plants symlinks out of the root (etc -> /,
up -> ../../../../..) and writes through them, plus "../" and absolute member names and a
hard link through the planted link. Unpacked confined, everything lands inside the target."""
import io, sys, tarfile
out = sys.argv[1]
def add(t, name, type=tarfile.REGTYPE, data=b"", link="", mode=0o644):
    ti = tarfile.TarInfo(name); ti.type = type; ti.mode = mode; ti.mtime = 1704067200
    ti.linkname = link; ti.size = len(data) if type == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "etc", tarfile.SYMTYPE, link="/")
    add(t, "etc/x", data=b"through etc\n")
    add(t, "up", tarfile.SYMTYPE, link="../../../../..")
    add(t, "up/y", data=b"through up\n")
    add(t, "../../../../nr-escape-z", data=b"dotdot\n")
    add(t, "/nr-abs-w", data=b"absolute\n")
    add(t, "hl", tarfile.LNKTYPE, link="../../etc/x")
