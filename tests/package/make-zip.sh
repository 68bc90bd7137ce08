#!/bin/sh
# Lays out one Lambda zip (DESIGN.md "Packaging"): `bootstrap` at the root and, in lib/,
# every non-glibc library it loads, then refuses the zip when any ELF needs a newer glibc.
# Usage: make-zip.sh TRIPLET BOOTSTRAP STAGE_DIR ZIP   (run by mk/package.mk)
set -eu

if [ $# -ne 4 ]; then
    echo "usage: make-zip.sh TRIPLET BOOTSTRAP STAGE_DIR ZIP" >&2
    exit 2
fi
triplet=$1
bootstrap=$2
stage=$3
zip_out=$4

here=$(cd "$(dirname "$0")" && pwd)
READELF=$triplet-readelf
command -v "$READELF" >/dev/null 2>&1 || READELF=readelf
STRIP=$triplet-strip
# shellcheck source=tests/package/elf.sh
. "$here/elf.sh"

fail() {
    echo "make-zip: error: $*" >&2
    exit 1
}

# Debian's multiarch folders for the target: where the :arch packages put their libraries.
search_dirs="/usr/lib/$triplet /lib/$triplet"

rm -rf "$stage"
mkdir -p "$stage/lib"
"$STRIP" --strip-all -o "$stage/bootstrap" "$bootstrap"
chmod 755 "$stage/bootstrap"

machine=$(elf_machine "$stage/bootstrap")
# shellcheck disable=SC2016 # a literal $ORIGIN
[ "$(elf_dyn "$stage/bootstrap" RPATH)" = '$ORIGIN/lib' ] ||
    fail "$bootstrap: DT_RPATH is not \$ORIGIN/lib (linked without -Wl,--disable-new-dtags?)"
[ -z "$(elf_dyn "$stage/bootstrap" RUNPATH)" ] ||
    fail "$bootstrap: has a DT_RUNPATH, which would stop its DT_RPATH from serving its libraries"

# The closure of DT_NEEDED, breadth first: glibc's own libraries stay the system's, every
# other one is copied under its soname. None may carry a DT_RUNPATH: a library that has one
# ignores the executable's DT_RPATH for its own dependencies.
queue=$(elf_needed "$stage/bootstrap")
done_list=" "
while [ -n "$queue" ]; do
    # shellcheck disable=SC2086 # a word list
    set -- $queue
    soname=$1
    shift
    queue=$*
    case $done_list in *" $soname "*) continue ;; esac
    done_list="$done_list$soname "
    elf_is_glibc "$soname" && continue
    found=""
    for d in $search_dirs; do
        if [ -e "$d/$soname" ]; then
            found=$d/$soname
            break
        fi
    done
    [ -n "$found" ] || fail "$soname (needed by the bootstrap's closure) is not in $search_dirs"
    cp -L "$found" "$stage/lib/$soname"
    chmod 644 "$stage/lib/$soname"
    [ "$(elf_machine "$stage/lib/$soname")" = "$machine" ] ||
        fail "$found is $(elf_machine "$stage/lib/$soname"), not $machine"
    [ -z "$(elf_dyn "$stage/lib/$soname" RUNPATH)" ] || fail "$found has a DT_RUNPATH"
    queue="$queue $(elf_needed "$stage/lib/$soname" | tr '\n' ' ')"
done

bad=0
for f in "$stage/bootstrap" "$stage"/lib/*; do
    [ -e "$f" ] || continue # lib/ is empty
    too_new=$(elf_glibc_too_new "$f")
    if [ -n "$too_new" ]; then
        echo "make-zip: ${f#"$stage"/} needs $(echo "$too_new" | tr '\n' ' ')(Lambda's" \
            "provided.al2023 has glibc $GLIBC_MAX); the symbols:" >&2
        objdump=$triplet-objdump
        command -v "$objdump" >/dev/null 2>&1 || objdump=objdump
        for v in $too_new; do
            LC_ALL=C "$objdump" -T "$f" | grep -F "($v)" >&2 || true
        done
        bad=1
    fi
done
[ "$bad" -eq 0 ] || fail "the zip would not start on provided.al2023"

# A reproducible zip: fixed times, fixed order, no extra attributes, no folder entries.
epoch=${SOURCE_DATE_EPOCH:-946684800}
find "$stage" -exec touch -h -d "@$epoch" {} +
mkdir -p "$(dirname "$zip_out")"
tmp_zip=$zip_out.tmp.$$
rm -f "$tmp_zip"
abs_zip=$(cd "$(dirname "$tmp_zip")" && pwd)/$(basename "$tmp_zip")
(cd "$stage" && { echo bootstrap; find lib -type f | LC_ALL=C sort; } |
    TZ=UTC zip -q -X -D "$abs_zip" -@)
mv -f "$tmp_zip" "$zip_out"
echo "make-zip: $zip_out: bootstrap and $(find "$stage/lib" -type f | wc -l) libraries," \
    "$(wc -c <"$zip_out") bytes"
