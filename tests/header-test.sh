#!/bin/sh
# Each public header must compile on its own, as C11 and as C++ (docs/library.md).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
for header in "$top"/include/auditstream.h "$top"/include/auditstream/*.h; do
    name=${header#"$top/include/"}
    printf '#include <%s>\nint main(void) { return 0; }\n' "$name" > "$tmp/c.c"
    printf '#include <%s>\nint main() { return 0; }\n' "$name" > "$tmp/cxx.cc"
    if cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$top/include" -c "$tmp/c.c" -o "$tmp/c.o" &&
        c++ -std=c++11 -Wall -Wextra -Werror -I"$top/include" -c "$tmp/cxx.cc" -o "$tmp/cxx.o"; then
        passed=$((passed + 1))
    else
        echo "header-test: $name does not compile on its own" >&2
        failed=$((failed + 1))
    fi
done
echo "headers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
