#!/usr/bin/env bash
# Two builds of custos, the same import, alternated: each round imports the same generated
# customers into a fresh vault with the base build, then with the new one, and prints each
# import's wall time and CPU time (user + system of the custos process; on postgres the
# server's work is not in it), then the means. For a change to the import path measured in one
# run (the machine's noise between single runs is 10-15 %: compare the means of several
# rounds).
#   bench/import_ab.sh BASE_CUSTOS NEW_CUSTOS [ROUNDS] [COUNT] [sqlite|postgres]
# Defaults: 5 rounds, 50,000 customers, sqlite. postgres uses the server in CUSTOS_TEST_PG_URL
# (+ PGPASSWORD) when set; otherwise it starts the throw-away cluster of scripts/pg_cluster.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=$1
NEW=$2
ROUNDS=${3:-5}
COUNT=${4:-50000}
BACKEND=${5:-sqlite}
WORK=${BENCH_DIR:-/tmp/custos-import-ab}
CUSTOS=$NEW
source bench/lib.sh
bench_fresh_work
started_cluster=0
if [[ $BACKEND == postgres && -z "${CUSTOS_TEST_PG_URL:-}" ]]; then
  eval "$(scripts/pg_cluster.sh start)"
  started_cluster=1
fi
cleanup() { if [[ $started_cluster == 1 ]]; then scripts/pg_cluster.sh stop; fi; }
trap cleanup EXIT
export PGOPTIONS="-c client_min_messages=warning"
$NEW gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null

one() {  # binary label -> "WALL CPU": seconds of one import into a fresh vault
  local bin=$1 schema="import_ab_$$_$2"
  CUSTOS=$bin
  rm -rf "$WORK/vault" "$WORK/vault.init.json"
  if [[ $BACKEND == postgres ]]; then
    bench_init "$WORK/vault" --store-url "$CUSTOS_TEST_PG_URL" --store-schema "$schema"
  else
    bench_init "$WORK/vault"
  fi
  local clerk times
  clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$ADMIN" clerk sales_rep sales)
  # Wall time, then the import's CPU time (user + system, its threads): the CPU time moves
  # less with the machine's speed from one minute to the next.
  times=$({ TIMEFORMAT='%R %U %S'; time bench_import "$WORK/vault" "$clerk" \
    "$WORK/customers.csv" 2>/dev/null; } 2>&1)
  if [[ $BACKEND == postgres ]]; then
    psql "$CUSTOS_TEST_PG_URL" -qAt -c "DROP SCHEMA $schema CASCADE" >/dev/null
  fi
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' <<<"$times"
}

base_all=()
new_all=()
for round in $(seq "$ROUNDS"); do
  b=$(one "$BASE" base)
  n=$(one "$NEW" new)
  base_all+=("${b// /,}")
  new_all+=("${n// /,}")
  echo "round $round: base ${b% *} s (CPU ${b#* } s), new ${n% *} s (CPU ${n#* } s)"
done
python3 - "${base_all[*]}" "${new_all[*]}" "$COUNT" "$BACKEND" <<'PY'
import sys
base = [tuple(map(float, x.split(","))) for x in sys.argv[1].split()]
new = [tuple(map(float, x.split(","))) for x in sys.argv[2].split()]
def mean(rows, i): return sum(r[i] for r in rows) / len(rows)
wb, wn, cb, cn = mean(base, 0), mean(new, 0), mean(base, 1), mean(new, 1)
print(f"{sys.argv[4]}, {sys.argv[3]} customers, {len(base)} rounds: wall base {wb:.2f} s, "
      f"new {wn:.2f} s, new/base {wn / wb:.3f}; CPU base {cb:.2f} s, new {cn:.2f} s, "
      f"new/base {cn / cb:.3f}")
PY
