#!/usr/bin/env python3
"""kill_lib.py MODE [--runs N] [--seed S]: crash-safety test (issue #8).

Runs a writing nonroot command on a fresh copy of its input and kills it with SIGKILL after a
random delay (seeded, so the sequence of delays is reproducible; where the kill lands still
depends on scheduling, so each run also prints its delays). After every kill the result must
be the OLD or the NEW state, never a mix inside a file:
  patch   nonroot patch oci:DIR:latest in place. index.json is byte-for-byte the old or the
          new one; every file under blobs/sha256 hashes to its name (no half-written blob
          under its final name); `skopeo copy` of the image succeeds (it verifies every
          digest); and patching the killed image again finishes and gives the new image.
  passwd  nonroot passwd add --root DIR --user app --create-home: etc/passwd, group, shadow
          and gshadow are each the old or the new file (with their modes), and running the
          command again afterwards succeeds (--exist-ok) with every file new.
  bundle  nonroot bundle harden DIR: config.json is the old or the new file, mode kept.
Delays are spread over 0..1.2 x the measured duration of an unkilled run, so kills land
before, during and after the writes. Prints 'kill-MODE: N passed, N failed'.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))
import ocimake as o  # noqa: E402

NONROOT = os.environ.get("NONROOT")
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", NONROOT_CACHE="off")


def sha_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot(root, names):
    out = {}
    for n in names:
        p = os.path.join(root, n)
        if os.path.exists(p):
            st = os.stat(p)
            out[n] = (open(p, "rb").read(), st.st_mode & 0o7777)
        else:
            out[n] = None
    return out


# ---- modes --------------------------------------------------------------------------------
class Patch:
    name = "patch"

    def make(self, d):
        """An image with enough layer data that the patch takes a measurable time."""
        big = os.urandom(1 << 20)
        layers = []
        for i in range(4):
            t = o.tar([("d", "opt"), ("f", "opt/data%d" % i, big[i:] + big[:i])] if i else
                      [("d", "etc"), ("f", "etc/passwd", o.PASSWD), ("f", "etc/group", o.GROUP),
                       ("f", "etc/shadow", b"root:*:19000:0:99999:7:::\n", 0o640),
                       ("d", "bin"), ("f", "bin/false", b"x", 0o755)])
            layers.append((o.MT_GZIP, o.gz(t), t))
        o.Layout(d).image(layers=layers)

    def argv(self, d):
        return [NONROOT, "patch", "oci:%s:latest" % d]

    def state(self, d):
        return open(os.path.join(d, "index.json"), "rb").read()

    def check(self, d, old, new, work):
        errors = []
        cur = self.state(d)
        which = "old" if cur == old else "new" if cur == new else None
        if which is None:
            errors.append("index.json is neither the old nor the new one")
        bdir = os.path.join(d, "blobs", "sha256")
        for n in os.listdir(bdir):
            p = os.path.join(bdir, n)
            if len(n) == 64 and all(c in "0123456789abcdef" for c in n):
                if sha_file(p) != n:
                    errors.append("blob %s does not hash to its name (half-written)" % n)
        r = subprocess.run(["skopeo", "copy", "-q", "oci:%s:latest" % d,
                            "oci:%s:copy" % os.path.join(work, "copy")],
                           capture_output=True, text=True)
        shutil.rmtree(os.path.join(work, "copy"), ignore_errors=True)
        if r.returncode != 0:
            errors.append("skopeo copy failed: %s" % r.stderr.strip()[:300])
        r = subprocess.run(self.argv(d), capture_output=True, text=True, env=ENV)
        if r.returncode != 0:
            errors.append("patching the killed image again failed: %s" % r.stderr.strip()[:300])
        elif self.state(d) != new:
            errors.append("patching the killed image again gave another image")
        return which, errors


class Passwd:
    name = "passwd"
    files = ["etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"]

    def make(self, d):
        os.makedirs(os.path.join(d, "etc"))
        os.makedirs(os.path.join(d, "sbin"))
        users = b"".join(b"u%d:x:%d:%d::/home/u%d:/bin/sh\n" % (i, 2000 + i, 2000 + i, i)
                         for i in range(20000))
        groups = b"".join(b"u%d:x:%d:\n" % (i, 2000 + i) for i in range(20000))
        content = {"etc/passwd": (o.PASSWD + users, 0o644), "etc/group": (o.GROUP + groups, 0o644),
                   "etc/shadow": (b"root:*:19000:0:99999:7:::\n", 0o640),
                   "etc/gshadow": (b"root:*::\n", 0o640)}
        for n, (data, mode) in content.items():
            with open(os.path.join(d, n), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(d, n), mode)
        with open(os.path.join(d, "sbin", "nologin"), "wb") as f:
            f.write(b"x")

    def argv(self, d):
        return [NONROOT, "passwd", "add", "--root", d, "--user", "app", "--uid", "1654",
                "--create-home"]

    def state(self, d):
        return snapshot(d, self.files)

    def check(self, d, old, new, work):
        errors = []
        cur = self.state(d)
        kinds = set()
        for n in self.files:
            if cur[n] == old[n]:
                kinds.add("old")
            elif cur[n] == new[n]:
                kinds.add("new")
            else:
                errors.append("%s is neither the old nor the new file (or lost its mode)" % n)
        which = "/".join(sorted(kinds)) if kinds else None
        r = subprocess.run(self.argv(d) + ["--exist-ok"], capture_output=True, text=True, env=ENV)
        if r.returncode != 0:
            errors.append("running passwd add again failed: %s" % r.stderr.strip()[:300])
        elif self.state(d) != new:
            errors.append("running passwd add again did not give the new files")
        return which, errors


class Bundle:
    name = "bundle"

    def make(self, d):
        os.makedirs(os.path.join(d, "rootfs", "etc"))
        cfg = {"ociVersion": "1.0.2", "process": {"user": {"uid": 1654, "gid": 1654},
               "args": ["sh"], "cwd": "/", "env": ["X%d=%s" % (i, "v" * 100) for i in range(20000)],
               "capabilities": {k: ["CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN"] for k in
                                ("bounding", "effective", "inheritable", "permitted", "ambient")}},
               "root": {"path": "rootfs"}, "linux": {"namespaces": [{"type": "network"}]}}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent="\t")
        os.chmod(os.path.join(d, "config.json"), 0o600)

    def argv(self, d):
        return [NONROOT, "bundle", "harden", d]

    def state(self, d):
        return snapshot(d, ["config.json"])

    def check(self, d, old, new, work):
        cur = self.state(d)
        if cur == old:
            return "old", []
        if cur == new:
            return "new", []
        return None, ["config.json is neither the old nor the new file (or lost its mode)"]


MODES = {"patch": Patch, "passwd": Passwd, "bundle": Bundle}


def main():
    args = sys.argv[1:]
    mode = MODES[args[0]]()
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 100
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 8
    if not NONROOT:
        print("kill_lib.py: NONROOT is not set")
        return 2
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="nr-kill-%s-" % mode.name)
    try:
        pristine = os.path.join(work, "pristine")
        mode.make(pristine)
        d = os.path.join(work, "target")
        # The old and new states, and how long an unkilled run takes.
        old = mode.state(pristine)
        shutil.copytree(pristine, d, symlinks=True)
        t0 = time.monotonic()
        r = subprocess.run(mode.argv(d), capture_output=True, text=True, env=ENV)
        full = time.monotonic() - t0
        if r.returncode != 0:
            print("kill-%s: the unkilled run failed: %s" % (mode.name, r.stderr))
            return 1
        new = mode.state(d)
        if new == old:
            print("kill-%s: the command changed nothing" % mode.name)
            return 1
        print("kill-%s: seed %d, %d runs, an unkilled run takes %.3f s" % (mode.name, seed, runs, full))
        passed = failed = 0
        seen = {}
        for i in range(runs):
            shutil.rmtree(d)
            shutil.copytree(pristine, d, symlinks=True)
            delay = rng.uniform(0, 1.2 * full)
            p = subprocess.Popen(mode.argv(d), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=ENV)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            which, errors = mode.check(d, old, new, work)
            seen[which] = seen.get(which, 0) + 1
            if errors:
                failed += 1
                print("FAIL: run %d (kill after %.6f s): %s" % (i, delay, "; ".join(errors)))
            else:
                passed += 1
        print("kill-%s: states after the kill: %s" % (mode.name, ", ".join(
            "%s %d" % (k, v) for k, v in sorted(seen.items(), key=str))))
        print("kill-%s: %d passed, %d failed" % (mode.name, passed, failed))
        return 0 if failed == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
