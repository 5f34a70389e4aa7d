# Shared by the end-to-end benchmark scripts (bench/*.sh), sourced after they `cd` to the
# repository root and set COUNT and WORK. Nothing here measures; it only sets a run up the
# same way in every script.
#   bench_custos [NINJA_TARGETS] [CMAKE ARGS...]
#       Sets CUSTOS. An already built binary is used as is when given: CUSTOS=path,
#       CUSTOS_BIN=path, or SKIP_BUILD=1 (then $BUILD_DIR/bin/custos). Otherwise builds the
#       Release targets (default "custos") into $BUILD_DIR (default build-release); -O3 draws
#       false GCC 12 warnings (stringop-overflow), so benchmarks build without -Werror (CI
#       builds with it).
#   bench_fresh_work        an empty $WORK
#   wait_server_idle PID    waits (at most 300 s) until process PID used under 5 % of a core
#       for a whole second: the work a server does when it starts (the doctor's first
#       self-check verifies the whole audit chain; a migration) is over before a load.
#   now                     seconds since the epoch, with nanoseconds
#   secs T0 T1              T1 - T0 in seconds, two decimals
#   rate COUNT T0 T1        COUNT / (T1 - T0), no decimals
#   bench_init VAULT [INIT ARGS...]
#       `custos init` of a new vault; sets ADMIN (the administrator's token) and DPO_FIRST
#       (the DPO's first-password token, for custos_first_password_token).
#   bench_import VAULT TOKEN CSV [IMPORT ARGS...]
#       The benches' import: a sales clerk's TOKEN, for account management, with notice
#       $BENCH_NOTICE (default 1),
#       sensitive consent and the purposes $BENCH_PURPOSES (default
#       customer_service,account_management); more with IMPORT ARGS (e.g. --share-consent).
#       With BENCH_PERF=FILE the import runs under `perf record -F 499 -g -o FILE` (a profile;
#       the timing then includes perf's cost).
#   bench_exporter_role VAULT PURPOSE [mask]
#       Adds the role and post `bench_exporter`: `customer.export` of the general and internal
#       fields for PURPOSE, and with `mask` the confidential ones masked (a role reading them
#       unmasked needs dual control, which a script cannot give).
#   bench_time OUT CMD...   runs CMD under /usr/bin/time: "wall-seconds peak-KiB" into OUT
#   bench_load_inputs DIR MODE
#       The wrk load of bench/http_bench.lua on the vault bench/http_bench.sh made in DIR:
#       sets BENCH_TOKEN (the agent's token; for MODE search the eight searchers' tokens, each
#       under its own hourly search limit) and BENCH_FILE (ids; for search, phone numbers).
#   bench_nginx_conf DIR VAULT PORT
#       Writes DIR/nginx.conf (and DIR/logs): nginx-light on 127.0.0.1:PORT over TLS with the
#       vault's certificate, no access log, answering every request with the fixed 220-byte
#       JSON body the HTTP benchmarks compare Custos with (the size of a masked GET's answer).
#       Start it with `nginx -p DIR -c DIR/nginx.conf`.
BUILD_DIR=${BUILD_DIR:-build-release}

bench_custos() {
  local targets=${1:-custos}
  if [[ $# -gt 0 ]]; then shift; fi
  if [[ -n "${CUSTOS:-}" ]]; then return; fi
  if [[ -n "${CUSTOS_BIN:-}" ]]; then
    CUSTOS=$CUSTOS_BIN
    return
  fi
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    CUSTOS_WERROR=OFF BUILD_DIR=$BUILD_DIR BUILD_TYPE=Release NINJA_TARGETS="$targets" \
      scripts/build.sh -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=ON "$@"
  fi
  CUSTOS=$BUILD_DIR/bin/custos
}

bench_fresh_work() { rm -rf "$WORK" && mkdir -p "$WORK"; }

now() { date +%s.%N; }
wait_server_idle() {
  local hz ticks before after
  hz=$(getconf CLK_TCK)
  for _ in $(seq 300); do
    before=$(awk '{print $14 + $15}' "/proc/$1/stat")
    sleep 1
    after=$(awk '{print $14 + $15}' "/proc/$1/stat")
    ticks=$((after - before))
    [ $((ticks * 100)) -lt $((hz * 5)) ] && return 0
  done
  echo "wait_server_idle: process $1 was still busy after 300 s" >&2
  return 1
}
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }
rate() { python3 -c "print(f'{$1/($3-$2):.0f}')"; }
# pg_copy_baseline URL CSV TABLE: the PostgreSQL benches' baseline, `psql \copy` of CSV (with
# its header) into TABLE, created as a plain table of text columns (no encryption, no index,
# no audit). Sets COPY_T0 and COPY_T1 (now) around the copy; the caller drops TABLE.
pg_copy_baseline() {
  local url=$1 csv=$2 table=$3 header columns
  header=$(head -1 "$csv")
  columns=$(python3 -c "import sys; print(', '.join(f'\"{c}\" text' for c in sys.argv[1].split(',')))" "$header")
  psql "$url" -qAt -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS $table; CREATE TABLE $table ($columns)"
  COPY_T0=$(now)
  psql "$url" -qAt -v ON_ERROR_STOP=1 -c "\\copy $table FROM '$csv' WITH (FORMAT csv, HEADER true)"
  COPY_T1=$(now)
}

source scripts/custos_staff.sh

bench_init() {
  local vault=$1
  shift
  $CUSTOS --json init "$@" "$vault" > "$vault.init.json"
  ADMIN=$(custos_init_json_token < "$vault.init.json")
  DPO_FIRST=$(custos_init_json_dpo_token < "$vault.init.json")
  # The read-latency runs search once per sampled customer: the per-field hourly search limit
  # (default 60) at the most the key allows, or every search past the 60th is refused.
  sed -i 's/^search_limit_per_hour = [0-9]*$/search_limit_per_hour = 100000/' "$vault/custos.toml"
}

bench_import() {
  local vault=$1 token=$2 csv=$3
  shift 3
  local perf=()
  [[ -n ${BENCH_PERF:-} ]] && perf=(perf record -F 499 -g -o "$BENCH_PERF" --)
  CUSTOS_TOKEN=$token CUSTOS_PURPOSE=account_management "${perf[@]}" $CUSTOS --vault "$vault" import \
    --notice-version "${BENCH_NOTICE:-1}" --sensitive-consent \
    --consent-purposes "${BENCH_PURPOSES:-customer_service,account_management}" "$@" "$csv" >/dev/null
}

bench_exporter_role() {
  local vault=$1 purpose=$2 mask=${3:-}
  cat >> "$vault/custos.toml" <<TOML

[roles.bench_exporter]
label = "bench"
description = "benchmark: exports the customers for the comparison"

[[roles.bench_exporter.grants]]
actions = ["customer.export"]
levels = ["general", "internal"]
purposes = ["$purpose"]
TOML
  if [[ $mask == mask ]]; then
    cat >> "$vault/custos.toml" <<TOML

[[roles.bench_exporter.grants]]
actions = ["customer.export"]
levels = ["confidential"]
purposes = ["$purpose"]
effect = "mask"
requires_training = "privacy-basics"
TOML
  fi
  cat >> "$vault/custos.toml" <<'TOML'

[posts.bench_exporter]
label = "bench"
roles = ["bench_exporter"]
TOML
}

bench_time() {
  local out=$1
  shift
  /usr/bin/time -f "%e %M" -o "$out" "$@"
}

bench_load_inputs() {
  if [ "$2" = search ]; then
    BENCH_TOKEN=$(cat "$1/searchers.token") BENCH_FILE=$1/phones.txt
  else
    BENCH_TOKEN=$(cat "$1/agent.token") BENCH_FILE=$1/ids.txt
  fi
}

bench_nginx_conf() {
  local ngx=$1 vault=$2 port=$3 body
  mkdir -p "$ngx/logs"
  body=$(python3 -c 'import json; b=json.dumps({"customer_id":"0"*26,"fields":{"name":"王*","phone":"138****8000","id_number":"110105********002X"},"note":"x"*40}); print(b+" "*(220-len(b.encode())))')
  cat > "$ngx/nginx.conf" <<NGINX
worker_processes auto;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $ngx; proxy_temp_path $ngx; fastcgi_temp_path $ngx;
  uwsgi_temp_path $ngx; scgi_temp_path $ngx;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $vault/tls/server.crt;
    ssl_certificate_key $vault/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 1000000;
    location / { default_type application/json; return 200 '$body'; }
  }
}
NGINX
}
