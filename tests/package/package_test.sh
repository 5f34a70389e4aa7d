#!/bin/sh
# The Debian package end to end (issue 22 point 4): cpack builds custos_<version>_amd64.deb,
# dpkg -i installs it on this machine, the installed binary answers --version, `custos init`
# makes the vault in /var/lib/custos as the service user, and systemd-analyze verifies the
# unit; then the package is purged (the vault it made is removed by the test, not by dpkg).
# Needs root (CI runs as root): without it the test is skipped (exit 77) with a message.
# The package is made by cpack in the suite's own build directory (BUILD_DIR): the only
# install rules are packaging/'s (the binary, its man pages, the unit, the docs), so it holds
# exactly what a clean checkout builds, without a second build.
# Usage: package_test.sh SOURCE_DIR BUILD_DIR VERSION BUILD_TYPE
set -eu
source=$1
build=$2
version=$3
build_type=$4
if [ "$(id -u)" != 0 ]; then
  echo "SKIPPED: the package test installs a .deb with dpkg -i and needs root (CI runs as root)"
  exit 77
fi
for tool in cpack dpkg dpkg-deb systemd-analyze runuser; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIPPED: $tool is not installed"
    exit 77
  fi
done
if dpkg -s custos >/dev/null 2>&1; then
  echo "SKIPPED: a custos package is already installed here; not touching it"
  exit 77
fi
if [ -e /var/lib/custos/custos.toml ]; then
  echo "SKIPPED: /var/lib/custos already holds a vault; not touching it"
  exit 77
fi

work=$(mktemp -d)
cleanup() {
  dpkg --purge custos >/dev/null 2>&1 || true
  rm -rf /var/lib/custos "$work"
}
trap cleanup EXIT

# The build directory the suite runs in: its custos and man pages are what is packaged (the
# only install rules are packaging/'s), so no second build is needed.
cmake --build "$build" --target custos custos_man >"$work/build.log" 2>&1 || {
  tail -50 "$work/build.log"; exit 1; }
cd "$build"
cpack -G DEB -B "$work" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb="$work/custos_${version}_amd64.deb"
[ -f "$deb" ] || { echo "FAIL: $deb was not written"; ls "$work"; exit 1; }
dpkg-deb --info "$deb" | grep -q "Package: custos"
# The runtime needs of the company's time zone (core/zones.h): the tz library and its database.
depends=$(dpkg-deb -f "$deb" Depends)
for need in tzdata libdate-tz3; do
  echo "$depends" | grep -q "$need" || { echo "FAIL: Depends lacks $need: $depends"; exit 1; }
done
dpkg-deb --contents "$deb" > "$work/contents"
for want in ./usr/bin/custos ./lib/systemd/system/custos.service ./etc/custos/custos.env \
    ./usr/share/man/man1/custos.1.gz ./usr/share/man/man1/custos-serve.1.gz \
    ./usr/share/doc/custos/operations.md ./usr/share/doc/custos/copyright; do
  grep -q " $want\$" "$work/contents" || { echo "FAIL: the package lacks $want"; exit 1; }
done

dpkg -i "$deb"
got=$(/usr/bin/custos --version)
[ "$got" = "custos $version" ] || { echo "FAIL: custos --version said '$got'"; exit 1; }
getent passwd custos >/dev/null || { echo "FAIL: no service user custos"; exit 1; }
[ "$(stat -c '%U %a' /var/lib/custos)" = "custos 700" ] || {
  echo "FAIL: /var/lib/custos is $(stat -c '%U %a' /var/lib/custos)"; exit 1; }
conf=$(dpkg-query -W -f='${Conffiles}' custos)
echo "$conf" | grep -q /etc/custos/custos.env || { echo "FAIL: custos.env is no conffile"; exit 1; }

# The first start: the service user makes the vault where the unit expects it.
(cd / && runuser -u custos -- /usr/bin/custos --json init /var/lib/custos) > "$work/init.json"
grep -q '"admin_token"' "$work/init.json" || { echo "FAIL: init printed no admin token"; exit 1; }
[ "$(stat -c %U /var/lib/custos/custos.toml)" = custos ] || { echo "FAIL: vault not the user's"; exit 1; }
# The default vault of an operator on this host is the package's.
token=$(sed -n 's/.*"admin_token":"\([^"]*\)".*/\1/p' "$work/init.json")
env -u CUSTOS_VAULT CUSTOS_TOKEN="$token" runuser -u custos -w CUSTOS_TOKEN -- \
    /usr/bin/custos --json staff list \
  | grep -q '"staff_id":"dpo"' || { echo "FAIL: the default vault is not /var/lib/custos"; exit 1; }

# The unit: systemd's own checker (works without a running systemd): directives, the binary,
# the user, the man page it names.
if ! systemd-analyze verify /lib/systemd/system/custos.service >"$work/verify.log" 2>&1; then
  cat "$work/verify.log"
  echo "FAIL: systemd-analyze verify custos.service"
  exit 1
fi
for key in "User=custos" "ProtectSystem=strict" "NoNewPrivileges=yes" "PrivateTmp=yes" \
    "ExecReload=" "StateDirectory=custos"; do
  grep -q "^$key" /lib/systemd/system/custos.service || { echo "FAIL: unit lacks $key"; exit 1; }
done
echo "PASS: custos_${version}_amd64.deb installs, inits under user custos, unit verifies"
