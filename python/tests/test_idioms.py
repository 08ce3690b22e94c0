"""Python idioms (as pygit2 and libarchive-c): context managers and close(), temporary
directories removed on close, __repr__ everywhere, the account files as mappings,
FileNotFoundError, progress exceptions that propagate, no constructor taking a C pointer, and
a docstring on every public name."""
import collections.abc
import errno
import inspect
import os
import shutil
import tempfile
import unittest

import nonroot
from _paths import build_test_image

PASSWD = "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1654:1654::/home/app:/bin/false\n"
GROUP = "root:x:0:\napp:x:1654:\n"


class Image(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nr-py-idioms-")
        cls.ref = build_test_image(cls.tmp)
        if cls.ref is None:
            shutil.rmtree(cls.tmp)
            raise unittest.SkipTest("umoci/skopeo not installed (scripts/install-deps)")
        cls.archive = "oci-archive:" + os.path.join(cls.tmp, "image.tar")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_with_closes_and_closed_object_refuses_use(self):
        with nonroot.Image.open(self.ref) as img:
            self.assertFalse(img.closed)
            self.assertEqual(len(img), 1)
            self.assertIn("transport=oci manifests=1", repr(img))
        self.assertTrue(img.closed)
        self.assertIn("closed", repr(img))
        with self.assertRaises(ValueError):
            img.read_file("etc/passwd")
        with self.assertRaises(ValueError):
            len(img)
        img.close()  # idempotent

    def test_close_removes_the_unpacked_archive(self):
        scratch = tempfile.mkdtemp(dir=self.tmp)
        img = nonroot.Image.open(self.archive, tmpdir=scratch)
        self.assertNotEqual(os.listdir(scratch), [], "the archive is unpacked under tmpdir")
        img.close()      # now, not whenever the garbage collector runs
        self.assertEqual(os.listdir(scratch), [])
        with nonroot.Image.open(self.archive, tmpdir=scratch) as img:
            self.assertTrue(img.read_file("etc/passwd").startswith(b"root:"))
        self.assertEqual(os.listdir(scratch), [])

    def test_progress_exception_propagates(self):
        calls = []

        class Stop(Exception):
            pass

        def progress(*args):
            calls.append(args)
            raise Stop("enough")

        with nonroot.Image.open(self.ref) as img:
            for method in (lambda p: img.scan(["etc/passwd"], progress=p),
                           lambda p: img.audit(progress=p),
                           lambda p: img.patch(dry_run=True, progress=p)):
                calls.clear()
                with self.assertRaises(Stop):
                    method(progress)
                self.assertEqual(len(calls), 1, "no progress calls after the exception")
            # the image is still usable afterwards
            self.assertEqual(img.scan(["etc/passwd"], progress=lambda *a: None)
                             ["etc/passwd"].type, "regular")

    def test_results_repr(self):
        with nonroot.Image.open(self.ref) as img:
            with img.scan(["etc/passwd"]) as res:
                self.assertIn("1 entries", repr(res))
            self.assertIn("closed", repr(res))
            self.assertIn("max_level=", repr(img.audit()))
            self.assertIn("changed=", repr(img.patch(dry_run=True)))
            with img.config() as cfg:
                self.assertIn("user=", repr(cfg))
            with img.blob_writer() as w:
                self.assertIn(self.ref, repr(w))


class Accounts(unittest.TestCase):
    def test_passwd_is_a_mapping(self):
        pw = nonroot.Passwd.parse(PASSWD)
        self.assertIsInstance(pw, collections.abc.Mapping)
        self.assertEqual(pw["root"].uid, 0)
        self.assertIn("app", pw)
        self.assertNotIn("nobody", pw)
        self.assertNotIn(0, pw)
        self.assertEqual(list(pw), ["root", "app"])
        self.assertEqual(len(pw), 2)
        self.assertEqual({k: v.uid for k, v in pw.items()}, {"root": 0, "app": 1654})
        self.assertIsNone(pw.get("nobody"))
        with self.assertRaises(KeyError):
            pw["nobody"]
        self.assertEqual([e.line for e in pw.entries], [1, 3])

    def test_group_shadow_gshadow_are_mappings(self):
        gr = nonroot.Group.parse(GROUP)
        self.assertEqual(gr["app"].gid, 1654)
        self.assertEqual(list(gr.keys()), ["root", "app"])
        sh = nonroot.Shadow.parse("root:*:19000:0:99999:7:::\n")
        self.assertEqual(sh["root"].passwd, "*")
        gs = nonroot.GShadow.parse("root:*::\n")
        self.assertIn("root", gs)

    def test_with_and_close(self):
        with nonroot.Passwd.parse(PASSWD) as pw:
            self.assertEqual(repr(pw), "<nonroot.Passwd 2 entries: root, app>")
        self.assertTrue(pw.closed)
        with self.assertRaises(ValueError):
            str(pw)
        with self.assertRaises(ValueError):
            "root" in pw


class Errors(unittest.TestCase):
    def test_missing_files_are_filenotfounderror(self):
        for fn in (lambda: nonroot.Image.open("oci:/nonexistent/layout:latest"),
                   lambda: nonroot.Image.open("oci-archive:/nonexistent.tar"),
                   lambda: nonroot.RootFS.open("/nonexistent"),
                   lambda: nonroot.Bundle.open("/nonexistent"),
                   lambda: nonroot.Bundle.harden_dir("/nonexistent"),
                   lambda: nonroot.RootFS.open("/").read_file("nonexistent")):
            with self.assertRaises(FileNotFoundError) as cm:
                fn()
            e = cm.exception
            self.assertIsInstance(e, OSError)
            self.assertIsInstance(e, nonroot.NonrootError)
            self.assertIsInstance(e, nonroot.NotFound)
            self.assertEqual(e.errno, errno.ENOENT)
            self.assertIn("nonexistent", e.filename)

    def test_lookup_misses_are_not_oserrors(self):
        with self.assertRaises(nonroot.NotFound) as cm:
            nonroot.resolve_user("nobody", PASSWD, GROUP)
        self.assertNotIsInstance(cm.exception, OSError)

    def test_exception_repr(self):
        e = nonroot.InvalidInput("bad", source="etc/passwd", line=3)
        self.assertEqual(repr(e), "nonroot.InvalidInput('bad', code=-2, line=3, column=0, "
                         "source='etc/passwd')")


class NoPointerConstructors(unittest.TestCase):
    def test_classes_refuse_construction(self):
        from nonroot._native import ffi
        for cls in (nonroot.Image, nonroot.Passwd, nonroot.Group, nonroot.Shadow,
                    nonroot.GShadow, nonroot.RootFS, nonroot.Bundle, nonroot.BundleReport,
                    nonroot.ImageConfig, nonroot.ScanResult, nonroot.BlobWriter,
                    nonroot.Audit, nonroot.PatchReport, nonroot.Bindings):
            with self.subTest(cls=cls.__name__):
                with self.assertRaises(TypeError):
                    cls(ffi.NULL)


class Reprs(unittest.TestCase):
    def test_every_object_has_a_repr(self):
        root = tempfile.mkdtemp(prefix="nr-py-repr-")
        self.addCleanup(shutil.rmtree, root)
        os.makedirs(os.path.join(root, "rootfs", "etc"))
        bundle = nonroot.Bundle.parse('{"ociVersion": "1.0.2", "process": {"user": '
                                      '{"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"}, '
                                      '"root": {"path": "rootfs"}}', root)
        objs = [nonroot.Passwd.parse(PASSWD), nonroot.Group.parse(GROUP),
                nonroot.Shadow.parse(""), nonroot.GShadow.parse(""),
                nonroot.ImageConfig.parse('{"config": {"User": "app"}}'),
                nonroot.RootFS.open(root), bundle, bundle.harden(user="1654:1654"),
                nonroot.effective_bindings({"ASPNETCORE_URLS": "http://+:80"}),
                nonroot.PortMap("80:8080"), nonroot.parse_url("http://+:80"),
                nonroot.audit_rules()[0], nonroot.NotFound("x")]
        for o in objs:
            with self.subTest(type=type(o).__name__):
                r = repr(o)
                self.assertNotIn(" object at 0x", r)
                self.assertIn(type(o).__name__, r)


def _public_members(obj):
    for name, value in vars(obj).items():
        if name.startswith("_") or name in ("count", "index"):
            continue
        yield name, value


class Docstrings(unittest.TestCase):
    def test_every_public_name_has_a_docstring(self):
        missing = []
        for name in nonroot.__all__:
            obj = getattr(nonroot, name)
            if isinstance(obj, (int, str, tuple)):
                continue     # constants: documented in the module docstring and README
            doc = inspect.getdoc(obj) or ""
            # a NamedTuple without a docstring gets "Name(field, ...)"
            if not doc or doc.startswith(name + "("):
                missing.append(name)
            if inspect.isclass(obj):
                for m, value in _public_members(obj):
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    if isinstance(value, property):
                        value = value.fget
                    if not callable(value) or isinstance(value, type):
                        continue
                    if getattr(value, "__doc__", None) in (None, ""):
                        missing.append(name + "." + m)
        self.assertEqual(missing, [])
        self.assertTrue(nonroot.__doc__)


if __name__ == "__main__":
    unittest.main()
