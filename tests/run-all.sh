#!/bin/sh
# The whole test suite, stage by stage: what `make test` and CI run. A failed stage
# does not stop the others; the summary at the end says which failed, and so does
# the exit status.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

MAKE_CMD=${MAKE_CMD:-make}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

passed=0
failed=0
skipped=0
table=""

# stage NAME COMMAND...: runs COMMAND as one timed stage and records the result.
stage() {
    name=$1
    shift
    echo
    echo "==== stage $name: $*"
    start=$(date +%s)
    "$@" </dev/null
    record "$name" $? $(($(date +%s) - start))
}

# record NAME RC SECS: counts a finished stage and adds its line to the summary.
record() {
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1))
        result=pass
    else
        failed=$((failed + 1))
        result="FAIL (exit $2)"
    fi
    echo "==== stage $1: $result in ${3}s"
    table="$table$(printf '%-14s %-16s %5ss' "$1" "$result" "$3")
"
}

# background NAME COMMAND...: starts COMMAND as a stage that runs beside the ones after
# it, its output kept until `gather`. For a long stage that shares nothing with the
# others (its own servers on free ports, no build folder), on a machine whose other stages
# leave a core idle: it shortens the run, not the stage.
bg_dir=$(mktemp -d "${TMPDIR:-/tmp}/run-all.XXXXXX")
trap 'rm -rf "$bg_dir"' EXIT
bg_names=""
background() {
    name=$1
    shift
    echo
    echo "==== stage $name: started in the background: $*"
    (
        start=$(date +%s)
        "$@" </dev/null >"$bg_dir/$name.out" 2>&1
        echo "$? $(($(date +%s) - start))" >"$bg_dir/$name.rc"
    ) &
    echo $! >"$bg_dir/$name.pid"
    bg_names="$bg_names $name"
}

# Waits for the background stages and reports each as `stage` would have.
gather() {
    for name in $bg_names; do
        wait "$(cat "$bg_dir/$name.pid")"
        echo
        echo "==== stage $name (ran in the background):"
        cat "$bg_dir/$name.out"
        read -r rc secs <"$bg_dir/$name.rc" || { rc=1; secs=0; }
        record "$name" "$rc" "$secs"
    done
    bg_names=""
}

skip() {
    echo
    echo "==== stage $1: skipped ($2)"
    skipped=$((skipped + 1))
    table="$table$(printf '%-14s %-16s %6s' "$1" skipped -)
"
}

# A make target has something to run when it has a rule whose dry run is not just
# "Nothing to be done": a name listed in .PHONY but not yet written counts as absent.
has_target() {
    out=$(LC_ALL=C "$MAKE_CMD" --no-print-directory -n "$1" 2>&1) || return 1
    case $out in
        *"
"*) return 0 ;;
        *": Nothing to be done for '$1'.") return 1 ;;
        *) return 0 ;;
    esac
}

# optional NAME [MAKE ARGS...]: runs `make NAME` as a stage when the Makefile (or a
# mk/*.mk) defines it.
optional() {
    if has_target "$1"; then
        stage "$1" "$MAKE_CMD" "$@"
    else
        skip "$1" "no make target"
    fi
}

echo "run-all: $(date -u '+%Y-%m-%dT%H:%M:%SZ') in $top, make -j$JOBS"
echo "run-all: $(cc --version 2>/dev/null | head -n 1)"
echo "run-all: $(clang --version 2>/dev/null | head -n 1)"

stage build "$MAKE_CMD" -j"$JOBS" all unit build/tests/alloc/failmalloc.so
# The Terraform against moto needs nothing built and is mostly waiting: it runs beside
# the stages that leave a core idle. (The zips, tried there too, only slowed the others
# down as much as they gained.)
if has_target infra-test; then
    background infra-test "$MAKE_CMD" infra-test
else
    skip infra-test "no make target"
fi
# The real bootstrap under the allocation-failure shim is one process for minutes: it runs
# beside the stages that follow, on what it needs built above (run directly, not through
# make, so that it builds nothing while they do).
background alloc-bootstrap sh tests/alloc/bootstrap-alloc.sh build
stage unit "$MAKE_CMD" check-unit check-canonical
stage sanitize "$MAKE_CMD" -j"$JOBS" sanitize
stage alloc env ALLOC_BOOTSTRAP=no sh tests/alloc/run.sh
stage valgrind "$MAKE_CMD" valgrind
stage clang "$MAKE_CMD" -j"$JOBS" clang
stage clang-unit sh tests/run-unit.sh build-clang/tests
stage headers sh tests/header-test.sh
stage banned sh tests/banned-functions.sh
stage layers sh tests/layers-check.sh
stage standalone sh tests/standalone-check.sh
optional fuzz-replay -j"$JOBS"
optional install-test
stage examples "$MAKE_CMD" examples-test
optional integration
# cli-test needs only what the build stage made and its own moto: it runs beside the
# zips' build and the end-to-end stage, which leave a core idle.
if has_target cli-test; then
    background cli-test "$MAKE_CMD" cli-test
else
    skip cli-test "no make target"
fi
optional package-test
optional e2e
gather

echo
echo "==== summary"
printf '%-14s %-16s %6s\n' stage result time
printf '%s' "$table"
[ "$skipped" -eq 0 ] || echo "($skipped optional stages skipped: their make targets do not exist yet)"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
