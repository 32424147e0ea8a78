#!/usr/bin/env bash
# `cpack -G DEB` from the build: the package's Depends (dpkg-shlibdeps) name
# the Debian libraries palyrad links, and it holds the binaries, the example
# configuration, the systemd unit and its sysusers file where Debian looks for
# them, and a postinst that creates the user.
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "deb_test: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(find "$work" -maxdepth 1 -name 'palyra_*.deb' | head -n 1)
[[ -n "$deb" ]] || fail "no .deb in $work"

depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
for package in libngtcp2 libgnutls; do
  [[ "$depends" == *"$package"* ]] || fail "Depends lacks $package: $depends"
done

contents=$(dpkg-deb --contents "$deb")
expected=(./usr/bin/palyrad ./usr/bin/palyra ./usr/share/doc/palyra/palyrad.toml.example
  ./usr/include/palyra/transport/io/client.hpp ./usr/lib/systemd/system/palyrad.service
  ./usr/lib/sysusers.d/palyra.conf)
for path in "${expected[@]}"; do
  grep -q " $path\$" <<<"$contents" || fail "the package lacks $path"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst 2>/dev/null | grep -q 'systemd-sysusers palyra.conf' ||
  fail "the package's postinst does not create the palyra user"
