#!/usr/bin/env bash
# Sets up, builds and runs Custos on its embedded default: a demo vault in ./var/demo (SQLite,
# keyfile KEK) loaded with synthetic customers, then prints what to try next.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
NINJA_TARGETS=custos scripts/build.sh
CUSTOS=build/bin/custos
COUNT=${DEMO_CUSTOMERS:-1000}

rm -rf var/demo var/demo-customers.csv
mkdir -p var
$CUSTOS init var/demo
$CUSTOS gen --count "$COUNT" --seed 42 --out var/demo-customers.csv
export CUSTOS_VAULT=var/demo CUSTOS_STAFF=admin CUSTOS_PURPOSE=customer_service
$CUSTOS import var/demo-customers.csv
first=$($CUSTOS customer list --limit 1 --json | sed -n 's/.*"customer_id":"\([0-9A-Z]*\)".*/\1/p')
phone=$($CUSTOS customer get "$first" --fields phone --json | sed -n 's/.*"phone":"\([0-9]*\)".*/\1/p')
echo
echo "Customer $first, as the admin sees it for customer service:"
$CUSTOS customer get "$first"
$CUSTOS audit verify
cat <<NEXT

Custos is running on var/demo with $COUNT synthetic customers. Try next:
  export CUSTOS_VAULT=var/demo CUSTOS_STAFF=admin CUSTOS_PURPOSE=customer_service
  $CUSTOS customer find phone $phone
  $CUSTOS customer add --set name=张三 --set gender=男 --set birth_date=1990-03-07 \\
      --set id_number=110105199003070033 --set phone="+86 138-0013-8000"
  $CUSTOS customer add --set name=李四 --set id_number=110105199003070031   # refused: check character
  $CUSTOS txn add $first --set occurred_at=2026-11-01 --set product=理财产品 --set amount=1000.00
  $CUSTOS note add $first --text "客户来电咨询理财产品" --source phone
  $CUSTOS audit tail -n 5
  $CUSTOS audit verify
  $CUSTOS export --format jsonl | head -3
  $CUSTOS --help
NEXT
