#!/usr/bin/env bash
# Server CPU per request: starts `custos serve` on a vault made by bench/http_bench.sh, drives
# it with wrk as that script does (bench/http_bench.lua), and prints wrk's figures and the
# server's CPU time (utime + stime from /proc) over the run, per request.
#   bench/serve_cpu.sh CUSTOS_BIN SECONDS CONNECTIONS get|search
# BENCH_DIR (default /tmp/custos-http-bench) and PORT (default 18443) as for http_bench.sh.
# On a shared machine the CPU per request is steadier than requests/s (BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1; SECS=$2; CONNS=$3; MODE=$4
W=${BENCH_DIR:-/tmp/custos-http-bench}; V=$W/vault; PORT=${PORT:-18443}
"$BIN" --vault "$V" serve > "$W/serve-cpu.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sk "https://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
# The doctor's daily self-check runs at once on a vault where it never ran (it verifies the whole
# audit chain): wait for it (and any other start-up work), so that the figures are the steady
# state's.
source bench/lib.sh
wait_server_idle "$SERVER"
bench_load_inputs "$W" "$MODE"
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
c0=$(cpu)
BENCH_TOKEN=$BENCH_TOKEN BENCH_MODE=$MODE BENCH_FILE=$BENCH_FILE BENCH_REPORT=$W/serve-cpu.json \
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/http_bench.lua "https://127.0.0.1:$PORT" \
  > "$W/serve-cpu.txt"
c1=$(cpu)
python3 - "$W/serve-cpu.json" "$c0" "$c1" "$SECS" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); c0, c1, secs, hz = map(float, sys.argv[2:6])
cpu = (c1 - c0) / hz; n = r["rps"] * secs
print(f"{r['rps']:.0f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
      f"server CPU {cpu:.2f} s = {cpu / secs:.2f} cores, {cpu / n * 1e6:.0f} us per request")
PY
kill -TERM $SERVER; wait $SERVER || true
trap - EXIT
