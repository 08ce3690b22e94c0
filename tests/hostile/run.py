#!/usr/bin/env python3
"""tests/hostile/run.py NONROOT [--show | --write] [NAME...]: run the hostile-input cases.

Each case (cases.py) builds its input in a fresh directory, runs `NONROOT ARGS` with a 60 s
limit and compares the exit status and standard error EXACTLY (the case directory written as
$W). Expectations not written in cases.py are in expected.json ({name: [exit, stderr]}),
each reviewed by hand when added. --show prints what each case did; --write records the
current results of the named cases (or of every case) in expected.json: review the diff.
Cases listed in MAXRSS_MB also fail when the CLI's peak memory is over that bound.
Prints 'hostile: N passed, N failed'; exit 0 only when every case passed.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.json")

MIN_CASES = 100


def main():
    args = sys.argv[1:]
    show = "--show" in args
    write = "--write" in args
    args = [a for a in args if a not in ("--show", "--write")]
    import json
    expected = json.load(open(EXPECTED)) if os.path.exists(EXPECTED) else {}
    memcheck = os.environ.get("NR_MEMCHECK") == "1"
    nonroot = os.path.abspath(args[0]) if os.path.exists(args[0]) else args[0]
    # NONROOT may be a wrapper command line (valgrind): split on spaces only if not a file.
    cmd = [nonroot] if os.path.exists(nonroot) else nonroot.split()
    only = set(args[1:])
    top = tempfile.mkdtemp(prefix="nr-hostile-")
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    env["TMPDIR"] = os.path.join(top, ".tmp")
    env["NONROOT_CACHE"] = "off"
    os.makedirs(env["TMPDIR"])
    names = set()
    passed = failed = 0
    try:
        for name, build, argv, exit, stderr, stdout in cases.CASES:
            if name in names:
                print("hostile: duplicate case name %s" % name)
                failed += 1
                continue
            names.add(name)
            if only and name not in only:
                continue
            if memcheck and name in cases.SLOW:
                continue    # under valgrind: too slow, and the memory bound means nothing there
            if exit is None:
                exit, stderr = expected.get(name, (None, None))
            W = os.path.join(top, name)
            os.makedirs(W)
            build(W)
            real = [a.replace("{W}", W) if isinstance(a, str) else a for a in argv]
            pre = []
            rss_file = os.path.join(top, "rss")
            if name in cases.MAXRSS_MB and not memcheck:
                pre = ["/usr/bin/time", "-f", "%M", "-o", rss_file]
            try:
                # a hang guard, not a speed check: the SLOW cases (40k-entry layers) took
                # over 60 s while four landings ran their tests on 2 shared cores
                p = subprocess.run(pre + cmd + real, cwd=W, env=env, capture_output=True,
                                   timeout=300 if name in cases.SLOW else 60,
                                   stdin=subprocess.DEVNULL)
                rc, out, err = p.returncode, p.stdout, p.stderr
            except subprocess.TimeoutExpired:
                rc, out, err = "timeout", b"", b""
            err = err.decode("utf-8", "backslashreplace").replace(W, "$W")
            out = out.decode("utf-8", "backslashreplace").replace(W, "$W")
            if write:
                expected[name] = [rc, err]
                continue
            if show:
                print("== %s: exit %s\n%s%s" % (name, rc, err, ("   stdout: " + out[:300]) if out and rc else ""))
                continue
            problems = []
            if rc != exit:
                problems.append("exit %s, expected %s" % (rc, exit))
            if err != stderr:
                problems.append("stderr:\n    got:      %r\n    expected: %r" % (err, stderr))
            if exit is None:
                problems.append("no expectation: add one to cases.py or run --write and review")
            if callable(stdout):
                why = stdout(W, out)
                if why:
                    problems.append(why)
            elif stdout is not None and stdout not in out:
                problems.append("stdout lacks %r:\n%s" % (stdout, out[:2000]))
            if pre:
                kb = int(open(rss_file).read().split()[-1])
                if kb > cases.MAXRSS_MB[name] * 1024:
                    problems.append("peak memory %d MiB over %d MiB" % (kb // 1024,
                                                                       cases.MAXRSS_MB[name]))
            if problems:
                failed += 1
                print("FAIL: %s: %s" % (name, "; ".join(problems)))
            else:
                passed += 1
            shutil.rmtree(W, ignore_errors=True)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    if write:
        with open(EXPECTED, "w") as f:
            json.dump(dict(sorted(expected.items())), f, indent=1, ensure_ascii=False)
            f.write("\n")
        print("hostile: wrote %s" % EXPECTED)
        return 0
    if not show and not only and len(cases.CASES) < MIN_CASES:
        print("hostile: only %d cases (at least %d)" % (len(cases.CASES), MIN_CASES))
        failed += 1
    print("hostile: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
