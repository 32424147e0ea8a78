#!/usr/bin/env bash
# Installs the build into a throwaway prefix, checks what landed there, builds
# consumer/ against the installed package (find_package(palyra)), starts the
# installed palyrad with the installed example configuration (every setting
# uncommented), and has the consumer call node.health on it.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR MAN_PAGES(ON|OFF)
set -euo pipefail
build=$1 source=$2 man_pages=$3
work=$(mktemp -d)
daemon_pid=""
cleanup() {
  if [[ -n "$daemon_pid" ]]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
# lib or lib/<multiarch> (GNUInstallDirs): wherever palyra.pc went.
pc=$(find "$prefix" -name palyra.pc -path '*/pkgconfig/*' | head -n 1)
[[ -n "$pc" ]] || fail "no palyra.pc installed"
libdir=$(dirname "$(dirname "${pc#"$prefix"/}")")

expected=(bin/palyra bin/palyrad
  include/palyra/transport/io/client.hpp include/palyra/identity/state_dir.hpp
  include/palyra/common/result.hpp
  "$libdir"/libpalyra_transport.a "$libdir"/libpalyra_quic_core.a
  "$libdir"/libpalyra_identity.a "$libdir"/libpalyra_common.a
  "$libdir"/cmake/palyra/palyraConfig.cmake "$libdir"/cmake/palyra/palyraConfigVersion.cmake
  "$libdir"/cmake/palyra/palyraTargets.cmake "$libdir"/pkgconfig/palyra.pc
  share/doc/palyra/palyrad.toml.example lib/systemd/system/palyrad.service
  lib/sysusers.d/palyra.conf)
if [[ "$man_pages" == ON ]]; then expected+=(share/man/man1/palyra.1 share/man/man8/palyrad.8); fi
for file in "${expected[@]}"; do
  [[ -f "$prefix/$file" ]] || fail "not installed: $file"
done
# Internals stay inside the executables: no headers or libraries of them.
for internal in include/palyra/runtime include/palyra/fallback include/palyra/journal \
  "$libdir"/libpalyra_runtime.a "$libdir"/libpalyra_fallback.a "$libdir"/libpalyra_protocol.a; do
  [[ ! -e "$prefix/$internal" ]] || fail "installed but internal: $internal"
done
[[ -z "$(find "$prefix" -name '*_test*' -o -name '*bench*' -type f)" ]] || fail "tests or benches installed"

# pkg-config resolves the package where it was installed, and what its
# static libraries link.
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
[[ -f "$(pkg-config --variable=includedir palyra)/palyra/transport/io/client.hpp" ]] ||
  fail "palyra.pc's includedir is not the installed one: $(pkg-config --variable=includedir palyra)"
[[ -f "$(pkg-config --variable=libdir palyra)/libpalyra_transport.a" ]] ||
  fail "palyra.pc's libdir is not the installed one: $(pkg-config --variable=libdir palyra)"
pc_libs=$(pkg-config --libs palyra)
for lib in -lpalyra_transport -lpalyra_identity -lngtcp2 -lngtcp2_crypto_gnutls -lgnutls -lfmt; do
  [[ " $pc_libs " == *" $lib "* ]] || fail "pkg-config --libs palyra lacks $lib: $pc_libs"
done

# The example configuration names every setting palyrad has.
while read -r key _; do
  leaf=${key##*.}
  grep -q "^#$leaf = " "$prefix/share/doc/palyra/palyrad.toml.example" ||
    fail "palyrad.toml.example lacks $key"
done < <("$prefix/bin/palyrad" --print-settings)

# An out-of-tree program against the installed package.
timeout 120 cmake -S "$source/tests/install/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log" >&2; fail "configuring the consumer failed"; }
timeout 180 cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log" >&2; fail "building the consumer failed"; }

# The installed daemon, configured by the example with every line uncommented.
state=$work/state
"$prefix/bin/palyra" init --state-dir "$state" >/dev/null
sed 's/^#\([a-z]\)/\1/' "$prefix/share/doc/palyra/palyrad.toml.example" >"$work/palyrad.toml"
mkdir -m 700 "$work/qlog"
"$prefix/bin/palyrad" --config "$work/palyrad.toml" --state-dir "$state" --quic-port 0 \
  --grpc-port 0 --grpc-enroll-port 0 --metrics-listen 127.0.0.1:0 --qlog-dir "$work/qlog" \
  >"$work/stdout" 2>"$work/stderr" &
daemon_pid=$!
for _ in $(seq 100); do
  grep -q '^palyrad listening ' "$work/stdout" && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/stderr" >&2; fail "palyrad exited"; }
  sleep 0.1
done
address=$(sed -n 's/^palyrad listening .*quic=\([^ ]*\).*/\1/p' "$work/stdout")
[[ -n "$address" ]] || { cat "$work/stderr" >&2; fail "palyrad did not print its listening line"; }

answer=$(timeout 30 "$work/consumer/health_probe" "$address" "$state") ||
  fail "health_probe failed: $answer"
echo "$answer"
[[ "$answer" == *'"kind":"health"'* && "$answer" == *'"ok":true'* ]] ||
  fail "not a health answer: $answer"
# The example's qlog_dir, pointed at a directory that exists: the probe's
# connection left its trace.
compgen -G "$work/qlog/*.sqlog" >/dev/null || fail "palyrad --qlog-dir wrote no trace"
