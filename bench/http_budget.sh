#!/usr/bin/env bash
# The CPU each request costs, in one window: nginx serving the fixed 220-byte JSON body of
# bench/http_bench.sh, then `custos serve` answering GET /v1/health (the HTTP edge alone: TLS,
# framing, routing, rate limit, access log, the hand-off to a worker and back; no vault work),
# then the audited masked GET of bench/http_bench.sh. For each: requests/s, p99, the server's
# CPU per request (utime + stime from /proc) and wrk's own (it shares the machine), and what
# half of nginx's rate leaves each Custos request (issue 14's aim, BENCHMARKS.md).
#   bench/http_budget.sh CUSTOS_BIN [SECONDS=10] [CONNECTIONS=8]
# Runs on a vault bench/http_bench.sh made (BENCH_DIR, default /tmp/custos-http-bench; for
# example `BENCH_SETUP_ONLY=1 bench/http_bench.sh 200000`). PORT and NGINX_PORT as there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1; SECS=${2:-10}; CONNS=${3:-8}
W=${BENCH_DIR:-/tmp/custos-http-bench}; V=$W/vault
PORT=${PORT:-18443}; NGINX_PORT=${NGINX_PORT:-18444}
if [ ! -s "$W/agent.token" ] || [ ! -s "$W/ids.txt" ]; then
  echo "http_budget: no bench vault in $W (BENCH_SETUP_ONLY=1 bench/http_bench.sh COUNT)" >&2
  exit 2
fi
source bench/lib.sh
HZ=$(getconf CLK_TCK)
NGX=$W/nginx-budget
bench_nginx_conf "$NGX" "$V" "$NGINX_PORT"

SERVER=
cleanup() {
  nginx -p "$NGX" -c "$NGX/nginx.conf" -s stop 2>/dev/null || true
  if [ -n "$SERVER" ]; then kill -TERM "$SERVER" 2>/dev/null || true; fi
}
trap cleanup EXIT

ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
# measure LABEL PIDS -- WRK ARGS: one wrk run, the CPU of PIDS (space-separated) over it, one
# line of figures.
measure() {
  local label=$1 pids; read -r -a pids <<< "$2"; shift 3
  local c0; c0=$(ticks "${pids[@]}")
  /usr/bin/time -f "%U %S" -o "$W/budget-wrk.time" \
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" > "$W/budget-$label.txt"
  local c1; c1=$(ticks "${pids[@]}")
  python3 - "$label" "$W/budget-$label.txt" "$W/budget-wrk.time" "$c0" "$c1" "$HZ" "$SECS" <<'PY' | tee -a "$W/budget.out"
import re, sys
label, out, wt = sys.argv[1:4]; c0, c1, hz, secs = map(float, sys.argv[4:8])
t = open(out).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)", t, re.M)
p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
n = rps * secs
u, s = map(float, open(wt).read().split()[-2:])
print(f"{label:14s} {rps:8.0f} req/s  p99 {p99:6.2f} ms  server {(c1 - c0) / hz / n * 1e6:5.0f} us/req"
      f"  wrk {(u + s) / n * 1e6:4.0f} us/req" + (f"  NON-2XX {bad.group(1)}" if bad else ""))
PY
}

: > "$W/budget.out"
nginx -p "$NGX" -c "$NGX/nginx.conf"
sleep 0.5
NGINX_WORKERS=$(pgrep -d ' ' -f "nginx: worker process" || true)
measure nginx "$NGINX_WORKERS" -- "https://127.0.0.1:$NGINX_PORT/"
# wrk with the GET script (random ids, the token and purpose headers) against nginx: what the
# load generator itself costs per request at a high rate.
BENCH_TOKEN=$(cat "$W/agent.token") BENCH_MODE=get BENCH_FILE=$W/ids.txt BENCH_REPORT=$W/budget-ngx.json \
  measure nginx-script "$NGINX_WORKERS" -- -s bench/http_bench.lua "https://127.0.0.1:$NGINX_PORT"
nginx -p "$NGX" -c "$NGX/nginx.conf" -s stop
sleep 0.5

"$BIN" --vault "$V" serve > "$W/budget-serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sk "https://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
wait_server_idle "$SERVER"
measure custos-health "$SERVER" -- "https://127.0.0.1:$PORT/v1/health"
BENCH_TOKEN=$(cat "$W/agent.token") BENCH_MODE=get BENCH_FILE=$W/ids.txt BENCH_REPORT=$W/budget-get.json \
  measure custos-get "$SERVER" -- -s bench/http_bench.lua "https://127.0.0.1:$PORT"
kill -TERM "$SERVER"; wait "$SERVER" || true
SERVER=

# Half of nginx's rate: wrk's CPU at that rate (its own per-request cost with the GET script,
# measured against nginx) and the rest of the machine's cores is what each Custos request may
# spend.
python3 - "$W/budget.out" "$(nproc)" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows[f[0]] = (float(f[1]), float(re.search(r"server\s+(\d+)", line).group(1)),
                  float(re.search(r"wrk\s+(\d+)", line).group(1)))
cores = int(sys.argv[2])
target = rows["nginx"][0] / 2
wrk_us = rows["nginx-script"][2]
budget = (cores - target * wrk_us * 1e-6) / target * 1e6
print(f"half of nginx: {target:.0f} req/s; wrk would use {target * wrk_us * 1e-6:.2f} of {cores} cores, "
      f"leaving {budget:.0f} us of server CPU per request")
for k in ("custos-health", "custos-get"):
    print(f"{k}: {rows[k][1]:.0f} us per request = {rows[k][1] / budget:.1f}x that budget; "
          f"ratio to nginx {rows[k][0] / rows['nginx'][0]:.2f}")
PY
