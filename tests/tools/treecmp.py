#!/usr/bin/env python3
"""treecmp.py A B: compare two root filesystems file by file (type, mode with set-id bits,
owner, size, content sha256, symlink target, hard-link count, mtime; the directories' own
mtime too). Prints each difference; exit 1 when any, 0 when the trees are equal."""
import hashlib
import os
import stat
import sys


def walk(root):
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files + ["."] * (dirpath == root):
            p = os.path.normpath(os.path.join(dirpath, name))
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            rec = {"type": stat.S_IFMT(st.st_mode), "mode": oct(stat.S_IMODE(st.st_mode)),
                   "uid": st.st_uid, "gid": st.st_gid, "mtime": int(st.st_mtime)}
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    rec["sha256"] = hashlib.sha256(f.read()).hexdigest()
                rec["size"] = st.st_size
                rec["nlink"] = st.st_nlink
            elif stat.S_ISLNK(st.st_mode):
                rec["link"] = os.readlink(p)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                rec["rdev"] = st.st_rdev
            out[rel] = rec
    return out


def main():
    a, b = walk(sys.argv[1]), walk(sys.argv[2])
    bad = 0
    for k in sorted(set(a) | set(b)):
        if k not in a or k not in b:
            print("only in %s: %s" % (sys.argv[1] if k in a else sys.argv[2], k))
            bad += 1
        elif a[k] != b[k]:
            print("differs: %s\n  %s\n  %s" % (k, a[k], b[k]))
            bad += 1
    print("%d entries compared, %d differences" % (len(a), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
