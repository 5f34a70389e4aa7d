#!/usr/bin/env bash
# Runs the libFuzzer targets for a bounded time each: scripts/fuzz.sh [SECONDS=60].
#   api_request_fuzzer  the HTTP API's request parsers (JSON bodies, query strings, request ids,
#                       the HTTP/1.1 head checks); seeds in tests/api/fuzz_corpus
#   scan_fuzzer         the GB18030 decoder's offset map and the streaming PII scanner, each
#                       independent of how its input is cut, and redacted copies that hold no
#                       value found; seeds in tests/scan/fuzz_corpus
#   intake_fuzzer       the intake validators and the masks: canonical spellings are fixed
#                       points, refusals and masks never show the value; seeds in
#                       tests/core/fuzz_corpus
#   csv_fuzzer          the import's CSV reader: written tables read back byte for byte, each
#                       record at its line; raw bytes never misplace a line; seeds in
#                       tests/vault/fuzz_corpus
#
# Configures a separate clang-14 build (build-fuzz, ASan+UBSan+libFuzzer) and builds only the
# fuzz targets and the libraries they need. New inputs go to build-fuzz/corpus (API),
# build-fuzz/corpus-scan, build-fuzz/corpus-intake and build-fuzz/corpus-csv; the seed
# directories are read, never written. A crash leaves its
# input in build-fuzz/ (crash-*): copy it into the target's seed directory so the GCC build
# replays it forever (api_fuzz_corpus_test, scan_fuzz_corpus_test, intake_fuzz_corpus_test,
# csv_fuzz_corpus_test).
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CUSTOS_FUZZ_BUILD_DIR:-$root/build-fuzz}"

CCACHE=$(command -v ccache || true)
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUSTOS_FUZZ=ON -DCUSTOS_BUILD_BENCH=OFF \
    ${CCACHE:+-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache} \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
    >/dev/null
fi
if ! ninja -C "$build" -j2 api_request_fuzzer scan_fuzzer intake_fuzzer csv_fuzzer > "$build/fuzz-build.log" 2>&1; then
  cat "$build/fuzz-build.log" >&2
  echo "fuzz.sh: a fuzz target did not build" >&2
  exit 1
fi

cd "$build"
# fuzz TARGET CORPUS SEEDS MAX_LEN TIMEOUT: one target for $seconds, new inputs into
# build-fuzz/CORPUS, the seeds read from SEEDS.
fuzz() {
  echo "== $(basename "$1"), ${seconds} s"
  mkdir -p "$build/$2"
  "./$1" -max_total_time="$seconds" -max_len="$4" -timeout="$5" -print_final_stats=1 \
    "$build/$2" "$root/$3" 2>&1 | tail -15
}
fuzz tests/api/api_request_fuzzer corpus tests/api/fuzz_corpus 8192 10
fuzz tests/scan/scan_fuzzer corpus-scan tests/scan/fuzz_corpus 8192 20
fuzz tests/core/intake_fuzzer corpus-intake tests/core/fuzz_corpus 4096 10
fuzz tests/vault/csv_fuzzer corpus-csv tests/vault/fuzz_corpus 4096 10
