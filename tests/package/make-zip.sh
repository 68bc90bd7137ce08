#!/bin/sh
# Lays out one Lambda zip (README "Packaging"): the stripped `bootstrap`, alone at the
# root. Refuses a bootstrap that needs any library but glibc, or a newer glibc than Lambda's.
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

rm -rf "$stage"
mkdir -p "$stage"
"$STRIP" --strip-all -o "$stage/bootstrap" "$bootstrap"
chmod 755 "$stage/bootstrap"

# Only glibc may come from the system: any other library would be Lambda's /lib64 copy.
for soname in $(elf_needed "$stage/bootstrap"); do
    elf_is_glibc "$soname" ||
        fail "$bootstrap needs $soname, which is not glibc's: link it statically (mk/package.mk)"
done
for tag in RPATH RUNPATH; do
    [ -z "$(elf_dyn "$stage/bootstrap" $tag)" ] ||
        fail "$bootstrap has a DT_$tag, yet it needs nothing but glibc"
done

too_new=$(elf_glibc_too_new "$stage/bootstrap")
if [ -n "$too_new" ]; then
    echo "make-zip: bootstrap needs $(echo "$too_new" | tr '\n' ' ')(Lambda's provided.al2023" \
        "has glibc $GLIBC_MAX); the symbols:" >&2
    objdump=$triplet-objdump
    command -v "$objdump" >/dev/null 2>&1 || objdump=objdump
    for v in $too_new; do
        LC_ALL=C "$objdump" -T "$stage/bootstrap" | grep -F "($v)" >&2 || true
    done
    fail "the zip would not start on provided.al2023"
fi

# A reproducible zip: fixed times, fixed order, no extra attributes, no folder entries.
epoch=${SOURCE_DATE_EPOCH:-946684800}
find "$stage" -exec touch -h -d "@$epoch" {} +
mkdir -p "$(dirname "$zip_out")"
tmp_zip=$zip_out.tmp.$$
rm -f "$tmp_zip"
abs_zip=$(cd "$(dirname "$tmp_zip")" && pwd)/$(basename "$tmp_zip")
(cd "$stage" && TZ=UTC zip -q -X -D "$abs_zip" bootstrap)
mv -f "$tmp_zip" "$zip_out"
echo "make-zip: $zip_out: bootstrap, $(wc -c <"$zip_out") bytes"
