#!/bin/sh
# Builds examples/ against the library installed into a temporary prefix, as another team
# would (pkg-config, and CMake's find_package), and runs them: decode_and_diff on fixture
# events, custom_lambda against the Runtime API stand-in, signed_call against moto.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

CC=${CC:-cc}
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/auditstream-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

prefix=$tmp/prefix
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR 2>/dev/null || true

fail() {
    echo "examples-test: $*" >&2
    exit 1
}

echo "examples-test: make install PREFIX=$prefix"
make --no-print-directory install PREFIX="$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"
    fail "make install failed"
}

# build NAME MODULE: examples/NAME.c linked through pkg-config module MODULE, as the
# examples' own warnings demand (pedantic C11, every warning an error).
build() {
    static=
    case $2 in *-static) static=--static ;; esac
    # pkg-config's output is a list of words: split on purpose.
    # shellcheck disable=SC2046
    "$CC" -std=c11 -pedantic -Wall -Wextra -Werror -o "$tmp/$1-$2" "examples/$1.c" \
        $(pkg-config $static --cflags --libs "$2") || fail "examples/$1.c does not build with $2"
    echo "examples-test: built $1 with pkg-config ${static:+$static }$2"
}

build decode_and_diff auditstream-core
build decode_and_diff auditstream-static
build custom_lambda auditstream
build signed_call auditstream
build signed_call auditstream-static

# Decoding needs the core alone: no libcurl, no jansson, in what it needs or loads.
needed=$(readelf -d "$tmp/decode_and_diff-auditstream-core" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
    sort | tr '\n' ' ')
[ "$needed" = "libauditstream-core.so.0 libc.so.6 " ] ||
    fail "decode_and_diff (core) needs: $needed"
loaded=$(LD_LIBRARY_PATH="$prefix/lib" LD_DEBUG=libs \
    "$tmp/decode_and_diff-auditstream-core" events/aws-lambda-java-libs-dynamo_event.json 2>&1 \
    >/dev/null | sed -n 's/.*calling init: \(.*\)/\1/p' | sed 's|.*/||' | sort -u | tr '\n' ' ')
case $loaded in
    *libauditstream-core.so.0*libcrypto.so.3*) ;;
    *) fail "decode_and_diff (core) did not load the core and libcrypto: $loaded" ;;
esac
case $loaded in
    *curl* | *jansson* | *libauditstream.so*) fail "decode_and_diff (core) loaded: $loaded" ;;
esac
echo "examples-test: decode_and_diff (core) loads only $loaded"
if readelf -d "$tmp/signed_call-auditstream-static" | grep -q 'NEEDED.*libauditstream'; then
    fail "signed_call built with auditstream-static still needs libauditstream"
fi

# CMake: the installed package and its imported targets, shared and static.
if ! cmake -S examples -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$CC" \
    >"$tmp/cmake.log" 2>&1 || ! cmake --build "$tmp/cmake" >>"$tmp/cmake.log" 2>&1; then
    cat "$tmp/cmake.log"
    fail "examples/CMakeLists.txt does not build against the installed package"
fi
echo "examples-test: built examples/ with cmake and find_package(auditstream)"
# The version file must refuse what the package is not.
version=$(pkg-config --modversion auditstream)
for want in 0.1 99.0 "$version.1"; do
    mkdir -p "$tmp/want-$want"
    printf 'cmake_minimum_required(VERSION 3.16)\nproject(v C)\nfind_package(auditstream %s REQUIRED)\n' \
        "$want" >"$tmp/want-$want/CMakeLists.txt"
    if cmake -S "$tmp/want-$want" -B "$tmp/want-$want/b" -DCMAKE_PREFIX_PATH="$prefix" \
        >"$tmp/want.log" 2>&1; then
        fail "find_package(auditstream $want) accepted version $version"
    fi
    grep -q "compatible with requested version" "$tmp/want.log" ||
        fail "find_package(auditstream $want) failed for another reason: $(cat "$tmp/want.log")"
done
echo "examples-test: find_package(auditstream X) refuses 0.1, 99.0 and $version.1"
# The package finds its files from where it lies: a copied prefix works as well.
cp -R "$prefix" "$tmp/moved"
mkdir -p "$tmp/where"
cat >"$tmp/where/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(where C)
find_package(auditstream REQUIRED)
get_target_property(location auditstream::static IMPORTED_LOCATION)
get_target_property(include auditstream::static INTERFACE_INCLUDE_DIRECTORIES)
message(STATUS "auditstream at ${location} ${include}")
CMAKE
cmake -S "$tmp/where" -B "$tmp/where/b" -DCMAKE_PREFIX_PATH="$tmp/moved" >"$tmp/where.log" 2>&1 ||
    fail "find_package in a copied prefix failed: $(cat "$tmp/where.log")"
grep -q "auditstream at $tmp/moved/lib/libauditstream.a $tmp/moved/include\$" "$tmp/where.log" ||
    fail "the copied package points elsewhere: $(grep 'auditstream at' "$tmp/where.log")"
echo "examples-test: a copied prefix's package points into the copy"

status=0
# check WHAT ARGS...: one checker run, its lines indented under a heading.
check() {
    echo "examples-test: $1"
    shift
    if ! LD_LIBRARY_PATH="$prefix/lib" "$PYTHON" tests/install/check_examples.py "$@"; then
        status=1
    fi
}
for event in aws-lambda-java-libs-dynamo_event aws-sam-cli-DynamoDBUpdate localstack-esm-modify-attr-added; do
    check "decode_and_diff (core, shared) on $event" decode "$tmp/decode_and_diff-auditstream-core" \
        "events/$event.json" "tests/golden/$event.classic.jsonl"
done
check "decode_and_diff (archive)" decode "$tmp/decode_and_diff-auditstream-static" \
    events/aws-lambda-java-libs-dynamo_event.json tests/golden/aws-lambda-java-libs-dynamo_event.classic.jsonl
check "decode_and_diff (cmake, auditstream::core)" decode "$tmp/cmake/decode_and_diff" \
    events/aws-lambda-java-libs-dynamo_event.json tests/golden/aws-lambda-java-libs-dynamo_event.classic.jsonl
check "custom_lambda against the Runtime API stand-in" lambda "$tmp/custom_lambda-auditstream"
check "custom_lambda (cmake) against the Runtime API stand-in" lambda "$tmp/cmake/custom_lambda"
check "signed_call against moto, SigV4 verified" signed "$tmp/signed_call-auditstream"
check "signed_call (archive, cmake auditstream::static) against moto" signed \
    "$tmp/cmake/signed_call_static"

[ "$status" -eq 0 ] || fail "an example did not do what it should"
echo "examples-test: ok"
