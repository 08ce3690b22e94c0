"""nonroot.RootFS: confined reads and writes, useradd into a root directory, user specs."""
import os
import shutil
import stat
import tempfile
import unittest

import nonroot


class RootFSTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nr-py-rootfs-")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(self.root, "etc"))
        os.makedirs(os.path.join(self.root, "sbin"))
        self.put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        self.put("etc/group", "root:x:0:\nstaff:x:50:\n")
        self.put("etc/shadow", "root:*:19000:0:99999:7:::\n", 0o640)
        open(os.path.join(self.root, "sbin", "nologin"), "w").close()
        with open(os.path.join(self.dir, "outside"), "w") as f:
            f.write("host secret\n")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def put(self, rel, data, mode=0o644):
        path = os.path.join(self.root, rel)
        with open(path, "w") as f:
            f.write(data)
        os.chmod(path, mode)

    def read(self, rel):
        with open(os.path.join(self.root, rel)) as f:
            return f.read()

    def test_confined_paths(self):
        for no_openat2 in (False, True):
            with self.subTest(no_openat2=no_openat2):
                rfs = nonroot.RootFS.open(self.root, no_openat2=no_openat2)
                if no_openat2:
                    self.assertFalse(rfs.uses_openat2)
                os.symlink("/../../outside", os.path.join(self.root, "etc", "link"))
                try:
                    # the absolute symlink starts over at the root: ROOT/outside, not the host's
                    with self.assertRaises(nonroot.NotFound):
                        rfs.read_file("etc/link")
                    self.assertFalse(rfs.exists("etc/link"))
                    self.assertEqual(rfs.read_file("/etc/../etc/passwd"),
                                     b"root:x:0:0:root:/root:/bin/sh\n")
                    self.assertTrue(rfs.exists("/etc/passwd"))
                    rfs.write_file("etc/link", b"inside\n")
                    self.assertEqual(self.read("outside"), "inside\n")
                    with open(os.path.join(self.dir, "outside")) as f:
                        self.assertEqual(f.read(), "host secret\n")
                finally:
                    os.unlink(os.path.join(self.root, "etc", "link"))
                    os.unlink(os.path.join(self.root, "outside"))

    def test_files_and_dirs(self):
        rfs = nonroot.RootFS.open(self.root)
        with self.assertRaises(nonroot.TooBig):
            rfs.read_file("etc/passwd", max_size=4)
        with self.assertRaises(nonroot.InvalidInput):
            rfs.read_file("etc")
        rfs.write_file("etc/shadow", "root:!:1::::::\n")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.root, "etc/shadow")).st_mode),
                         0o640)                         # an existing file keeps its mode
        rfs.write_file("etc/new", "x", mode=0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.root, "etc/new")).st_mode),
                         0o600)
        with self.assertRaises(nonroot.NotFound):
            rfs.write_file("no/such/dir/file", "x")
        rfs.mkdir("srv/data", 0o700, 1654, 1654)
        st = os.stat(os.path.join(self.root, "srv/data"))
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o700, 1654, 1654))
        with self.assertRaises(nonroot.AlreadyExists):
            rfs.mkdir("srv/data")
        with self.assertRaises(nonroot.NotFound):
            nonroot.RootFS.open(os.path.join(self.dir, "missing"))

    def test_add_user_and_resolve(self):
        rfs = nonroot.RootFS.open(self.root)
        r = rfs.add_user("app", 1654, create_home=True, shadow_days=20000)
        self.assertEqual(r, nonroot.AddUserResult(1654, 1654, False, True, True, True, False))
        self.assertEqual(self.read("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
                         "app:x:1654:1654::/home/app:/sbin/nologin\n")
        self.assertEqual(self.read("etc/group"), "root:x:0:\nstaff:x:50:\napp:x:1654:\n")
        self.assertIn("app:!:20000::::::\n", self.read("etc/shadow"))
        st = os.stat(os.path.join(self.root, "home/app"))
        self.assertEqual((st.st_uid, st.st_gid), (1654, 1654))
        self.assertEqual(rfs.add_user("app", 1654, exist_ok=True).existed, True)
        with self.assertRaises(nonroot.AlreadyExists):
            rfs.add_user("app", 1654)
        with self.assertRaises(nonroot.Conflict):
            rfs.add_user("other", 1654)
        auto = rfs.add_user("svc", gid=50, id_first=2000, id_last=2010, gecos="service")
        self.assertEqual((auto.uid, auto.gid, auto.group_created), (2000, 50, False))
        self.assertEqual(rfs.resolve_user("app"),
                         nonroot.ExecUser(1654, 1654, [], "/home/app", "app"))
        self.assertEqual(rfs.resolve_user("svc:staff").gid, 50)
        self.assertEqual(rfs.resolve_user("4242", home="/tmp"),
                         nonroot.ExecUser(4242, 0, [], "/tmp", None))
        with self.assertRaises(nonroot.NotFound) as cm:
            rfs.resolve_user("nobody")
        self.assertEqual(str(cm.exception),
                         "unable to find user nobody: no matching entries in passwd file")
        with self.assertRaises(nonroot.InvalidInput):
            rfs.add_user("-bad")


if __name__ == "__main__":
    unittest.main()
