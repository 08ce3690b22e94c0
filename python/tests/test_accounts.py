"""Account files, names and user specs over the accounts module's data-driven cases
(tests/data/{passwd,group,shadow,gshadow,names,userspec}) and the API edges."""
import os
import unittest

import nonroot
from _paths import DATA, cases, read

FILES = {"passwd": nonroot.Passwd, "group": nonroot.Group, "shadow": nonroot.Shadow,
         "gshadow": nonroot.GShadow}


def entry_line(kind, e):
    if kind == "passwd":
        fields = [e.name, e.passwd, e.uid, e.gid, e.gecos, e.dir, e.shell]
    elif kind == "group":
        fields = [e.name, e.passwd, e.gid, ",".join(e.members)]
    elif kind == "shadow":
        fields = [e.name, e.passwd, e.lastchg, e.min, e.max, e.warn, e.inact, e.expire, e.flag]
    else:
        fields = [e.name, e.passwd, e.admins, e.members]
    return ":".join(str(f) for f in [e.line] + fields)


class FileCases(unittest.TestCase):
    def test_valid(self):
        total = 0
        for kind, cls in FILES.items():
            for name, d in cases(kind + "/valid"):
                total += 1
                with self.subTest(kind=kind, case=name):
                    raw = read(os.path.join(d, "input"), "rb")
                    f = cls.parse(raw)
                    self.assertEqual(bytes(f), raw, "lossless")
                    want = read(os.path.join(d, "entries"), "rb").decode().split("\n")[:-1]
                    self.assertEqual([entry_line(kind, e) for e in f.entries], want)
                    self.assertEqual(len(f.entries), len(want))
                    names = list(dict.fromkeys(e.name for e in f.entries))
                    self.assertEqual(list(f), names)      # a mapping: the names, once each
                    self.assertEqual(len(f), len(names))
                    probs = os.path.join(d, "problems")
                    other = {"passwd": ("group", nonroot.Group), "group": ("passwd", nonroot.Passwd),
                             "shadow": ("passwd", nonroot.Passwd),
                             "gshadow": ("group", nonroot.Group)}[kind]
                    path = os.path.join(d, other[0])
                    ref = other[1].parse(read(path, "rb")) if os.path.exists(path) else None
                    if os.path.exists(probs):
                        got = ["%d: %s" % (p.line, p.message) for p in f.check(ref)]
                        self.assertEqual(got, read(probs).splitlines())
        self.assertGreaterEqual(total, 10)

    def test_invalid(self):
        total = 0
        for kind, cls in FILES.items():
            for name, d in cases(kind + "/invalid"):
                total += 1
                with self.subTest(kind=kind, case=name):
                    with self.assertRaises(nonroot.NonrootError) as cm:
                        cls.parse(read(os.path.join(d, "input"), "rb"))
                    self.assertEqual(str(cm.exception), read(os.path.join(d, "error")).strip())
        self.assertGreaterEqual(total, 2)


class Names(unittest.TestCase):
    def lines(self, name):
        path = os.path.join(DATA, "names", name)
        return [l for l in read(path, "rb").decode("utf-8").split("\n") if l]

    def test_names(self):
        for strict in (False, True):
            suffix = "-strict" if strict else ""
            valid = self.lines("valid" + suffix)
            self.assertTrue(valid)
            for n in valid:
                with self.subTest(name=n, strict=strict):
                    nonroot.check_name(n, strict=strict)
            invalid = self.lines("invalid" + suffix)
            self.assertTrue(invalid)
            for line in invalid:
                n, _, why = line.partition("\t")
                with self.subTest(name=n, strict=strict):
                    with self.assertRaises(nonroot.InvalidInput) as cm:
                        nonroot.check_name(n, strict=strict)
                    self.assertIn(why, str(cm.exception))


def parse_kv(text):
    out = {}
    for part in text.split(" "):
        k, _, v = part.partition("=")
        out[k] = v
    return out


def gids(text):
    return [int(g) for g in text.split(",") if g]


class UserSpec(unittest.TestCase):
    def test_cases(self):
        found = cases("userspec")
        self.assertGreaterEqual(len(found), 5)
        for name, d in found:
            pw = os.path.join(d, "passwd")
            gr = os.path.join(d, "group")
            passwd = nonroot.Passwd.parse(read(pw, "rb")) if os.path.exists(pw) else None
            group = nonroot.Group.parse(read(gr, "rb")) if os.path.exists(gr) else None
            dflt = parse_kv(read(os.path.join(d, "defaults")).strip())
            kw = dict(uid=int(dflt["uid"]), gid=int(dflt["gid"]), home=dflt["home"],
                      additional_gids=gids(dflt["sgids"]))
            for line in read(os.path.join(d, "cases")).splitlines():
                spec, _, want = line.partition("\t")
                with self.subTest(case=name, spec=spec):
                    if want.startswith("error="):
                        code, _, msg = want[len("error="):].partition(" ")
                        with self.assertRaises(nonroot.NonrootError) as cm:
                            nonroot.resolve_user(spec, passwd, group, **kw)
                        self.assertEqual(cm.exception.code, getattr(
                            nonroot._native.lib, "NR_" + code))
                        self.assertEqual(cm.exception.message, msg)
                        continue
                    w = parse_kv(want)
                    u = nonroot.resolve_user(spec, passwd, group, **kw)
                    self.assertEqual(u, nonroot.ExecUser(int(w["uid"]), int(w["gid"]),
                                                         gids(w["sgids"]), w["home"],
                                                         w["name"] or None))


PASSWD = "root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\n+nis\n"


class Api(unittest.TestCase):
    def test_passwd_edit_is_lossless(self):
        pw = nonroot.Passwd.parse(PASSWD, "etc/passwd")
        self.assertEqual(str(pw), PASSWD)
        e = pw.add_user("app", 1654, home="/home/app", shell="/sbin/nologin")
        self.assertEqual(e, nonroot.PwEnt("app", "x", 1654, 1654, "", "/home/app",
                                          "/sbin/nologin", 4))
        self.assertEqual(str(pw), "root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\n"
                         "app:x:1654:1654::/home/app:/sbin/nologin\n+nis\n")
        self.assertEqual(pw.find_uid(1654).name, "app")
        self.assertIsNone(pw.find_name("nobody"))
        self.assertIsNone(pw.find_uid(42))
        self.assertEqual(pw.entries[0].name, "root")
        self.assertEqual(pw["root"].uid, 0)
        with self.assertRaises(KeyError):
            pw["nobody"]
        self.assertEqual(pw.next_free_id(), 1000)
        self.assertEqual(pw.next_free_id(1654, 1660), 1655)
        self.assertEqual(pw.next_free_id(nonroot.SYS_ID_MAX, nonroot.SYS_ID_MIN), 999)
        with self.assertRaises(nonroot.NotFound):
            pw.next_free_id(1654, 1654)
        probs = pw.check()
        self.assertEqual([(p.line, p.source) for p in probs], [(3, "etc/passwd")])
        self.assertIsInstance(probs[0], nonroot.InvalidInput)

    def test_passwd_add_errors(self):
        pw = nonroot.Passwd.parse(PASSWD, "etc/passwd")
        pw.add_user("app", 1654)
        with self.assertRaises(nonroot.AlreadyExists) as cm:
            pw.add_user("app", 1655)
        self.assertEqual((cm.exception.source, cm.exception.line), ("etc/passwd", 4))
        with self.assertRaises(nonroot.Conflict) as cm:
            pw.add_user("other", 1654)
        self.assertIn("uid 1654 is already used by user 'app'", str(cm.exception))
        for name in ("-x", "a:b"):
            with self.assertRaises(nonroot.InvalidInput) as cm:
                pw.add_user(name, 5)
            self.assertEqual(cm.exception.source, "name")
        with self.assertRaises(nonroot.InvalidInput) as cm:
            pw.add_user("ok", 5, shell="/bin/sh\n")
        self.assertEqual(cm.exception.source, "shell")

    def test_group_and_gshadow(self):
        gr = nonroot.Group.parse("root:x:0:\nstaff:x:50:app,bob\n")
        self.assertEqual(gr.find_gid(50).members, ["app", "bob"])
        self.assertEqual(gr.add_group("app", 1654, ["app"]), nonroot.GrEnt("app", "x", 1654,
                                                                           ["app"], 3))
        gr.add_member("staff", "carol")
        gr.add_member("staff", "carol")
        self.assertEqual(str(gr), "root:x:0:\nstaff:x:50:app,bob,carol\napp:x:1654:app\n")
        self.assertEqual(gr.next_free_gid(), 1000)
        with self.assertRaises(nonroot.NotFound):
            gr.add_member("nogroup", "x")
        with self.assertRaises(nonroot.AlreadyExists):
            gr.add_group("staff", 51)
        pw = nonroot.Passwd.parse("app:x:1654:1654::/:/bin/false\n")
        self.assertEqual([p.message for p in gr.check(pw)],
                         ["group 'staff': no user 'bob'", "group 'staff': no user 'carol'"])
        self.assertEqual(pw.check(gr), [])
        gs = nonroot.GShadow.parse("root:*::\n")
        self.assertEqual(gs.add("app"), nonroot.SgEnt("app", "!", "", "", 2))
        gs.add_member("app", "bob")
        self.assertEqual(str(gs), "root:*::\napp:!::bob\n")
        self.assertEqual([p.message for p in gs.check(gr)],
                         ["group 'staff' has no gshadow entry"])
        self.assertEqual(gs.find_name("root").passwd, "*")

    def test_shadow(self):
        sh = nonroot.Shadow.parse("root:*:19000:0:99999:7:::\n")
        self.assertEqual(sh.add("app", 20000).lastchg, "20000")
        self.assertEqual(sh.add("nodays", -1).lastchg, "")
        self.assertEqual(str(sh), "root:*:19000:0:99999:7:::\napp:!:20000::::::\n"
                         "nodays:!:::::::\n")
        self.assertEqual(sh.find_name("root").max, "99999")
        pw = nonroot.Passwd.parse("root:x:0:0::/:/bin/sh\n")
        self.assertEqual(len(sh.check(pw)), 2)   # app and nodays are not in passwd
        self.assertGreater(nonroot.shadow_days_now(), 19000)
        with self.assertRaises(nonroot.AlreadyExists):
            sh.add("root")

    def test_resolve_user(self):
        pw = nonroot.Passwd.parse("root:x:0:0:root:/root:/bin/sh\n"
                                  "app:x:1654:1654::/home/app:/bin/false\n")
        gr = nonroot.Group.parse("root:x:0:\nstaff:x:50:app\napp:x:1654:\n")
        self.assertEqual(nonroot.resolve_user("app", pw, gr),
                         nonroot.ExecUser(1654, 1654, [50], "/home/app", "app"))
        self.assertEqual(nonroot.resolve_user("1654:50", str(pw), str(gr)),
                         nonroot.ExecUser(1654, 50, [], "/home/app", "app"))
        self.assertEqual(nonroot.resolve_user("5000"),
                         nonroot.ExecUser(5000, 0, [], "/", None))
        self.assertEqual(nonroot.resolve_user("", pw, gr).name, "root")
        with self.assertRaises(nonroot.NotFound) as cm:
            nonroot.resolve_user("nobody", pw, gr)
        self.assertEqual(str(cm.exception),
                         "unable to find user nobody: no matching entries in passwd file")
        with self.assertRaises(nonroot.OutOfRange):
            nonroot.resolve_user("2147483648", pw, gr)
        self.assertEqual(nonroot.additional_gids(["staff", "1654", "99", "99"], gr),
                         [50, 1654, 99])
        with self.assertRaises(nonroot.NotFound):   # runc: a repeated name finds no group
            nonroot.additional_gids(["staff", "staff"], gr)
        self.assertEqual(nonroot.additional_gids([]), [])
        with self.assertRaises(nonroot.NotFound) as cm:
            nonroot.additional_gids(["nope"], gr)
        self.assertEqual(str(cm.exception), "Unable to find group nope")


if __name__ == "__main__":
    unittest.main()
