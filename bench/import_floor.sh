#!/usr/bin/env bash
# What the import's storage writes alone cost, against `sqlite3 .import` of the same CSV, in one
# run (issue 15): imports COUNT generated customers as bench/import_bench.sh does, then writes
# the same rows again with SQLite doing all the work (bench/import_floor.py: the import's
# batches, its tables and indexes, no parsing, crypto or checkpoint), ROUNDS times, alternating
# with `custos import` and `.import`. The writes' time bounds what any change above the store
# can reach: custos import >= those writes.
#   bench/import_floor.sh [COUNT=50000] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-50000}
ROUNDS=${2:-2}
WORK=${BENCH_DIR:-/tmp/custos-import-floor}
source bench/lib.sh
bench_custos custos
bench_fresh_work

$CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
bench_init "$WORK/fresh"
clerk=$(custos_staff_token "$CUSTOS" "$WORK/fresh" "$ADMIN" clerk sales_rep sales)
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/vault" && cp -r "$WORK/fresh" "$WORK/vault"
  t0=$(now); bench_import "$WORK/vault" "$clerk" "$WORK/customers.csv"; t1=$(now)
  rm -f "$WORK/baseline.db"
  t2=$(now)
  sqlite3 "$WORK/baseline.db" -cmd ".mode csv" ".import $WORK/customers.csv customers"
  t3=$(now)
  echo "round $round: custos import $(secs "$t0" "$t1") s; sqlite3 .import $(secs "$t2" "$t3") s"
  python3 bench/import_floor.py "$WORK/vault/custos.db" "$WORK/fresh/custos.db" "$WORK"
done
