#!/bin/sh
# run-all's alloc stage: the allocation-failure programs over every fixture in events/,
# the 1,000-record one included, in the plain build (about half a minute), then again
# under ASan and UBSan in the sanitize stage's build without that one (ASan makes it
# minutes), so that a failure path that leaks or reads freed memory is caught too.
# Last, the real bootstrap process under an LD_PRELOAD shim, in the plain build only (about
# two and a half minutes; tests/alloc/bootstrap-alloc.sh): its --print and one invocation.
# PLAIN_BUILD and SAN_BUILD name other build folders (default: the build and sanitize
# stages' own).
set -u
make_cmd=${MAKE_CMD:-make}
plain=${PLAIN_BUILD:-build}
san=${SAN_BUILD:-build-san}
cd "$(dirname "$0")/../.." || exit 2

"$make_cmd" --no-print-directory BUILD="$plain" check-alloc ALLOC_ARGS=--all || exit 1
"$make_cmd" --no-print-directory CC=clang BUILD="$san" OPT="-O1 -g -fno-omit-frame-pointer" \
    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" check-alloc || exit 1
# ALLOC_BOOTSTRAP=no leaves this part out (run-all runs it beside other stages).
if [ "${ALLOC_BOOTSTRAP:-yes}" != no ]; then
    "$make_cmd" --no-print-directory BUILD="$plain" check-alloc-bootstrap || exit 1
fi
