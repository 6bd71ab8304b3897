#!/usr/bin/env bash
# Debian packages the tests use. Add a package here with the reason beside it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  git      # the oracle for versions, and clone/fetch/push
  bash     # env files are proven by sourcing them
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
