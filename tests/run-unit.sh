#!/bin/sh
# Runs every unit test binary in DIR from the top of the tree (tests read events/ and
# tests/vectors), optionally under valgrind. Usage: tests/run-unit.sh DIR [valgrind]
set -u

usage() {
    echo "usage: $0 DIR [valgrind]" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    usage
fi
dir=$1
mode=${2:-plain}
case $mode in
    plain | valgrind) ;;
    *) usage ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
# DIR is taken relative to where we were called from; the binaries run from the top.
case $dir in
    /*) ;;
    *) dir=$(pwd)/$dir ;;
esac
cd "$top" || exit 2

if [ ! -d "$dir" ]; then
    echo "run-unit: no such directory: $dir (were the tests built?)" >&2
    echo "binaries: 0 passed, 0 failed"
    exit 1
fi

# A hung test must not eat CI's time: each binary gets this many seconds.
limit=${UNIT_TIMEOUT:-300}
if command -v timeout >/dev/null 2>&1; then
    guard="timeout $limit"
else
    guard=""
fi

set --
if [ "$mode" = valgrind ]; then
    if ! command -v valgrind >/dev/null 2>&1; then
        echo "run-unit: valgrind is not installed (make deps installs it)" >&2
        echo "binaries: 0 passed, 0 failed"
        exit 1
    fi
    set -- valgrind --leak-check=full --errors-for-leak-kinds=all --error-exitcode=1 -q
fi

# Sanitizer builds: stop at the first report and say where it came from.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS ASAN_OPTIONS

passed=0
failed=0
failed_names=""
for bin in "$dir"/*; do
    if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
        continue
    fi
    name=${bin##*/}
    echo "---- $name${2:+ ($mode)}"
    start=$(date +%s)
    # $guard is empty or "timeout N": split on purpose.
    # shellcheck disable=SC2086
    $guard "$@" "$bin" </dev/null
    rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "---- $name: ok (${secs}s)"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        if [ "$rc" -eq 124 ] && [ -n "$guard" ]; then
            echo "---- $name: FAILED: timed out after ${limit}s"
        else
            echo "---- $name: FAILED (exit $rc, ${secs}s)"
        fi
    fi
done

if [ $((passed + failed)) -eq 0 ]; then
    echo "run-unit: no test binaries in $dir: nothing was tested" >&2
    echo "binaries: 0 passed, 0 failed"
    exit 1
fi

[ -z "$failed_names" ] || echo "run-unit: failed:$failed_names"
echo "binaries: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
