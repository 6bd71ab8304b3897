#!/usr/bin/env bash
# Shells the env files are proven against (src/emit/shell.rs, tests/it/hostile.rs):
# every file a shell may source is sourced in bash and in dash, Debian's /bin/sh.
set -euo pipefail
# shellcheck source=/dev/null
source "$(dirname "$0")/../apt-ensure.sh"
export DEBIAN_FRONTEND=noninteractive
packages=(
  bash   # `source` and `set -a; . file`
  dash   # the POSIX sh of Debian and Ubuntu runners
)
apt_ensure "${packages[@]}"
