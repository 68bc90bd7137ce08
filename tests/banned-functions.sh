#!/bin/sh
# libc functions that invite overruns or hidden global state, banned by a script
# rather than by memory (docs/library.md): none may appear in the library, the handler or cli/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
banned='sprintf|vsprintf|strcpy|strcat|strncat|strtok|gets|gmtime|localtime|asctime|ctime|atoi|atol|atof|setenv|putenv|rand|srand'
hits=$(grep -nE "\\b($banned)[[:space:]]*\\(" "$top"/lib/*/*.c "$top"/lib/*/*.h "$top"/include/*.h \
    "$top"/include/auditstream/*.h "$top"/handler/*.c "$top"/cli/*.c "$top"/cli/*.h 2>/dev/null |
    grep -vE "^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)" |
    # One exception: lib/lambda/runtime.c may call putenv. Lambda's runtime contract asks the
    # runtime to set _X_AMZN_TRACE_ID per invocation, and glibc's setenv keeps every value
    # it ever stored (memory would grow with each trace id); a line of that file passes
    # when nothing banned is left once its putenv calls are taken out.
    while IFS= read -r line; do
        case $line in
            "$top/lib/lambda/runtime.c:"*)
                printf '%s\n' "$line" | sed -E 's/(^|[^[:alnum:]_])putenv[[:space:]]*\(/\1/g' |
                    grep -E "\b($banned)[[:space:]]*\(" >/dev/null && printf '%s\n' "$line"
                ;;
            *) printf '%s\n' "$line" ;;
        esac
    done)
if [ -n "$hits" ]; then
    echo "banned functions used:" >&2
    echo "$hits" >&2
    echo "banned-functions: 0 passed, 1 failed"
    exit 1
fi
echo "banned-functions: 1 passed, 0 failed"
