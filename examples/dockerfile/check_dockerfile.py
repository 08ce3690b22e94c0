#!/usr/bin/env python3
"""check_dockerfile.py FILE...: a static check of Dockerfiles for shell-less images.

No Docker engine runs where the tests run and Debian packages no Dockerfile linter (hadolint
is not in Debian 12), so this checks what matters for these examples, with the stdlib only:
  - the syntax: parser directives, comments, line continuations, known instructions, ARG/FROM
    order, `FROM image [AS name]` with unique stage names;
  - exec form: a RUN/CMD/ENTRYPOINT/SHELL argument starting with '[' must be a JSON array of
    strings (Docker silently falls back to the shell form otherwise, which fails in an image
    without /bin/sh);
  - shell-less stages (base distroless, chiseled or scratch, directly or through an ARG
    default): every RUN is exec form, and its program was COPYed into the stage;
  - COPY --from=NAME names an earlier stage (or an index, or an image reference);
    --chown is USER[:GROUP];
  - the final stage's USER is numeric uid[:gid] other than 0 (Kubernetes runAsNonRoot).
Prints FILE:LINE: message for each problem; exit 1 when there is one.
"""
import json
import re
import sys

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
                "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
                "HEALTHCHECK", "SHELL"}
EXEC_FORM = {"RUN", "CMD", "ENTRYPOINT", "SHELL"}
SHELL_LESS = re.compile(r"distroless|chiseled|(^|/)scratch$")


def logical_lines(text):
    """(line number, text) of each instruction, continuations joined, comments dropped."""
    out, buf, start = [], [], None
    directives = True
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if directives and re.match(r"#\s*\w+\s*=", stripped):
            continue
        if stripped.startswith("#") or (not stripped and not buf):
            if stripped and not stripped.startswith("#"):
                directives = False
            continue
        directives = False
        if start is None:
            start = n
        if line.endswith("\\"):
            buf.append(line[:-1])
            continue
        buf.append(line)
        out.append((start, " ".join(s.strip() for s in buf).strip()))
        buf, start = [], None
    if buf:
        out.append((start, " ".join(buf).strip() + " \\"))
    return out


def check(path):
    problems = []

    def bad(n, msg):
        problems.append(f"{path}:{n}: {msg}")

    with open(path, encoding="utf-8") as f:
        text = f.read()
    args = {}            # ARG defaults (global and current stage)
    stages = []          # dicts: name, base, shell_less, copied, user, line
    for n, line in logical_lines(text):
        if line.endswith(" \\"):
            bad(n, "line continuation at the end of the file")
            continue
        m = re.match(r"(\S+)\s*(.*)$", line)
        word, rest = m.group(1), m.group(2)
        ins = word.upper()
        if ins not in INSTRUCTIONS:
            bad(n, f"unknown instruction {word!r}")
            continue
        if ins != word:
            bad(n, f"instruction {word!r} is not upper case (the convention)")
        if not stages and ins not in ("FROM", "ARG"):
            bad(n, f"{ins} before the first FROM")
            continue
        if ins == "ARG":
            am = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?$", rest)
            if not am:
                bad(n, f"ARG wants NAME[=DEFAULT], got {rest!r}")
            else:
                args[am.group(1)] = am.group(2) or ""
            continue
        if ins == "FROM":
            fm = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+[Aa][Ss]\s+([a-z][a-z0-9_.-]*))?$", rest)
            if not fm:
                bad(n, f"FROM wants [--platform=P] IMAGE [AS NAME], got {rest!r}")
                continue
            base = re.sub(r"\$\{?(\w+)\}?", lambda v: args.get(v.group(1), ""), fm.group(1))
            name = fm.group(2)
            if name and any(s["name"] == name for s in stages):
                bad(n, f"stage name {name!r} used twice")
            stages.append({"name": name, "base": base, "line": n, "copied": set(), "user": None,
                           "shell_less": bool(SHELL_LESS.search(base.split("@")[0].split(":")[0]
                                                                if base != "scratch" else base))})
            continue
        st = stages[-1]
        if ins in EXEC_FORM and rest.startswith("["):
            try:
                argv = json.loads(rest)
            except json.JSONDecodeError as e:
                bad(n, f"{ins} exec form is not valid JSON ({e.msg} at column {e.colno}): "
                       "Docker would run it through /bin/sh")
                continue
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                bad(n, f"{ins} exec form must be a non-empty JSON array of strings")
                continue
            if ins == "RUN" and st["shell_less"] and argv[0] not in st["copied"]:
                bad(n, f"RUN runs {argv[0]!r}, which this shell-less stage did not COPY in")
        elif ins == "RUN" and st["shell_less"]:
            bad(n, f"RUN in shell form in a shell-less stage (FROM {st['base']}): "
                   "use the exec form [\"/prog\", ...]")
        elif ins in ("SHELL",):
            bad(n, "SHELL needs the exec form")
        if ins in ("COPY", "ADD"):
            words = rest.split()
            opts = [w for w in words if w.startswith("--")]
            files = [w for w in words if not w.startswith("--")]
            if len(files) < 2:
                bad(n, f"{ins} wants SRC... DEST")
                continue
            for o in opts:
                om = re.match(r"--(from|chown|chmod|link|parents|exclude|checksum|keep-git-dir)(?:=(.*))?$", o)
                if not om:
                    bad(n, f"unknown {ins} option {o!r}")
                    continue
                key, val = om.group(1), om.group(2)
                if key == "from":
                    if ins == "ADD":
                        bad(n, "ADD has no --from")
                    elif val is None or not val:
                        bad(n, "--from needs a value")
                    elif val.isdigit():
                        if int(val) >= len(stages) - 1:
                            bad(n, f"--from={val}: no earlier stage with that index")
                    elif not any(s["name"] == val for s in stages[:-1]) and not re.search(r"[:/]", val):
                        bad(n, f"--from={val}: no earlier stage named {val!r}")
                if key == "chown" and not (val and re.match(r"[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$", val)):
                    bad(n, f"--chown wants USER[:GROUP], got {val!r}")
            dest = files[-1]
            for s in files[:-1]:
                st["copied"].add(dest.rstrip("/") + "/" + s.rstrip("/").split("/")[-1]
                                 if dest.endswith("/") else dest)
        if ins == "USER":
            st["user"] = (n, rest)
    if not stages:
        bad(1, "no FROM")
    else:
        final = stages[-1]
        if final["user"] is None:
            bad(final["line"], "the final stage sets no USER: the image would run as root")
        else:
            n, user = final["user"]
            um = re.match(r"(\d+)(?::(\d+))?$", user)
            if not um:
                bad(n, f"USER {user!r} is not numeric uid[:gid]: runAsNonRoot cannot verify it")
            elif int(um.group(1)) == 0:
                bad(n, "USER 0 is root")
    return problems


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = [p for path in argv[1:] for p in check(path)]
    for p in problems:
        print(p)
    if not problems:
        print(f"ok: {len(argv) - 1} Dockerfile(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
