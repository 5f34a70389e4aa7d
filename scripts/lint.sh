#!/usr/bin/env bash
# Lint: clang-format and clang-tidy. Exits non-zero on any finding. CI runs it (scripts/test.sh).
#   BUILD_DIR=build scripts/lint.sh   tidy needs a configured and built BUILD_DIR (default build/):
#                                     its compile_commands.json and its dependency log
#   LINT_FORMAT=1|0   the clang-format check on or off; by default on only once the tree has
#                     been reformatted, i.e. when .clang-format-enforced exists in the repo root
#   LINT_TIDY=0       skip clang-tidy
#   CUSTOS_TIDY_CACHE=dir|off   where tidy results are cached (default ~/.cache/custos-tidy)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
status=0

format_default=0
if [ -e .clang-format-enforced ]; then format_default=1; fi
if [ "${LINT_FORMAT:-$format_default}" = "1" ]; then
  echo "lint: clang-format (src/ tests/ bench/)"
  if ! find src tests bench \( -name '*.cpp' -o -name '*.h' \) -print0 |
      xargs -0 clang-format-14 --dry-run --Werror; then
    echo "lint: clang-format: files above differ from .clang-format (clang-format-14 -i them)"
    status=1
  fi
else
  echo "lint: clang-format check off (no .clang-format-enforced; LINT_FORMAT=1 forces it)"
fi

if [ "${LINT_TIDY:-1}" = "1" ]; then
  if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
    echo "lint: $BUILD_DIR/compile_commands.json missing: configure and build $BUILD_DIR first" >&2
    exit 2
  fi
  echo "lint: clang-tidy (src/, .clang-tidy)"
  python3 scripts/tidy.py "$BUILD_DIR" --jobs "$JOBS" || status=1
fi
exit $status
