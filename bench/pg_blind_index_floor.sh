#!/usr/bin/env bash
# What the blind index alone costs the PostgreSQL server in an import (issue 15): imports COUNT
# generated customers as bench/pg_import_bench.sh does, then copies the blind_index rows the
# import stored (4 per customer: name, phone, email, id number; random HMAC tokens) into fresh
# tables of the same columns, in customer order as the import writes them, with the table's two
# indexes, with each alone and with none; and times `psql \copy` of the CSV as the baseline.
# Each INSERT ... SELECT runs on the server alone (no client work): a lower bound for writing the
# index as it is today, to set beside the budget that 0.25 of `\copy` leaves the whole import.
#   bench/pg_blind_index_floor.sh [COUNT=50000] [ROUNDS=2]
# Uses the server in $CUSTOS_TEST_PG_URL (+ PGPASSWORD), as scripts/pg_cluster.sh prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-50000}
ROUNDS=${2:-2}
WORK=${BENCH_DIR:-/tmp/custos-pg-blind-index}
source bench/lib.sh
bench_custos custos
bench_fresh_work
: "${CUSTOS_TEST_PG_URL:?start a server first: eval \"\$(scripts/pg_cluster.sh start)\"}"
URL=$CUSTOS_TEST_PG_URL
SCHEMA="bif_$$"
export PGOPTIONS="-c client_min_messages=warning"
trap 'psql "$URL" -qAt -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; DROP TABLE IF EXISTS bif_plain_$$" >/dev/null 2>&1 || true' EXIT

$CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
bench_init "$WORK/vault" --store-url "$URL" --store-schema "$SCHEMA"
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$ADMIN" clerk sales_rep sales)
t0=$(now); bench_import "$WORK/vault" "$clerk" "$WORK/customers.csv"; t1=$(now)
echo "custos import (postgres): $(secs "$t0" "$t1") s"

pg_copy_baseline "$URL" "$WORK/customers.csv" "bif_plain_$$"
copy_s=$(secs "$COPY_T0" "$COPY_T1")
echo "psql \\copy: $copy_s s; 0.25 of it leaves the whole import $(python3 -c "print(f'{$copy_s/0.25:.2f}')") s"

# The rows in the order the import wrote them: customer by customer.
psql "$URL" -qAt -v ON_ERROR_STOP=1 -c "SET search_path = $SCHEMA;
  CREATE TABLE src AS SELECT b.* FROM blind_index b JOIN customers c USING (customer_id)
    ORDER BY c.created_at_ms, c.customer_id, b.field;" >/dev/null
rows=$(psql "$URL" -qAt -c "SELECT count(*) FROM $SCHEMA.src")
echo "blind_index rows: $rows"
# One timed INSERT ... SELECT into a fresh table with the given indexes (psql's own timing).
insert() {
  local name=$1 indexes=$2
  psql "$URL" -qAt -v ON_ERROR_STOP=1 -c "SET search_path = $SCHEMA;
    DROP TABLE IF EXISTS t; CREATE TABLE t (LIKE blind_index); $indexes" >/dev/null
  local ms
  ms=$(psql "$URL" -qAt -v ON_ERROR_STOP=1 <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
SET search_path = $SCHEMA;
\timing on
INSERT INTO t SELECT * FROM src;
SQL
)
  echo "  $name: $(python3 -c "print(f'{$ms/1000:.3f}')") s"
}
for round in $(seq "$ROUNDS"); do
  echo "round $round (INSERT ... SELECT of $rows rows on the server):"
  insert "no index" ""
  insert "primary key (customer_id, field, token) only" "ALTER TABLE t ADD PRIMARY KEY (customer_id, field, token);"
  insert "blind_index_by_token (field, token, customer_id) only" "CREATE INDEX ON t (field, token, customer_id);"
  insert "both, as the table is" "ALTER TABLE t ADD PRIMARY KEY (customer_id, field, token); CREATE INDEX ON t (field, token, customer_id);"
done
