#!/bin/sh
# Installs the Debian packages that building and testing libauditstream need.
# Silent when all are present; otherwise one apt-get update and one install.
set -eu

PACKAGES="libjansson-dev libcmocka-dev libcurl4-openssl-dev libssl-dev pkg-config \
clang valgrind libclang-rt-14-dev zip unzip openssl"

missing=""
for pkg in $PACKAGES; do
    # A removed package can linger as "deinstall ok config-files": only this counts.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: missing Debian packages:$missing"

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "install-deps: error: not root and no sudo; install these as root:" >&2
    echo "    apt-get install$missing" >&2
    exit 1
fi

# $as_root and $missing are word lists on purpose.
# shellcheck disable=SC2086
$as_root apt-get update
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing

echo "install-deps: installed$missing"
