"""AuditConfig (issue 13): a config file, ignored rules, levels and a baseline applied to
Image.audit(), with the same JSON document as `nonroot audit --config ... --format json`."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import nonroot
from test_consistency import NONROOT, write_image


class AuditConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        write_image(os.path.join(self.tmp, "img"),
                    {"User": "1654:1654", "Env": ["ASPNETCORE_URLS=http://+:80"],
                     "ExposedPorts": {"80/tcp": {}}})
        self.ref = "oci:" + os.path.join(self.tmp, "img") + ":latest"
        self.img = nonroot.Image.open(self.ref)

    def tearDown(self):
        self.img.close()
        shutil.rmtree(self.tmp)

    def ids(self, audit):
        return sorted((f.id, f.level) for f in audit)

    def test_plain(self):
        a = self.img.audit()
        self.assertEqual(self.ids(a), [("NR004", "warning"), ("NR005", "error"),
                                        ("NR009", "warning")])   # no /home/app
        self.assertEqual(a.suppressed, 0)
        self.assertTrue(all(len(f.fingerprint) == 32 and not f.baseline for f in a))

    def test_yaml_config(self):
        cfg = nonroot.AuditConfig.new("ignore: [NR004, NR009]\nlevels:\n  NR005: note\n", "c.yaml")
        a = self.img.audit(config=cfg)
        self.assertEqual(self.ids(a), [("NR005", "note")])
        self.assertEqual(a.suppressed, 2)
        self.assertEqual(a.max_level, "note")

    def test_methods_and_errors(self):
        cfg = nonroot.AuditConfig.new()
        cfg.ignore("NR004,NR005")
        cfg.ignore("NR009")
        self.assertEqual(self.ids(self.img.audit(config=cfg)), [])
        with self.assertRaises(nonroot.InvalidInput) as cm:
            cfg.ignore("NR999")
        self.assertIn("unknown rule 'NR999'", str(cm.exception))
        with self.assertRaises(nonroot.InvalidInput) as cm:
            cfg.load("ignore: [NR004]\nallow-setid:\n  - a\n   - b\n", "bad.yaml")
        self.assertIn("bad.yaml", str(cm.exception))
        self.assertIn("inconsistent indentation", str(cm.exception))
        with self.assertRaises(nonroot.InvalidInput):
            cfg.load('{"levels": {"NR004": 1}}')

    def test_baseline(self):
        before = self.img.audit()
        cfg = nonroot.AuditConfig.new()
        cfg.load_baseline(before.to_json(), "before.json")
        after = self.img.audit(config=cfg)
        self.assertTrue(all(f.baseline for f in after))
        self.assertEqual(after.max_level, "none")
        self.assertEqual([f.fingerprint for f in after], [f.fingerprint for f in before])

    @unittest.skipUnless(NONROOT and os.path.exists(NONROOT), "NONROOT (the CLI) is not set")
    def test_same_document_as_the_cli(self):
        path = os.path.join(self.tmp, "c.json")
        with open(path, "w") as f:
            f.write('{"levels": {"NR004": "note"}}')
        r = subprocess.run([NONROOT, "audit", "--config", path, "--format", "json", self.ref],
                           capture_output=True, text=True,
                           env=dict(os.environ, NONROOT_CACHE="off"))
        with open(path) as f:
            cfg = nonroot.AuditConfig.new(f.read(), path)
        self.assertEqual(json.loads(r.stdout), json.loads(self.img.audit(config=cfg).to_json()))

    @unittest.skipUnless(NONROOT and os.path.exists(NONROOT), "NONROOT (the CLI) is not set")
    def test_same_sarif_as_the_cli(self):
        before = self.img.audit()
        path = os.path.join(self.tmp, "before.json")
        with open(path, "w") as f:
            f.write(before.to_json())
        r = subprocess.run([NONROOT, "audit", "--no-config", "--baseline", path, "--format",
                            "sarif", "--fail-on", "note", self.ref],
                           capture_output=True, text=True,
                           env=dict(os.environ, NONROOT_CACHE="off"))
        self.assertEqual(r.returncode, 0)
        cfg = nonroot.AuditConfig.new()
        cfg.load_baseline(before.to_json(), "before.json")
        sarif = self.img.audit(config=cfg).to_sarif(exit_code=0, baseline=True)
        self.assertEqual(r.stdout, sarif + "\n")   # the same bytes
        run = json.loads(sarif)["runs"][0]
        self.assertEqual(run["automationDetails"]["id"], "nonroot-audit/" + self.ref + "/")
        self.assertEqual(sorted(x["ruleId"] for x in run["results"]), ["NR004", "NR005", "NR009"])
        self.assertTrue(all(x["baselineState"] == "unchanged" for x in run["results"]))
        plain = json.loads(before.to_sarif(exit_code=1))["runs"][0]
        self.assertEqual(plain["invocations"][0]["exitCode"], 1)
        self.assertNotIn("baselineState", plain["results"][0])

    @unittest.skipUnless(NONROOT and os.path.exists(NONROOT), "NONROOT (the CLI) is not set")
    def test_same_text_as_the_cli(self):
        a = self.img.audit()
        for args, quiet in (([], False), (["-q"], True)):
            r = subprocess.run([NONROOT, "audit", "--no-config", *args, self.ref],
                               capture_output=True, text=True,
                               env=dict(os.environ, NONROOT_CACHE="off"))
            self.assertEqual(r.stdout, a.to_text(quiet=quiet))
        self.assertTrue(a.to_text().startswith(self.ref + " (linux/amd64): User '1654:1654'\n"))
        self.assertIn("\n  NR005 error   ASPNETCORE_URLS=http://+:80", a.to_text())
        self.assertTrue(a.to_text(quiet=True).startswith("linux/amd64: NR"))


if __name__ == "__main__":
    unittest.main()
