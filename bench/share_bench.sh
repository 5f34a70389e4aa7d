#!/usr/bin/env bash
# A share to a partner against a plain export in the same run (issue 17's benchmark): wall time
# and peak memory (maximum resident set size) of `custos export` of the general and internal
# fields (phone, email, address, interests, preferences) of COUNT customers, and of
# `custos share create` of the same fields of the same customers under an approved agreement
# (consent read page by page, per-customer audit, keyed spellings, canary rows, CMS
# EnvelopedData to the partner's certificate, signed manifest); then the time of
# `custos share trace` on a leaked copy: the package opened with openssl, 10 % of its rows kept,
# shuffled, the reference column dropped.
#   bench/share_bench.sh [COUNT]     (default 100000; the issue's figure)
# Prints one line per measurement and a closing JSON summary; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100000}
WORK=${BENCH_DIR:-/tmp/custos-share-bench}
source bench/lib.sh
bench_custos
bench_fresh_work

$CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
bench_init "$WORK/vault"
admin=$ADMIN
dpo=$(custos_first_password_token "$CUSTOS" "$WORK/vault" "$DPO_FIRST" dpo)
# The export's reader: the general and internal fields, for account management.
bench_exporter_role "$WORK/vault" account_management
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" clerk sales_rep sales)
exporter=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" exporter bench_exporter bench_exporter)
pm=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" pm partnership_manager partnership_manager)

# The partner, its certificate, and an agreement approved by the DPO (dual control).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/partner-key.pem" \
  -out "$WORK/partner-cert.pem" -subj /CN=bench-partner -days 365 2>/dev/null
echo "signed agreement (benchmark)" > "$WORK/agreement.pdf"
CUSTOS_TOKEN=$pm $CUSTOS --vault "$WORK/vault" partner add bench-pay \
  --name "Bench Payments Co., Ltd." --uscc 91350100M000100Y43 --category payment_processor \
  --cert "$WORK/partner-cert.pem" >/dev/null
approval=$(CUSTOS_TOKEN=$pm $CUSTOS --vault "$WORK/vault" --json agreement add bench-2026 \
  --partner bench-pay --document "$WORK/agreement.pdf" --purposes risk_control \
  --fields phone,email,address,interests,preferences --until 2099-12-31 \
  --impact-assessment PIA-BENCH-1 --justification "benchmark of a share to a partner" |
  python3 -c "import json,sys;print(json.load(sys.stdin)['approval_id'])")
CUSTOS_TOKEN=$dpo $CUSTOS --vault "$WORK/vault" approval approve "$approval" >/dev/null

# Every customer consents at collection to sharing with the partner (PIPL Art. 23), under a
# notice that names it (v2: the purposes of v1, and the partner as a recipient).
echo "notice v2: the purposes of v1, naming bench-pay as a recipient" > "$WORK/notice-v2.md"
purposes=$(CUSTOS_TOKEN=$dpo CUSTOS_PURPOSE=legal_obligation $CUSTOS --vault "$WORK/vault" --json \
  notice list | python3 -c "import json,sys;print(','.join(json.load(sys.stdin)['notices'][-1]['purposes']))")
BENCH_NOTICE=$(CUSTOS_TOKEN=$dpo CUSTOS_PURPOSE=legal_obligation $CUSTOS --vault "$WORK/vault" \
  --json notice publish --text-file "$WORK/notice-v2.md" --purposes "$purposes" \
  --shares partner:bench-pay | python3 -c "import json,sys;print(json.load(sys.stdin)['version'])")
export BENCH_NOTICE
t0=$(now)
bench_import "$WORK/vault" "$clerk" "$WORK/customers.csv" --share-consent partner:bench-pay
t1=$(now)
echo "imported $COUNT customers consenting to sharing with bench-pay: $(secs "$t0" "$t1") s"

# A share above [sharing] approval_above_rows needs the DPO's approval of the manager's request.
share_req=$(CUSTOS_TOKEN=$pm $CUSTOS --vault "$WORK/vault" --json approval request --kind share \
  --agreement bench-2026 --justification "benchmark share" --duration 4h |
  python3 -c "import json,sys;print(json.load(sys.stdin)['approval_id'])")
CUSTOS_TOKEN=$dpo $CUSTOS --vault "$WORK/vault" approval approve "$share_req" >/dev/null

# /usr/bin/time -f "%e %M": wall seconds and the peak resident set in KiB.
CUSTOS_TOKEN=$exporter CUSTOS_PURPOSE=account_management bench_time "$WORK/export.time" \
  $CUSTOS --vault "$WORK/vault" export --out "$WORK/export.csv"
read -r export_s export_kb < "$WORK/export.time"
echo "export: $export_s s, peak $((export_kb / 1024)) MiB, $(($(wc -l < "$WORK/export.csv") - 1)) rows, columns $(head -1 "$WORK/export.csv")"

CUSTOS_TOKEN=$pm bench_time "$WORK/share.time" \
  $CUSTOS --vault "$WORK/vault" --json share create --agreement bench-2026 \
  --out "$WORK/share.p7m" > "$WORK/share.json"
read -r share_s share_kb < "$WORK/share.time"
rows=$(python3 -c "import json;print(json.load(open('$WORK/share.json'))['row_count'])")
echo "share create: $share_s s, peak $((share_kb / 1024)) MiB, $rows customers, package $(($(stat -c %s "$WORK/share.p7m") / 1024 / 1024)) MiB"

openssl cms -decrypt -in "$WORK/share.p7m" -inkey "$WORK/partner-key.pem" \
  -recip "$WORK/partner-cert.pem" -out "$WORK/share.csv"
# The leaked copy: 10 % of the rows, shuffled, the reference column dropped.
python3 - "$WORK/share.csv" "$WORK/leak.csv" <<'PY'
import csv, random, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))[1:]
random.Random(17).shuffle(rows)
keep = rows[: len(rows) // 10]
with open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
    csv.writer(f, lineterminator="\n").writerows(r[1:] for r in keep)
PY
t0=$(now)
CUSTOS_TOKEN=$pm bench_time "$WORK/trace.time" \
  $CUSTOS --vault "$WORK/vault" --json share trace "$WORK/leak.csv" > "$WORK/trace.json"
t1=$(now)
read -r trace_s trace_kb < "$WORK/trace.time"
traced=$(python3 -c "import json;d=json.load(open('$WORK/trace.json'));c=d['candidates'][0];print(d['matched'], c['share_id'], c['confidence'])")
echo "share trace of $(wc -l < "$WORK/leak.csv") rows: $trace_s s, peak $((trace_kb / 1024)) MiB; matched, share, confidence: $traced"

ratio=$(python3 -c "print(f'{$share_s/$export_s:.2f}')")
echo "ratio share/export: $ratio"
echo "{\"count\":$COUNT,\"export_s\":$export_s,\"export_peak_kib\":$export_kb,\"share_s\":$share_s,\"share_peak_kib\":$share_kb,\"trace_s\":$trace_s,\"trace_peak_kib\":$trace_kb,\"ratio\":$ratio}"
