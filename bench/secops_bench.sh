#!/usr/bin/env bash
# Security operations keep up with the audit stream (issue 20, the benchmark; BENCHMARKS.md).
#   bench/secops_bench.sh [SECONDS=20] [CONNECTIONS=8] [INTERVALS="500 100"]
# On a vault made by bench/http_bench.sh in BENCH_DIR (its tokens and id file; any COUNT), for
# each [ops] scan_interval_ms in INTERVALS: starts `custos serve`, drives it with the HTTP
# benchmark's audited GET load (wrk, bench/http_bench.lua, as the support agent bench.agent:
# masked reads of random customers, which also reach the support desk's bulk-read thresholds
# over and over) while a second agent (bench.agent8) reads a honey record every 0.4 s (plus
# the time the read takes), then reads from the store:
#   - the audited read rate (customer.read entries of the run per second);
#   - alert latency per rule: the alert's raised_at_ms minus the ts_ms of its triggering audit
#     entry (the audited read), p50 / p99 / max over the run's alerts;
#   - the CPU of the scan thread (named custos-ops-scan by serve) against the server's, from
#     /proc/PID/task/TID/stat (utime + stime): the rules' share, store reads and alert writes
#     of the scan included.
# Needs: wrk, curl, sqlite3, python3. CUSTOS_BIN (default build/bin/custos), BENCH_DIR (default
# /tmp/custos-http-bench), PORT (default 18443). The vault must use SQLite (it reads the store
# with sqlite3). Adds up to 100 honey records and a security administrator to the vault.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-8}
INTERVALS=${3:-"500 100"}
W=${BENCH_DIR:-/tmp/custos-http-bench}
V=$W/vault
PORT=${PORT:-18443}
BIN=${CUSTOS_BIN:-$PWD/build/bin/custos}
DB=$V/custos.db
for tool in wrk curl sqlite3 python3; do
  command -v $tool >/dev/null || { echo "secops_bench: $tool is missing" >&2; exit 2; }
done
[ -s "$W/agent.token" ] || { echo "secops_bench: no vault of bench/http_bench.sh in $W" >&2; exit 2; }
ADMIN=$(cat "$W/admin.token"); AGENT=$(cat "$W/agent.token")
PROBER=${AGENT_PROBER:-$(tr ',' '\n' < "$W/searchers.token" | tail -1)}  # bench.agent8
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
totp() {  # RFC 6238 code for a base32 secret, now (as bench/http_bench.sh)
  python3 - "$1" <<'PY'
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1]; k = base64.b32decode(s + "=" * (-len(s) % 8))
h = hmac.new(k, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}

if [ ! -s "$W/sec.token" ]; then
  echo "== a security administrator and 100 honey records"
  # security_admin decides approvals: the administrator asks for its role grant and the DPO
  # approves (the DPO first sets its own password with its one-time token from init).
  [ -s "$W/dpo-first.token" ] || { echo "secops_bench: no $W/dpo-first.token (a vault of an older bench/http_bench.sh: make it anew)" >&2; exit 2; }
  source scripts/custos_staff.sh
  [ -s "$W/dpo.token" ] || (umask 077; custos_first_password_token "$BIN" "$V" "$(cat "$W/dpo-first.token")" dpo > "$W/dpo.token")
  custos_grant_role "$BIN" "$V" "$ADMIN" "$(cat "$W/dpo.token")" bench.sec security_admin
  pw="bench-sec-$RANDOM-$RANDOM"
  CUSTOS_TOKEN=$ADMIN CUSTOS_NEW_PASSWORD=$pw $BIN --vault "$V" staff add bench.sec --name bench.sec \
    --post security_administrator --role security_admin --with-password >/dev/null
  secret=$(CUSTOS_PASSWORD=$pw $BIN --vault "$V" --json token issue bench.sec --enroll-totp | json secret)
  CUSTOS_PASSWORD=$pw CUSTOS_NEW_PASSWORD="$pw-own" $BIN --vault "$V" --json token issue bench.sec \
    --ttl 1d --new-password --totp "$(totp "$secret")" | json token > "$W/sec.token"
  CUSTOS_TOKEN=$(cat "$W/sec.token") $BIN --vault "$V" ops honey add 100 --seed 20 >/dev/null
fi
SEC=$(cat "$W/sec.token")
CUSTOS_TOKEN=$SEC $BIN --vault "$V" --json ops honey list | python3 -c '
import json, sys; print("\n".join(json.load(sys.stdin)["honey_records"]))' > "$W/honey.txt"

set_interval() {
  python3 - "$V/custos.toml" "$1" "$PORT" <<'PY'
import re, sys
p, every, port = sys.argv[1], sys.argv[2], sys.argv[3]
s = open(p).read()
s = re.sub(r"(?m)^scan_interval_ms = \d+$", f"scan_interval_ms = {every}", s, count=1)
s = re.sub(r"(?m)^port = \d+$", f"port = {port}", s, count=1)
open(p, "w").write(s)
PY
}

phase() {  # scan_interval_ms
  local every=$1 server scan_tid t0 t1 c0 c1 s0 s1 i
  set_interval "$every"
  $BIN --vault "$V" serve > "$W/secops-serve-$every.log" 2>&1 &
  server=$!
  trap 'kill -TERM $server 2>/dev/null || true' EXIT
  for _ in $(seq 100); do curl -sk "https://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
  scan_tid=""
  for _ in $(seq 50); do  # the scan thread names itself on its first run
    for t in /proc/$server/task/*; do
      [ "$(cat "$t/comm" 2>/dev/null)" = custos-ops-scan ] && scan_tid=${t##*/}
    done
    [ -n "$scan_tid" ] && break
    sleep 0.1
  done
  [ -n "$scan_tid" ] || { echo "secops_bench: no custos-ops-scan thread" >&2; exit 1; }
  cpu() { awk '{print $14 + $15}' "$1"; }
  t0=$(date +%s%3N)
  c0=$(cpu /proc/$server/stat); s0=$(cpu /proc/$server/task/$scan_tid/stat)
  # The prober: a honey record every 0.4 s until a second before wrk ends, each phase its
  # own 50 (a honey record read again by the same staff member within a minute is one alert).
  local deadline=$(( $(date +%s) + SECS - 1 ))
  ( sleep 1
    while read -r id && [ "$(date +%s)" -lt $deadline ]; do
      curl -sk -o /dev/null -H "Authorization: Bearer $PROBER" -H "X-Custos-Purpose: customer_service" \
        "https://127.0.0.1:$PORT/v1/customers/$id?fields=phone"
      sleep 0.4
    done < <(sed -n "$((PHASE * 50 + 1)),$((PHASE * 50 + 50))p" "$W/honey.txt") ) &
  local prober=$!
  BENCH_TOKEN=$AGENT BENCH_MODE=get BENCH_FILE=$W/ids.txt BENCH_REPORT=$W/secops-$every.json \
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/http_bench.lua \
    "https://127.0.0.1:$PORT" > "$W/secops-wrk-$every.txt"
  t1=$(date +%s%3N)
  c1=$(cpu /proc/$server/stat); s1=$(cpu /proc/$server/task/$scan_tid/stat)
  wait $prober || true
  sleep 3  # the last scans of the run
  kill -TERM $server; wait $server || true
  trap - EXIT
  python3 - "$DB" "$t0" "$t1" "$c0" "$c1" "$s0" "$s1" "$(getconf CLK_TCK)" "$every" \
    "$W/secops-$every.json" <<'PY'
import json, sqlite3, sys
db, t0, t1, c0, c1, s0, s1, hz, every, report = sys.argv[1:]
t0, t1 = int(t0), int(t1)
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
reads = c.execute("SELECT count(*) FROM audit_log WHERE action = 'customer.read' AND ts_ms >= ? "
                  "AND ts_ms < ?", (t0, t1)).fetchone()[0]
wall = (t1 - t0) / 1000
rows = c.execute("SELECT a.rule, a.raised_at_ms - l.ts_ms FROM ops_alerts a JOIN audit_log l "
                 "ON l.seq = a.trigger_seq WHERE l.ts_ms >= ? AND l.ts_ms < ?", (t0, t1)).fetchall()
by = {}
for rule, ms in rows: by.setdefault(rule, []).append(ms)
def pct(v, p): v = sorted(v); return v[min(len(v) - 1, int(len(v) * p))]
server = (float(c1) - float(c0)) / float(hz); scan = (float(s1) - float(s0)) / float(hz)
r = json.load(open(report))
print(f"scan_interval_ms {every}: {wall:.1f} s, wrk {r['rps']:.0f} req/s (p50 {r['p50_ms']:.2f} ms, "
      f"p99 {r['p99_ms']:.2f} ms), audited reads {reads / wall:.0f}/s")
for rule in sorted(by):
    v = by[rule]
    print(f"  {rule}: {len(v)} alerts, latency p50 {pct(v, .5)} ms  p99 {pct(v, .99)} ms  max {max(v)} ms")
print(f"  CPU: server {server:.2f} s ({server / wall:.2f} cores), scan thread {scan:.2f} s "
      f"({scan / wall * 100:.1f} % of a core, {scan / server * 100 if server else 0:.1f} % of the "
      f"server's CPU, {scan / max(reads, 1) * 1e6:.0f} us per audited read)")
PY
}

echo "== $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
PHASE=0
for every in $INTERVALS; do phase "$every"; PHASE=$(( (PHASE + 1) % 2 )); done
echo "== $(date -u '+%F %T') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/secops_bench.sh $SECS $CONNS \"$INTERVALS\""
