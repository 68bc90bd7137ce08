#!/bin/sh
# Installs the Debian packages that building and testing libauditstream need.
# Silent when all are present; otherwise one apt-get update and one install.
set -eu

PACKAGES="libjansson-dev libcmocka-dev libcurl4-openssl-dev libssl-dev pkg-config \
clang valgrind libclang-rt-14-dev zip unzip openssl"
# `make examples-test` also builds examples/ through CMake's find_package(auditstream).
PACKAGES="$PACKAGES cmake"
# `make package` builds libcurl from Debian's source package (tests/package/build-curl.sh).
PACKAGES="$PACKAGES dpkg-dev"
# `make package`: the arm64 zip is cross-built against Debian's :arm64 multiarch libraries
# and smoke-tested under qemu-aarch64 (README, "Packaging").
PACKAGES="$PACKAGES gcc-aarch64-linux-gnu libc6-dev:arm64 libcurl4-openssl-dev:arm64 \
libjansson-dev:arm64 libssl-dev:arm64 qemu-user"

native=$(dpkg --print-architecture)

# installed PKG: true when PKG is installed; a name without ":arch" means the native (or an
# "all") package, since with a foreign architecture added a bare name matches both.
# A removed package can linger as "deinstall ok config-files": only "install ok installed"
# counts.
installed() {
    case $1 in
        *:*) dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -qx 'install ok installed' ;;
        *) dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
            grep -qxE "install ok installed ($native|all)" ;;
    esac
}

missing=""
foreign=""
for pkg in $PACKAGES; do
    if ! installed "$pkg"; then
        missing="$missing $pkg"
        case $pkg in
            *:"$native") ;;
            *:*)
                arch=${pkg#*:}
                if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
                    case " $foreign " in *" $arch "*) ;; *) foreign="$foreign $arch" ;; esac
                fi
                ;;
        esac
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

# $as_root, $foreign and $missing are word lists on purpose.
for arch in $foreign; do
    echo "install-deps: adding the $arch architecture (dpkg --add-architecture $arch)"
    # shellcheck disable=SC2086
    $as_root dpkg --add-architecture "$arch"
done
# shellcheck disable=SC2086
$as_root apt-get update
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing

echo "install-deps: installed$missing"
