# shellcheck shell=bash
# Sourced by .ci/setup/*.sh: `apt_ensure PACKAGE...` installs the Debian
# packages that are not installed yet, and does nothing when all are.
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}
