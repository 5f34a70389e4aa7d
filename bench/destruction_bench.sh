#!/usr/bin/env bash
# Destruction rate (issue 6): customers destroyed per second by an approved retention run on a
# vault of COUNT customers of whom DUE were collected four years ago (past the shipped 3-year
# ceiling of the customer class).
#   bench/destruction_bench.sh [COUNT] [DUE]     (default 1000000 100000)
# Prints the JSON line of custos_destruction_bench; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
DUE=${2:-100000}
WORK=${BENCH_DIR:-/tmp/custos-destruction-bench}
BUILD_DIR=${BUILD_DIR:-build-release}
CUSTOS_WERROR=OFF BUILD_DIR=$BUILD_DIR BUILD_TYPE=Release \
  NINJA_TARGETS="custos custos_destruction_bench" \
  scripts/build.sh -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=ON
rm -rf "$WORK" && mkdir -p "$WORK"
CUSTOS=$BUILD_DIR/bin/custos
$CUSTOS gen --count "$DUE" --seed 1 --out "$WORK/old.csv" >/dev/null
$CUSTOS gen --count "$((COUNT - DUE))" --seed 2 --out "$WORK/new.csv" >/dev/null
$BUILD_DIR/bin/custos_destruction_bench "$WORK/vault" "$WORK/old.csv" "$WORK/new.csv"
