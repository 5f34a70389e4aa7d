#!/usr/bin/env bash
# Issue 5 part 7: `custos scan` throughput against ripgrep on a generated 1 GiB corpus.
#
# ripgrep counts matches of the same trigger regular expressions the scanner gives Hyperscan
# (`scan_corpus --patterns`): the raw-regex speed baseline, which validates nothing. custos
# scan additionally extracts, validates (check characters, dates, Luhn), resolves overlaps and
# classifies columns. Both use every core; the corpus is read once beforehand so both run
# from the page cache.
#
# Usage: bench/scan/run_bench.sh            (from the repository root)
#   BYTES=1073741824 FILES=8 SEED=1         corpus size, file count, generator seed
#   PLAIN=80 DENSE_BYTES=268435456          main run: 80% of text lines are plain prose;
#                                           second run: a value on every line
#   BUILD=build-bench-scan                  build directory (configured Release if absent)
#   CUSTOS_BIN=... SCAN_CORPUS_BIN=...      use existing binaries instead of building
#   CORPUS=/tmp/custos-scan-bench KEEP=1    corpus location; KEEP=1 keeps it afterwards
#   RESULTS=bench/scan/RESULTS.md           where the result section is appended
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BYTES=${BYTES:-1073741824}
FILES=${FILES:-8}
PLAIN=${PLAIN:-80}                  # % of text lines without planted values (main run)
DENSE_BYTES=${DENSE_BYTES:-268435456}  # second, smaller run with a value on every line
SEED=${SEED:-1}
BUILD=${BUILD:-$ROOT/build-bench-scan}
CORPUS=${CORPUS:-/tmp/custos-scan-bench}
RESULTS=${RESULTS:-$ROOT/bench/scan/RESULTS.md}

if ! command -v rg >/dev/null 2>&1; then
  echo "installing ripgrep" >&2
  (apt-get install -y ripgrep >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y ripgrep >/dev/null; })
fi

if [[ -z "${CUSTOS_BIN:-}" || -z "${SCAN_CORPUS_BIN:-}" ]]; then
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    cmake -G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCUSTOS_BUILD_BENCH=OFF >/dev/null
  fi
  ninja -C "$BUILD" -j"$(nproc)" custos scan_corpus >/dev/null
  CUSTOS_BIN=${CUSTOS_BIN:-$BUILD/bin/custos}
  SCAN_CORPUS_BIN=${SCAN_CORPUS_BIN:-$(find "$BUILD" -name scan_corpus -type f -perm -u+x | head -1)}
fi

mapfile -t PATTERNS < <("$SCAN_CORPUS_BIN" --patterns)
RG_ARGS=()
for p in "${PATTERNS[@]}"; do RG_ARGS+=(-e "$p"); done
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }

# run LABEL BYTES PLAIN: generates a corpus, times both tools, prints one table row each.
run() {
  local label=$1 bytes=$2 plain=$3
  rm -rf "$CORPUS"
  echo "generating $bytes bytes ($label) in $FILES files under $CORPUS" >&2
  "$SCAN_CORPUS_BIN" --out "$CORPUS" --bytes "$bytes" --files "$FILES" --seed "$SEED" --plain-lines "$plain"
  cat "$CORPUS"/* > /dev/null  # warm the page cache for both tools
  local total t0 t1 t2 rg_matches
  total=$(du -cb "$CORPUS"/* | tail -1 | cut -f1)
  echo "custos scan ..." >&2
  t0=$(now)
  "$CUSTOS_BIN" scan --summary --format json "$CORPUS" > /tmp/custos-scan-bench.json
  t1=$(now)
  echo "ripgrep ..." >&2
  rg_matches=$(rg --count-matches --no-filename "${RG_ARGS[@]}" "$CORPUS" | awk '{s+=$1} END {print s}')
  t2=$(now)
  local scan_s rg_s scan_mbs rg_mbs ratio findings
  scan_s=$(calc "$t1 - $t0"); rg_s=$(calc "$t2 - $t1")
  scan_mbs=$(calc "$total / 1e6 / $scan_s"); rg_mbs=$(calc "$total / 1e6 / $rg_s")
  ratio=$(calc "$scan_mbs / $rg_mbs")
  findings=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["findings"])' /tmp/custos-scan-bench.json)
  printf '| %s | %s | `custos scan --summary` | %.2f | %.1f | %s validated findings | **%.2fx** |\n' \
    "$label" "$total" "$scan_s" "$scan_mbs" "$findings" "$ratio"
  printf '| %s | %s | `rg --count-matches` (same regexes) | %.2f | %.1f | %s raw matches | |\n' \
    "$label" "$total" "$rg_s" "$rg_mbs" "$rg_matches"
  rm -f /tmp/custos-scan-bench.json
}

ROWS=$(run "mixed (${PLAIN}% of text lines plain)" "$BYTES" "$PLAIN"; \
       run "dense (a value on every line)" "$DENSE_BYTES" 0)

SECTION=$(cat <<MD

## $(date -u +%Y-%m-%d) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
Generated corpus: $FILES files cycling Chinese text, English text, CSV and JSON Lines (seed $SEED);
CSV and JSON Lines hold a customer with six values on every row in both corpora. Both tools use
every core and read from the page cache.

| corpus | bytes | tool | seconds | MB/s | result | custos / rg |
| --- | ---: | --- | ---: | ---: | --- | ---: |
$ROWS

Command: \`BYTES=$BYTES DENSE_BYTES=$DENSE_BYTES PLAIN=$PLAIN FILES=$FILES SEED=$SEED bench/scan/run_bench.sh\`
MD
)
echo "$SECTION"
echo "$SECTION" >> "$RESULTS"
if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$CORPUS"; fi
