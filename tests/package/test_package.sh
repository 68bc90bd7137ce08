#!/bin/sh
# Checks the Lambda zips against README's "Packaging": layout, glibc versions, and each
# bootstrap run the way provided.al2023 runs it (natively for x86_64, under qemu-aarch64).
# Usage: tests/package/test_package.sh dist/audit_producer-x86_64.zip dist/audit_producer-arm64.zip
#
# "The way Lambda runs it": unzipped into an empty folder that stands for /var/task,
# started by absolute path from that folder with an environment holding only what
# Lambda sets, and Lambda's LD_LIBRARY_PATH:
#   /var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib
# where /var/lang/lib, /var/runtime and /opt/lib are empty stand-in folders (the decoy
# checks fill /var/lang/lib) and /lib64, /usr/lib64 are this machine's.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
# shellcheck source=tests/package/elf.sh
. tests/package/elf.sh

if [ $# -eq 0 ]; then
    echo "usage: $0 ZIP..." >&2
    exit 2
fi

EVENT=$top/events/aws-lambda-java-libs-dynamo_event.json
GOLDEN_CLASSIC=$top/tests/golden/aws-lambda-java-libs-dynamo_event.classic.jsonl
GOLDEN_DETAILED=$top/tests/golden/aws-lambda-java-libs-dynamo_event.detailed.jsonl
LIMIT=${PACKAGE_TEST_TIMEOUT:-120}

passed=0
failed=0

ok() {
    passed=$((passed + 1))
    echo "ok   - $*"
}

not_ok() {
    failed=$((failed + 1))
    echo "FAIL - $*"
}

# check LABEL COMMAND...: a check that passes when COMMAND succeeds.
check() {
    label=$1
    shift
    if "$@"; then ok "$label"; else not_ok "$label"; fi
}

# show FILE: a file's text, indented, for a failure's explanation.
show() {
    sed -e 's/^/       | /' "$1" | head -n 40
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/auditstream-package.XXXXXX")
tmp=$(cd "$tmp" && pwd -P)
cleanup() {
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Absolute paths: the runs below start from an empty environment (no PATH).
TIMEOUT=$(command -v timeout) || {
    echo "test_package: no timeout(1)" >&2
    exit 2
}
# qemu is run by name, never through binfmt_misc (often absent in containers and CI).
QEMU=${QEMU_AARCH64:-}
if [ -z "$QEMU" ]; then
    for q in qemu-aarch64 qemu-aarch64-static; do
        if command -v "$q" >/dev/null 2>&1; then
            QEMU=$(command -v "$q")
            break
        fi
    done
fi

# ---- static checks: what is in the zip, and what each ELF asks of the system

# check_layout ZIP TASK: bootstrap (executable) at the root, and nothing else.
check_layout() {
    zip=$1
    task=$2
    entries=$(unzip -Z -1 "$zip" | tr '\n' ' ')
    if [ "$entries" = "bootstrap " ]; then
        ok "$name: the one entry is bootstrap"
    else
        not_ok "$name: entries are not bootstrap alone: $entries"
    fi
    mode=$(unzip -Z "$zip" bootstrap 2>/dev/null | awk '{print $1}')
    if [ "$mode" = "-rwxr-xr-x" ] && [ -x "$task/bootstrap" ]; then
        ok "$name: bootstrap is at the zip root, mode $mode"
    else
        not_ok "$name: bootstrap at the zip root has mode '$mode', not -rwxr-xr-x"
    fi
}

# check_elves TASK MACHINE INTERP TRIPLET: the bootstrap's architecture and glibc versions
# (by readelf and again by objdump), and that it needs glibc alone and searches nowhere.
check_elves() {
    task=$1
    machine=$2
    interp=$3
    triplet=$4
    objdump=$triplet-objdump
    command -v "$objdump" >/dev/null 2>&1 || objdump=objdump
    b=$task/bootstrap
    if ! is_elf "$b"; then
        not_ok "$name: bootstrap is not an ELF file"
        return
    fi
    check "$name: bootstrap is $machine" test "$(elf_machine "$b")" = "$machine"
    check "$name: bootstrap's interpreter is $interp" test "$(elf_interp "$b")" = "$interp"
    highest=$(elf_glibc_versions "$b" | tail -n 1)
    too_new=$(elf_glibc_too_new "$b" | tr '\n' ' ')
    # objdump -T reads the version of each imported symbol: a second, independent view.
    by_symbol=$(LC_ALL=C "$objdump" -T "$b" | grep -oE '\(GLIBC_[^)]*\)' | tr -d '()' |
        sort -u -V | while IFS= read -r v; do
            n=${v#GLIBC_}
            case $n in
                *[!0-9.]*) echo "$v" ;;
                *) [ "$(printf '%s\n%s\n' "$n" "$GLIBC_MAX" | sort -V | tail -n 1)" = "$GLIBC_MAX" ] ||
                    echo "$v" ;;
            esac
        done | tr '\n' ' ')
    if [ -n "$too_new" ] || [ -n "$by_symbol" ]; then
        not_ok "$name: bootstrap needs glibc newer than $GLIBC_MAX: $too_new$by_symbol"
    else
        ok "$name: bootstrap needs at most GLIBC_$GLIBC_MAX (highest: ${highest:-none})"
    fi
    needed=$(elf_needed "$b" | tr '\n' ' ')
    foreign=""
    for n in $needed; do
        elf_is_glibc "$n" || foreign="$foreign $n"
    done
    if [ -n "$needed" ] && [ -z "$foreign" ]; then
        ok "$name: bootstrap needs glibc alone: $needed"
    else
        not_ok "$name: bootstrap needs libraries other than glibc's:$foreign"
    fi
    check "$name: bootstrap has no DT_RPATH or DT_RUNPATH" \
        test -z "$(elf_dyn "$b" RPATH)$(elf_dyn "$b" RUNPATH)"
}

# ---- running the bootstrap as Lambda does

# lambda_llp FS TASK: Lambda's LD_LIBRARY_PATH with its folders under the stand-in root FS,
# except /lib64 and /usr/lib64, which are the system's.
lambda_llp() {
    echo "$1/var/lang/lib:/lib64:/usr/lib64:$1/var/runtime:$1/var/runtime/lib:$2:$2/lib:$1/opt/lib"
}

# run_bootstrap FS TASK OUT ERR LD_DEBUG_VALUE ARGS...: runs TASK/bootstrap ARGS from TASK
# with only Lambda's variables set (and LD_DEBUG when not empty); natively for x86_64,
# under qemu-aarch64 for arm64 (the guest's environment then comes from -E alone).
run_bootstrap() {
    fs=$1
    task=$2
    out=$3
    err=$4
    debug=$5
    shift 5
    llp=$(lambda_llp "$fs" "$task")
    if [ "$arch" = arm64 ]; then
        [ -z "$debug" ] || set -- -E "LD_DEBUG=$debug" "$task/bootstrap" "$@"
        [ -n "$debug" ] || set -- "$task/bootstrap" "$@"
        # -L /: guest paths are this machine's, so the aarch64 loader and libc both come
        # from Debian's libc6:arm64 (never mixed with the cross sysroot's copy of glibc).
        (cd "$task" && env -i "$TIMEOUT" "$LIMIT" "$QEMU" -L / -E "LD_LIBRARY_PATH=$llp" \
            -E "PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin" -E "LANG=en_US.UTF-8" -E "TZ=:UTC" \
            -E "LAMBDA_TASK_ROOT=$task" -E "LAMBDA_RUNTIME_DIR=$fs/var/runtime" "$@") >"$out" 2>"$err"
    else
        [ -z "$debug" ] || set -- "LD_DEBUG=$debug" "$TIMEOUT" "$LIMIT" "$task/bootstrap" "$@"
        [ -n "$debug" ] || set -- "$TIMEOUT" "$LIMIT" "$task/bootstrap" "$@"
        (cd "$task" && env -i "LD_LIBRARY_PATH=$llp" "PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin" \
            "LANG=en_US.UTF-8" "TZ=:UTC" "LAMBDA_TASK_ROOT=$task" \
            "LAMBDA_RUNTIME_DIR=$fs/var/runtime" "$@") >"$out" 2>"$err"
    fi
}

# loaded_from ERR: from LD_DEBUG=libs output, "soname path" for each library the loader
# found (the last file it tried for that name is the one it opened: the run succeeded).
loaded_from() {
    awk '
        /find library=/ {
            sub(/.*find library=/, ""); sub(/ .*/, ""); cur = $0
            if (!(cur in known)) { known[cur] = 1; order[++n] = cur }
            next
        }
        /trying file=/ && cur != "" { sub(/.*trying file=/, ""); at[cur] = $0; next }
        END { for (i = 1; i <= n; i++) if (order[i] in at) print order[i], at[order[i]] }
    ' "$1"
}

# check_loaded LABEL TASK DECOYDIR SONAME_PATH_LIST: the loader found libc.so.6, and
# every library it loaded is glibc's, from outside TASK and DECOYDIR.
check_loaded() {
    label=$1
    task=$2
    decoydir=$3
    list=$4
    problems=""
    while read -r soname path; do
        [ -n "$soname" ] || continue
        if ! elf_is_glibc "$soname"; then
            problems="$problems; $soname (not glibc's) from $path"
        else
            case $path in
                "$task"/* | "$decoydir"/*) problems="$problems; glibc's $soname from $path" ;;
            esac
        fi
    done <<EOF
$list
EOF
    printf '%s\n' "$list" | grep -q '^libc\.so\.6 ' || problems="$problems; libc.so.6 not among them"
    if [ -z "$problems" ]; then
        ok "$label: glibc alone: $(printf '%s\n' "$list" | awk '{print $2}' | tr '\n' ' ')"
    else
        not_ok "$label:${problems#;}"
        printf '%s\n' "$list" | sed -e 's/^/       | /'
    fi
}

# check_golden LABEL RC OUT GOLDEN: exit status 0 and exactly the golden lines.
check_golden() {
    if [ "$2" -eq 0 ] && cmp -s "$3" "$4"; then
        ok "$1: exit 0, output equals ${4#"$top"/}"
    else
        not_ok "$1: exit $2, output differs from ${4#"$top"/}"
        diff "$4" "$3" | head -n 10 | sed -e 's/^/       | /'
    fi
}

# make_decoys DIR KIND NAMES: NAMES as KIND decoys in DIR: "empty" files, or "stub" ELF
# libraries of the target architecture with the right soname and none of the symbols.
make_decoys() {
    dir=$1
    kind=$2
    shift 2
    rm -rf "$dir"
    mkdir -p "$dir"
    for n in "$@"; do
        if [ "$kind" = empty ]; then
            : >"$dir/$n"
        else
            echo 'int as_decoy_library_exports_nothing_useful;' >"$tmp/decoy.c"
            "$triplet-gcc" -shared -fPIC -nostdlib -Wl,-soname,"$n" -o "$dir/$n" "$tmp/decoy.c" ||
                return 1
        fi
    done
}

# run_control FS TASK OUT ERR: a program linked against the shared libcurl and libcrypto,
# run with Lambda's LD_LIBRARY_PATH: it must pick the decoys up and fail, or
# the decoys prove nothing.
run_control() {
    if [ "$arch" = arm64 ]; then
        (cd "$2" && env -i "$TIMEOUT" "$LIMIT" "$QEMU" -L / -E "LD_LIBRARY_PATH=$(lambda_llp "$1" "$2")" \
            "$tmp/control-$arch") >"$3" 2>"$4"
    else
        (cd "$2" && env -i "LD_LIBRARY_PATH=$(lambda_llp "$1" "$2")" "$TIMEOUT" "$LIMIT" \
            "$tmp/control-$arch") >"$3" 2>"$4"
    fi
}

# check_maps FS TASK: x86_64 only: the libraries mapped into the running bootstrap, read
# from /proc/PID/maps while it waits on a FIFO for its event (every library is loaded by
# then: -z now), must be the zip's and glibc's.
check_maps() {
    fs=$1
    task=$2
    fifo=$tmp/event.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    llp=$(lambda_llp "$fs" "$task")
    (cd "$task" && exec env -i "LD_LIBRARY_PATH=$llp" "PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin" \
        "LANG=en_US.UTF-8" "TZ=:UTC" "LAMBDA_TASK_ROOT=$task" "$task/bootstrap" --print "$fifo") \
        >"$tmp/maps.out" 2>"$tmp/maps.err" &
    pid=$!
    # Opening the FIFO for writing returns once the bootstrap has opened it: main() runs.
    (exec 3>"$fifo" && cat "/proc/$pid/maps" >"$tmp/maps.txt" && cat "$EVENT" >&3) &
    writer=$!
    wait "$pid"
    rc=$?
    # A bootstrap that died before opening the FIFO leaves the writer blocked in open().
    kill "$writer" 2>/dev/null
    wait "$writer" 2>/dev/null
    check_golden "$name: while mapped (FIFO input)" "$rc" "$tmp/maps.out" "$GOLDEN_CLASSIC"
    list=$(awk '$6 ~ /\.so/ { print $6 }' "$tmp/maps.txt" | sort -u | while IFS= read -r p; do
        echo "${p##*/} $p"
    done)
    if [ -z "$list" ]; then
        not_ok "$name: /proc/PID/maps could not be read"
        return
    fi
    check_loaded "$name: /proc/PID/maps" "$task" "$fs/var/lang/lib" "$list"
}

# check_runtime FS TASK: the bootstrap as a Lambda function, against the Runtime API
# stand-in (tests/support/runtime_standin.py), with stub decoys in the first folder of
# LD_LIBRARY_PATH: an event with no records must come back as {"batchItemFailures":[]}.
# This makes the zip's libcurl speak HTTP, not just load. DynamoDB is never called.
check_runtime() {
    fs=$1
    task=$2
    # A file of its own per run: the shell tests it before the child has truncated it.
    python3 "$top/tests/support/runtime_standin.py" --port 0 >"$tmp/standin-$arch.out" \
        2>"$tmp/standin-$arch.err" &
    standin=$!
    i=0
    while [ ! -s "$tmp/standin-$arch.out" ] && [ "$i" -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    port=$(head -n 1 "$tmp/standin-$arch.out")
    case $port in
        "" | *[!0-9]*)
            not_ok "$name: the Runtime API stand-in did not start"
            show "$tmp/standin-$arch.err"
            kill "$standin" 2>/dev/null
            wait "$standin" 2>/dev/null
            return
            ;;
    esac
    api=127.0.0.1:$port
    standin_call() {
        python3 - "$api" "$@" <<'PY'
import sys, urllib.request
api, method, path = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request("http://%s%s" % (api, path), data=body, method=method)
try:
    with urllib.request.urlopen(req, timeout=60) as r:
        sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    sys.stdout.write(e.read().decode())
    sys.exit(1)
PY
    }
    standin_call POST "/_test/enqueue?request_id=package-test-1" '{"Records":[]}' >/dev/null
    set -- "AWS_LAMBDA_RUNTIME_API=$api" "AUDIT_TABLE=Audit" "AWS_REGION=us-east-1" \
        "AWS_DEFAULT_REGION=us-east-1" "AWS_ACCESS_KEY_ID=AKIDPACKAGETEST" \
        "AWS_SECRET_ACCESS_KEY=package-test-secret" "AWS_SESSION_TOKEN=package-test-token" \
        "AWS_LAMBDA_FUNCTION_NAME=audit_producer" "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128" \
        "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9" "LD_LIBRARY_PATH=$(lambda_llp "$fs" "$task")" \
        "PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin" "LANG=en_US.UTF-8" "TZ=:UTC" \
        "LAMBDA_TASK_ROOT=$task" "LAMBDA_RUNTIME_DIR=$fs/var/runtime"
    if [ "$arch" = arm64 ]; then
        guest=""
        for v in "$@"; do
            guest="$guest -E $v"
        done
        # shellcheck disable=SC2086
        (cd "$task" && exec env -i "$TIMEOUT" "$LIMIT" "$QEMU" -L / $guest "$task/bootstrap") \
            >"$tmp/runtime.out" 2>"$tmp/runtime.err" &
    else
        (cd "$task" && exec env -i "$@" "$TIMEOUT" "$LIMIT" "$task/bootstrap") \
            >"$tmp/runtime.out" 2>"$tmp/runtime.err" &
    fi
    fn=$!
    results=$(standin_call GET "/_test/wait?posts=1&timeout_ms=30000")
    # The loop long-polls for the next event for ever: stop it, and the stand-in.
    kill "$fn" 2>/dev/null
    wait "$fn" 2>/dev/null
    kill "$standin" 2>/dev/null
    wait "$standin" 2>/dev/null
    verdict=$(printf '%s' "$results" | python3 -c '
import json, sys
try:
    posts = json.load(sys.stdin)["posts"]
except Exception:
    print("no answer from the function"); sys.exit()
p = posts[0] if posts else {}
if p.get("kind") == "response" and p.get("request_id") == "package-test-1" \
        and p.get("json") == {"batchItemFailures": []}:
    print("ok")
else:
    print("posted %s %s" % (p.get("kind"), p.get("body")))
')
    if [ "$verdict" = ok ]; then
        ok "$name: as a function (Runtime API stand-in, stub decoys): {\"Records\":[]} answered {\"batchItemFailures\":[]}"
    else
        not_ok "$name: as a function (Runtime API stand-in, stub decoys): $verdict"
        show "$tmp/runtime.out"
        show "$tmp/runtime.err"
    fi
}

# ---- one zip

check_zip() {
    zip=$1
    name=${zip##*/}
    case $name in
        *-x86_64.zip) arch=x86_64 triplet=x86_64-linux-gnu machine=X86-64 \
            interp=/lib64/ld-linux-x86-64.so.2 ;;
        *-arm64.zip) arch=arm64 triplet=aarch64-linux-gnu machine=AArch64 \
            interp=/lib/ld-linux-aarch64.so.1 ;;
        *)
            not_ok "$name: not an audit_producer-{x86_64,arm64}.zip"
            return
            ;;
    esac
    if [ ! -f "$zip" ]; then
        not_ok "$name: missing (make package)"
        return
    fi
    echo "== $name"
    fs=$tmp/$arch/fs
    task=$fs/var/task
    mkdir -p "$task" "$fs/var/lang/lib" "$fs/var/runtime/lib" "$fs/opt/lib"
    if ! unzip -q "$zip" -d "$task"; then
        not_ok "$name: unzip failed"
        return
    fi
    check_layout "$zip" "$task"
    check_elves "$task" "$machine" "$interp" "$triplet"

    if [ "$arch" = arm64 ] && [ -z "$QEMU" ]; then
        not_ok "$name: no qemu-aarch64 (Debian package qemu-user): the bootstrap was not run"
        return
    fi
    runner=""
    [ "$arch" = arm64 ] && runner=" under $QEMU"

    out=$tmp/$arch.out
    err=$tmp/$arch.err
    run_bootstrap "$fs" "$task" "$out" "$err" "" --print "$EVENT"
    check_golden "$name: bootstrap --print$runner, Lambda's environment" $? "$out" "$GOLDEN_CLASSIC"
    if [ -s "$err" ]; then
        not_ok "$name: bootstrap --print wrote to stderr"
        show "$err"
    else
        ok "$name: bootstrap --print wrote nothing to stderr"
    fi
    run_bootstrap "$fs" "$task" "$out" "$err" "" --print "$EVENT" --format detailed
    check_golden "$name: bootstrap --print --format detailed$runner" $? "$out" "$GOLDEN_DETAILED"

    run_bootstrap "$fs" "$task" "$out" "$err" libs --print "$EVENT"
    check_golden "$name: with LD_DEBUG=libs" $? "$out" "$GOLDEN_CLASSIC"
    check_loaded "$name: LD_DEBUG=libs" "$task" "$fs/var/lang/lib" "$(loaded_from "$err")"

    [ "$arch" = x86_64 ] && check_maps "$fs" "$task"

    # Amazon Linux's /lib64 has its own libcurl.so.4, libssl.so.3, libcrypto.so.3, ...: put
    # decoys of them in the first folder of LD_LIBRARY_PATH.
    printf '#include <curl/curl.h>\n#include <openssl/crypto.h>\nint main(void) { return curl_version() == 0 || OpenSSL_version_num() == 0; }\n' \
        >"$tmp/control.c"
    if ! "$triplet-gcc" -o "$tmp/control-$arch" "$tmp/control.c" -lcurl -lcrypto 2>"$tmp/control.log"; then
        not_ok "$name: cannot build the control program with $triplet-gcc"
        show "$tmp/control.log"
    fi
    decoys="libcurl.so.4 libssl.so.3 libcrypto.so.3 libjansson.so.4 libz.so.1"
    for kind in empty stub; do
        # shellcheck disable=SC2086
        if ! make_decoys "$fs/var/lang/lib" "$kind" $decoys; then
            not_ok "$name: cannot make $kind decoys"
            continue
        fi
        run_bootstrap "$fs" "$task" "$out" "$err" libs --print "$EVENT"
        check_golden "$name: $kind decoys in $fs/var/lang/lib" $? "$out" "$GOLDEN_CLASSIC"
        check_loaded "$name: $kind decoys" "$task" "$fs/var/lang/lib" "$(loaded_from "$err")"
        # Nothing but glibc is needed, so the loader never even opens a decoy (glibc's own
        # libraries are looked for there, as on Lambda, and not found).
        looked=""
        for n in $decoys; do
            grep -qF "trying file=$fs/var/lang/lib/$n" "$err" && looked="$looked $n"
        done
        if [ -z "$looked" ]; then
            ok "$name: the loader never tried a decoy"
        else
            not_ok "$name: the loader tried the decoys of:$looked"
        fi
        if [ -x "$tmp/control-$arch" ]; then
            run_control "$fs" "$task" "$tmp/control.out" "$tmp/control.err"
            rc=$?
            if [ "$rc" -ne 0 ] && grep -q "$fs/var/lang/lib/lib" "$tmp/control.err"; then
                ok "$name: control linked to the shared libraries is caught by the $kind decoys (exit $rc)"
            else
                not_ok "$name: control linked to the shared libraries ran with the $kind decoys (exit $rc): they prove nothing"
                show "$tmp/control.err"
            fi
        fi
    done
    # The stub decoys stay for the function run.
    check_runtime "$fs" "$task"
    rm -rf "$fs/var/lang/lib"
    mkdir -p "$fs/var/lang/lib"
}

for zip in "$@"; do
    check_zip "$zip"
done

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
