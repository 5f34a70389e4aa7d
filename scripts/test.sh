#!/usr/bin/env bash
# Sets up, builds and runs every test: a release build with warnings as errors and the suites
# that run once in it (crash, load, fuzz, package, browser), the linters (scripts/lint.sh),
# every other test under AddressSanitizer + UBSan, and the concurrency tests under
# ThreadSanitizer. SKIP_SANITIZERS=1 runs every test in the release build instead. This is what
# CI runs (.ci/run). Each phase prints its wall time.
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

phase_start=$SECONDS
# The disk this run starts with (CI's machine has once started nearly full: stop 34's build
# failed on "No space left on device" at its first link), and what ccache already holds.
echo "== disk at start: $(df -h --output=avail . | tail -1 | tr -d ' ') free where the builds go"
if command -v ccache >/dev/null; then ccache -s 2>/dev/null | grep -iE 'cache size|max' || true; fi
took() {  # the wall time of the phase that just ended, and the disk left where the builds are
  echo "-- took $((SECONDS - phase_start))s; $(df -h --output=avail . | tail -1 | tr -d ' ') left on disk"
  phase_start=$SECONDS
}

# The browser tests (label browser) are part of every test: chromium missing fails the report's
# browser test rather than skipping it, and a build without the web console fails here, since
# tests/console registers the console's browser test only when the console is built.
export CUSTOS_REQUIRE_BROWSER=1
echo "== build (warnings as errors) =="
# With the sanitizer pass to follow, only what this build runs or is alone in building: the
# binary, the executables of the once-only suites below and the benchmarks (the target
# custos_once_tests; every source under src/ is in it, which lint's dependency log needs). The
# other ~150 test sources are compiled, with -Werror, and run in the sanitizer build: building
# them here too was about a third of this build's compiles and ~90 links of ~100 MB each.
# Line tables only (-g1), as in the sanitizer builds: full -g cost a third of each compile.
PLAIN_TARGETS=custos_once_tests
if [ "${SKIP_SANITIZERS:-0}" = "1" ]; then PLAIN_TARGETS=""; fi
NINJA_TARGETS="$PLAIN_TARGETS" scripts/build.sh -DCUSTOS_BUILD_TESTS=ON -DCUSTOS_BUILD_BENCH=ON \
  -DCUSTOS_SANITIZE=OFF -DCUSTOS_LINE_TABLES=ON
if ! grep -q '^CUSTOS_CONSOLE_BUILT:INTERNAL=ON' build/CMakeCache.txt; then
  echo "test.sh: the web console was not built (node, npm ci in console/: scripts/setup.sh)" >&2
  exit 1
fi
took
# Crash and load suites once, sanitizers on the rest (README): when the sanitizer pass follows,
# this optimised build runs only what that pass skips — the crash suites (SIGKILL loops), the
# short libFuzzer run (label fuzz: its own clang-14 build in build-fuzz, with ASan+UBSan), the
# package install and the browser tests. Every other test runs once, under ASan+UBSan below
# (stop 34's CI run took 4,176 s; running those ~1,450 tests twice was ~6 of its minutes).
# With SKIP_SANITIZERS=1 this pass runs every test.
ONCE_LABELS="fuzz|crash|package|browser|load"
echo "== tests =="
if [ "${SKIP_SANITIZERS:-0}" = "1" ]; then
  ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 600
else
  ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 600 -L "$ONCE_LABELS"
fi
took

# clang-tidy over src/ (results cached by content, see scripts/tidy.py); clang-format once the
# tree is enforced (.clang-format-enforced).
# The results kept in the repository (.ci/tidy-cache, scripts/tidy_cache_refresh.sh) seed the
# local cache: a fresh clone re-checks only what changed since the last refresh.
echo "== lint =="
if [ -z "${CUSTOS_TIDY_CACHE:-}" ] && [ -d .ci/tidy-cache ]; then
  mkdir -p "$HOME/.cache/custos-tidy"
  cp -rn .ci/tidy-cache/. "$HOME/.cache/custos-tidy/"
fi
BUILD_DIR=build scripts/lint.sh
took

if [ "${SKIP_SANITIZERS:-0}" != "1" ]; then
  # Short of disk (under 12 GB free), the plain build's test executables go first: its tests
  # and lint are done, and the sanitizer build needs about 3.5 GB.
  if [ "$(df --output=avail -k . | tail -1)" -lt $((12 * 1024 * 1024)) ]; then
    echo "test.sh: little disk left: removing build/'s test executables before the sanitizer build"
    find build -type f -perm -u+x \( -name '*_test' -o -name '*_tests' \) -delete
    took
  fi
  echo "== build (AddressSanitizer + UBSan) =="
  # The sanitizer builds keep line tables only (-g1), and this one links the components as
  # shared libraries: every test binary linked the whole vault statically with UBSan's check
  # data (~600 MB each, 13 GB in all), which filled CI's disk in session 20. The plain build
  # keeps static libraries and one source per translation unit: its compile commands key the
  # clang-tidy cache, and it is what the package installs. The components are compiled at -O1
  # here, the tests' own code at -O0 (cmake/Warnings.cmake).
  # Unity builds (CMAKE_UNITY_BUILD: up to 16 sources of a target in one translation unit) for
  # both sanitizer builds: each libstdc++ header and template is then compiled once per batch,
  # not once per source. A cold CI machine compiles all three builds from nothing, and with
  # separate sources that alone approached CI's limit (stop 36 timed out; docs/decisions.md).
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DCUSTOS_SANITIZE=ON -DCUSTOS_BUILD_BENCH=OFF \
    -DCUSTOS_LINE_TABLES=ON -DBUILD_SHARED_LIBS=ON -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16
  took
  # Every test but those that ran once in the plain pass (ONCE_LABELS: the crash suites, the
  # fuzz run, the package install and the browser tests).
  echo "== tests under AddressSanitizer + UBSan =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 900 -LE "$ONCE_LABELS"
  took

  # ThreadSanitizer on the tests labelled concurrency (group commit, rotation under traffic,
  # the API under load, two processes / two servers on PostgreSQL, the scheduler): only the
  # targets they need are built. tsan.supp names what is suppressed in uninstrumented libraries.
  echo "== build (ThreadSanitizer: the concurrency tests) =="
  TSAN_TARGETS="vault_test vault_keys_test api_e2e_test cli_schedule_test custos"
  BUILD_DIR=build-tsan NINJA_TARGETS="$TSAN_TARGETS" \
    scripts/build.sh -DCUSTOS_TSAN=ON -DCUSTOS_BUILD_BENCH=OFF -DCUSTOS_LINE_TABLES=ON -DCMAKE_UNITY_BUILD=ON \
    -DCMAKE_UNITY_BUILD_BATCH_SIZE=16
  took
  echo "== concurrency tests under ThreadSanitizer =="
  TSAN_OPTIONS="suppressions=$PWD/tsan.supp:second_deadlock_stack=1:history_size=4" \
    ctest --test-dir build-tsan --output-on-failure -j "$JOBS" --timeout 900 -L concurrency
  took
fi
