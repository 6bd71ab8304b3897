#!/usr/bin/env bash
# The registry tests run a real OCI distribution registry on 127.0.0.1 and push
# test images to it.
set -euo pipefail
# shellcheck source=/dev/null
source "$(dirname "$0")/../apt-ensure.sh"
export DEBIAN_FRONTEND=noninteractive
packages=(
  docker-registry  # the CNCF distribution registry the tests start (`docker-registry serve`)
  skopeo           # pushes the tests' OCI layouts to it
  apache2-utils    # htpasswd, for the password-protected registry test
)
apt_ensure "${packages[@]}"
