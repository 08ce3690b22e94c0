"""One answer everywhere (issue 13): a matrix of environment combinations (ASPNETCORE_URLS,
DOTNET_URLS, unprefixed URLS, HTTP(S)_PORTS, Kestrel endpoints, PREFERHOSTINGURLS, with
ExposedPorts and a health check alongside) goes through every consumer of an image's
effective Kestrel bindings -- `nonroot audit`, `nonroot patch --dry-run`, `nonroot urls`,
`nonroot k8s`, `nonroot bundle harden` and the Python bindings -- and each must report the
same bindings (ports, URLs, variables) and the same effective source. audit's NR005 levels
must follow the same answer: an error/warning only for a variable that supplies an
effective binding, a note for one that does not.

The CLI is $NONROOT (set by CTest); without it the test is skipped."""
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import jsonschema
from referencing import Registry, Resource

import nonroot
from _paths import SRC

NONROOT = os.environ.get("NONROOT")


def validators():
    """The JSON Schemas of docs/schemas/ (urls, audit, patch), urls.json resolvable by $ref."""
    docs = {}
    for name in ("urls", "audit", "patch"):
        with open(os.path.join(SRC, "docs", "schemas", name + ".json")) as f:
            docs[name] = json.load(f)
    reg = Registry().with_resources([(d["$id"], Resource.from_contents(d))
                                     for d in docs.values()])
    out = {}
    for name, d in docs.items():
        jsonschema.Draft202012Validator.check_schema(d)
        out[name] = jsonschema.Draft202012Validator(d, registry=reg)
    return out

URLS = [
    [],
    ["ASPNETCORE_URLS=http://*:80"],
    ["DOTNET_URLS=http://+:8080;https://+:443"],
    ["URLS=http://+:81"],
    ["ASPNETCORE_URLS=http://+:80", "DOTNET_URLS=http://localhost:5001"],
]
PORTS = [
    [],
    ["ASPNETCORE_HTTP_PORTS=80"],
    ["HTTPS_PORTS=443"],
    ["ASPNETCORE_HTTP_PORTS=8081;80", "DOTNET_HTTPS_PORTS=8443"],
    ["HTTP_PORTS=8080"],
]
ENDPOINTS = [
    [],
    ["Kestrel__Endpoints__Http__Url=http://0.0.0.0:81"],
    ["ASPNETCORE_Kestrel__Endpoints__Web__Url=http://+:9000",
     "Kestrel__Endpoints__Api__Url=https://localhost:443"],
]
EXTRA = [
    ({}, None),
    ({"80/tcp": {}}, None),
    ({"8080/tcp": {}, "443/tcp": {}}, ["CMD", "curl", "-f", "http://localhost:80/health"]),
]

# The two environments of the issue, and the endpoint override given up with
# PREFERHOSTINGURLS.
SPECIAL = [
    ["Kestrel__Endpoints__Http__Url=http://0.0.0.0:81", "ASPNETCORE_URLS=http://*:80"],
    ["DOTNET_URLS=http://+:80", "HTTPS_PORTS=443"],
    ["DOTNET_URLS=http://+:8080", "ASPNETCORE_HTTPS_PORTS=443"],
    ["ASPNETCORE_PREFERHOSTINGURLS=true", "ASPNETCORE_URLS=http://+:80",
     "Kestrel__Endpoints__Http__Url=http://+:8081"],
]


def combinations():
    out = []
    for k, (u, p, e) in enumerate(itertools.product(URLS, PORTS, ENDPOINTS)):
        exposed, health = EXTRA[k % len(EXTRA)]
        out.append((u + p + e, exposed, health))
    for env in SPECIAL:
        out.append((env, {"80/tcp": {}}, ["CMD-SHELL", "curl http://localhost/"]))
    return out


def write_image(d, config):
    """A one-layer OCI layout with this config (stdlib only)."""
    os.makedirs(d + "/blobs/sha256")

    def blob(data):
        h = hashlib.sha256(data).hexdigest()
        with open(d + "/blobs/sha256/" + h, "wb") as f:
            f.write(data)
        return "sha256:" + h, len(data)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                            "app:x:1654:1654::/home/app:/bin/false\n"),
                           ("etc/group", "root:x:0:\napp:x:1654:\n")):
            b = data.encode()
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(b), 0o644, 1704067200
            t.addfile(ti, io.BytesIO(b))
    tarb = raw.getvalue()
    ldig, lsize = blob(gzip.compress(tarb, mtime=0))
    cfg = {"created": "2024-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
           "config": config,
           "rootfs": {"type": "layers",
                      "diff_ids": ["sha256:" + hashlib.sha256(tarb).hexdigest()]},
           "history": [{"created_by": "test"}]}
    cdig, csize = blob(json.dumps(cfg).encode())
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": cdig, "size": csize},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": ldig, "size": lsize}]}
    mdig, msize = blob(json.dumps(man).encode())
    with open(d + "/oci-layout", "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(d + "/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdig,
             "size": msize, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
            f)
    return json.dumps(cfg)


def summary(doc):
    """(source, [(url, port, variable)]) of a bindings document."""
    return (doc["effective"],
            [(b["url"], b["port"], b["variable"]) for b in doc["bindings"]])


@unittest.skipUnless(NONROOT and os.path.exists(NONROOT), "NONROOT (the CLI) is not set")
class ConsistencyMatrix(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.env = dict(os.environ, NONROOT_CACHE="off")
        self.schemas = validators()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def cli(self, *args, ok=(0, 1)):
        r = subprocess.run([NONROOT] + list(args), capture_output=True, text=True,
                           env=self.env)
        self.assertIn(r.returncode, ok, "%s: rc %d\n%s%s" % (args, r.returncode, r.stdout,
                                                               r.stderr))
        return r

    def test_matrix(self):
        combos = combinations()
        self.assertGreaterEqual(len(combos), 40)
        seen_sources = set()
        for n, (env, exposed, health) in enumerate(combos):
            with self.subTest(env=env):
                self.check_one(n, env, exposed, health, seen_sources)
        # the matrix really covers every source
        self.assertEqual(seen_sources, {"default", "urls", "http_ports", "kestrel_endpoints"})

    def check_one(self, n, env, exposed, health, seen_sources):
        config = {"User": "1654:1654", "Env": ["PATH=/bin"] + env}
        if exposed:
            config["ExposedPorts"] = exposed
        if health:
            config["Healthcheck"] = {"Test": health}
        layout = os.path.join(self.tmp, "img%d" % n)
        cfg_json = write_image(layout, config)
        ref = "oci:" + layout + ":latest"

        # Python: the config's bindings, and the environment's
        py = nonroot.ImageConfig.parse(cfg_json).bindings()
        want = json.loads(py.to_json())
        seen_sources.add(want["effective"])
        self.assertEqual(py.source, want["effective"])
        envmap = dict(kv.split("=", 1) for kv in config["Env"])
        self.assertEqual(json.loads(nonroot.effective_bindings(envmap).to_json()), want)

        # urls --json over the same variables: the identical document
        r = self.cli("urls", "--json", *config["Env"], ok=(0,))
        self.assertEqual(json.loads(r.stdout), want, "urls")
        self.schemas["urls"].validate(want)

        # audit: the platform's bindings, and NR005 levels follow them
        r = self.cli("audit", "--format", "json", ref)
        audit = json.loads(r.stdout)
        self.schemas["audit"].validate(audit)
        plat = audit["platforms"][0]
        self.assertEqual(plat["bindings"], want, "audit")
        effective_vars = {b["variable"] for b in want["bindings"]}
        privileged = any(b["privileged"] for b in want["bindings"])
        levels = []
        for f in plat["findings"]:
            if f["id"] != "NR005":
                continue
            var = f["location"][len("config.Env."):]
            levels.append(f["level"])
            if f["level"] == "note":
                self.assertNotIn(var, effective_vars, f["message"])
            else:
                self.assertIn(var, effective_vars, f["message"])
        self.assertEqual(privileged, "error" in levels, plat["findings"])
        # Python's audit returns the same document
        img = nonroot.Image.open(ref)
        a = img.audit()
        self.assertEqual(json.loads(a.to_json()), audit)
        self.assertEqual(a.bindings(0), want)

        # patch --dry-run: the bindings it starts from
        r = self.cli("patch", "--dry-run", "--format", "json", "--port-map",
                     "80:8080,81:8082,443:8443", ref)
        patch = json.loads(r.stdout)
        self.schemas["patch"].validate(patch)
        self.assertEqual(patch["platforms"][0]["bindings_before"], want, "patch")
        pr = img.patch(dry_run=True, ports="80:8080,81:8082,443:8443")
        self.assertEqual(pr.bindings(0), want)
        # the CLI adds its audit of the result (null for a dry run) to the library's report
        for k in ("clean", "remaining", "findings"):
            self.assertIsNone(patch.pop(k), k)
        self.assertEqual(json.loads(pr.to_json()), patch)

        # k8s: the same source and URLs, and no "passes" when it exits 1
        r = self.cli("k8s", ref)
        m = re.search(r"^# effective bindings: (\S+):(.*)$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(m.group(1), want["effective"], "k8s source")
        got = re.findall(r" (\S+)(?: \(([^)]*)\))?", m.group(2))
        self.assertEqual([(u, v or None) for u, v in got],
                         [(b["url"], b["variable"]) for b in want["bindings"]], "k8s")
        header = r.stdout.splitlines()[0]
        self.assertEqual(r.returncode == 0, "passes the restricted" in header, header)
        public_low = any(b["privileged"] and b["kind"] != "localhost"
                         for b in want["bindings"])
        self.assertEqual(r.returncode, 1 if public_low else 0, r.stdout + r.stderr)

        # bundle harden: process.env of a runtime bundle made from the image
        bundle = os.path.join(self.tmp, "bundle%d" % n)
        os.makedirs(bundle + "/rootfs")
        with open(bundle + "/config.json", "w") as f:
            json.dump({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "linux": {},
                       "process": {"user": {"uid": 1654, "gid": 1654}, "cwd": "/",
                                   "args": ["/app"], "env": config["Env"]}}, f)
        r = self.cli("bundle", "harden", bundle, "--dry-run", "--format", "json", ok=(0,))
        doc = json.loads(r.stdout)
        self.assertEqual(doc["bindings"], want, "bundle")
        self.schemas["urls"].validate(doc["bindings"])
        low = [w for w in doc["warnings"] if "below 1024" in w and w.startswith("process.env")]
        self.assertEqual(bool(low), privileged, doc["warnings"])

    def test_patch_written(self):
        """patch --format json / --digestfile and Python's write(): the same digests."""
        ref = "oci:%s/img:latest" % self.tmp
        write_image(self.tmp + "/img", {"User": "", "Env": ["ASPNETCORE_URLS=http://+:80"]})
        r = self.cli("patch", "--format", "json", "--digestfile", self.tmp + "/digest",
                     "-o", "oci:%s/cli:v1" % self.tmp, ref, ok=(0,))
        doc = json.loads(r.stdout)
        self.schemas["patch"].validate(doc)
        with open(self.tmp + "/digest") as f:
            digest = f.read()
        self.assertEqual(doc["result"]["digest"], digest)
        self.assertEqual(doc["platforms"][0]["manifest"]["digest"], digest)
        self.assertRegex(doc["platforms"][0]["layer"]["diff_id"], "^sha256:[0-9a-f]{64}$")
        with nonroot.Image.open(ref) as img:
            pr = img.patch()
            mine = json.loads(pr.to_json())
            self.schemas["patch"].validate(mine)
            # written later: the report has the layer and config, not yet the manifest
            self.assertIsNone(mine["result"])
            self.assertEqual(mine["platforms"][0]["layer"], doc["platforms"][0]["layer"])
            self.assertEqual(mine["platforms"][0]["config"], doc["platforms"][0]["config"])
            self.assertEqual(img.write("oci:%s/py:v1" % self.tmp), digest)
            m = img.written_manifest(0)
            self.assertIsNotNone(m)
            self.assertEqual(m.digest if m else None, digest)
            # after the write the report is the CLI's document (the CLI adds its audit of
            # the result; "written" names each one's destination)
            after = json.loads(pr.to_json())
            self.schemas["patch"].validate(after)
            self.assertEqual(after["written"], "oci:%s/py:v1" % self.tmp)
            self.assertEqual(after["result"]["digest"], digest)
            cli = dict(doc, written=after["written"])
            for k in ("clean", "remaining", "findings"):
                cli.pop(k, None)
            self.assertEqual(after, cli)


if __name__ == "__main__":
    unittest.main()


class Schemas(unittest.TestCase):
    """The schemas reject what they must (so the matrix's validation means something)."""

    def test_reject(self):
        v = validators()
        good = json.loads(nonroot.effective_bindings({"ASPNETCORE_URLS": "http://+:80"}).to_json())
        v["urls"].validate(good)
        bad = dict(good, effective="everything")
        self.assertRaises(jsonschema.ValidationError, v["urls"].validate, bad)
        bad = dict(good, bindings=[dict(good["bindings"][0], kind="galaxy")])
        self.assertRaises(jsonschema.ValidationError, v["urls"].validate, bad)
        audit = {"image": "x", "max_level": "none", "suppressed": 0,
                 "platforms": [{"platform": "linux/amd64", "user": "", "bindings": good,
                                "findings": [{"id": "NR001", "level": "error",
                                              "location": "config.User", "message": "m",
                                              "fix": "f", "fingerprint": "0" * 32,
                                              "baseline": False}]}]}
        v["audit"].validate(audit)
        audit["platforms"][0]["bindings"] = {"effective": "urls"}
        self.assertRaises(jsonschema.ValidationError, v["audit"].validate, audit)
