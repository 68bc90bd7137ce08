#!/bin/sh
# libc functions that invite overruns or hidden global state, banned by a script
# rather than by memory (STYLE.md): none may appear in the library or the handler.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
banned='sprintf|vsprintf|strcpy|strcat|strncat|strtok|gets|gmtime|localtime|asctime|ctime|atoi|atol|atof|setenv|putenv|rand|srand'
hits=$(grep -nE "\\b($banned)[[:space:]]*\\(" "$top"/lib/*.c "$top"/lib/*.h "$top"/include/*.h \
    "$top"/include/auditstream/*.h "$top"/handler/*.c 2>/dev/null |
    grep -vE "^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)")
if [ -n "$hits" ]; then
    echo "banned functions used:" >&2
    echo "$hits" >&2
    echo "banned-functions: 0 passed, 1 failed"
    exit 1
fi
echo "banned-functions: 1 passed, 0 failed"
