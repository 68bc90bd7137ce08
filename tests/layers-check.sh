#!/bin/sh
# Proves the library's layers stay as README's layout draws them (core <- aws <- lambda):
# each file includes only its own layer and the ones below, the core does no I/O, reads
# no environment and no clock, and no public header includes one it does not use.
# Fails naming file:line for every breach. Usage: tests/layers-check.sh [TOP]
# Without TOP it first checks itself on a copy of the tree with one planted breach of
# each kind (each must be named), then checks the tree.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -eq 0 ]; then
    copy=$(mktemp -d)
    trap 'rm -rf "$copy"' EXIT INT TERM
    mkdir -p "$copy/tests"
    cp -R "$here/lib" "$here/include" "$copy/"
    cp "$0" "$copy/tests/layers-check.sh"
    printf '#include "auditstream/runtime.h"\n' >>"$copy/lib/aws/crc32.c"
    printf '#include <curl/curl.h>\n' >>"$copy/lib/core/hex.h"
    printf 'static const char *e(void) { return getenv("X"); }\n' >>"$copy/lib/core/buf.c"
    printf 'static long t(void) { return (long)time(NULL); }\n' >>"$copy/lib/core/buf.c"
    sed 's|#include "common.h"|#include "common.h"\n#include "diff.h"|' "$copy/include/auditstream/log.h" >"$copy/log.h"
    mv "$copy/log.h" "$copy/include/auditstream/log.h"
    planted=$(sh "$copy/tests/layers-check.sh" "$copy" 2>&1)
    for want in 'lib/aws/crc32.c:[0-9]*: a file of the aws layer includes "auditstream/runtime.h"' \
        'lib/core/hex.h:[0-9]*: the core includes' 'lib/core/buf.c:[0-9]*: the core calls getenv' \
        'lib/core/buf.c:[0-9]*: the core calls time' \
        'include/auditstream/log.h:[0-9]*: includes "diff.h" but uses none'; do
        if ! printf '%s\n' "$planted" | grep -q "$want"; then
            echo "FAIL layers-check missed a planted breach: $want"
            printf '%s\n' "$planted" | sed 's/^/    /'
            exit 1
        fi
    done
    echo "layers-check: each planted breach found"
    exec sh "$0" "$here"
fi
top=$1
cd "$top" || exit 1
failed=0

fail() {
    echo "FAIL $*"
    failed=$((failed + 1))
}

# The layer of a public header (include/auditstream/<name>.h).
public_layer() {
    case $1 in
    common | buf | event | diff | audit | version | wire | replay | chain) echo core ;;
    sigv4 | ddb | ddb_read | global | profile | chain_store) echo aws ;;
    runtime | batch | config | log) echo lambda ;;
    *) echo unknown ;;
    esac
}

rank() {
    case $1 in
    core) echo 0 ;;
    aws) echo 1 ;;
    lambda) echo 2 ;;
    *) echo 9 ;;
    esac
}

# check_includes FILE LAYER: every "..." include of FILE is of LAYER or one below.
check_includes() {
    file=$1
    mine=$(rank "$2")
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" | while IFS= read -r hit; do
        line=${hit%%:*}
        target=$(printf '%s\n' "$hit" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
        case $target in
        core/*) layer=core ;;
        aws/*) layer=aws ;;
        lambda/*) layer=lambda ;;
        auditstream/*) name=${target#auditstream/}; layer=$(public_layer "${name%.h}") ;;
        *.h)
            # A public header's sibling, as include/auditstream/*.h name each other.
            layer=$(public_layer "${target%.h}") ;;
        *) layer=unknown ;;
        esac
        if [ "$(rank "$layer")" -gt "$mine" ]; then
            echo "FAIL $file:$line: a file of the $2 layer includes \"$target\" ($layer layer)"
        fi
    done
}

for layer in core aws lambda; do
    for f in lib/$layer/*.c lib/$layer/*.h; do
        [ -f "$f" ] && check_includes "$f" "$layer"
    done
done >"${TMPDIR:-/tmp}/layers.$$"
for f in include/auditstream/*.h; do
    name=$(basename "$f" .h)
    check_includes "$f" "$(public_layer "$name")"
done >>"${TMPDIR:-/tmp}/layers.$$"
while IFS= read -r line; do
    echo "$line"
    failed=$((failed + 1))
done <"${TMPDIR:-/tmp}/layers.$$"
rm -f "${TMPDIR:-/tmp}/layers.$$"

# The core is pure: no network or JSON library, and none of libc's file, environment or
# clock calls. <stdio.h> stays allowed for snprintf and its kin (formatting, no I/O).
# A call is the name right before '(' and not part of a longer name or a member.
core_headers='#[[:space:]]*include[[:space:]]*<(curl/|jansson\.h|fcntl\.h|unistd\.h|sys/socket\.h|sys/stat\.h|dirent\.h|time\.h)'
core_calls='(getenv|secure_getenv|setenv|putenv|unsetenv|clock_gettime|gettimeofday|time|clock|fopen|fdopen|freopen|fclose|fread|fwrite|fgets|fputs|fputc|fgetc|getline|printf|fprintf|vprintf|vfprintf|puts|putchar|perror|open|openat|creat|close|read|write|pread|pwrite|lseek|stat|fstat|lstat|access|opendir|readdir|socket|connect|send|recv|system|popen|sleep|usleep|nanosleep|getrandom)\('
for f in lib/core/*.c lib/core/*.h; do
    grep -nE "$core_headers" "$f" | while IFS= read -r hit; do
        echo "FAIL $f:${hit%%:*}: the core includes a header for I/O, time or another library: ${hit#*:}"
    done
    # Comments are left out: the core's comments may name what it does not call.
    sed -e 's|/\*.*\*/||g' -e 's|^[[:space:]]*\*.*||' -e 's|/\*.*||' "$f" |
        grep -nE "(^|[^A-Za-z0-9_.>])$core_calls" | while IFS= read -r hit; do
        echo "FAIL $f:${hit%%:*}: the core calls $(printf '%s' "${hit#*:}" | grep -oE "$core_calls" | head -1 | tr -d '(') (I/O, environment or clock)"
    done
done >"${TMPDIR:-/tmp}/layers.$$"
while IFS= read -r line; do
    echo "$line"
    failed=$((failed + 1))
done <"${TMPDIR:-/tmp}/layers.$$"
rm -f "${TMPDIR:-/tmp}/layers.$$"

# No public header includes one it does not use: of the as_/AS_ names a header's include
# brings (the names it mentions that none of its own includes does), the includer uses
# at least one. A header's names are approximated by the identifiers it spells.
names_of() {
    grep -oE '\b(as|AS)_[A-Za-z0-9_]+' "include/auditstream/$1" | sort -u
}
for f in include/auditstream/*.h; do
    grep -n '^#include "' "$f" | while IFS= read -r hit; do
        line=${hit%%:*}
        target=$(printf '%s\n' "$hit" | sed 's/^[0-9]*:#include "\([^"]*\)".*/\1/')
        [ -f "include/auditstream/$target" ] || continue
        own=$(names_of "$target")
        for dep in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "include/auditstream/$target"); do
            [ -f "include/auditstream/$dep" ] || continue
            names_of "$dep" >"${TMPDIR:-/tmp}/dep.$$"
            own=$(printf '%s\n' "$own" | grep -vxF -f "${TMPDIR:-/tmp}/dep.$$")
        done
        rm -f "${TMPDIR:-/tmp}/dep.$$"
        used=$(grep -v '^#include' "$f" | grep -oE '\b(as|AS)_[A-Za-z0-9_]+' | sort -u |
            grep -xF "$(printf '%s\n' "$own")" | head -1)
        if [ -z "$used" ]; then
            echo "FAIL $f:$line: includes \"$target\" but uses none of its names"
        fi
    done
done >"${TMPDIR:-/tmp}/layers.$$"
while IFS= read -r line; do
    echo "$line"
    failed=$((failed + 1))
done <"${TMPDIR:-/tmp}/layers.$$"
rm -f "${TMPDIR:-/tmp}/layers.$$"

if [ "$failed" -ne 0 ]; then
    echo "layers-check: $failed problem(s)"
    exit 1
fi
echo "layers-check: ok (includes follow core <- aws <- lambda, the core does no I/O, public headers include only what they use)"
