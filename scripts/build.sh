#!/usr/bin/env bash
# Configures and builds Custos into BUILD_DIR (default build/). Extra arguments go to CMake.
#   scripts/build.sh                      release build with tests and benchmarks
#   BUILD_DIR=build-asan scripts/build.sh -DCUSTOS_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCUSTOS_WERROR="${CUSTOS_WERROR:-ON}" "$@" >/dev/null
ninja -C "$BUILD_DIR" ${NINJA_TARGETS:-}
