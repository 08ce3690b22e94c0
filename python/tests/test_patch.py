"""Image.patch() on a real umoci-built rootful image: plan, patch, write, re-read, verify
with skopeo, unpack with umoci into a runtime bundle and harden it with nonroot.Bundle."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import nonroot
from _paths import build_test_image, pending

PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"


class PatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nr-py-patch-")
        cls.ref = build_test_image(cls.tmp, archive=False)
        if cls.ref is None:
            shutil.rmtree(cls.tmp)
            raise unittest.SkipTest("umoci/skopeo not installed (scripts/install-deps)")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def patched(self, name, **kw):
        img = nonroot.Image.open(self.ref)
        report = img.patch(**kw)
        out = "oci:" + os.path.join(self.tmp, name) + ":patched"
        img.write(out)
        return report, out

    def test_audit_before_and_after(self):
        before = nonroot.Image.open(self.ref).audit(progress=lambda *a: None)
        self.assertEqual((before.platforms, before.users, before.max_level),
                         (["linux/amd64"], [""], "error"))
        ids = {(f.id, f.level, f.location) for f in before}
        self.assertIn(("NR001", "error", "config.User"), ids)
        self.assertIn(("NR004", "warning", "config.ExposedPorts.80/tcp"), ids)
        self.assertTrue(all(f.message and f.fix and f.platform == "linux/amd64"
                            for f in before))
        self.assertEqual(nonroot.Image.open(self.ref).audit(threshold=80).max_level, "error")
        _, out = self.patched("audited")
        after = nonroot.Image.open(out).audit()
        self.assertEqual((after.max_level, len(after), after.users), ("none", 0,
                                                                    ["1654:1654"]))

    def test_rules(self):
        rules = nonroot.audit_rules()
        self.assertGreaterEqual(len(rules), 5)
        self.assertEqual(len({r.id for r in rules}), len(rules))
        r = nonroot.audit_rule("NR001")
        self.assertEqual((r.name, r.level), ("runs-as-root", "error"))
        self.assertIn(r, rules)
        self.assertIsNone(nonroot.audit_rule("NR999"))
        self.assertEqual(nonroot.LEVELS, ("none", "note", "warning", "error"))

    def test_dry_run_changes_nothing(self):
        img = nonroot.Image.open(self.ref)
        before = img.config_json()
        r = img.patch(dry_run=True)
        self.assertTrue(r.changed)
        self.assertEqual((r.uid, r.gid), (1654, 1654))
        targets = {(c.what, c.target): c for c in r}
        self.assertEqual(targets[("file", "etc/passwd")].after,
                         "app:x:1654:1654::/home/app:/bin/false")
        self.assertEqual(targets[("config", "User")].after, "1654:1654")
        self.assertEqual((targets[("env", "ASPNETCORE_URLS")].before,
                          targets[("env", "ASPNETCORE_URLS")].after),
                         ("http://+:80", "http://+:8080"))
        self.assertTrue(all(c.platform == "linux/amd64" and c.why for c in r))
        self.assertEqual(img.config_json(), before)
        self.assertEqual(len(img.layers()), 1)

    def test_patch_write_reopen(self):
        calls = []
        r, out = self.patched("out", progress=lambda *a: calls.append(a))
        self.assertTrue(r.changed)
        self.assertTrue(calls)
        img = nonroot.Image.open(out)
        cfg = img.config()
        self.assertEqual(cfg.user, "1654:1654")
        self.assertEqual(cfg.env_get("ASPNETCORE_URLS"), "http://+:8080")
        self.assertEqual(cfg.env_get("APP_UID"), "1654")
        self.assertEqual(cfg.exposed_ports, ["8080/tcp"])
        self.assertTrue(cfg.history_in_step)
        self.assertEqual(len(img.layers()), 2)
        self.assertEqual(img.read_file("etc/passwd"),
                         PASSWD + b"app:x:1654:1654::/home/app:/bin/false\n")
        home = img.scan(["home/app"])["home/app"]
        self.assertEqual((home.type, home.uid, home.gid, home.mode), ("directory", 1654, 1654,
                                                                      0o755))
        who = nonroot.resolve_user(cfg.user, img.read_file("etc/passwd"),
                                   img.read_file("etc/group"))
        self.assertEqual((who.uid, who.gid, who.name, who.home), (1654, 1654, "app",
                                                                  "/home/app"))
        # patching a patched image plans nothing
        again = img.patch()
        self.assertFalse(again.changed)
        self.assertEqual(len(again), 0)
        # skopeo checks every digest and size of the written image
        subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", out,
                        "oci:" + os.path.join(self.tmp, "verify") + ":x"], check=True)

    def test_same_input_same_digests(self):
        _, a = self.patched("repro-a", mtime=1704067200)
        _, b = self.patched("repro-b", mtime=1704067200)
        da = nonroot.Image.open(a).layers()[-1].digest
        db = nonroot.Image.open(b).layers()[-1].digest
        self.assertEqual(da, db)

    def test_options_and_conflicts(self):
        r, out = self.patched("custom", user="svc", uid=2000, gid=2001, home="/srv",
                              shell="/bin/sh", ports={80: 8081})
        img = nonroot.Image.open(out)
        self.assertEqual(img.config().user, "2000:2001")
        self.assertEqual(img.config().env_get("ASPNETCORE_URLS"), "http://+:8081")
        self.assertIn(b"svc:x:2000:2001::/srv:/bin/sh\n", img.read_file("etc/passwd"))
        with self.assertRaises(nonroot.Conflict) as cm:
            img.patch(user="other", uid=2000)
        self.assertIn("svc", str(cm.exception))
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.Image.open(self.ref).patch(uid=0)
        self.assertEqual(cm.exception.source, "uid")

    def test_compat_keeps_user(self):
        img = nonroot.Image.open(self.ref)
        r = img.patch(compat=True)
        cfg = img.config()
        self.assertEqual(cfg.user, "")
        self.assertEqual(cfg.env_get("ASPNETCORE_URLS"), "http://+:80;http://+:8080")
        self.assertEqual(sorted(cfg.exposed_ports), ["80/tcp", "8080/tcp"])
        self.assertEqual(r.uid, 1654)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("umoci"), "umoci unpack needs root")
    def test_unpack_and_harden_bundle(self):
        _, out = self.patched("forbundle")
        bundle = os.path.join(self.tmp, "bundle")
        subprocess.run(["umoci", "unpack", "--image", out[len("oci:"):], bundle], check=True,
                       capture_output=True)
        b = nonroot.Bundle.open(bundle)
        self.assertEqual(b.root_path, "rootfs")
        doc = json.loads(b.dump())
        self.assertEqual(doc["process"]["user"]["uid"], 1654)
        report = pending(self, b.harden, user="app")
        self.assertEqual(report.to_dict()["user"]["name"], "app")
        b.save()
        with open(os.path.join(bundle, "config.json")) as f:
            saved = json.load(f)
        self.assertIs(saved["process"]["noNewPrivileges"], True)
        self.assertEqual(saved["process"]["user"]["uid"], 1654)


if __name__ == "__main__":
    unittest.main()
