"""nonroot.Image over a real image built with umoci (tests/e2e/lib.sh), written back and
checked with skopeo."""
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import nonroot
from _paths import build_test_image, pending

LAYER_MT = "application/vnd.oci.image.layer.v1.tar"


def tar_layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1704067200
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nr-py-image-")
        cls.ref = build_test_image(cls.tmp)
        if cls.ref is None:
            shutil.rmtree(cls.tmp)
            raise unittest.SkipTest("umoci/skopeo not installed (scripts/install-deps)")
        cls.archive = "oci-archive:" + os.path.join(cls.tmp, "image.tar")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_open_and_read(self):
        img = nonroot.Image.open(self.ref)
        self.assertEqual(img.transport, "oci")
        self.assertEqual(len(img), 1)
        self.assertEqual(img.platforms, ["linux/amd64"])
        self.assertEqual(img.manifest_media_type(0), "application/vnd.oci.image.manifest.v1+json")
        self.assertIsNone(img.manifest_media_type(5))
        cfg = img.config()
        self.assertEqual(cfg.user, "")
        self.assertEqual(cfg.env_get("ASPNETCORE_URLS"), "http://+:80")
        self.assertEqual(cfg.exposed_ports, ["80/tcp"])
        self.assertIn('"ASPNETCORE_URLS=http://+:80"', img.config_json())
        desc = img.config_descriptor()
        self.assertTrue(desc.digest.startswith("sha256:"))
        self.assertEqual(desc.size, len(img.config_json().encode()))
        layers = img.layers()
        self.assertEqual(len(layers), 1)
        self.assertTrue(layers[0].media_type.startswith("application/vnd.oci.image.layer.v1.tar"))
        self.assertEqual(img.read_file("etc/passwd"), b"root:x:0:0:root:/root:/bin/sh\n")
        self.assertEqual(img.read_file("/etc/group"), b"root:x:0:\n")

    def test_archive_and_platform(self):
        img = nonroot.Image.open(self.archive, platform="linux/amd64", tmpdir=self.tmp)
        self.assertEqual(img.transport, "oci-archive")
        self.assertEqual(img.read_file("etc/passwd"), b"root:x:0:0:root:/root:/bin/sh\n")
        with self.assertRaises(nonroot.NotFound):
            nonroot.Image.open(self.ref, platform="linux/s390x")
        with self.assertRaises(nonroot.InvalidArgument):
            nonroot.Image.open(self.ref, platform="nonsense")

    def test_registry_options(self):
        # nothing listens on port 1: an I/O error naming the registry, never the password
        with self.assertRaises(nonroot.IOFailure) as cm:
            nonroot.Image.open("docker://127.0.0.1:1/app:v1", creds="u:hunter2",
                               tls_verify=False)
        self.assertIn("registry 127.0.0.1:1, repository app", str(cm.exception))
        self.assertNotIn("hunter2", str(cm.exception))
        with self.assertRaises(nonroot.InvalidInput):
            nonroot.Image.open("docker://127.0.0.1:1/Upper")

    def test_scan(self):
        img = nonroot.Image.open(self.ref)
        calls = []
        res = img.scan(["etc/passwd", "/bin/sh", "etc/missing", "app"], setid=True,
                       progress=lambda *a: calls.append(a))
        self.assertEqual([e.path for e in res], ["etc/passwd", "bin/sh", "etc/missing", "app"])
        pw = res["/etc/passwd"]
        self.assertEqual((pw.type, pw.mode, pw.uid, pw.content), ("regular", 0o644, 0,
                                                                  b"root:x:0:0:root:/root:/bin/sh\n"))
        self.assertEqual(pw.layer, 0)
        sh = res["bin/sh"]
        self.assertEqual((sh.type, sh.resolved, sh.link_target), ("regular", "bin/busybox",
                                                                  "busybox"))
        self.assertFalse(res["etc/missing"].exists)
        self.assertEqual(res["app"].type, "directory")
        self.assertIsNone(res.get("etc/shadow"))
        with self.assertRaises(KeyError):
            res["etc/shadow"]
        self.assertEqual(res.setid, [])
        self.assertTrue(calls)
        self.assertEqual(calls[-1][1], 1)   # nlayers
        small = img.scan(["bin/busybox"], content_max=16)
        self.assertTrue(small["bin/busybox"].too_big)
        self.assertIsNone(small["bin/busybox"].content)

    def test_unpack(self):
        img = nonroot.Image.open(self.ref)
        root = os.path.join(self.tmp, "unpacked")
        calls = []
        img.unpack(root, progress=lambda *a: calls.append(a))
        with open(os.path.join(root, "etc/passwd"), "rb") as f:
            self.assertEqual(f.read(), b"root:x:0:0:root:/root:/bin/sh\n")
        self.assertEqual(os.readlink(os.path.join(root, "bin/sh")), "busybox")
        self.assertEqual(os.stat(os.path.join(root, "tmp")).st_mode & 0o7777, 0o1777)
        self.assertTrue(calls)
        with self.assertRaises(nonroot.AlreadyExists):
            img.unpack(root)
        with self.assertRaises(nonroot.InvalidArgument):
            img.unpack(os.path.join(self.tmp, "u2"), i=3)

    def test_bundle(self):
        import json
        img = nonroot.Image.open(self.ref)
        b = os.path.join(self.tmp, "bundle")
        with self.assertRaises(nonroot.InvalidInput):   # the image runs as root
            img.bundle(b)
        self.assertFalse(os.path.exists(b))
        img.bundle(b, allow_root=True, read_only=True, hostname="box")
        with open(os.path.join(b, "config.json")) as f:
            cfg = json.load(f)
        self.assertEqual(cfg["process"]["args"], ["/app/serve"])
        self.assertEqual(cfg["process"]["cwd"], "/app")
        self.assertEqual(cfg["hostname"], "box")
        self.assertTrue(cfg["root"]["readonly"])
        self.assertEqual(cfg["process"]["capabilities"]["bounding"], [])
        self.assertTrue(os.path.isfile(os.path.join(b, "rootfs/etc/passwd")))

    def test_errors(self):
        with self.assertRaises(nonroot.NotFound):
            nonroot.Image.open("oci:" + os.path.join(self.tmp, "nope"))
        with self.assertRaises(nonroot.NotFound):
            nonroot.Image.open(self.ref[:-len("latest")] + "other")
        img = nonroot.Image.open(self.ref)
        with self.assertRaises(nonroot.NotFound):
            img.read_file("etc/shadow")
        with self.assertRaises(nonroot.InvalidInput):
            img.read_file("etc")
        with self.assertRaises(nonroot.InvalidInput):
            img.set_config("[]")
        with self.assertRaises(nonroot.NotFound):
            img.add_layer(nonroot.Descriptor(LAYER_MT, "sha256:" + "0" * 64, 10))

    def test_tampered_blob(self):
        layout = os.path.join(self.tmp, "layout")
        bad = os.path.join(self.tmp, "tampered")
        shutil.copytree(layout, bad)
        digest = nonroot.Image.open(self.ref).config_descriptor().digest
        blob = os.path.join(bad, "blobs", "sha256", digest.split(":", 1)[1])
        with open(blob, "rb") as f:
            data = f.read()
        os.chmod(blob, 0o644)
        with open(blob, "wb") as f:
            f.write(data.replace(b"amd64", b"arm64"))
        with self.assertRaises(nonroot.DigestMismatch) as cm:
            nonroot.Image.open("oci:" + bad + ":latest")
        self.assertEqual(cm.exception.code, -10)
        self.assertIn(digest, str(cm.exception))

    def test_edit_and_write(self):
        img = nonroot.Image.open(self.ref)
        layer = tar_layer({"etc/nonroot-test": b"hello\n"})
        w = img.blob_writer()
        w.write(layer[:100])
        w.write(layer[100:])
        digest, size = w.finish()
        self.assertEqual(size, len(layer))
        img.add_layer(nonroot.Descriptor(LAYER_MT, digest, size))
        cfg = img.config()
        cfg.user = "1654:1654"
        self.assertTrue(cfg.append_layer(digest, created_by="python test"))
        img.set_config(cfg)
        out = os.path.join(self.tmp, "out")
        pending(self, img.write, "oci:" + out + ":patched", tag="patched")
        again = nonroot.Image.open("oci:" + out + ":patched")
        self.assertEqual(again.config().user, "1654:1654")
        self.assertEqual(len(again.layers()), 2)
        self.assertEqual(again.read_file("etc/nonroot-test"), b"hello\n")
        self.assertEqual(again.read_file("etc/passwd"), b"root:x:0:0:root:/root:/bin/sh\n")
        # skopeo verifies every digest and size while copying
        if shutil.which("skopeo"):
            subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", "oci:" + out +
                            ":patched", "oci:" + os.path.join(self.tmp, "verify") + ":x"],
                           check=True)
        # to an archive of another transport, and back
        dest = "docker-archive:" + os.path.join(self.tmp, "out.tar") + ":app:patched"
        again.write(dest)
        d = nonroot.Image.open(dest)
        self.assertEqual(d.transport, "docker-archive")
        self.assertEqual(d.config().user, "1654:1654")
        self.assertEqual(d.read_file("etc/nonroot-test"), b"hello\n")
        # add_blob is the one-call form
        d2, s2 = again.add_blob(b"x")
        self.assertEqual((d2, s2), ("sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", 1))


if __name__ == "__main__":
    unittest.main()
