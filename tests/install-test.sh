#!/bin/sh
# Installs the library into a temporary prefix and builds a consumer against it through
# each pkg-config file (shared and static, whole library and core); checks what the
# libraries need, that the version comes from one place, and `bootstrap --version`.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

CC=${CC:-cc}
BOOTSTRAP=${BOOTSTRAP:-${BUILD:-build}/bootstrap}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/auditstream-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

prefix=$tmp/prefix
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR 2>/dev/null || true

fail() {
    echo "install-test: $*" >&2
    exit 1
}

# needed FILE: the sorted DT_NEEDED entries of FILE, one line.
needed() {
    readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}

# The version as include/auditstream/version.h spells it, read here independently.
part() {
    sed -n "s/^#define AS_VERSION_$1 *\([0-9][0-9]*\)\$/\1/p" include/auditstream/version.h
}
version=$(part MAJOR).$(part MINOR).$(part PATCH)
case $version in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) fail "cannot read the version from include/auditstream/version.h: '$version'" ;;
esac

echo "install-test: make install PREFIX=$prefix"
make --no-print-directory install PREFIX="$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    fail "make install failed"
}

for module in auditstream auditstream-static auditstream-core auditstream-core-static; do
    pkg-config --exists --print-errors "$module"
    got=$(pkg-config --modversion "$module")
    [ "$got" = "$version" ] || fail "pkg-config $module says $got, version.h $version"
done
echo "install-test: pkg-config: four modules, version $version"
for lib in libauditstream libauditstream-core; do
    [ -f "$prefix/lib/$lib.so.$version" ] || fail "$lib.so is not named for version $version"
done

# The core links with libc and libcrypto alone; the whole library adds curl and jansson
# and nothing else (it is linked --as-needed).
got=$(needed "$prefix/lib/libauditstream-core.so")
[ "$got" = "libc.so.6 libcrypto.so.3" ] || fail "libauditstream-core.so needs: $got"
got=$(needed "$prefix/lib/libauditstream.so")
[ "$got" = "libc.so.6 libcrypto.so.3 libcurl.so.4 libjansson.so.4" ] || fail "libauditstream.so needs: $got"
echo "install-test: libauditstream-core.so needs libc, libcrypto; libauditstream.so adds libcurl, jansson"

# Every link line names each library once.
for module in auditstream auditstream-static auditstream-core auditstream-core-static; do
    for static in "" --static; do
        # shellcheck disable=SC2046,SC2086
        dups=$(printf '%s\n' $(pkg-config $static --libs "$module") | sort | uniq -d | tr '\n' ' ')
        [ -z "$dups" ] || fail "pkg-config $static --libs $module repeats: $dups"
    done
done
# The static link lines: the archive itself, and no shared libauditstream.
for module in auditstream-static auditstream-core-static; do
    line=$(pkg-config --static --libs "$module")
    case " $line " in
        *" $prefix/lib/lib${module%-static}.a "*) ;;
        *) fail "pkg-config --static --libs $module does not name the archive: $line" ;;
    esac
    case " $line " in
        *" -lauditstream"*) fail "pkg-config --static --libs $module links a shared libauditstream: $line" ;;
    esac
    echo "install-test: pkg-config --static --libs $module: $line"
done

# The umbrella header is the reusable library; the function's own modules come by name.
cflags=$(pkg-config --cflags auditstream)
for type in as_config as_batch as_log; do
    printf '#include <auditstream.h>\n%s *p;\nint main(void) { return p != 0; }\n' "$type" >"$tmp/umbrella.c"
    # shellcheck disable=SC2086
    if "$CC" -std=c11 -c -o "$tmp/umbrella.o" $cflags "$tmp/umbrella.c" 2>/dev/null; then
        fail "auditstream.h brings in $type, one of the function's own types"
    fi
done
printf '#include <auditstream.h>\n#include <auditstream/config.h>\n#include <auditstream/batch.h>\n%s\n' \
    'as_config *c; as_batch *b; as_log *l; int main(void) { return c != 0 || b != 0 || l != 0; }' \
    >"$tmp/by-name.c"
# shellcheck disable=SC2086
"$CC" -std=c11 -pedantic -Wall -Werror -c -o "$tmp/by-name.o" $cflags "$tmp/by-name.c" ||
    fail "config.h and batch.h, included by name, do not compile"
echo "install-test: auditstream.h leaves out config.h, batch.h and log.h; by name they compile"

# build NAME MODULE [--static]: the consumer, linked through MODULE.
build() {
    # pkg-config's output is a list of words: split on purpose.
    # shellcheck disable=SC2046,SC2086
    "$CC" -std=c11 -pedantic -Wall -Wextra -Werror -o "$tmp/$1" tests/install/consumer.c \
        $(pkg-config ${3:-} --cflags --libs "$2") || fail "the consumer does not build with $2"
}

# run LABEL COMMAND...: the consumer must run and print exactly OK.
run() {
    label=$1
    shift
    out=$("$@") || fail "$label consumer failed"
    [ "$out" = OK ] || fail "$label consumer printed '$out', not OK"
    echo "install-test: $label: $out"
}

build consumer-shared auditstream
got=$(needed "$tmp/consumer-shared")
[ "$got" = "libauditstream.so.0 libc.so.6" ] || fail "consumer-shared needs: $got"
run "shared" env LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer-shared"

build consumer-core auditstream-core
got=$(needed "$tmp/consumer-core")
[ "$got" = "libauditstream-core.so.0 libc.so.6" ] || fail "consumer-core needs: $got"
run "core, shared" env LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer-core"
# What it loads, not only what it names: libcrypto through the core, and nothing else.
loaded=$(LD_LIBRARY_PATH="$prefix/lib" LD_DEBUG=libs "$tmp/consumer-core" 2>&1 >/dev/null |
    sed -n 's/.*calling init: //p' | sed 's|.*/||' | sort -u | tr '\n' ' ' | sed 's/ $//')
[ "$loaded" = "ld-linux-x86-64.so.2 libauditstream-core.so.0 libc.so.6 libcrypto.so.3" ] ||
    [ "$loaded" = "libauditstream-core.so.0 libc.so.6 libcrypto.so.3" ] ||
    fail "consumer-core loaded: $loaded"
echo "install-test: consumer-core loads $loaded"

build consumer-static auditstream-static --static
case $(needed "$tmp/consumer-static") in
    *libauditstream*) fail "consumer-static still needs libauditstream" ;;
esac
run "static" "$tmp/consumer-static"

build consumer-core-static auditstream-core-static --static
got=$(needed "$tmp/consumer-core-static")
[ "$got" = "libc.so.6 libcrypto.so.3" ] || fail "consumer-core-static needs: $got"
run "core, static" "$tmp/consumer-core-static"

# bootstrap --version names the library, and the libcurl and OpenSSL it runs with.
if [ ! -x "$BOOTSTRAP" ]; then
    make --no-print-directory "$BOOTSTRAP" >"$tmp/bootstrap.log" 2>&1 || {
        cat "$tmp/bootstrap.log"
        fail "cannot build $BOOTSTRAP"
    }
fi
out=$("$BOOTSTRAP" --version) || fail "$BOOTSTRAP --version exited $?"
want="libauditstream $version
libcurl $(pkg-config --modversion libcurl)
OpenSSL $(pkg-config --modversion libcrypto)"
[ "$out" = "$want" ] || fail "$BOOTSTRAP --version printed:
$out
and not:
$want"
echo "install-test: bootstrap --version: $(echo "$out" | tr '\n' ',' | sed 's/,$//;s/,/, /g')"

echo "install-test: ok"
