#!/usr/bin/env bash
# The web console's browser test (CTest label browser; docs/console.md): makes a vault, lets
# the DPO set their first password on the vault host, starts `custos serve` on a free port of
# 127.0.0.1 over TLS, and runs console/test/browser.mjs (headless Chromium, puppeteer-core).
# Usage: browser_test.sh CUSTOS_BINARY SCREENSHOT_DIR
set -euo pipefail
custos=$1
shots=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v "${CHROMIUM:-chromium}" >/dev/null || { echo "chromium is missing: scripts/setup.sh installs it"; exit 1; }
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
source "$src/scripts/custos_staff.sh"
init_json=$("$custos" --json init "$work/vault")
admin=$(custos_init_json_token <<<"$init_json")
dpo_init=$(custos_init_json_dpo_token <<<"$init_json")
dpo_pw="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
CUSTOS_TOKEN=$dpo_init CUSTOS_NEW_PASSWORD=$dpo_pw "$custos" --vault "$work/vault" staff passwd dpo >/dev/null
# The DPO's token for the API: the DPO approves the role grants of the staff who decide
# approvals (security administrators, a second DPO), which the administrator asks for.
dpo_token=$(CUSTOS_PASSWORD=$dpo_pw "$custos" --vault "$work/vault" --json token issue dpo --ttl 1h |
  sed -n 's/.*"token":"\(cst_[a-z2-7]*\)".*/\1/p')
[ -n "$dpo_token" ] || { echo "the DPO could not log in"; exit 1; }
# A one-minute idle timeout, so that the test can watch a session expire.
sed -i 's/^console_idle_minutes = .*/console_idle_minutes = 1/' "$work/vault/custos.toml"
grep -q '^console_idle_minutes = 1' "$work/vault/custos.toml" ||
  sed -i 's/^\[server\]$/[server]\nconsole_idle_minutes = 1/' "$work/vault/custos.toml"
# One allowed exception to separation of duties, so that the security admin's staff screen has
# a pair to flag (a deputy holding security_admin and customer_service).
sed -i 's/^allowed_role_pairs = .*/allowed_role_pairs = ["security_admin+customer_service"]/' "$work/vault/custos.toml"
grep -q '^allowed_role_pairs = \["security_admin+customer_service"\]' "$work/vault/custos.toml"
# Notes are due at once, so that the DPO's retention plan has something to destroy (the
# agent's note of the call) without waiting two years.
sed -i '/^\[retention.note\]/,/^max/ s/^max = .*/max = "0d"/' "$work/vault/custos.toml"
grep -A8 '^\[retention.note\]' "$work/vault/custos.toml" | grep -q '^max = "0d"'
# A first doctor result for the DPO's doctor screen (serve runs it daily).
CUSTOS_TOKEN=$admin "$custos" --vault "$work/vault" doctor >/dev/null || true
# A backup for the security admin's backups screen to verify.
CUSTOS_TOKEN=$admin "$custos" --vault "$work/vault" backup >/dev/null
"$custos" --vault "$work/vault" --json serve --port 0 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/serve.out" | head -1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "custos serve did not start"; cat "$work/serve.err"; exit 1; }
echo "custos serve at $url"
grep -q '"console_url":"https://[^"]*/console/"' "$work/serve.out" || { echo "custos serve did not print the console's URL"; cat "$work/serve.out"; exit 1; }
CUSTOS_URL=$url ADMIN_TOKEN=$admin DPO_PASSWORD=$dpo_pw DPO_TOKEN=$dpo_token SHOTS=$shots \
  NODE_EXTRA_CA_CERTS="$work/vault/tls/server.crt" \
  node "$src/console/test/browser.mjs"
