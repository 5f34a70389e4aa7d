#!/usr/bin/env bash
# Key rotation on a vault of COUNT imported customers (issue 6, point 8): the time of a KEK
# rotation (`custos key rotate`) and the rate of an epoch rotation (`custos key epoch rotate`:
# every customer's DEK re-wrapped under a new epoch key, per second). Since key-backup epochs
# (docs/keys.md) a DEK is wrapped by an epoch key, not the KEK: a KEK rotation re-wraps the
# epoch key files and vault keys only (its time does not grow with COUNT), and the per-customer
# re-wrap is the epoch rotation's.
#   bench/rotation_bench.sh [COUNT] [PROVIDER]    (default 1000000 keyfile; or pkcs11)
#   CUSTOS_BIN=build/bin/custos BATCH=1000 BENCH_DIR=/tmp/x bench/rotation_bench.sh 100000
# pkcs11 runs against a throw-away SoftHSM2 token (scripts/softhsm.sh). Prints one line per
# measurement and a closing JSON summary; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
PROVIDER=${2:-keyfile}
BATCH=${BATCH:-1000}
WORK=${BENCH_DIR:-/tmp/custos-rotation-bench}
# CUSTOS_BIN: an already built custos (skips the Release build, e.g. on a busy machine).
source bench/lib.sh
bench_custos
bench_fresh_work

init_args=()
if [ "$PROVIDER" = pkcs11 ]; then
  export CUSTOS_HSM_STATE="$WORK/softhsm"
  eval "$(scripts/softhsm.sh start)"
  init_args=(--provider pkcs11)
fi

$CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
bench_init "$WORK/vault" "${init_args[@]}"
admin=$ADMIN
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" clerk sales_rep sales)
t0=$(now)
bench_import "$WORK/vault" "$clerk" "$WORK/customers.csv"
t1=$(now)
echo "import: $COUNT customers in $(secs "$t0" "$t1") s"

export CUSTOS_TOKEN=$admin CUSTOS_PURPOSE=account_management
t0=$(now)
report=$($CUSTOS --vault "$WORK/vault" --json key rotate --batch "$BATCH")
t1=$(now)
kek_rewrapped=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['rewrapped'])" "$report")
kek_s=$(secs "$t0" "$t1")
echo "key rotate ($PROVIDER): $kek_s s ($kek_rewrapped DEKs still under the KEK rewrapped)"
t0=$(now)
report=$($CUSTOS --vault "$WORK/vault" --json key epoch rotate --batch "$BATCH")
t1=$(now)
rewrapped=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['rewrapped'])" "$report")
seconds=$(secs "$t0" "$t1")
rate=$(rate "$rewrapped" "$t0" "$t1")
echo "key epoch rotate ($PROVIDER, batch $BATCH): $rewrapped DEKs in $seconds s = $rate DEKs/s"
$CUSTOS --vault "$WORK/vault" key status
echo "{\"count\":$COUNT,\"provider\":\"$PROVIDER\",\"batch\":$BATCH,\"kek_rotate_s\":$kek_s,\"rewrapped\":$rewrapped,\"seconds\":$seconds,\"deks_per_s\":$rate}"
if [ "$PROVIDER" = pkcs11 ]; then scripts/softhsm.sh stop; fi
