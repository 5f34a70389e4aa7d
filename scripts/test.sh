#!/usr/bin/env bash
# Sets up, builds and runs every test: a release build with warnings as errors, then the same
# tests under AddressSanitizer + UBSan. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
JOBS=${JOBS:-2}

# A throw-away PostgreSQL 15 cluster on loopback for the postgres-labelled tests (the same
# store and vault suites as SQLite, on a real server). Stopped and removed on exit.
eval "$(scripts/pg_cluster.sh start)"
export CUSTOS_REQUIRE_PG=1
trap 'scripts/pg_cluster.sh stop >/dev/null 2>&1 || true; scripts/softhsm.sh stop || true' EXIT

# A throw-away SoftHSM2 token for the pkcs11-labelled tests (the HSM KEK provider). With
# CUSTOS_REQUIRE_HSM=1 those tests fail, rather than skip, when SoftHSM2 is missing.
eval "$(scripts/softhsm.sh start)"
export CUSTOS_REQUIRE_HSM=1

echo "== build (warnings as errors) =="
scripts/build.sh -DCUSTOS_BUILD_TESTS=ON -DCUSTOS_BUILD_BENCH=ON -DCUSTOS_SANITIZE=OFF
# Includes the short libFuzzer run (label fuzz: its own clang-14 build in build-fuzz, with
# ASan+UBSan, so the sanitizer pass below skips it).
echo "== tests =="
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 600

if [ "${SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "== build (AddressSanitizer + UBSan) =="
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DCUSTOS_SANITIZE=ON -DCUSTOS_BUILD_BENCH=OFF
  echo "== tests under AddressSanitizer + UBSan =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 900 -LE fuzz
fi
