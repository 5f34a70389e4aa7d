#!/usr/bin/env bash
# KEK rotation rate of Custos: DEKs rewrapped per second by `custos key rotate` on a vault of
# COUNT imported customers (issue 6, point 8).
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
BUILD_DIR=${BUILD_DIR:-build-release}
# CUSTOS_BIN: an already built custos (skips the Release build, e.g. on a busy machine).
if [ -n "${CUSTOS_BIN:-}" ]; then
  CUSTOS=$CUSTOS_BIN
else
  # -O3 draws false GCC 12 warnings (stringop-overflow): benchmarks build without -Werror.
  CUSTOS_WERROR=OFF BUILD_DIR=$BUILD_DIR BUILD_TYPE=Release NINJA_TARGETS="custos" \
    scripts/build.sh -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=ON
  CUSTOS=$BUILD_DIR/bin/custos
fi
rm -rf "$WORK" && mkdir -p "$WORK"

now() { date +%s.%N; }

init_args=()
if [ "$PROVIDER" = pkcs11 ]; then
  export CUSTOS_HSM_STATE="$WORK/softhsm"
  eval "$(scripts/softhsm.sh start)"
  init_args=(--provider pkcs11)
fi

$CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
source scripts/custos_staff.sh
admin=$($CUSTOS --json init "${init_args[@]}" "$WORK/vault" | custos_init_json_token)
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" clerk sales_rep sales)
t0=$(now)
CUSTOS_TOKEN=$clerk CUSTOS_PURPOSE=account_management $CUSTOS --vault "$WORK/vault" import \
  --notice-version 1 --sensitive-consent --consent-purposes customer_service,account_management \
  "$WORK/customers.csv" >/dev/null
t1=$(now)
echo "import: $COUNT customers in $(python3 -c "print(f'{$t1-$t0:.1f}')") s"

export CUSTOS_TOKEN=$admin CUSTOS_PURPOSE=account_management
t0=$(now)
report=$($CUSTOS --vault "$WORK/vault" --json key rotate --batch "$BATCH")
t1=$(now)
rewrapped=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['rewrapped'])" "$report")
seconds=$(python3 -c "print(f'{$t1-$t0:.2f}')")
rate=$(python3 -c "print(f'{$rewrapped/($t1-$t0):.0f}')")
echo "key rotate ($PROVIDER, batch $BATCH): $rewrapped DEKs in $seconds s = $rate DEKs/s"
$CUSTOS --vault "$WORK/vault" key status
echo "{\"count\":$COUNT,\"provider\":\"$PROVIDER\",\"batch\":$BATCH,\"rewrapped\":$rewrapped,\"seconds\":$seconds,\"deks_per_s\":$rate}"
if [ "$PROVIDER" = pkcs11 ]; then scripts/softhsm.sh stop; fi
