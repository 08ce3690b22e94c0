#!/usr/bin/env python3
"""Scaling of the work an image can make nonroot do (issue 18 class 6: linear or n log n).

Each workload is built at n and 8n (the recipes of tests/hostile/cases.py) and run with the CLI;
the CPU time of the run (user + sys of the child, so a busy machine does not skew it) at 8n is
divided by the time at n. Linear work gives about 8, n log n about 9-10, quadratic about 64.
A ratio over LIMIT fails: the benchmark prints the ratios, the peer is the same code at n.

usage: bench/scaling.py NONROOT [--smoke]
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "hostile"))
import cases  # noqa: E402

LIMIT = 24.0


def cpu_of(argv, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        raise SystemExit("scaling: %s exited %d: %s" % (" ".join(argv), p.returncode,
                                                          p.stderr.decode()[-500:]))
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(nonroot, top, env, name, build, argv_of, n):
    W = os.path.join(top, "%s-%d" % (name, n))
    os.makedirs(W)
    build(n)(W)
    for pre in argv_of.get("prepare", []):
        with open(os.path.join(W, pre[0]), "wb") as out:
            subprocess.run([nonroot] + [a.replace("{W}", W) for a in pre[1]], env=env,
                           stdout=out, stderr=subprocess.DEVNULL)
    argv = [nonroot] + [a.replace("{W}", W) for a in argv_of["run"]]
    best = min(cpu_of(argv, env) for _ in range(2))
    return max(best, 0.01)


def main():
    nonroot = os.path.abspath(sys.argv[1])
    smoke = "--smoke" in sys.argv
    n = 1000 if smoke else 5000
    top = tempfile.mkdtemp(prefix="nr-scaling-")
    env = dict(os.environ, NONROOT_CACHE="off", TMPDIR=top)
    img = "oci:{W}/img:latest"
    workloads = [
        ("setid-files", cases.setid_layer, {"run": ["audit", img]}),
        ("setid-dirs-removed", cases.setid_two_layers, {"run": ["audit", img]}),
        ("setid-baseline-json", cases.setid_layer, {
            "prepare": [("base.json", ["audit", img, "--format", "json"])],
            "run": ["audit", img, "--baseline", "{W}/base.json"]}),
        ("setid-baseline-sarif", cases.setid_layer, {
            "prepare": [("base.sarif", ["audit", img, "--format", "sarif"])],
            "run": ["audit", img, "--baseline", "{W}/base.sarif"]}),
        ("setid-sarif", cases.setid_layer, {"run": ["audit", img, "--format", "sarif"]}),
    ]
    bad = 0
    try:
        for name, build, argv_of in workloads:
            small = run(nonroot, top, env, name, build, argv_of, n)
            big = run(nonroot, top, env, name, build, argv_of, 8 * n)
            ratio = big / small
            ok = smoke or ratio <= LIMIT
            bad += not ok
            print("scaling %-22s n=%-6d %7.2fs  8n=%-6d %7.2fs  ratio %5.1f (linear 8, "
                  "quadratic 64; limit %g)%s" % (name, n, small, 8 * n, big, ratio, LIMIT,
                                                 "" if ok else "  FAIL"))
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
