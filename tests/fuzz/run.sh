#!/bin/sh
# Runs the libFuzzer targets: `fuzz SECONDS BIN...` fuzzes each BIN for SECONDS from the
# seeds, keeping crashes in tests/fuzz/regressions/; `replay 0 BIN...` runs every seed
# and regression once through each BIN and ends with "fuzz-replay: N passed, N failed".
set -u

usage() {
    echo "usage: $0 fuzz|replay SECONDS BIN..." >&2
    exit 2
}
[ $# -ge 3 ] || usage
mode=$1
seconds=$2
shift 2

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
regressions=${FUZZ_REGRESSIONS:-tests/fuzz/regressions}
seeds="events tests/fuzz/corpus"
dict=tests/fuzz/event.dict
mkdir -p "$regressions"

# Sanitizer reports stop the run; leaks count as failures.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

# The inputs to replay: seeds and regressions, READMEs aside.
inputs() {
    for dir in $seeds $regressions; do
        [ -d "$dir" ] || continue
        for f in "$dir"/*; do
            case ${f##*/} in
                README*) continue ;;
            esac
            [ -f "$f" ] && printf '%s\n' "$f"
        done
    done
}

replay() {
    passed=0
    failed=0
    log=$(mktemp)
    list=$(mktemp)
    inputs >"$list"
    for bin in "$@"; do
        name=${bin##*/}
        count=$(wc -l <"$list")
        # One process for all inputs; only when it fails, one per input to name them.
        if xargs -r -d '\n' "$bin" -timeout=30 -rss_limit_mb=2048 <"$list" >"$log" 2>&1; then
            passed=$((passed + count))
            echo "fuzz-replay: $name: $count inputs ok"
            continue
        fi
        while IFS= read -r f; do
            if "$bin" -timeout=30 -rss_limit_mb=2048 "$f" >"$log" 2>&1; then
                passed=$((passed + 1))
            else
                failed=$((failed + 1))
                echo "fuzz-replay: $name FAILED on $f:"
                grep -E "^fuzz_|^ERROR|runtime error|^SUMMARY|dumps differ|  (ours|reference|both):|our decoder" \
                    "$log" | head -n 8 | sed 's/^/    /'
            fi
        done <"$list"
    done
    rm -f "$log" "$list"
    echo "fuzz-replay: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

fuzz() {
    status=0
    work=${FUZZ_BUILD:-build-fuzz}
    for bin in "$@"; do
        name=${bin##*/}
        corpus=$work/corpus/$name
        seeddir=$work/seeds/$name
        mkdir -p "$corpus"
        rm -rf "$seeddir"
        mkdir -p "$seeddir"
        # libFuzzer stops at start-up on a seed that crashes: fuzz from the others, and
        # leave the crashing ones to fuzz-replay.
        skipped=0
        for dir in $seeds; do
            [ -d "$dir" ] || continue
            for f in "$dir"/*; do
                [ -f "$f" ] || continue
                if "$bin" -timeout=30 "$f" >/dev/null 2>&1; then
                    cp "$f" "$seeddir/${dir##*/}-${f##*/}"
                else
                    skipped=$((skipped + 1))
                fi
            done
        done
        [ "$skipped" -eq 0 ] || echo "fuzz: $name: $skipped seed(s) crash now; see make fuzz-replay"
        # libFuzzer stops at the first finding: start again until the time is up, at
        # most three findings a target so that a known bug cannot flood regressions/.
        end=$(($(date +%s) + seconds))
        findings=0
        while :; do
            left=$((end - $(date +%s)))
            [ "$left" -gt 0 ] || break
            echo "fuzz: $name for ${left}s"
            # shellcheck disable=SC2086
            if "$bin" -max_total_time="$left" -max_len=16384 -dict="$dict" -print_final_stats=1 \
                -artifact_prefix="$regressions/$name-" ${FUZZ_ARGS:-} "$corpus" "$seeddir"; then
                break
            fi
            findings=$((findings + 1))
            status=1
            [ "$findings" -lt 3 ] || break
        done
        echo "fuzz: $name: $findings finding(s) kept in $regressions/"
    done
    return $status
}

case $mode in
    fuzz) fuzz "$@" ;;
    replay) replay "$@" ;;
    *) usage ;;
esac
