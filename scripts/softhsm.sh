#!/usr/bin/env bash
# A throw-away SoftHSM2 token for Custos's pkcs11 tests and demos (no root needed).
#
#   eval "$(scripts/softhsm.sh start)"   # creates the token, prints `export ...` lines
#   scripts/softhsm.sh stop              # removes the token directory
#
# The token lives in $CUSTOS_HSM_STATE (default /tmp/custos-softhsm-$UID): its own
# softhsm2.conf (SOFTHSM2_CONF points at it) and token directory, so the system's tokens
# (/var/lib/softhsm) are never touched. The token is labelled "custos-test" with throw-away
# PINs: never use it for real keys. Idempotent: `start` on an existing token only prints
# its settings. Exits 1 when SoftHSM2 is not installed (scripts/setup.sh installs it).
set -euo pipefail

STATE="${CUSTOS_HSM_STATE:-/tmp/custos-softhsm-$(id -u)}"
LABEL=custos-test
USER_PIN=custos-test-pin
SO_PIN=custos-test-so-pin

find_module() {
  for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
           /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
    if [[ -f "$m" ]]; then echo "$m"; return 0; fi
  done
  return 1
}

print_env() {
  echo "export SOFTHSM2_CONF='$STATE/softhsm2.conf'"
  echo "export CUSTOS_PKCS11_MODULE='$1'"
  echo "export CUSTOS_PKCS11_TOKEN='$LABEL'"
  echo "export CUSTOS_PKCS11_PIN='$USER_PIN'"
}

case "${1:-start}" in
  start)
    if ! command -v softhsm2-util >/dev/null || ! module=$(find_module); then
      echo "softhsm: SoftHSM2 is not installed (apt-get install softhsm2; scripts/setup.sh)" >&2
      exit 1
    fi
    mkdir -p "$STATE/tokens"
    chmod 700 "$STATE"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
      "$STATE" > "$STATE/softhsm2.conf"
    export SOFTHSM2_CONF="$STATE/softhsm2.conf"
    if ! softhsm2-util --show-slots 2>/dev/null | grep -q "Label:.*$LABEL"; then
      softhsm2-util --init-token --free --label "$LABEL" --so-pin "$SO_PIN" --pin "$USER_PIN" >&2
    fi
    print_env "$module"
    ;;
  stop)
    rm -rf "$STATE"
    ;;
  *)
    echo "usage: scripts/softhsm.sh start|stop" >&2
    exit 2
    ;;
esac
