#!/usr/bin/env python3
"""Writes N small, distinct `docker save` archives for the server benchmark.

Each image has one layer holding two Python distributions with known advisories in the
built-in sample data (so that matching them again has work to do) and a file unique to the
image (so that every archive is a different image). With --clean, the layer holds only that
file: nothing is found, and the images pass the server's default policy.
    bench/make-archives.py OUT_DIR N [--clean]
"""
import hashlib
import io
import json
import os
import sys
import tarfile

DISTRIBUTIONS = {
    "requests-2.19.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: requests\nVersion: 2.19.1\n",
    "urllib3-1.23.dist-info/METADATA": "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.23\n",
    "Django-2.2.dist-info/METADATA": "Metadata-Version: 2.1\nName: Django\nVersion: 2.2\n",
}


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def archive(number, clean=False):
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w", format=tarfile.GNU_FORMAT) as layer:
        for path, text in ({} if clean else DISTRIBUTIONS).items():
            add(layer, "usr/local/lib/python3.11/site-packages/" + path, text.encode())
        add(layer, f"app/image-{number}.txt", f"image {number}\n".encode())
    layer_bytes = layer_buffer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "1000", "Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": f"COPY image-{number}.txt /app/"}],
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{
        "Config": config_name, "RepoTags": [f"bench/image-{number}:1"], "Layers": ["layer.tar"],
    }]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        add(tar, "layer.tar", layer_bytes)
        add(tar, config_name, config)
        add(tar, "manifest.json", manifest)
    return out.getvalue()


def main():
    out_dir, count = sys.argv[1], int(sys.argv[2])
    clean = sys.argv[3:] == ["--clean"]
    os.makedirs(out_dir, exist_ok=True)
    for number in range(count):
        with open(os.path.join(out_dir, f"image-{number}.tar"), "wb") as file:
            file.write(archive(number, clean))


if __name__ == "__main__":
    main()
