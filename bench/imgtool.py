#!/usr/bin/env python3
"""imgtool.py: cheap derived benchmark images (stdlib only), blobs hardlinked from SRC.

  imgtool.py addlayer SRC DST   DST = SRC + one small gzip layer on top (shares SRC's layers)
  imgtool.py repeat SRC DST N   DST lists SRC's layer blobs N times (a N-times bigger image to
                                scan without generating or storing more data)
"""
import gzip, hashlib, io, json, os, shutil, sys, tarfile


def main():
    cmd, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(os.path.join(dst, "blobs/sha256"))

    def blob(d):
        return os.path.join(src, "blobs/sha256", d[7:])

    def put(b):
        h = hashlib.sha256(b).hexdigest()
        with open(os.path.join(dst, "blobs/sha256", h), "wb") as f:
            f.write(b)
        return "sha256:" + h, len(b)

    idx = json.load(open(os.path.join(src, "index.json")))
    m = json.load(open(blob(idx["manifests"][0]["digest"])))
    c = json.load(open(blob(m["config"]["digest"])))
    for l in m["layers"]:
        os.link(blob(l["digest"]), os.path.join(dst, "blobs/sha256", l["digest"][7:]))
    hist = c.get("history", [])
    if cmd == "repeat":
        n = int(sys.argv[4])
        m["layers"] = m["layers"] * n
        c["rootfs"]["diff_ids"] = c["rootfs"]["diff_ids"] * n
        c["history"] = [h for h in hist if h.get("empty_layer")] + \
            [h for h in hist if not h.get("empty_layer")] * n
    else:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name, data in (("opt/b/", None), ("opt/b/readme", b"image B\n")):
                ti = tarfile.TarInfo(name.rstrip("/"))
                ti.mtime = 0
                if data is None:
                    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                    t.addfile(ti)
                else:
                    ti.size, ti.mode = len(data), 0o644
                    t.addfile(ti, io.BytesIO(data))
        tar = raw.getvalue()
        d, size = put(gzip.compress(tar, mtime=0))
        m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": d, "size": size})
        c["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
        hist.append({"created_by": "bench: image B's own layer"})
        c["history"] = hist
    m["config"]["digest"], m["config"]["size"] = put(json.dumps(c).encode())
    idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = put(json.dumps(m).encode())
    with open(os.path.join(dst, "index.json"), "w") as f:
        json.dump(idx, f)
    with open(os.path.join(dst, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


if __name__ == "__main__":
    main()
