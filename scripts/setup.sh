#!/usr/bin/env bash
# Installs every Debian package Custos needs to build, run and test.
# Idempotent; run as root (or with sudo available) on a fresh Debian 12 machine.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libbotan-2-dev libsqlite3-dev sqlite3 libtomlplusplus-dev libcli11-dev
  libfmt-dev libspdlog-dev nlohmann-json3-dev libcsv-dev libzstd-dev
  libutfcpp-dev libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libcpp-httplib-dev libboost1.81-dev libpq-dev libhyperscan-dev libp11-kit-dev
  libzip-dev libtcmalloc-minimal4
  softhsm2
  clang-14 libclang-rt-14-dev
  wrk nginx-light ripgrep curl
  chromium fonts-noto-cjk
)
# node and npm for the web console's build (docs/console.md): Debian's, unless a node with its
# own npm is installed already (as on the project's machine image).
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web console's build and browser-test packages (esbuild, puppeteer-core, axe-core),
# pinned by console/package-lock.json (docs/console.md). Skipped when node_modules matches the
# lock already; a build without them still builds custos, without the console.
console_dir="$(dirname "$0")/../console"
if command -v npm >/dev/null && [ -f "$console_dir/package-lock.json" ]; then
  if ! cmp -s "$console_dir/package-lock.json" "$console_dir/node_modules/.package-lock.json.ci" 2>/dev/null; then
    echo "setup: npm ci in console/"
    (cd "$console_dir" && npm ci --no-audit --no-fund --loglevel=error &&
      cp package-lock.json node_modules/.package-lock.json.ci)
  fi
fi
