#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Installs everything Sigil needs to build, run and test on Debian 12: the -dev packages, the
# PostgreSQL server, clang (sanitizers and libFuzzer), wrk, and s3rver from npm. Idempotent and
# quick when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates curl python3
  libh2o-evloop-dev libpq-dev libcurl4-openssl-dev libarchive-dev libjansson-dev liblmdb-dev
  libpcre2-dev zlib1g-dev libssl-dev
  postgresql clang libclang-rt-14-dev clang-format
  wrk zip unzip
)
# Node.js (for s3rver): Debian's packages unless a node with npm is already installed (a node
# from elsewhere ships its own npm, which Debian's npm package conflicts with).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps.sh: run as root or install sudo" >&2; exit 1; }
  SUDO=sudo
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v s3rver >/dev/null 2>&1; then
  echo "Installing s3rver (npm)"
  $SUDO npm install -g --silent s3rver@3.7.1 >/dev/null 2>&1 || $SUDO npm install -g s3rver@3.7.1
fi
