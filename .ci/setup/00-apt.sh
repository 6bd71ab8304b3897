#!/usr/bin/env bash
# Debian packages the tests use. Add a package here with the reason beside it.
set -euo pipefail
# shellcheck source=/dev/null
source "$(dirname "$0")/../apt-ensure.sh"
export DEBIAN_FRONTEND=noninteractive
packages=(
  git      # the oracle for versions, and clone/fetch/push
  bash     # env files are proven by sourcing them
)
apt_ensure "${packages[@]}"
