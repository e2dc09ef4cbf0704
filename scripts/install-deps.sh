#!/bin/sh
# Installs the Debian packages ruvector builds and tests with. Safe to re-run:
# it only calls apt-get when something is missing. Needs root (or sudo).
set -eu
PKGS="build-essential autoconf automake libtool pkg-config libltdl-dev libhwloc-dev
      libopenblas-dev libcmocka-dev libcurl4-openssl-dev libssl-dev libjansson-dev libsimde-dev
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user valgrind python3 python3-dev python3-venv
      python3-cryptography openssl"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
