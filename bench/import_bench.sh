#!/usr/bin/env bash
# Import throughput of Custos against the sqlite3 shell's .import of the same CSV (the
# no-protection baseline), then in-process point-read and find-by-phone latency on the vault.
#   bench/import_bench.sh [COUNT]     (default 1000000)
# Prints one line per measurement and a closing JSON summary; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
WORK=${BENCH_DIR:-/tmp/custos-bench}
BUILD_DIR=${BUILD_DIR:-build-release}
# CUSTOS=path/to/custos skips the Release build (then the read latency is measured only when
# $BUILD_DIR/bin/custos_read_latency exists).
if [[ -z "${CUSTOS:-}" ]]; then
  # -O3 draws false GCC 12 warnings (stringop-overflow): benchmarks build without -Werror; CI builds with it.
  CUSTOS_WERROR=OFF BUILD_DIR=$BUILD_DIR BUILD_TYPE=Release NINJA_TARGETS="custos custos_read_latency custos_micro_bench" \
    scripts/build.sh -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=ON
  CUSTOS=$BUILD_DIR/bin/custos
fi
rm -rf "$WORK" && mkdir -p "$WORK"

now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1/($3-$2):.0f}')"; }

t0=$(now); $CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null; t1=$(now)
echo "gen: $COUNT customers in $(python3 -c "print(f'{$t1-$t0:.2f}')") s"

# Every data command authenticates (issue 3): a sales clerk (customer.import) runs the import.
source scripts/custos_staff.sh
admin=$($CUSTOS --json init "$WORK/vault" | custos_init_json_token)
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" clerk sales_rep sales)
t0=$(now)
CUSTOS_TOKEN=$clerk CUSTOS_PURPOSE=account_management $CUSTOS --vault "$WORK/vault" import --notice-version 1 --sensitive-consent --consent-purposes customer_service,account_management "$WORK/customers.csv" >/dev/null
t1=$(now)
custos_rate=$(rate "$COUNT" "$t0" "$t1")
echo "custos import: $custos_rate records/s ($(python3 -c "print(f'{$t1-$t0:.2f}')") s)"

t0=$(now)
sqlite3 "$WORK/baseline.db" -cmd ".mode csv" ".import $WORK/customers.csv customers"
t1=$(now)
base_rate=$(rate "$COUNT" "$t0" "$t1")
echo "sqlite3 .import: $base_rate records/s ($(python3 -c "print(f'{$t1-$t0:.2f}')") s)"
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
