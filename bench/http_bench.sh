#!/usr/bin/env bash
# Audited reads over HTTPS: `wrk` against `custos serve` on a vault of COUNT customers, beside
# nginx (Debian nginx-light) serving a fixed 220-byte JSON body with the vault's certificate.
#   bench/http_bench.sh [COUNT=1000000] [SECONDS=30] [CONNECTIONS=8] [MANY=64]
# Builds Release, generates and imports COUNT customers, starts `custos serve`, then runs two
# keep-alive TLS loads with random ids / phone numbers from files:
#   get    GET /v1/customers/{id}?fields=name,phone,id_number   as a support agent (masked)
#   search GET /v1/customers/search?field=phone&value=...        as a support agent
# and prints requests/s and p50/p99 for each, then checks the audit log: the data entries
# (customer.read / customer.search) it gained equal the 2xx responses wrk counted.
# In one run (issue 14): nginx, Custos GET and Custos search at CONNECTIONS and at MANY
# connections, the ratio Custos/nginx, then Custos GET again while bench/http_hold.py holds
# 1,000 idle keep-alive and 64 slow-header connections, with /v1/health timed meanwhile.
# Needs: wrk (Debian package `wrk`), nginx-light, sqlite3, curl, python3 (scripts/setup.sh).
# BENCHMARKS.md records a run.
# CUSTOS_BIN=path/to/custos skips the Release build (for a quick check of the script).
# BENCH_REUSE=1 keeps the vault, tokens and id files of an earlier run in BENCH_DIR (same
# COUNT) instead of building them again: for repeated runs while tuning.
# BENCH_SETUP_ONLY=1 stops once the vault, tokens and id files are made (bench/secops_bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
SECONDS_EACH=${2:-30}
CONNECTIONS=${3:-8}
MANY=${4:-64}
NGINX_PORT=${NGINX_PORT:-18444}
WORK=${BENCH_DIR:-/tmp/custos-http-bench}
BUILD_DIR=${BUILD_DIR:-build-release}
PORT=${PORT:-18443}
command -v wrk >/dev/null || { echo "http_bench: wrk is missing (scripts/setup.sh)" >&2; exit 2; }
command -v nginx >/dev/null || { echo "http_bench: nginx is missing (scripts/setup.sh)" >&2; exit 2; }

if [ -n "${CUSTOS_BIN:-}" ]; then
  CUSTOS=$CUSTOS_BIN  # a binary built elsewhere (quick runs); the figures need Release
else
  CUSTOS_WERROR=OFF BUILD_DIR=$BUILD_DIR BUILD_TYPE=Release NINJA_TARGETS="-j2 custos" \
    scripts/build.sh -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=OFF
  CUSTOS=$PWD/$BUILD_DIR/bin/custos
fi
REUSE=0
if [ "${BENCH_REUSE:-0}" = 1 ] && [ -s "$WORK/searchers.token" ] && [ "$(cat "$WORK/count" 2>/dev/null)" = "$COUNT" ]; then
  REUSE=1
else
  rm -rf "$WORK" && mkdir -p "$WORK"
fi
V=$WORK/vault
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
totp() {  # RFC 6238 code for a base32 secret, now
  python3 - "$1" <<'PY'
import base64, hashlib, hmac, struct, sys, time
s = sys.argv[1]; k = base64.b32decode(s + "=" * (-len(s) % 8))
h = hmac.new(k, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}

if [ "$REUSE" = 0 ]; then
echo "== gen + import $COUNT customers"
$CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
INIT_JSON=$($CUSTOS --json init "$V")
ADMIN=$(json admin_token <<<"$INIT_JSON")
# The DPO's one-time token: bench/secops_bench.sh sets the DPO's first password with it, for
# the DPO to approve the role grant of its security administrator.
(umask 077; json dpo_token <<<"$INIT_JSON" > "$WORK/dpo-first.token")
# The server may take as many requests as wrk sends: lift the per-token limit for the bench.
python3 - "$V/custos.toml" "$PORT" <<'PY'
import re, sys
p, port = sys.argv[1], sys.argv[2]
s = open(p).read()
s = re.sub(r"(?m)^port = \d+$", f"port = {port}", s, count=1)
s = re.sub(r"(?m)^rate_limit_per_second = \d+$", "rate_limit_per_second = 1000000", s, count=1)
s = re.sub(r"(?m)^rate_limit_burst = \d+$", "rate_limit_burst = 2000000", s, count=1)
# Searches: at most 100,000 per staff member and field an hour (the highest the key allows);
# the search runs spread their requests over several agents instead (SEARCH_AGENTS below).
s = re.sub(r"(?m)^search_limit_per_hour = \d+$", "search_limit_per_hour = 100000", s, count=1)
open(p, "w").write(s)
PY
today=$(date -u +%F); next_year=$(date -u -d '+1 year' +%F)
login() {  # staff post role -> token (password, training, TOTP: what the policy asks of them)
  local id=$1 post=$2 role=$3 pw="bench-password-$RANDOM-$RANDOM" secret
  CUSTOS_TOKEN=$ADMIN CUSTOS_NEW_PASSWORD=$pw $CUSTOS --vault "$V" staff add "$id" --name "$id" \
    --post "$post" --role "$role" --with-password >/dev/null
  CUSTOS_TOKEN=$ADMIN $CUSTOS --vault "$V" training add "$id" --course privacy-basics \
    --completed "$today" --valid-until "$next_year" >/dev/null
  secret=$(CUSTOS_PASSWORD=$pw $CUSTOS --vault "$V" --json token issue "$id" --enroll-totp | json secret)
  CUSTOS_PASSWORD=$pw CUSTOS_NEW_PASSWORD="$pw-own" $CUSTOS --vault "$V" --json token issue "$id" \
    --ttl 1d --new-password --totp "$(totp "$secret")" | json token
}
SALES=$(login bench.sales sales_rep sales)
AGENT=$(login bench.agent support_agent customer_service)
# Search runs take these agents in turn: 8 x 100,000 searches an hour (see custos.toml above).
SEARCHERS=$AGENT
for i in 2 3 4 5 6 7 8; do SEARCHERS="$SEARCHERS,$(login "bench.agent$i" support_agent customer_service)"; done
t0=$(date +%s.%N)
CUSTOS_TOKEN=$SALES CUSTOS_PURPOSE=account_management $CUSTOS --vault "$V" import \
  --notice-version 1 --consent-purposes customer_service,account_management --sensitive-consent \
  "$WORK/customers.csv" >/dev/null
t1=$(date +%s.%N)
echo "import: $(python3 -c "print(f'{$COUNT/($t1-$t0):.0f}')") customers/s"
sqlite3 "$V/custos.db" "SELECT customer_id FROM customers ORDER BY random() LIMIT 20000" > "$WORK/ids.txt"
python3 - "$WORK/customers.csv" "$WORK/phones.txt" <<'PY'
import csv, random, sys
rows = csv.DictReader(open(sys.argv[1], encoding="utf-8"))
phones = [r["phone"] for _, r in zip(range(200000), rows)]
random.seed(1)
open(sys.argv[2], "w").write("\n".join(random.sample(phones, min(20000, len(phones)))) + "\n")
PY

echo "$AGENT" > "$WORK/agent.token"; echo "$SEARCHERS" > "$WORK/searchers.token"; echo "$ADMIN" > "$WORK/admin.token"; echo "$COUNT" > "$WORK/count"
if [ "${BENCH_SETUP_ONLY:-0}" = 1 ]; then  # the vault for bench/secops_bench.sh, no load
  echo "== vault, tokens and id files in $WORK"; exit 0
fi
else
  AGENT=$(cat "$WORK/agent.token"); SEARCHERS=$(cat "$WORK/searchers.token"); ADMIN=$(cat "$WORK/admin.token"); echo "== reusing the vault in $WORK"
fi

echo "== serve"
$CUSTOS --vault "$V" serve > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sk "https://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
# The doctor's daily self-check (docs/dpo.md) runs at once on a vault where it never ran, and
# verifies the whole audit chain: on 1,000,000 customers, seconds of one core. Wait for it (and
# any other start-up work), so that neither nginx's load nor Custos's shares the machine with it.
source bench/lib.sh
wait_server_idle "$SERVER"
data_entries() {
  sqlite3 "$V/custos.db" "SELECT count(*) FROM audit_log WHERE action IN ('customer.read','customer.search') AND actor LIKE 'bench.agent%' AND decision != 'deny'"
}

served_2xx() {  # 2xx responses the server sent on the two benchmarked routes (/v1/metrics)
  # /v1/metrics is an administrator's audited read (issue 12): the admin token of `custos init`.
  curl -sk -H "Authorization: Bearer $ADMIN" "https://127.0.0.1:$PORT/v1/metrics" | python3 -c '
import re, sys
n = 0
for line in sys.stdin:
    m = re.match(r"custos_http_requests_total\{method=\"GET\",route=\"(/v1/customers/\{customer_id\}|/v1/customers/search)\",status=\"2\d\d\"\} (\d+)", line)
    if m: n += int(m.group(2))
print(n)'
}

# wrk stops with requests in flight; the server finishes (and audits) them without wrk
# counting them. So the exact check compares the audit log with the 2xx responses the server
# counted (/v1/metrics); wrk's own 2xx count is printed beside it.
run() {  # name lua-mode id-file connections
  local name=$1 mode=$2 file=$3 conns=$4 before after twoxx served_before served
  before=$(data_entries)
  served_before=$(served_2xx)
  local tokens=$AGENT
  [ "$mode" = search ] && tokens=$SEARCHERS
  BENCH_TOKEN=$tokens BENCH_MODE=$mode BENCH_FILE=$file BENCH_REPORT=$WORK/$name.json \
    wrk -t2 -c"$conns" -d"${SECONDS_EACH}s" --latency -s bench/http_bench.lua \
    "https://127.0.0.1:$PORT" > "$WORK/$name.txt"
  sleep 1  # let the requests wrk abandoned finish
  after=$(data_entries)
  served=$(( $(served_2xx) - served_before ))
  python3 - "$name" "$WORK/$name.json" "$((after - before))" "$served" <<'PY'
import json, sys
name, report, entries, served = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
ok = "OK" if entries == served else "MISMATCH"
print(f"{name}: {report['rps']:.0f} req/s  p50 {report['p50_ms']:.2f} ms  p99 {report['p99_ms']:.2f} ms  "
      f"2xx seen by wrk {report['twoxx']}, sent by server {served}  non-2xx {report['non2xx']}  "
      f"errors {report['errors']}  audit data entries +{entries} ({ok})")
PY
  [ "$((after - before))" -eq "$served" ] || { echo "http_bench: audit entries != 2xx responses" >&2; exit 1; }
}
echo "== nginx (fixed 220-byte JSON body, the vault's certificate)"
NGX=$WORK/nginx
bench_nginx_conf "$NGX" "$V" "$NGINX_PORT"
nginx -p "$NGX" -c "$NGX/nginx.conf"
trap 'kill -TERM $SERVER 2>/dev/null || true; nginx -p "$NGX" -c "$NGX/nginx.conf" -s stop 2>/dev/null || true' EXIT
sleep 0.5
nginx_run() {  # connections -> "rps p50 p99"
  wrk -t2 -c"$1" -d"${SECONDS_EACH}s" --latency "https://127.0.0.1:$NGINX_PORT/" > "$WORK/nginx-$1.txt"
  python3 - "$WORK/nginx-$1.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*" + label + r"%\s+([\d.]+)(us|ms|s)", t, re.M)
    v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
print(f"{rps:.0f} {ms('50'):.2f} {ms('99'):.2f}")
PY
}
ratio() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['rps']; print(f'{sys.argv[3]}: Custos/nginx = {r/float(sys.argv[2]):.2f}')" "$1" "$2" "$3"; }
for c in "$CONNECTIONS" "$MANY"; do
  read -r nrps np50 np99 < <(nginx_run "$c")
  echo "nginx-$c: $nrps req/s  p50 $np50 ms  p99 $np99 ms"
  echo "== wrk: $c connections, ${SECONDS_EACH}s each, vault of $COUNT"
  run "get-$c" get "$WORK/ids.txt" "$c"
  run "search-$c" search "$WORK/phones.txt" "$c"
  ratio "$WORK/get-$c.json" "$nrps" "GET at $c"
  ratio "$WORK/search-$c.json" "$nrps" "search at $c"
done
nginx -p "$NGX" -c "$NGX/nginx.conf" -s stop || true

echo "== held: 1,000 idle keep-alive and 64 slow-header connections, GET at $CONNECTIONS"
python3 bench/http_hold.py 127.0.0.1 "$PORT" 1000 64 "$((SECONDS_EACH + 15))" > "$WORK/hold.log" 2>&1 &
HOLD=$!
for _ in $(seq 300); do grep -q "open" "$WORK/hold.log" 2>/dev/null && break; sleep 0.2; done
cat "$WORK/hold.log"
( for _ in $(seq "$SECONDS_EACH"); do
    curl -sk -o /dev/null -w '%{time_total}\n' "https://127.0.0.1:$PORT/v1/health"; sleep 1
  done ) > "$WORK/health-held.txt" &
HEALTH=$!
run "get-held" get "$WORK/ids.txt" "$CONNECTIONS"
wait $HEALTH || true
python3 - "$WORK/get-$CONNECTIONS.json" "$WORK/get-held.json" "$WORK/health-held.txt" <<'PY'
import json, sys
base, held = json.load(open(sys.argv[1]))["rps"], json.load(open(sys.argv[2]))["rps"]
times = sorted(float(x) * 1000 for x in open(sys.argv[3]) if x.strip())
print(f"held: GET {held:.0f} req/s vs {base:.0f} without ({(1 - held / base) * 100:.1f}% drop); "
      f"/v1/health max {times[-1]:.1f} ms, median {times[len(times) // 2]:.1f} ms over {len(times)} probes")
PY
wait $HOLD || true
cat "$WORK/hold.log"
kill -TERM $SERVER; wait $SERVER || true
trap - EXIT
echo "command: bench/http_bench.sh $COUNT $SECONDS_EACH $CONNECTIONS $MANY"
