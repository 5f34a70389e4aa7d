#!/usr/bin/env bash
# Sets up, builds and runs Custos on its embedded default: a demo vault in ./var/demo (SQLite,
# keyfile KEK) loaded with synthetic customers, then prints what to try next.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
NINJA_TARGETS=custos scripts/build.sh
CUSTOS=build/bin/custos
COUNT=${DEMO_CUSTOMERS:-1000}

rm -rf var/demo var/demo-customers.csv var/demo-*.token var/demo-first.id
mkdir -p var
source scripts/custos_staff.sh
# init prints one-time tokens for the administrator and the DPO; the DPO sets their own first
# password with theirs; the administrator creates the staff who do the work, and each logs in
# for a token (docs/access.md). The security administrator decides approvals, so their role is
# given only with a role grant the DPO approves (dual control). Tokens are kept in var/ (0600).
init_json=$($CUSTOS --json init var/demo)
admin=$(custos_init_json_token <<<"$init_json")
dpo_init=$(custos_init_json_dpo_token <<<"$init_json")
$CUSTOS gen --count "$COUNT" --seed 42 --out var/demo-customers.csv
export CUSTOS_VAULT=var/demo
clerk=$(custos_staff_token "$CUSTOS" var/demo "$admin" clerk sales_rep sales)
agent=$(custos_staff_token "$CUSTOS" var/demo "$admin" agent support_agent customer_service)
marketer=$(custos_staff_token "$CUSTOS" var/demo "$admin" marketer marketing_specialist marketing)
analyst=$(custos_staff_token "$CUSTOS" var/demo "$admin" analyst data_analyst analyst)
dpo=$(custos_first_password_token "$CUSTOS" var/demo "$dpo_init" dpo)
custos_grant_role "$CUSTOS" var/demo "$admin" "$dpo" sec security_admin
sec=$(custos_staff_token "$CUSTOS" var/demo "$admin" sec security_administrator security_admin)
(umask 077; printf '%s\n' "$admin" > var/demo-admin.token; printf '%s\n' "$clerk" > var/demo-clerk.token
 printf '%s\n' "$sec" > var/demo-sec.token
 printf '%s\n' "$agent" > var/demo-agent.token; printf '%s\n' "$dpo" > var/demo-dpo.token
 printf '%s\n' "$marketer" > var/demo-marketer.token; printf '%s\n' "$analyst" > var/demo-analyst.token)
# The demo customers consented to customer service, account management and analytics (the
# analyst's de-identified releases, docs/deid.md), not to marketing: the marketer is refused
# their data (P3.3a).
CUSTOS_TOKEN=$clerk CUSTOS_PURPOSE=account_management $CUSTOS import --notice-version 1 --sensitive-consent --consent-purposes customer_service,account_management,analytics var/demo-customers.csv
export CUSTOS_TOKEN=$agent CUSTOS_PURPOSE=customer_service
first=$($CUSTOS customer list --limit 1 --json | sed -n 's/.*"customer_id":"\([0-9A-Z]*\)".*/\1/p')
phone=$($CUSTOS customer get "$first" --fields phone --json | sed -n 's/.*"phone":"\([0-9]*\)".*/\1/p')
printf '%s\n' "$first" > var/demo-first.id
echo
echo "Customer $first, as a support agent sees it for customer service:"
$CUSTOS customer get "$first"
CUSTOS_TOKEN=$dpo CUSTOS_PURPOSE=legal_obligation $CUSTOS audit verify
cat <<NEXT

Custos is running on var/demo with $COUNT synthetic customers. Try next:
  export CUSTOS_VAULT=var/demo CUSTOS_PURPOSE=customer_service
  export CUSTOS_TOKEN=\$(cat var/demo-agent.token)   # the support agent (clerk, marketer, dpo, sec, admin: var/demo-*.token)
  $CUSTOS customer get $first                         # masked where the support agent's role says so
  $CUSTOS customer find phone $phone
  $CUSTOS access explain --staff agent --purpose customer_service --customer $first
  $CUSTOS note add $first --text "客户来电咨询理财产品" --source phone
  CUSTOS_PURPOSE=marketing CUSTOS_TOKEN=\$(cat var/demo-marketer.token) $CUSTOS customer get $first   # refused: no consent to marketing
  export CUSTOS_TOKEN=\$(cat var/demo-clerk.token) CUSTOS_PURPOSE=account_management   # the sales clerk collects customers
  $CUSTOS customer add --notice-version 1 --consent-purposes customer_service,account_management --sensitive-consent \\
      --set name=张三 --set gender=男 --set birth_date=1990-03-07 --set id_number=110105199003070033 --set phone="+86 138-0013-8000"
  $CUSTOS customer add --notice-version 1 --consent-purposes customer_service --sensitive-consent --set name=李四 --set id_number=110105199003070031   # refused: check character
  $CUSTOS txn add $first --set occurred_at=2026-11-01 --set product=理财产品 --set amount=1000.00
  CUSTOS_TOKEN=\$(cat var/demo-dpo.token) CUSTOS_PURPOSE=legal_obligation $CUSTOS audit tail -n 5
  $CUSTOS serve &                                      # HTTPS on 127.0.0.1:8443: see README.md for curl
  $CUSTOS --help
NEXT
