#!/usr/bin/env bash
# Import throughput of Custos against the sqlite3 shell's .import of the same CSV (the
# no-protection baseline), then in-process point-read and find-by-phone latency on the vault.
#   bench/import_bench.sh [COUNT]     (default 1000000)
# Prints one line per measurement and a closing JSON summary; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
WORK=${BENCH_DIR:-/tmp/custos-bench}
# CUSTOS=path/to/custos skips the Release build (then the read latency is measured only when
# $BUILD_DIR/bin/custos_read_latency exists).
source bench/lib.sh
bench_custos "custos custos_read_latency custos_micro_bench"
bench_fresh_work

t0=$(now); $CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null; t1=$(now)
echo "gen: $COUNT customers in $(secs "$t0" "$t1") s"

# Every data command authenticates (issue 3): a sales clerk (customer.import) runs the import.
bench_init "$WORK/vault"
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$ADMIN" clerk sales_rep sales)
t0=$(now)
bench_import "$WORK/vault" "$clerk" "$WORK/customers.csv"
t1=$(now)
custos_rate=$(rate "$COUNT" "$t0" "$t1")
echo "custos import: $custos_rate records/s ($(secs "$t0" "$t1") s)"

t0=$(now)
sqlite3 "$WORK/baseline.db" -cmd ".mode csv" ".import $WORK/customers.csv customers"
t1=$(now)
base_rate=$(rate "$COUNT" "$t0" "$t1")
echo "sqlite3 .import: $base_rate records/s ($(secs "$t0" "$t1") s)"
ratio=$(python3 -c "print(f'{$custos_rate/$base_rate:.3f}')")
echo "ratio custos/sqlite3: $ratio"

# The clerk reads too: list, get and find-by-phone are granted to sales for account_management.
lat='"not measured"'
if [[ -x $BUILD_DIR/bin/custos_read_latency ]]; then
  lat=$($BUILD_DIR/bin/custos_read_latency "$WORK/vault" 20000 clerk account_management)
fi
echo "read latency: $lat"
db_mb=$(du -m "$WORK/vault/custos.db" | cut -f1)
echo "{\"count\":$COUNT,\"custos_records_per_s\":$custos_rate,\"sqlite3_import_records_per_s\":$base_rate,\"ratio\":$ratio,\"latency\":$lat,\"vault_db_mb\":$db_mb}"
