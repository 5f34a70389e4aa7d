#!/usr/bin/env bash
# Installs every Debian package Custos needs to build, run and test.
# Idempotent; run as root (or with sudo available) on a fresh Debian 12 machine.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libbotan-2-dev libsqlite3-dev sqlite3 libtomlplusplus-dev libcli11-dev
  libfmt-dev libspdlog-dev nlohmann-json3-dev libcsv-dev libzstd-dev
  libutfcpp-dev libhowardhinnant-date-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libcpp-httplib-dev libboost1.81-dev libpq-dev libhyperscan-dev libp11-kit-dev
  libzip-dev
  softhsm2
  chromium
  clang-14 libclang-rt-14-dev
  wrk nginx-light ripgrep curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
