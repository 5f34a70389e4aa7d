#!/usr/bin/env bash
# Refreshes the clang-tidy results kept in the repository (.ci/tidy-cache), which CI's lint pass
# reads (scripts/test.sh): a fresh clone then re-checks only the translation units whose inputs
# changed since the last refresh, instead of all of src/ (about 13 minutes on two cores).
# A result is keyed by everything that can change it (scripts/tidy.py: clang-tidy's version, the
# .clang-tidy files, the compile command, the source and every header it includes), so a stale
# or missing entry only costs time: that unit is checked again. Entries no longer used are
# removed. Run after building build/ (scripts/build.sh), before committing:
#   scripts/tidy_cache_refresh.sh && git add .ci/tidy-cache
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
CUSTOS_TIDY_CACHE="$PWD/.ci/tidy-cache" python3 scripts/tidy.py "$BUILD_DIR" --jobs "${JOBS:-2}" --prune
