#!/usr/bin/env bash
# Fuzzes the HTTP API's request parsers (JSON bodies, query strings, request ids) with
# libFuzzer for a bounded time: scripts/fuzz.sh [SECONDS=60].
#
# Configures a separate clang-14 build (build-fuzz, ASan+UBSan+libFuzzer) and builds only the
# fuzz target and the parser library it needs. New inputs go to build-fuzz/corpus; the seeds
# in tests/api/fuzz_corpus are read, never written. A crash leaves its input in build-fuzz/
# (crash-*): copy it into tests/api/fuzz_corpus so the GCC build replays it forever.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CUSTOS_FUZZ_BUILD_DIR:-$root/build-fuzz}"

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCUSTOS_FUZZ=ON -DCUSTOS_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
    >/dev/null
fi
if ! ninja -C "$build" -j2 api_request_fuzzer > "$build/fuzz-build.log" 2>&1; then
  cat "$build/fuzz-build.log" >&2
  echo "fuzz.sh: the fuzz target did not build" >&2
  exit 1
fi

mkdir -p "$build/corpus"
cd "$build"
./tests/api/api_request_fuzzer -max_total_time="$seconds" -max_len=8192 -timeout=10 \
  -print_final_stats=1 "$build/corpus" "$root/tests/api/fuzz_corpus" 2>&1 | tail -15
