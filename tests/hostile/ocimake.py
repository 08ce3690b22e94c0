"""ocimake: write OCI image layouts (and archives of them) byte by byte for hostile tests.

Nothing here validates: the point is to write exactly the broken thing a case needs.
Python stdlib only; zstd frames come from the `zstd` program when a case asks for them.
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

PASSWD = b"root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n"
GROUP = b"root:x:0:\nbin:x:1:\n"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar(members, fmt=tarfile.GNU_FORMAT):
    """members: tuples ("f", name, bytes[, mode]) ("d", name) ("l", name, target)
    ("h", name, target) ("c", name) (char device) ("p", name) (fifo); a TarInfo as is."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                t.addfile(m)
                continue
            kind, name = m[0], m[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            ti.mode = 0o755 if kind == "d" else 0o644
            if kind == "f":
                ti.size = len(m[2])
                if len(m) > 3:
                    ti.mode = m[3]
                t.addfile(ti, io.BytesIO(m[2]))
                continue
            ti.type = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE,
                       "c": tarfile.CHRTYPE, "p": tarfile.FIFOTYPE}[kind]
            if kind in "lh":
                ti.linkname = m[2]
            t.addfile(ti)
    return b.getvalue()


def base_tar(passwd=PASSWD, group=GROUP, extra=()):
    return tar([("d", "etc"), ("f", "etc/passwd", passwd), ("f", "etc/group", group),
                ("d", "bin"), ("f", "bin/false", b"#!/bin/sh\nexit 1\n", 0o755)] + list(extra))


def gz(data):
    return gzip.compress(data, mtime=0)


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                          check=True).stdout


class Layout:
    """An OCI image layout directory being written."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data, media_type=None, write=True):
        if isinstance(data, str):
            data = data.encode()
        d = {"mediaType": media_type, "digest": sha(data), "size": len(data)}
        if write:
            with open(os.path.join(self.path, "blobs", "sha256", d["digest"][7:]), "wb") as f:
                f.write(data)
        return d

    def jblob(self, obj, media_type):
        return self.blob(json.dumps(obj, separators=(",", ":")), media_type)

    def image(self, layers=None, config=None, diff_ids=None, manifest=None, index=None,
              ref="latest", raw_config=None, raw_manifest=None, raw_index=None):
        """layers: list of (media_type, blob_bytes, uncompressed_tar_or_None) or dicts
        (descriptors used as given). Returns the image reference 'oci:PATH:REF'."""
        if layers is None:
            t = base_tar()
            layers = [(MT_GZIP, gz(t), t)]
        descs, ids = [], []
        for l in layers:
            if isinstance(l, dict):
                descs.append(l)
                ids.append(l.get("_diff_id", l["digest"]))
                l.pop("_diff_id", None)
                continue
            mt, data, plain = l
            descs.append(self.blob(data, mt))
            ids.append(sha(plain if plain is not None else data))
        cfg = {"created": "2024-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
               "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
               "rootfs": {"type": "layers", "diff_ids": diff_ids if diff_ids is not None else ids},
               "history": [{"created_by": "test"} for _ in descs]}
        if config:
            for k, v in config.items():
                if v is None:
                    cfg.pop(k, None)
                else:
                    cfg[k] = v
        cdesc = self.blob(raw_config if raw_config is not None else
                          json.dumps(cfg, separators=(",", ":")), MT_CONFIG)
        man = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cdesc, "layers": descs}
        if manifest:
            man.update(manifest)
        mdesc = self.blob(raw_manifest if raw_manifest is not None else
                          json.dumps(man, separators=(",", ":")), MT_MANIFEST)
        mdesc["platform"] = {"architecture": "amd64", "os": "linux"}
        if ref:
            mdesc["annotations"] = {"org.opencontainers.image.ref.name": ref}
        idx = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [mdesc]}
        if index:
            idx.update(index)
        self.write_index(raw_index if raw_index is not None else idx)
        return "oci:" + self.path + (":" + ref if ref else "")

    def write_index(self, idx):
        with open(os.path.join(self.path, "index.json"), "w" if isinstance(idx, str) else "w") as f:
            f.write(idx if isinstance(idx, str) else json.dumps(idx, separators=(",", ":")))


def archive(src_dir, dest, extra=None):
    """Tar up a directory (an OCI layout or a docker-archive tree) as dest; extra: members."""
    with tarfile.open(dest, "w", format=tarfile.GNU_FORMAT) as t:
        for root, dirs, files in os.walk(src_dir):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(root, name)
                t.add(p, arcname=os.path.relpath(p, src_dir), recursive=False)
        for m in extra or ():
            t.addfile(m[0], io.BytesIO(m[1]) if m[1] is not None else None)
