#!/usr/bin/env python3
"""Writes examples/sample-image: a small OCI image layout used by the README and the tests.

Deterministic: fixed mtimes, sorted entries, gzip without timestamps, so re-running it gives the
same digests. The dpkg stanzas are real Debian 12 records (trimmed to the fields a scanner reads);
the secrets are fake values shaped like real ones, planted on purpose, and so is the EICAR
anti-malware test file (harmless by design): once in a zip, once deleted by a later layer.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import zipfile

MTIME = 1700000000
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "sample-image")

DPKG_STATUS = """\
Package: base-files
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6153
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries

Package: openssl
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 2303
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - cryptographic utility

Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: python3.11-minimal
Status: install ok installed
Priority: optional
Section: python
Installed-Size: 6102
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Source: python3.11
Version: 3.11.2-6
Description: Minimal subset of the Python language (version 3.11)
"""

OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""

# Fake credentials, assembled so this script itself does not read as a leak.
AWS_KEY_ID = "AKIA" + "QX7" + "PLM2R4TBN6WZ5"
AWS_SECRET = "wJ9rT2" + "kLp8Vn4Qz7Xc1Bm6" + "Hs3Dy5Fg0Aq9Ew2Ru8Ti"
STRIPE_KEY = "sk_" + "live_" + "51HqZ8kL2mN4pQ6rS8tU0vW2xY"
GITHUB_TOKEN = "ghp_" + "R7cX2mQ9vL4kT8nB3wZ6" + "yH1pJ5sD0fG2aE4u"


def metadata(name, version, license_):
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name}\nLicense: {license_}\n"


def layer(entries):
    """entries: list of (path, kind, data_or_target, mode)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path, kind, data, mode in entries:
            info = tarfile.TarInfo(path)
            info.mtime = MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                tar.addfile(info)
            else:
                blob = data.encode() if isinstance(data, str) else data
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
    return raw.getvalue()


def eicar():
    # Split so that this script is not itself taken for the test file.
    return "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def zip_of(members):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return raw.getvalue()


def dirs(*paths):
    return [(p, "dir", None, 0o755) for p in paths]


def main():
    site = "usr/local/lib/python3.11/site-packages"
    base = dirs("etc", "usr", "usr/bin", "usr/lib", "usr/local", "usr/local/bin", "var", "var/lib", "var/lib/dpkg",
                "var/lib/dpkg/info", "tmp") + [
        ("etc/debian_version", "file", "12.5\n", 0o644),
        ("etc/os-release", "symlink", "../usr/lib/os-release", 0o777),
        ("usr/lib/os-release", "file", OS_RELEASE, 0o644),
        ("var/lib/dpkg/status", "file", DPKG_STATUS, 0o644),
        ("var/lib/dpkg/info/openssl.list", "file", "/.\n/usr\n/usr/bin\n/usr/bin/openssl\n", 0o644),
        ("usr/bin/openssl", "file", b"\x7fELF" + b"\0" * 60, 0o755),
        ("usr/bin/su", "file", b"\x7fELF" + b"\0" * 60, 0o4755),
        ("usr/local/bin/backup-helper", "file", b"\x7fELF" + b"\0" * 60, 0o4755),
        ("tmp", "dir", None, 0o1777),
    ]
    python_app = dirs("app", "usr/local/lib/python3.11", site) + [
        (f"{site}/requests-2.19.1.dist-info/METADATA", "file", metadata("requests", "2.19.1", "Apache 2.0"), 0o644),
        (f"{site}/urllib3-1.23.dist-info/METADATA", "file", metadata("urllib3", "1.23", "MIT"), 0o644),
        (f"{site}/PyYAML-5.3.dist-info/METADATA", "file", metadata("PyYAML", "5.3", "MIT"), 0o644),
        (f"{site}/Jinja2-2.10.dist-info/METADATA", "file", metadata("Jinja2", "2.10", "BSD"), 0o644),
        (f"{site}/Django-2.2.dist-info/METADATA", "file", metadata("Django", "2.2", "BSD"), 0o644),
        ("app/settings.py", "file",
         "import os\n\nDEBUG = False\n"
         f"AWS_ACCESS_KEY_ID = \"{AWS_KEY_ID}\"\n"
         f"AWS_SECRET_ACCESS_KEY = \"{AWS_SECRET}\"\n"
         "DATABASE_URL = os.environ[\"DATABASE_URL\"]\n", 0o644),
        ("app/.env", "file", f"STRIPE_API_KEY={STRIPE_KEY}\n", 0o600),
        ("app/main.py", "file", "from app import settings\nprint('hello')\n", 0o644),
        ("app/fixtures", "dir", None, 0o755),
        ("app/fixtures/upload-samples.zip", "file",
         zip_of([("readme.txt", "Samples for the upload tests.\n"), ("samples/eicar.com", eicar())]), 0o644),
        ("tmp/eicar.com", "file", eicar(), 0o644),
    ]
    node_app = dirs("app/node_modules", "app/node_modules/lodash") + [
        ("app/.wh..env", "file", "", 0o644),
        ("tmp/.wh.eicar.com", "file", "", 0o644),
        ("app/package.json", "file", json.dumps({"name": "sample-web", "version": "1.0.0", "dependencies": {"lodash": "^4.17.15"}}, indent=2), 0o644),
        ("app/node_modules/lodash/package.json", "file", json.dumps({"name": "lodash", "version": "4.17.15", "license": "MIT"}, indent=2), 0o644),
    ]
    history_lines = [
        "/bin/sh -c #(nop) ADD file:8b1f3c0a in / ",
        f"|1 GITHUB_TOKEN={GITHUB_TOKEN} /bin/sh -c pip install requests==2.19.1 urllib3==1.23 PyYAML==5.3 Jinja2==2.10 Django==2.2",
        "/bin/sh -c rm /app/.env /tmp/eicar.com && npm install lodash@4.17.15",
    ]
    layers = [layer(base), layer(python_app), layer(node_app)]

    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    blobs = os.path.join(OUT, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return "sha256:" + digest, len(data)

    layer_descriptors = []
    diff_ids = []
    for raw in layers:
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        compressed = gzip.compress(raw, compresslevel=9, mtime=0)
        digest, size = put(compressed)
        layer_descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
    history = []
    for line in history_lines:
        history.append({"created": "2024-01-01T00:00:00Z", "created_by": line})
    history.insert(1, {"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop)  ENV DB_PASSWORD=Tr0ub4dor-Sample-9", "empty_layer": True})
    history.append({"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop)  EXPOSE 22 8080", "empty_layer": True})
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "DB_PASSWORD=Tr0ub4dor-Sample-9"],
            "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}},
            "Cmd": ["python3", "/app/main.py"],
            "WorkingDir": "/app",
            "Labels": {"org.opencontainers.image.title": "rempart sample image"},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    config_digest, config_size = put(json.dumps(config, indent=2, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": layer_descriptors,
    }
    manifest_digest, manifest_size = put(json.dumps(manifest, indent=2, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "latest"},
            "platform": {"architecture": "amd64", "os": "linux"},
        }],
    }
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=2, sort_keys=True)
    with open(os.path.join(OUT, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(f"wrote {OUT} (manifest {manifest_digest})", file=sys.stderr)


if __name__ == "__main__":
    main()
