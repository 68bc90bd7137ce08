#!/bin/sh
# Proves that the compiler keeps the error convention (lib/core/internal.h): each snippet
# below misuses as_result and must fail to compile with the project's flags, and the
# correct one must compile, so that a check that passes by rejecting everything cannot.
# Usage: tests/alloc/result-types.sh [CC]
set -u

cc=${1:-${CC:-cc}}
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -I$top/include -I$top/lib"

passed=0
failed=0

# compile NAME EXPECT BODY [RETURNS]: BODY goes inside a function returning RETURNS
# (as_result unless said, ending with RETURNS's success), beside helpers that return
# as_result, as_status, int and bool.
compile() {
    name=$1
    expect=$2
    returns=${4:-AS_RESULT}
    if [ "$returns" = AS_RESULT ]; then ok=AS_RESULT_OK; else ok=AS_OK; fi
    cat >"$dir/t.c" <<SNIPPET
#include "core/internal.h"
AS_RESULT r_ok(void);
AS_RESULT r_ok(void) { return AS_RESULT_OK; }
AS_MUST_CHECK as_status s_ok(void);
as_status s_ok(void) { return AS_OK; }
int i_ok(void);
int i_ok(void) { return 0; }
bool b_ok(void);
bool b_ok(void) { return true; }
$returns snippet(as_error *err);
$returns snippet(as_error *err)
{
    (void)err;
    $3
    return $ok;
}
SNIPPET
    if $cc $flags -c "$dir/t.c" -o "$dir/t.o" >"$dir/log" 2>&1; then
        got=compiles
    else
        got=fails
    fi
    if [ "$got" = "$expect" ]; then
        passed=$((passed + 1))
        echo "ok   $name ($got)"
    else
        failed=$((failed + 1))
        echo "FAIL $name: $got, expected it $expect"
        sed 's/^/    /' "$dir/log"
    fi
}

compile "correct use" compiles \
    'AS_GUARD(r_ok()); AS_GUARD_STATUS(s_ok()); AS_ENSURE(i_ok() == 0, as_fail(err, AS_ERR_ARGUMENT, 0, "x %d", 1)); AS_ENSURE(b_ok(), as_fail_nomem(err, "testing")); if (!as_result_is_ok(r_ok())) { return AS_RESULT_OK; }'
compile "AS_GUARD of an int" fails 'AS_GUARD(i_ok());'
compile "AS_GUARD of a bool" fails 'AS_GUARD(b_ok());'
compile "AS_GUARD of an as_status in an as_result function" fails 'AS_GUARD(s_ok());'
compile "AS_GUARD of an enum constant" fails 'AS_GUARD(AS_ERR_NOMEM);'
compile "AS_GUARD_STATUS of an int" fails 'AS_GUARD_STATUS(i_ok());'
compile "AS_GUARD_STATUS of a bool" fails 'AS_GUARD_STATUS(b_ok());'
compile "AS_GUARD_STATUS of an as_result" fails 'AS_GUARD_STATUS(r_ok());'
# The as_status branch lib/aws and lib/lambda used while they were converted is gone: an
# as_status is no result anywhere, not even in a function that returns as_status.
compile "AS_GUARD of an as_status in an as_status function" fails 'AS_GUARD(s_ok());' as_status
compile "AS_GUARD of an as_result in an as_status function" fails 'AS_GUARD(r_ok());' as_status
compile "a status function returning as_status_of" compiles 'if (!as_result_is_ok(r_ok())) { return as_status_of(r_ok()); }' as_status
compile "AS_ENSURE returning a status" fails 'AS_ENSURE(b_ok(), AS_ERR_NOMEM);'
compile "a dropped result" fails 'r_ok();'
compile "a dropped as_fail" fails 'as_fail(err, AS_ERR_NOMEM, 0, "x");'
compile "a result as a condition" fails 'if (r_ok()) { return AS_RESULT_OK; }'
compile "a result as an int" fails 'int x = r_ok(); (void)x;'
compile "a result compared with AS_OK" fails 'if (r_ok() == AS_OK) { return AS_RESULT_OK; }'
compile "a status returned as a result" fails 'return AS_ERR_NOMEM;'

# Every layer keeps to it: as_error_set, the as_status form of as_fail, is gone.
for layer in lib/core lib/aws lib/lambda; do
    stray=$(grep -rl --include='*.[ch]' 'as_error_set(' "$top/$layer")
    if [ -z "$stray" ]; then
        passed=$((passed + 1))
        echo "ok   $layer fails only through as_fail"
    else
        failed=$((failed + 1))
        echo "FAIL $layer still calls as_error_set in: $stray"
    fi
done

echo "result-types: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
