#!/usr/bin/env python3
"""House rules of #17: no file in libnonroot/ over 900 lines; no C function in libnonroot/ or
cli/ whose body is over 80 lines unless the comment just above it gives the reason, on a line
starting "Long:" (for example "Long: one state machine over the tar stream; ...").
usage: check-lengths.py [SRCDIR]   (exit 1 and a list when a rule is broken)"""
import os, re, sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
MAXFILE, MAXFUNC = 900, 80
bad = []
for d in ("libnonroot", "cli"):
    for name in sorted(os.listdir(os.path.join(root, d))):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(d, name)
        lines = open(os.path.join(root, path), encoding="utf-8").read().split("\n")
        if d == "libnonroot" and len(lines) - 1 > MAXFILE:
            bad.append(f"{path}: {len(lines) - 1} lines (over {MAXFILE}): split it")
        start = None
        for i, line in enumerate(lines):
            if line.startswith("{"):
                start = i
            elif line.startswith("}") and start is not None:
                body = i - start - 1
                if body > MAXFUNC:
                    # the function's head: the last line before "{" that is not blank
                    j = start - 1
                    while j > 0 and not re.match(r"^[A-Za-z_]", lines[j]):
                        j -= 1
                    head = lines[j]
                    # its comment: the lines above the head, back to a blank line
                    k, above = j - 1, []
                    while k >= 0 and lines[k].strip() and not lines[k].startswith("}"):
                        above.append(lines[k]); k -= 1
                    if not any(re.search(r"\bLong:", a) for a in above):
                        m = re.search(r"(\w+)\s*\(", head)
                        bad.append(f"{path}:{start + 1}: {m.group(1) if m else head.strip()}: "
                                   f"{body} lines (over {MAXFUNC}) and no 'Long:' reason above it")
                start = None
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
