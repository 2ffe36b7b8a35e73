#!/usr/bin/env bash
# Builds the benchmark images under target/bench: a Debian bookworm base (mmdebstrap) plus real
# application layers: Python packages installed by pip, npm packages, a Go binary, a Rust binary
# built with cargo-auditable, Java archives and a Rust lock file. `bench.oci` is about 600 MB uncompressed; `bench3x.oci` repeats the
# application layers three times (about 3x the size) to show that memory stays flat.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/target/bench
mkdir -p "$out"
cd "$out"

bash "$root/scripts/bookworm-minbase.sh"

layer_tar() { # dir tarball
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@1700000000 -C "$1" -cf "$2" .
}

if [ ! -f python.tar ]; then
  rm -rf python && mkdir -p python/usr/local/lib/python3.11/site-packages
  python3 -m pip install --quiet --no-compile --no-deps --target python/usr/local/lib/python3.11/site-packages \
    numpy==1.26.4 pandas==2.2.2 scipy==1.13.1 Django==4.2.11 requests==2.31.0 urllib3==1.26.18 \
    PyYAML==6.0.1 Jinja2==3.1.3 MarkupSafe==2.1.5 cryptography==42.0.5 boto3==1.34.80 botocore==1.34.80 \
    setuptools==69.5.1 pip==24.0
  layer_tar python python.tar
fi
if [ ! -f node.tar ]; then
  rm -rf node && mkdir -p node/srv/web
  (cd node/srv/web && npm init -y >/dev/null && npm install --silent --no-audit --no-fund \
    express@4.19.2 lodash@4.17.21 typescript@5.4.5 webpack@5.91.0 axios@1.6.8 moment@2.30.1 >/dev/null)
  layer_tar node node.tar
fi
if [ ! -f binaries.tar ]; then
  rm -rf binaries && mkdir -p binaries/usr/local/bin binaries/opt/app/lib binaries/opt/rust
  cp /usr/bin/docker-registry binaries/usr/local/bin/registry            # a real Go binary
  cp "$root/crates/rempart-catalog/tests/fixtures/cargo/audit-demo" binaries/usr/local/bin/  # built with cargo-auditable
  (cd binaries/opt/app/lib && for pkg in libcommons-lang3-java libcommons-io-java libjackson2-core-java; do
     apt-get download -qq "$pkg" >/dev/null 2>&1 && dpkg-deb --fsys-tarfile "$pkg"_*.deb | tar -x --wildcards './usr/share/java/*.jar' && rm -f "$pkg"_*.deb
   done; find . -name '*.jar' -type f -exec mv {} . \; ; rm -rf usr)
  cp "$root/Cargo.lock" binaries/opt/rust/Cargo.lock
  layer_tar binaries binaries.tar
fi

make_image() { # name copies
  local name=$1 copies=$2
  rm -rf "$name.oci"
  umoci init --layout "$name.oci"
  umoci new --image "$name.oci:bench"
  umoci raw add-layer --image "$name.oci:bench" "$root/target/bookworm-minbase.tar"
  for i in $(seq 1 "$copies"); do
    if [ "$i" -eq 1 ]; then
      for layer in python node binaries; do umoci raw add-layer --image "$name.oci:bench" "$layer.tar"; done
    else
      # Same content under another prefix: a different layer, as a second application would be.
      for layer in python node binaries; do
        rm -rf "copy$i" && mkdir -p "copy$i/copy$i" && tar -C "copy$i/copy$i" -xf "$layer.tar"
        layer_tar "copy$i" "copy$i-$layer.tar" && rm -rf "copy$i"
        umoci raw add-layer --image "$name.oci:bench" "copy$i-$layer.tar"
      done
    fi
  done
}
[ -d bench.oci ] || make_image bench 1
[ -d bench3x.oci ] || make_image bench3x 3
for name in bench bench3x; do
  [ -f "$name.tar" ] || skopeo copy --quiet "oci:$name.oci:bench" "docker-archive:$name.tar:rempart/$name:latest"
done
du -sh bench.oci bench3x.oci
