"""nonroot.Bundle over tests/data/bundle (the C tests' cases) and a bundle on disk."""
import json
import os
import shutil
import stat
import tempfile
import unittest

import nonroot
from _paths import cases, pending, read


def case_options(d):
    opts = {}
    path = os.path.join(d, "args")
    if os.path.exists(path):
        for line in read(path).splitlines():
            key, eq, value = line.partition("=")
            if not line:
                continue
            if key == "user":
                opts["user"] = value
            elif key == "unprivileged_port_start":
                opts["unprivileged_port_start"] = int(value)
            elif key in ("allow_low_ports", "allow_root") and not eq:
                opts[key] = True
            else:
                raise AssertionError("unknown args line %r in %s" % (line, path))
    return opts


class Cases(unittest.TestCase):
    def test_valid(self):
        found = cases("bundle/valid")
        self.assertGreaterEqual(len(found), 6)
        for name, d in found:
            with self.subTest(case=name):
                opts = case_options(d)
                b = nonroot.Bundle.open(d)
                report = b.harden(**opts)
                self.assertEqual(b.dump(), read(os.path.join(d, "expected.json")))
                self.assertEqual(str(b), b.dump())
                # idempotent: a second pass changes nothing
                self.assertEqual(b.harden(**opts).changes, 0)
                doc = report.to_dict()
                self.assertEqual(len(doc["changes"]), report.changes)
                self.assertIs(doc["written"], False)
                self.assertFalse(report.written)
                want = os.path.join(d, "report.txt")
                if os.path.exists(want):
                    self.assertEqual(report.text().split("\n", 1)[1], read(want))
                    self.assertEqual(str(report), report.text())

    def test_invalid(self):
        found = cases("bundle/invalid")
        self.assertGreaterEqual(len(found), 6)
        for name, d in found:
            with self.subTest(case=name):
                want = read(os.path.join(d, "error")).split("\n", 1)[0]
                with self.assertRaises(nonroot.NonrootError) as cm:
                    nonroot.Bundle.open(d).harden(**case_options(d))
                self.assertEqual(str(cm.exception), want)
                self.assertLess(cm.exception.code, 0)


CONFIG = {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
          "process": {"user": {"uid": 0, "gid": 0}, "args": ["/app/serve"],
                      "capabilities": {"bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"]}},
          "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}]}}


class OnDisk(unittest.TestCase):
    def harden_user(self, fn, *args, **kw):
        """Call fn; skip (not pass) while the library has no user resolution in bundles."""
        return pending(self, fn, *args, **kw)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nr-py-bundle-")
        rootfs = os.path.join(self.dir, "rootfs", "etc")
        os.makedirs(rootfs)
        with open(os.path.join(rootfs, "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\napp:x:1654:1654::/home/app:/bin/false\n")
        with open(os.path.join(rootfs, "group"), "w") as f:
            f.write("root:x:0:\napp:x:1654:\n")
        self.config = os.path.join(self.dir, "config.json")
        with open(self.config, "w") as f:
            json.dump(CONFIG, f, indent="\t")
        os.chmod(self.config, 0o600)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_parse_in_memory(self):
        b = nonroot.Bundle.parse(json.dumps(CONFIG))
        self.assertEqual(b.root_path, "rootfs")
        with self.assertRaises(nonroot.InvalidInput):
            b.harden()                      # uid 0 is refused
        r = b.harden(allow_root=True)
        self.assertGreater(r.changes, 0)
        doc = json.loads(b.dump())
        self.assertIs(doc["process"]["noNewPrivileges"], True)
        with self.assertRaises(nonroot.InvalidArgument):
            b.save()                        # no directory to save to
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.Bundle.parse("[1]")
        self.assertIn("config.json", str(cm.exception))

    def test_harden_user_and_save(self):
        b = nonroot.Bundle.open(self.dir)
        r = self.harden_user(b.harden, user="app", allow_low_ports=True)
        self.assertGreater(r.changes, 0)
        user = r.to_dict()["user"]
        self.assertEqual((user["uid"], user["gid"], user["name"]), (1654, 1654, "app"))
        self.assertIn("CAP_NET_BIND_SERVICE", r.text())
        b.save()
        saved = json.loads(read(self.config))
        self.assertEqual(saved["process"]["user"]["uid"], 1654)
        self.assertEqual(stat.S_IMODE(os.stat(self.config).st_mode), 0o600)

    def test_harden_dir(self):
        before = read(self.config)
        r = self.harden_user(nonroot.Bundle.harden_dir, self.dir, user="1654:1654",
                             dry_run=True)
        self.assertFalse(r.written)
        self.assertEqual(read(self.config), before)
        r = nonroot.Bundle.harden_dir(self.dir, user="1654:1654", unprivileged_port_start=0)
        self.assertTrue(r.written)
        saved = json.loads(read(self.config))
        self.assertEqual(saved["process"]["user"], {"uid": 1654, "gid": 1654})
        self.assertEqual(nonroot.Bundle.harden_dir(self.dir, user="1654:1654",
                                                   unprivileged_port_start=0).changes, 0)

    def test_user_errors(self):
        b = nonroot.Bundle.open(self.dir)
        with self.assertRaises(nonroot.NotFound) as cm:
            self.harden_user(b.harden, user="nobody")
        self.assertIn("unable to find user nobody", str(cm.exception))
        with self.assertRaises(FileNotFoundError):
            nonroot.Bundle.open(os.path.join(self.dir, "missing"))


if __name__ == "__main__":
    unittest.main()
