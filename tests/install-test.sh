#!/bin/sh
# Installs the library into a temporary prefix and builds a consumer against it through
# pkg-config, once with the shared library and once with the static archive.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/auditstream-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

prefix=$tmp/prefix
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR 2>/dev/null || true

# check LABEL COMMAND...: the consumer must run and print exactly OK.
check() {
    label=$1
    shift
    if ! out=$("$@"); then
        echo "install-test: $label consumer failed" >&2
        exit 1
    fi
    echo "install-test: $label: $out"
    if [ "$out" != OK ]; then
        echo "install-test: $label consumer printed something other than OK" >&2
        exit 1
    fi
}

echo "install-test: make install PREFIX=$prefix"
make --no-print-directory install PREFIX="$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    echo "install-test: make install failed" >&2
    exit 1
}

echo "install-test: pkg-config auditstream $(pkg-config --modversion auditstream)"
pkg-config --exists --print-errors auditstream

# Shared: the consumer must need libauditstream.so.N and find it only in the prefix.
# pkg-config's output is a list of words: split on purpose.
# shellcheck disable=SC2046
"$CC" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer-shared" tests/install/consumer.c \
    $(pkg-config --cflags --libs auditstream)
if ! readelf -d "$tmp/consumer-shared" | grep -q 'NEEDED.*libauditstream\.so'; then
    echo "install-test: consumer-shared does not link libauditstream.so" >&2
    exit 1
fi
check "shared" env LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer-shared"

# Static: the same flags from --static, with -lauditstream pinned to the archive
# (the linker would otherwise prefer the .so beside it).
libs=$(pkg-config --static --libs auditstream | sed 's/-lauditstream\b/-l:libauditstream.a/')
# shellcheck disable=SC2046,SC2086
"$CC" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer-static" tests/install/consumer.c \
    $(pkg-config --static --cflags auditstream) $libs
if readelf -d "$tmp/consumer-static" | grep -q 'NEEDED.*libauditstream'; then
    echo "install-test: consumer-static still needs libauditstream.so" >&2
    exit 1
fi
check "static" "$tmp/consumer-static"

echo "install-test: ok"
