#!/usr/bin/env bash
# The audited HTTPS GET of bench/http_bench.sh with and without [audit] read_journal, alternated
# on one vault: each round starts `custos serve` with the option off, runs wrk, stops it, then
# the same with the option on. Prints requests/s, p99 and the server's CPU per request (utime +
# stime from /proc, counted until the log has every entry: the journal folded) for each run.
# The vault's custos.toml is restored at the end.
#   bench/http_journal_ab.sh CUSTOS_BIN [ROUNDS=3] [SECONDS=6] [CONNECTIONS=8] [WARMUP=0]
# NEW_BIN=path alternates two binaries instead, both with the option on (a change to the
# journalled read path measured against its base). MODE=search runs the search by phone.
# WARMUP seconds of the same load run first, unmeasured, on each fresh server: a server's
# first seconds fill its connection's page cache (the audit query keys' pages), which a
# long-running server has done (BENCHMARKS.md, "Read connections").
# Runs on a vault bench/http_bench.sh made (BENCH_DIR, default /tmp/custos-http-bench; for
# example `BENCH_SETUP_ONLY=1 bench/http_bench.sh 200000`). PORT as there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
ROUNDS=${2:-3}
SECS=${3:-6}
CONNS=${4:-8}
WARMUP=${5:-0}
W=${BENCH_DIR:-/tmp/custos-http-bench}
V=$W/vault
PORT=${PORT:-18443}
if [ ! -s "$W/agent.token" ] || [ ! -s "$W/ids.txt" ]; then
  echo "http_journal_ab: no bench vault in $W (BENCH_SETUP_ONLY=1 bench/http_bench.sh COUNT)" >&2
  exit 2
fi
source bench/lib.sh
TOML=$V/custos.toml
cp "$TOML" "$W/custos.toml.journal-ab"
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  cp "$W/custos.toml.journal-ab" "$TOML"
}
trap cleanup EXIT
HZ=$(getconf CLK_TCK)

MODE=${MODE:-get}
bench_load_inputs "$W" "$MODE"
run() {  # run LABEL [BINARY]: one server, one wrk run, one line of figures
  "${2:-$BIN}" --vault "$V" serve > "$W/journal-ab-serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sk "https://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
  wait_server_idle "$SERVER"
  if [ "$WARMUP" -gt 0 ]; then
    BENCH_TOKEN=$BENCH_TOKEN BENCH_MODE=$MODE BENCH_FILE=$BENCH_FILE \
      BENCH_REPORT=$W/journal-ab-warmup.json \
      wrk -t2 -c"$CONNS" -d"${WARMUP}s" -s bench/http_bench.lua "https://127.0.0.1:$PORT" > /dev/null
    wait_server_idle "$SERVER"
  fi
  local t0 t1
  t0=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  BENCH_TOKEN=$BENCH_TOKEN BENCH_MODE=$MODE BENCH_FILE=$BENCH_FILE \
    BENCH_REPORT=$W/journal-ab.json \
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/http_bench.lua "https://127.0.0.1:$PORT" \
    > "$W/journal-ab-wrk.txt"
  # The server's CPU counts until the journal is folded (the log stops growing for 0.5 s), so a
  # fold deferred past the load is not left out; the lag is printed as "fold +N ms".
  local seq0 seq1 waited=0
  seq1=$(sqlite3 "$V/custos.db" "SELECT max(seq) FROM audit_log")
  while :; do
    sleep 0.5
    seq0=$seq1
    seq1=$(sqlite3 "$V/custos.db" "SELECT max(seq) FROM audit_log")
    [ "$seq1" = "$seq0" ] && break
    [ "$waited" -ge 30000 ] && break
    waited=$((waited + 500))
  done
  t1=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true
  SERVER=
  python3 - "$1" "$W/journal-ab-wrk.txt" "$t0" "$t1" "$HZ" "$SECS" "$waited" <<'PY'
import re, sys
label, out = sys.argv[1:3]; t0, t1, hz, secs, waited = map(float, sys.argv[3:8])
t = open(out).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)", t, re.M)
p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print(f"{label:8s} {rps:8.0f} req/s  p99 {p99:6.2f} ms  server {(t1 - t0) / hz / (rps * secs) * 1e6:5.0f} us/req"
      + f"  fold +{waited:.0f} ms" + (f"  NON-2XX {bad.group(1)}" if bad else ""))
PY
}

for _ in $(seq "$ROUNDS"); do
  sed -i '/^read_journal/d' "$TOML"
  if [ -n "${NEW_BIN:-}" ]; then
    sed -i 's/^\[audit\]$/[audit]\nread_journal = true/' "$TOML"
    run base
    run new "$NEW_BIN"
    continue
  fi
  run base
  sed -i 's/^\[audit\]$/[audit]\nread_journal = true/' "$TOML"
  run journal
done
