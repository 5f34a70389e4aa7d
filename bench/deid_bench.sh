#!/usr/bin/env bash
# De-identified release against a plain export in the same run (issue 16's benchmark): time and
# peak memory (maximum resident set size) of `custos deid release` with k = 5 and distinct
# l = 2 over 4 quasi-identifiers (birth date, gender, the address's region, the ID number's
# region), the lattice search's own time, and a `custos export` of the same customers for the
# same purpose (every field: a superset of those the profile reads) on the same vault.
#   bench/deid_bench.sh [COUNT]     (default 1000000; the issue's figure)
# Prints one line per measurement and a closing JSON summary; BENCHMARKS.md records a run.
# The aim (issue 16): release <= 3x the export's time, memory bounded (no plaintext copy of
# the vault in memory: the release keeps a frequency set of the quasi-identifiers only).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000000}
WORK=${BENCH_DIR:-/tmp/custos-deid-bench}
source bench/lib.sh
bench_custos
bench_fresh_work

$CUSTOS gen --count "$COUNT" --seed 1 --out "$WORK/customers.csv" >/dev/null
bench_init "$WORK/vault"
admin=$ADMIN
# The export's reader: every field of the same customers, for analytics, the confidential
# ones masked.
bench_exporter_role "$WORK/vault" analytics mask
clerk=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" clerk sales_rep sales)
exporter=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" exporter bench_exporter bench_exporter)
analyst=$(custos_staff_token "$CUSTOS" "$WORK/vault" "$admin" analyst data_analyst analyst)
BENCH_PURPOSES=customer_service,account_management,analytics \
  bench_import "$WORK/vault" "$clerk" "$WORK/customers.csv"
echo "imported $COUNT customers"

# The benchmark's profile: 4 quasi-identifiers, k = 5, distinct l = 2 on interests.
cat >> "$WORK/vault/custos.toml" <<'TOML'

[deid.profiles.bench_k5_l2]
description = "benchmark: 4 quasi-identifiers, k = 5, distinct l = 2"
purpose = "analytics"
roles = ["analyst"]
k = 5
diversity = "distinct"
l = 2
max_suppression = 0.05

[deid.profiles.bench_k5_l2.fields]
customer_id = { transform = "pseudonymise" }
birth_date = { transform = "generalise", hierarchy = "birth_date" }
gender = { transform = "generalise", hierarchy = "gender" }
address_region = { transform = "generalise", hierarchy = "region" }
id_region = { transform = "generalise", hierarchy = "region" }
interests = { transform = "keep", sensitive = true }
TOML

# /usr/bin/time -f "%e %M": wall seconds and the peak resident set in KiB.
t0=$(now)
CUSTOS_TOKEN=$exporter CUSTOS_PURPOSE=analytics bench_time "$WORK/export.time" \
  $CUSTOS --vault "$WORK/vault" export --out "$WORK/export.csv"
t1=$(now)
read -r export_s export_kb < "$WORK/export.time"
echo "export: $(secs "$t0" "$t1") s, peak $((export_kb / 1024)) MiB, $(($(wc -l < "$WORK/export.csv") - 1)) rows"

t0=$(now)
CUSTOS_TOKEN=$analyst CUSTOS_PURPOSE=analytics bench_time "$WORK/release.time" \
  $CUSTOS --vault "$WORK/vault" --json deid release --profile bench_k5_l2 --out "$WORK/release.csv" \
  > "$WORK/release.json"
t1=$(now)
read -r release_s release_kb < "$WORK/release.time"
search_ms=$(python3 -c "import json;print(json.load(open('$WORK/release.json'))['search_ms'])")
k=$(python3 -c "import json;print(json.load(open('$WORK/release.json'))['figures']['smallest_class'])")
echo "deid release: $(secs "$t0" "$t1") s, peak $((release_kb / 1024)) MiB, lattice search $search_ms ms, k = $k"

CUSTOS_TOKEN=$analyst CUSTOS_PURPOSE=analytics $CUSTOS --vault "$WORK/vault" deid check \
  "$WORK/release.csv" --profile bench_k5_l2 >/dev/null && echo "deid check: meets the profile"

ratio=$(python3 -c "print(f'{$release_s/$export_s:.2f}')")
echo "ratio release/export: $ratio"
echo "{\"count\":$COUNT,\"export_s\":$export_s,\"export_peak_kib\":$export_kb,\"release_s\":$release_s,\"release_peak_kib\":$release_kb,\"search_ms\":$search_ms,\"k\":$k,\"ratio\":$ratio}"
