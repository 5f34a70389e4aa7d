#!/usr/bin/env bash
# The in-process audited read (issue 14 point 4) with and without the read journal
# ([audit] read_journal; docs/audit.md "The read journal"), in one run: two copies of one vault,
# one with the option on, and custos_read_latency alternated between them, ROUNDS times. Prints
# each run's get / find-by-phone p50 and p99 (µs), then the medians of the p50s.
#   bench/read_journal_ab.sh READ_LATENCY_BIN VAULT_DIR [ROUNDS=4] [SAMPLES=5000] [STAFF PURPOSE]
# VAULT_DIR: a SQLite vault, e.g. the one `BENCH_SETUP_ONLY=1 bench/http_bench.sh 200000` makes
# in /tmp/custos-http-bench/vault (its support agent: bench.agent customer_service). The copies
# go to BENCH_DIR (default /tmp/custos-read-journal-ab); the vault itself is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
SRC=$2
ROUNDS=${3:-4}
SAMPLES=${4:-5000}
STAFF=${5:-bench.agent}
PURPOSE=${6:-customer_service}
W=${BENCH_DIR:-/tmp/custos-read-journal-ab}
rm -rf "$W" && mkdir -p "$W"
cp -r "$SRC" "$W/base"
cp -r "$SRC" "$W/journal"
if grep -q '^read_journal' "$W/journal/custos.toml"; then
  sed -i 's/^read_journal.*/read_journal = true/' "$W/journal/custos.toml"
else
  sed -i 's/^\[audit\]$/[audit]\nread_journal = true/' "$W/journal/custos.toml"
fi
grep -q '^read_journal = true' "$W/journal/custos.toml"
sed -i '/^read_journal/d' "$W/base/custos.toml"
: > "$W/runs.txt"
for round in $(seq "$ROUNDS"); do
  for mode in base journal; do
    line=$("$BIN" "$W/$mode" "$SAMPLES" "$STAFF" "$PURPOSE" | tail -1)
    echo "$mode $line" | tee -a "$W/runs.txt"
  done
done
python3 - "$W/runs.txt" <<'PY'
import json, statistics, sys
runs = {"base": [], "journal": []}
for line in open(sys.argv[1]):
    mode, text = line.split(" ", 1)
    runs[mode].append(json.loads(text))
for key in ("get_p50_us", "find_phone_p50_us", "get_p99_us", "find_phone_p99_us"):
    b = statistics.median(r[key] for r in runs["base"])
    j = statistics.median(r[key] for r in runs["journal"])
    print(f"{key:18s} median base {b:7.1f}  journal {j:7.1f}  ratio {j / b:5.2f}")
PY
