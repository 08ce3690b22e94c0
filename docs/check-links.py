#!/usr/bin/env python3
"""check-links.py SRC: every relative Markdown link in README.md, docs/*.md and examples/*/*.md
points to a file or directory that exists, and every `docs/X.md` / `examples/X` path named in
backquotes exists too. Prints FILE:LINE: target for each broken one; exit 1 when there is one."""
import glob
import os
import re
import sys

src = sys.argv[1]
files = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md"))) \
    + sorted(glob.glob(os.path.join(src, "examples", "*", "*.md")))
bad, n = [], 0
for f in files:
    base = os.path.dirname(f)
    with open(f, encoding="utf-8") as fh:
        for ln, line in enumerate(fh, 1):
            for t in re.findall(r"\]\(([^)\s]+)\)", line):
                if re.match(r"[a-z]+:", t) or t.startswith("#"):
                    continue
                n += 1
                if not os.path.exists(os.path.normpath(os.path.join(base, t.split("#")[0]))):
                    bad.append(f"{os.path.relpath(f, src)}:{ln}: {t}")
            for t in re.findall(r"`((?:docs|examples|tests/e2e|tests/cli|scripts)/[\w./-]+)`", line):
                n += 1
                if not os.path.exists(os.path.join(src, t.rstrip("/"))):
                    bad.append(f"{os.path.relpath(f, src)}:{ln}: `{t}`")
for b in bad:
    print(b)
print(f"{'FAILED' if bad else 'ok'}: {n} links and paths in {len(files)} files, {len(bad)} broken")
sys.exit(1 if bad else 0)
