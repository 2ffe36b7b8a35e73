#!/bin/sh
# Rebuilds the NDB rpm database fixture of rempart-catalog:
#   crates/rempart-catalog/tests/fixtures/rpm/Packages-ndb.db   (SUSE's `Packages.db` format)
#   crates/rempart-catalog/tests/fixtures/rpm/expected-ndb-rpm-qa.txt
#   crates/rempart-catalog/tests/fixtures/rpm/expected-ndb-rpm-ql.txt
#
# Debian's rpm 4.18 is built without the NDB backend ("invalid %_db_backend: ndb"), so this
# builds rpm 4.18 from the Debian source package with --enable-ndb into $WORK/rpm-ndb (nothing
# is installed system-wide except build dependencies), builds a few tiny packages with the
# system `rpmbuild`, and records them with the NDB-enabled rpm. The expected outputs are that
# same rpm's view of the database.
#
# Run as root on Debian 12 (apt-get is used for the build dependencies and the source).
# CI does not run this; the outputs are committed. Set OUT to write them elsewhere (to check a
# rebuild against the committed ones: the database differs in its build times, the expected
# outputs do not).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
FIXTURES=${OUT:-"$REPO/crates/rempart-catalog/tests/fixtures/rpm"}
WORK=${WORK:-/tmp/rempart-ndb}
RPM_NDB="$WORK/rpm-ndb"
mkdir -p "$WORK" "$FIXTURES"

build_rpm_with_ndb() {
    if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/; then
        cat > /etc/apt/sources.list.d/debian-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    apt-get update
    # The subset of `apt-get build-dep rpm` the command-line tools need (no Python bindings,
    # plugins, documentation or rpm2archive), plus the autotools: the Debian patches touch
    # configure.ac.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        dpkg-dev gcc make pkg-config autoconf automake libtool autopoint gettext \
        libpopt-dev libgcrypt20-dev libmagic-dev liblua5.3-dev libsqlite3-dev zlib1g-dev \
        libzstd-dev liblzma-dev libbz2-dev libelf-dev libdw-dev rpm
    mkdir -p "$WORK/src"
    (
        cd "$WORK/src"
        apt-get source rpm
        cd rpm-4.18.0+dfsg
        autoreconf -fi
        ./configure --prefix="$RPM_NDB" --with-vendor=debian --with-crypto=libgcrypt \
            --enable-ndb --enable-sqlite --enable-bdb-ro \
            --disable-plugins --without-archive --disable-openmp \
            LUA_CFLAGS="$(pkg-config --cflags lua5.3)" LUA_LIBS="$(pkg-config --libs lua5.3)"
        make -j"$(nproc)"
        make install
    )
}

[ -x "$RPM_NDB/bin/rpm" ] || build_rpm_with_ndb

# Tiny packages: an epoch, a SUSE-style release, a compound license, one with enough files to
# make its header span many blocks.
TOP="$WORK/rpmbuild"
rm -rf "$TOP"
mkdir -p "$TOP/SPECS"
spec() {
    name=$1 epoch=$2 version=$3 release=$4 license=$5 files=$6
    {
        echo "Name: $name"
        [ -n "$epoch" ] && echo "Epoch: $epoch"
        echo "Version: $version"
        echo "Release: $release"
        echo "Summary: $name, a test package"
        echo "License: $license"
        echo "BuildArch: noarch"
        echo "%description"
        echo "A package for rempart's NDB database fixture."
        echo "%install"
        echo "mkdir -p %{buildroot}/usr/share/$name"
        echo "for i in \$(seq 1 $files); do echo \$i > %{buildroot}/usr/share/$name/file-\$i; done"
        echo "%files"
        echo "/usr/share/$name"
    } > "$TOP/SPECS/$name.spec"
    rpmbuild --quiet -bb --define "_topdir $TOP" "$TOP/SPECS/$name.spec"
}
spec libzypp-mini "" 17.31.8 150400.3.32.1 "GPL-2.0-or-later" 3
spec sles-tool 2 1.4.0 150500.2.1 "MIT AND (Apache-2.0 OR BSD-3-Clause)" 2
spec many-files "" 0.9 7.1 "BSD-3-Clause" 60
spec removed-later "" 1.0 1.1 "MIT" 2
spec installed-last 1 3.2.1 1.3 "Zlib" 1

DB="$WORK/db"
rm -rf "$DB"
rpm_ndb() {
    "$RPM_NDB/bin/rpm" --dbpath "$DB" --define '_db_backend ndb' "$@"
}
rpm_ndb --initdb
RPMS="$TOP/RPMS/noarch"
rpm_ndb -i --justdb --nodeps --noscripts \
    "$RPMS"/libzypp-mini-*.rpm "$RPMS"/sles-tool-*.rpm "$RPMS"/many-files-*.rpm \
    "$RPMS"/removed-later-*.rpm
# An erased package leaves a free slot and a hole the next install may reuse, as on a system
# that has been updated.
rpm_ndb -e --justdb --nodeps --noscripts removed-later
rpm_ndb -i --justdb --nodeps --noscripts "$RPMS"/installed-last-*.rpm

cp "$DB/Packages.db" "$FIXTURES/Packages-ndb.db"
rpm_ndb -qa --qf '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{SOURCERPM}\n' |
    LC_ALL=C sort > "$FIXTURES/expected-ndb-rpm-qa.txt"
rpm_ndb -qa --qf '[%{=NAME}|%{FILENAMES}\n]' | LC_ALL=C sort > "$FIXTURES/expected-ndb-rpm-ql.txt"
ls -l "$FIXTURES/Packages-ndb.db"
cat "$FIXTURES/expected-ndb-rpm-qa.txt"
