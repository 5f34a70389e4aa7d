#!/usr/bin/env bash
# The PostgreSQL backend through the command line (issue 4), on the server in
# CUSTOS_TEST_PG_URL (scripts/pg_cluster.sh):
#  1. `custos migrate` needs the administrator (store.migrate: a sales clerk is refused, exit
#     4) and a second person's approval (an administrator without an approved store_migrate
#     request is refused, exit 6), and refuses a URL with a password, without repeating it;
#  2. it moves a SQLite vault with customers to PostgreSQL, with progress lines on a pipe: the
#     same search finds the same customer, `audit verify` passes on the moved chain; a backup
#     of the moved vault shows its progress to the total counted on PostgreSQL;
#  3. it refuses a target schema that already holds a vault;
#  4. two `custos import` processes write the moved vault at the same time; afterwards every
#     customer is there and `audit verify` finds one chain: no fork, gap or duplicate;
#  5. two `custos serve` processes on the same database take concurrent HTTPS writes; every
#     acknowledged customer is there and the chain is still one.
# Usage: pg_cli_test.sh PATH/TO/custos
set -euo pipefail
CUSTOS=$1
if [[ -z "${CUSTOS_TEST_PG_URL:-}" ]]; then
  if [[ "${CUSTOS_REQUIRE_PG:-}" == 1 ]]; then
    echo "FAIL: CUSTOS_REQUIRE_PG=1 but CUSTOS_TEST_PG_URL is unset"; exit 1
  fi
  echo "SKIPPED: CUSTOS_TEST_PG_URL is unset (eval \"\$(scripts/pg_cluster.sh start)\")"; exit 0
fi
W=$(mktemp -d)
SCHEMA="cli_$$_$RANDOM"
cleanup() {
  psql "$CUSTOS_TEST_PG_URL" -qAt -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Every data command authenticates (issue 3): a sales clerk imports and searches, the DPO
# verifies the audit log.
source "$(dirname "$0")/../../scripts/custos_staff.sh"
export CUSTOS_PURPOSE=account_management

init=$($CUSTOS --json init "$W/v")
admin=$(custos_init_json_token <<<"$init")
export CUSTOS_TOKEN
CUSTOS_TOKEN=$(custos_staff_token "$CUSTOS" "$W/v" "$admin" clerk sales_rep sales)
# The DPO sets their own first password (the administrator never knew it), so the DPO may
# approve the administrator's requests.
dpo=$(custos_first_password_token "$CUSTOS" "$W/v" "$(custos_init_json_dpo_token <<<"$init")" dpo)
# approve_move VAULT ADMIN_TOKEN APPROVER_TOKEN: dual control over `custos migrate` (issue 22).
approve_move() {
  local id
  id=$(CUSTOS_TOKEN=$2 $CUSTOS --vault "$1" --json approval request --kind store_migrate \
    --justification 'moving the vault to the PostgreSQL cluster' --duration 1h |
    sed -n 's/.*"approval_id":"\([^"]*\)".*/\1/p')
  [[ -n "$id" ]] || fail "no store_migrate request"
  CUSTOS_TOKEN=$3 $CUSTOS --vault "$1" approval approve "$id" >/dev/null || fail "approval refused"
}
[[ -n "$CUSTOS_TOKEN" && -n "$dpo" ]] || fail "staff could not log in"
$CUSTOS gen --count 300 --seed 7 --out "$W/c.csv" >/dev/null
$CUSTOS --vault "$W/v" import --notice-version 1 --sensitive-consent --consent-purposes customer_service,account_management "$W/c.csv" >/dev/null
phone=$(sed -n 2p "$W/c.csv" | cut -d, -f5)
before=$($CUSTOS --vault "$W/v" --json customer find phone "$phone")

# 1. only the administrator moves the vault; a password in the URL
set +e
$CUSTOS --vault "$W/v" migrate --to "$CUSTOS_TEST_PG_URL" --schema "$SCHEMA" >/dev/null 2>&1
code=$?
set -e
[[ $code == 4 ]] || fail "a sales clerk's migrate ended with $code, not 4 (denied)"
grep -q 'backend = "sqlite"' "$W/v/custos.toml" || fail "a refused migrate changed the config"
set +e
CUSTOS_TOKEN=$admin $CUSTOS --vault "$W/v" migrate --to "$CUSTOS_TEST_PG_URL" --schema "$SCHEMA" >/dev/null 2>"$W/err"
code=$?
set -e
[[ $code == 6 ]] || fail "the administrator's migrate without an approval ended with $code, not 6"
grep -q store_migrate "$W/err" || fail "the refusal does not say which approval is missing"
grep -q 'backend = "sqlite"' "$W/v/custos.toml" || fail "a refused migrate changed the config"
approve_move "$W/v" "$admin" "$dpo"
if CUSTOS_TOKEN=$admin $CUSTOS --vault "$W/v" migrate --to "postgresql://custos:hunter2@127.0.0.1:1/x" 2>"$W/err" >&2; then
  fail "a URL with a password was accepted"
fi
grep -q hunter2 "$W/err" && fail "the refusal repeats the password"
grep -q PGPASSWORD "$W/err" || fail "the refusal does not say where the password belongs"

# 2. the move (the failed one above gave its approval back), progress on a pipe
CUSTOS_TOKEN=$admin CUSTOS_PROGRESS_MS=0 $CUSTOS --vault "$W/v" migrate --to "$CUSTOS_TEST_PG_URL" --schema "$SCHEMA" >/dev/null 2>"$W/progress"
grep -q ' rows (100%)' "$W/progress" || fail "no progress with a total: $(cat "$W/progress")"
grep -q $'\r' "$W/progress" && fail "a carriage return in progress on a pipe"
grep -q 'backend = "postgres"' "$W/v/custos.toml" || fail "config not switched"
[[ -f "$W/v/custos.toml.sqlite" ]] || fail "previous config not kept"
CUSTOS_TOKEN=$dpo CUSTOS_PURPOSE=legal_obligation $CUSTOS --vault "$W/v" audit verify >/dev/null || fail "audit verify after the move"
after=$($CUSTOS --vault "$W/v" --json customer find phone "$phone")
[[ "$before" == "$after" ]] || fail "search result changed: $before vs $after"
mv "$W/v/custos.db" "$W/custos.db.moved"  # from now on only PostgreSQL can answer
# A backup of the moved vault counts its rows on PostgreSQL for its progress total.
CUSTOS_TOKEN=$admin CUSTOS_PROGRESS_MS=0 $CUSTOS --vault "$W/v" backup --to "$W/backups" >/dev/null 2>"$W/progress"
grep -q ' rows (100%)' "$W/progress" || fail "no backup progress with a total: $(cat "$W/progress")"

# 3. a target that already holds a vault
init2=$($CUSTOS --json init "$W/v2")
admin2=$(custos_init_json_token <<<"$init2")
approve_move "$W/v2" "$admin2" \
  "$(custos_first_password_token "$CUSTOS" "$W/v2" "$(custos_init_json_dpo_token <<<"$init2")" dpo)"
set +e
CUSTOS_TOKEN=$admin2 $CUSTOS --vault "$W/v2" migrate --to "$CUSTOS_TEST_PG_URL" --schema "$SCHEMA" >/dev/null 2>&1
code=$?
set -e
[[ $code == 6 ]] || fail "migrate into a schema holding a vault ended with $code, not 6 (conflict)"
grep -q 'backend = "sqlite"' "$W/v2/custos.toml" || fail "a refused migrate changed the config"

# 4. two writers at once
$CUSTOS gen --count 400 --seed 8 --out "$W/a.csv" >/dev/null
$CUSTOS gen --count 400 --seed 9 --out "$W/b.csv" >/dev/null
$CUSTOS --vault "$W/v" import --notice-version 1 --sensitive-consent --consent-purposes customer_service,account_management --batch 50 "$W/a.csv" >/dev/null & pa=$!
$CUSTOS --vault "$W/v" import --notice-version 1 --sensitive-consent --consent-purposes customer_service,account_management --batch 50 "$W/b.csv" >/dev/null & pb=$!
wait $pa || fail "first concurrent import"
wait $pb || fail "second concurrent import"
count=$(psql "$CUSTOS_TEST_PG_URL" -qAt -c "SELECT count(*) FROM $SCHEMA.customers")
[[ "$count" == 1100 ]] || fail "expected 1100 customers, found $count"
CUSTOS_TOKEN=$dpo CUSTOS_PURPOSE=legal_obligation $CUSTOS --vault "$W/v" audit verify || fail "audit verify after concurrent imports"
dups=$(psql "$CUSTOS_TEST_PG_URL" -qAt -c "SELECT count(*) FROM (SELECT prev_hash FROM $SCHEMA.audit_log GROUP BY prev_hash HAVING count(*) > 1) f")
[[ "$dups" == 0 ]] || fail "the chain forked ($dups entries share a predecessor)"

# 5. two servers, one database
$CUSTOS --vault "$W/v" serve --port 0 >"$W/serve1.out" 2>&1 & pid1=$!
$CUSTOS --vault "$W/v" serve --port 0 >"$W/serve2.out" 2>&1 & pid2=$!
server_url() {  # the URL server N printed once it listens
  local url="" i
  for i in $(seq 1 100); do
    url=$(sed -n 's|.*serving \(https://[^ ]*/v1\).*|\1|p' "$W/serve$1.out")
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  [[ -n "$url" ]] || fail "server $1 did not start: $(cat "$W/serve$1.out")"
  echo "$url"
}
url1=$(server_url 1)
url2=$(server_url 2)
trap 'kill $pid1 $pid2 2>/dev/null || true; cleanup' EXIT
body='{"fields":{"name":"王芳","phone":"13800138000","id_number":"11010519491231002X"},"source":"api","consent":{"notice_version":1,"purposes":["customer_service","account_management"],"sensitive":true,"evidence_ref":"pg-cli-test"}}'
post_many() {  # URL N -> prints the number of 201 answers
  local ok=0 i code
  for i in $(seq 1 "$2"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/v/tls/server.crt" -X POST "$1/customers" \
      -H "Authorization: Bearer $CUSTOS_TOKEN" -H "X-Custos-Purpose: account_management" \
      -H "Content-Type: application/json" --data "$body")
    [[ "$code" == 201 ]] && ok=$((ok + 1))
  done
  echo "$ok"
}
post_many "$url1" 40 >"$W/ok1" & p1=$!
post_many "$url2" 40 >"$W/ok2" & p2=$!
wait $p1; wait $p2
acked=$(( $(cat "$W/ok1") + $(cat "$W/ok2") ))
[[ "$acked" == 80 ]] || fail "expected 80 created customers over HTTPS, got $acked"
kill -TERM $pid1 $pid2; wait $pid1 || fail "server 1 did not stop cleanly"; wait $pid2 || fail "server 2 did not stop cleanly"
count=$(psql "$CUSTOS_TEST_PG_URL" -qAt -c "SELECT count(*) FROM $SCHEMA.customers")
[[ "$count" == 1180 ]] || fail "expected 1180 customers after the servers, found $count"
CUSTOS_TOKEN=$dpo CUSTOS_PURPOSE=legal_obligation $CUSTOS --vault "$W/v" audit verify || fail "audit verify after two servers"
dups=$(psql "$CUSTOS_TEST_PG_URL" -qAt -c "SELECT count(*) FROM (SELECT prev_hash FROM $SCHEMA.audit_log GROUP BY prev_hash HAVING count(*) > 1) f")
[[ "$dups" == 0 ]] || fail "the chain forked under two servers ($dups entries share a predecessor)"
echo "OK"
