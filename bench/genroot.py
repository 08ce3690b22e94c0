#!/usr/bin/env python3
"""genroot.py: write the root filesystem trees of a benchmark image's layers.

Usage: genroot.py OUTDIR TOTAL_BYTES NLAYERS [SEED]

Writes OUTDIR/layer0 .. OUTDIR/layer{N-1}; layer0 (the bottom) holds etc/passwd, etc/group,
etc/shadow, etc/gshadow, sbin/nologin and two set-uid programs. The content is ~80% random
bytes and ~20% text, so gzip shrinks it by ~1.2x and TOTAL_BYTES of *compressed* layers is
real data to inflate. File sizes follow a small/medium/large mix (mean ~67 KB), which gives a
realistic file count (~15k files per GB). Deterministic for a given SEED. Stdlib only.
"""
import os
import random
import sys

TEXT = (b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        b"incididunt ut labore et dolore magna aliqua. /usr/lib/x86_64-linux-gnu/libfoo.so.1\n") * 64
RATIO = 1.2          # uncompressed / gzip-compressed for this mix


def pick_size(rnd):
    r = rnd.random()
    if r < 0.80:
        return rnd.randint(200, 8 * 1024)
    if r < 0.97:
        return rnd.randint(8 * 1024, 128 * 1024)
    return rnd.randint(512 * 1024, 3 * 1024 * 1024)


def content(rnd, n):
    t = n // 5
    out = bytearray(rnd.randbytes(n - t))
    off = rnd.randint(0, len(TEXT) - 1)
    chunk = (TEXT[off:] + TEXT)[:t]
    at = rnd.randint(0, len(out))
    out[at:at] = chunk
    return bytes(out)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def accounts(root):
    pw = ["root:x:0:0:root:/root:/bin/bash"]
    gr = ["root:x:0:"]
    sh = ["root:*:19000:0:99999:7:::"]
    gs = ["root:*::"]
    for i, name in enumerate(["daemon", "bin", "sys", "sync", "games", "man", "lp", "mail",
                              "news", "uucp", "proxy", "www-data", "backup", "list", "irc",
                              "_apt", "nobody"]):
        uid = 65534 if name == "nobody" else i + 1
        pw.append(f"{name}:x:{uid}:{uid}:{name}:/nonexistent:/usr/sbin/nologin")
        gr.append(f"{name}:x:{uid}:")
        sh.append(f"{name}:*:19000:0:99999:7:::")
        gs.append(f"{name}:*::")
    for rel, lines, mode in (("etc/passwd", pw, 0o644), ("etc/group", gr, 0o644),
                             ("etc/shadow", sh, 0o640), ("etc/gshadow", gs, 0o640)):
        write(os.path.join(root, rel), ("\n".join(lines) + "\n").encode(), mode)
    write(os.path.join(root, "sbin/nologin"), b"\x7fELF" + bytes(4000), 0o755)
    write(os.path.join(root, "usr/bin/passwd"), b"\x7fELF" + bytes(60000), 0o4755)
    write(os.path.join(root, "usr/bin/su"), b"\x7fELF" + bytes(70000), 0o4755)
    write(os.path.join(root, "usr/bin/chage"), b"\x7fELF" + bytes(30000), 0o2755)


def main():
    out, total, nlayers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rnd = random.Random(seed)
    raw = int(total * RATIO)
    # bottom layer is the biggest, like a distro base
    weights = [2.0] + [1.0] * (nlayers - 1)
    files = 0
    for k in range(nlayers):
        root = os.path.join(out, f"layer{k}")
        os.makedirs(root, exist_ok=True)
        budget = int(raw * weights[k] / sum(weights))
        if k == 0:
            accounts(root)
        else:
            write(os.path.join(root, f"etc/app{k}.conf"), b"key=value\n")
        done = 0
        n = 0
        while done < budget:
            size = min(pick_size(rnd), budget - done) or 1
            d = f"usr/lib/pkg{k}_{n // 200:04d}/sub{(n // 20) % 10}"
            write(os.path.join(root, d, f"file{n:06d}.bin"), content(rnd, size))
            done += size
            n += 1
        files += n
    print(f"{files} files in {nlayers} layers, {raw} bytes uncompressed", file=sys.stderr)


if __name__ == "__main__":
    main()
