"""nonroot.ImageConfig over tests/data/imgconfig (the same cases and ops as the C tests)."""
import os
import unittest

import nonroot
from _paths import cases, read


def port_map(spec):
    return {int(a): int(b) for a, b in (p.split(":") for p in spec.split(","))}


class Cases(unittest.TestCase):
    def run_ops(self, name, cfg, ops):
        ret = None
        for lineno, line in enumerate(ops.splitlines(), 1):
            op, _, arg = line.partition(" ")
            where = "%s: ops line %d: %s" % (name, lineno, line)
            if op == "user":
                cfg.user = arg
                ret = 0
            elif op == "env":
                k, _, v = arg.partition(" ")
                ret = int(cfg.env_set(k, v))
            elif op in ("expose", "expose-keep"):
                ret = cfg.map_exposed(port_map(arg), keep_old=(op == "expose-keep"))
            elif op == "health":
                ret = cfg.map_healthcheck(port_map(arg))
            elif op == "layer":
                diff_id, created, by = arg.split(" ", 2)
                before = len(cfg.diff_ids)
                ret = int(cfg.append_layer(diff_id, created, by))
                self.assertEqual(cfg.diff_ids[before:], [diff_id], where)
            elif op == "expect-ret":
                self.assertEqual(ret, int(arg), where)
            elif op == "expect-user":
                self.assertEqual(cfg.user, arg, where)
            elif op == "expect-env":
                k, _, v = arg.partition(" ")
                self.assertEqual(cfg.env_get(k), None if v == "nil" else v, where)
            elif op == "expect-health":
                self.assertEqual(cfg.healthcheck, None if arg == "nil" else arg, where)
            elif op == "expect-in-step":
                self.assertEqual(cfg.history_in_step, bool(int(arg)), where)
            elif op == "expect-exposed":
                self.assertEqual(cfg.exposed_ports[:1], [arg], where)
            elif op == "expect-created":
                self.assertEqual(cfg.string("created"), arg, where)
            elif op == "expect-string":
                k, _, v = arg.partition(" ")
                self.assertEqual(cfg.string(k), v, where)
            else:
                self.fail("%s: unknown op %s" % (name, op))

    def test_valid(self):
        found = cases("imgconfig/valid")
        self.assertGreaterEqual(len(found), 6)
        for name, d in found:
            with self.subTest(case=name):
                cfg = nonroot.ImageConfig.parse(read(os.path.join(d, "input.json")))
                ops = os.path.join(d, "ops")
                if os.path.exists(ops):
                    self.run_ops(name, cfg, read(ops))
                want = read(os.path.join(d, "output.json")).rstrip("\n")
                self.assertEqual(cfg.serialize(), want)
                self.assertEqual(str(cfg), want)

    def test_invalid(self):
        found = cases("imgconfig/invalid")
        self.assertGreaterEqual(len(found), 6)
        for name, d in found:
            with self.subTest(case=name):
                want = read(os.path.join(d, "error")).strip()
                with self.assertRaises(nonroot.InvalidInput) as cm:
                    nonroot.ImageConfig.parse(read(os.path.join(d, "input.json"), "rb"))
                self.assertIn(want, str(cm.exception))
                self.assertEqual(cm.exception.code, -2)


ROOTFUL = ('{"architecture":"amd64","os":"linux","config":{"ExposedPorts":{"80/tcp":{},'
           '"53/udp":{}},"Env":["A=1","B=2","A=3"],"Healthcheck":{"Test":["CMD-SHELL",'
           '"curl -f http://localhost/health"]}},"rootfs":{"type":"layers","diff_ids":'
           '["sha256:' + "1" * 64 + '"]},"history":[{"created_by":"x"}]}')


class Api(unittest.TestCase):
    def setUp(self):
        self.cfg = nonroot.ImageConfig.parse(ROOTFUL)

    def test_getters(self):
        c = self.cfg
        self.assertEqual(c.string("os"), "linux")
        self.assertIsNone(c.string("variant"))
        self.assertEqual(c.user, "")
        self.assertEqual(c.env, ["A=1", "B=2", "A=3"])
        self.assertEqual(c.env_get("A"), "3")
        self.assertIsNone(c.env_get("C"))
        self.assertEqual(c.exposed_ports, ["80/tcp", "53/udp"])
        self.assertEqual(c.healthcheck, "curl -f http://localhost/health")
        self.assertEqual(c.diff_ids, ["sha256:" + "1" * 64])
        self.assertEqual(c.history_count, 1)
        self.assertTrue(c.history_in_step)

    def test_edits(self):
        c = self.cfg
        c.user = "1654:1654"
        self.assertEqual(c.user, "1654:1654")
        self.assertEqual(c.string("config.User"), "1654:1654")
        self.assertTrue(c.env_set("A", "9"))
        self.assertFalse(c.env_set("A", "9"))
        self.assertEqual(c.env, ["A=9", "B=2", "A=9"])
        self.assertEqual(c.map_exposed({80: 8080}), 2)
        self.assertEqual(c.exposed_ports, ["53/udp", "8080/tcp"])
        self.assertEqual(c.map_exposed({53: 5353}, keep_old=True), 1)
        self.assertIn("53/udp", c.exposed_ports)
        self.assertEqual(c.map_healthcheck({80: 8080}), 1)
        self.assertEqual(c.healthcheck, "curl -f http://localhost:8080/health")
        self.assertTrue(c.append_layer("sha256:" + "2" * 64, created_by="nonroot patch"))
        self.assertEqual(len(c.diff_ids), 2)
        self.assertEqual(c.history_count, 2)
        again = nonroot.ImageConfig.parse(str(c))
        self.assertEqual(str(again), str(c))

    def test_edit_errors(self):
        with self.assertRaises(nonroot.InvalidInput) as cm:
            self.cfg.env_set("A=B", "x")
        self.assertEqual(cm.exception.code, nonroot.InvalidInput.code)
        with self.assertRaises(nonroot.InvalidInput):
            self.cfg.user = "bad\nuser"
        with self.assertRaises(nonroot.InvalidInput):
            self.cfg.append_layer("sha256:nothex")
        with self.assertRaises(ValueError):
            self.cfg.map_exposed({80: 70000})

    def test_no_healthcheck(self):
        self.assertIsNone(nonroot.ImageConfig.parse('{"config":{}}').healthcheck)

    def test_parse_errors_carry_position(self):
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.ImageConfig.parse('{"config":\n  {"User": 1,}\n}')
        self.assertEqual(cm.exception.line, 2)
        self.assertGreater(cm.exception.column, 0)

    def test_parse_port_key(self):
        self.assertEqual(nonroot.parse_port_key("80/tcp"), (80, "tcp"))
        self.assertEqual(nonroot.parse_port_key("53/udp"), (53, "udp"))
        self.assertEqual(nonroot.parse_port_key("443"), (443, "tcp"))
        with self.assertRaises(nonroot.InvalidInput) as cm:
            nonroot.parse_port_key("8000-8010/tcp")
        self.assertIn("8000-8010/tcp", str(cm.exception))
        self.assertEqual(cm.exception.source, "config.ExposedPorts")


if __name__ == "__main__":
    unittest.main()
