#!/usr/bin/env bash
# Import throughput of Custos on PostgreSQL against `psql \copy` of the same CSV into a plain
# table (the no-protection baseline), in the same run on the same server.
#   bench/pg_import_bench.sh [COUNT]     (default 1000000)
# Uses the server in $CUSTOS_TEST_PG_URL (+ PGPASSWORD) when set; otherwise starts the
# throw-away cluster of scripts/pg_cluster.sh and stops it at the end.
# Prints one line per measurement and a closing JSON summary; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
WORK=${BENCH_DIR:-/tmp/custos-pg-bench}
# CUSTOS=path/to/custos skips the Release build (e.g. to try the script quickly).
source bench/lib.sh
bench_custos
bench_fresh_work

started_cluster=0
if [[ -z "${CUSTOS_TEST_PG_URL:-}" ]]; then
  eval "$(scripts/pg_cluster.sh start)"
  started_cluster=1
fi
cleanup() { if [[ $started_cluster == 1 ]]; then scripts/pg_cluster.sh stop; fi; }
trap cleanup EXIT
URL=$CUSTOS_TEST_PG_URL
SCHEMA="bench_$$"
export PGOPTIONS="-c client_min_messages=warning"

t0=$(now); $CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null; t1=$(now)
echo "gen: $COUNT customers in $(secs "$t0" "$t1") s"

# Every data command authenticates (issue 3): a sales clerk imports, the DPO verifies.
bench_init "$WORK/vault" --store-url "$URL" --store-schema "$SCHEMA"
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$ADMIN" clerk sales_rep sales)
dpo=$(custos_first_password_token "$CUSTOS" "$WORK/vault" "$DPO_FIRST" dpo)
t0=$(now)
bench_import "$WORK/vault" "$clerk" "$WORK/customers.csv"
t1=$(now)
custos_rate=$(rate "$COUNT" "$t0" "$t1")
echo "custos import (postgres): $custos_rate records/s ($(secs "$t0" "$t1") s)"

# The baseline: the same file into a plain table of text columns, no encryption, no index,
# no audit, through the same server and client library.
pg_copy_baseline "$URL" "$WORK/customers.csv" "bench_plain_$$"
base_rate=$(rate "$COUNT" "$COPY_T0" "$COPY_T1")
echo "psql \\copy: $base_rate records/s ($(secs "$COPY_T0" "$COPY_T1") s)"
ratio=$(python3 -c "print(f'{$custos_rate/$base_rate:.3f}')")
echo "ratio custos/psql-copy: $ratio"

verify=$(CUSTOS_TOKEN=$dpo CUSTOS_PURPOSE=legal_obligation $CUSTOS --vault "$WORK/vault" --json audit verify | tr -d '\n' | cut -c1-200 || true)
echo "audit verify: $verify"
db_mb=$(psql "$URL" -qAt -c "SELECT (sum(pg_total_relation_size(c.oid)) / 1048576)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$SCHEMA' AND c.relkind = 'r'")
psql "$URL" -qAt -c "DROP TABLE bench_plain_$$; DROP SCHEMA $SCHEMA CASCADE" >/dev/null
echo "{\"count\":$COUNT,\"custos_pg_records_per_s\":$custos_rate,\"psql_copy_records_per_s\":$base_rate,\"ratio\":$ratio,\"custos_pg_mb\":${db_mb:-0}}"
