#!/bin/sh
# Guard: the repository stands alone. No tracked file may read or name the folder that
# once sat beside the tree, nor the design and style notes kept there; docs/ is the
# reference now.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

# Spelled in pieces so that this script does not name them itself.
beside='\.\./'shared
note=DESIGN'\.md'
style=STYLE'\.md'

# Tracked files when this is a git checkout (what a clone would get), else every file
# but build output (a copy made with `git archive`).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    list() { git ls-files -z; }
else
    list() {
        find . -type d \( -name .git -o -name 'build' -o -name 'build-*' -o -name dist \
            -o -name __pycache__ \) -prune -o -type f -print0 | sed -z 's|^\./||'
    }
fi

hits=$(list | xargs -0 grep -InE -e "$beside" -e "$note" -e "$style" -- 2>/dev/null)
files=$(list | tr -cd '\0' | wc -c)
if [ "$files" -eq 0 ]; then
    echo "standalone-check: no file found under $top: nothing was checked" >&2
    echo "standalone-check: 0 passed, 1 failed"
    exit 1
fi
if [ -n "$hits" ]; then
    echo "standalone-check: these lines read or name what is not in the repository" >&2
    echo "(point to docs/ instead):" >&2
    printf '%s\n' "$hits" >&2
    echo "standalone-check: 0 passed, 1 failed"
    exit 1
fi
echo "standalone-check: $files files, none names what lies outside the tree"
echo "standalone-check: 1 passed, 0 failed"
