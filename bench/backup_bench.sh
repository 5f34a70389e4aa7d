#!/usr/bin/env bash
# Backup, verify and restore of a large vault (issue 6 point 8): wall time of `custos backup`,
# `custos backup verify` and `custos restore`, and the backup's size against the database's.
#   bench/backup_bench.sh [COUNT]     (default 1000000)
# The vault is generated and imported once into $BENCH_DIR (default /tmp/custos-backup-bench)
# and reused by later runs. Prints one line per measurement and a closing JSON summary;
# BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
WORK=${BENCH_DIR:-/tmp/custos-backup-bench}
source bench/lib.sh
bench_custos
VAULT=$WORK/vault

if [ ! -f "$VAULT/custos.toml" ] || [ "$(cat "$WORK/count" 2>/dev/null)" != "$COUNT" ]; then
  bench_fresh_work
  $CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
  bench_init "$VAULT"
  echo "$ADMIN" > "$WORK/admin.token"
  clerk=$(custos_staff_token "$CUSTOS" "$VAULT" "$ADMIN" clerk sales_rep sales)
  t0=$(now)
  bench_import "$VAULT" "$clerk" "$WORK/customers.csv"
  echo "import (setup): $(secs "$t0" "$(now)") s"
  rm -f "$WORK/customers.csv"
  echo "$COUNT" > "$WORK/count"
fi
export CUSTOS_TOKEN
CUSTOS_TOKEN=$(cat "$WORK/admin.token")
rm -rf "$WORK/backups" "$WORK/restored"
db_bytes=$(du -cb "$VAULT"/custos.db* | tail -1 | cut -f1)

t0=$(now)
id=$($CUSTOS --vault "$VAULT" --json backup --to "$WORK/backups" |
  sed -n 's/.*"backup_id":"\([0-9A-Z]*\)".*/\1/p')
t1=$(now)
backup_s=$(secs "$t0" "$t1")
backup_bytes=$(du -sb "$WORK/backups/$id" | cut -f1)
echo "backup: $backup_s s, $backup_bytes bytes (database $db_bytes bytes)"

t0=$(now)
$CUSTOS --vault "$VAULT" backup verify "$WORK/backups/$id" >/dev/null
verify_s=$(secs "$t0" "$(now)")
echo "verify: $verify_s s"

t0=$(now)
$CUSTOS restore "$WORK/backups/$id" --dir "$WORK/restored" --keyfile "$VAULT/kek.key" >/dev/null
restore_s=$(secs "$t0" "$(now)")
restored_bytes=$(du -cb "$WORK/restored"/custos.db* | tail -1 | cut -f1)
echo "restore: $restore_s s (restored database $restored_bytes bytes)"
ratio=$(python3 -c "print(f'{$backup_bytes/$db_bytes:.3f}')")
echo "backup/database size: $ratio"
echo "{\"count\":$COUNT,\"backup_s\":$backup_s,\"verify_s\":$verify_s,\"restore_s\":$restore_s,\"db_bytes\":$db_bytes,\"backup_bytes\":$backup_bytes,\"size_ratio\":$ratio}"
