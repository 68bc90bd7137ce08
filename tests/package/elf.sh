# shellcheck shell=sh
# ELF facts for packaging, sourced by make-zip.sh and test_package.sh: what a file
# needs (sonames, GLIBC_ versions) and where it searches, read with readelf (any arch).

# The glibc version of Lambda's provided.al2023 (AL2023): no ELF in a zip may need more.
GLIBC_MAX=2.34

# The sonames glibc 2.34 itself provides: these come from the system, never the zip (a
# libc.so.6 must match the ld.so that loads it).
GLIBC_SONAMES="ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libmvec.so.1
libpthread.so.0 libdl.so.2 librt.so.1 libresolv.so.2 libutil.so.1 libanl.so.1
libBrokenLocale.so.1 libnss_files.so.2 libnss_dns.so.2 libthread_db.so.1"

READELF=${READELF:-readelf}

# elf_is_glibc SONAME: true when SONAME is one of glibc's own libraries.
elf_is_glibc() {
    for g in $GLIBC_SONAMES; do
        [ "$1" = "$g" ] && return 0
    done
    return 1
}

# elf_needed FILE: its DT_NEEDED sonames, one a line.
elf_needed() {
    LC_ALL=C "$READELF" -d -W "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}

# elf_dyn FILE TAG: the value of its RPATH, RUNPATH or SONAME entry (empty when absent).
elf_dyn() {
    LC_ALL=C "$READELF" -d -W "$1" | sed -n "s/.*($2).*\\[\\(.*\\)\\]\$/\\1/p"
}

# elf_glibc_versions FILE: every GLIBC_* version it needs (the loader checks each of these
# against the system's libc at start), one a line, sorted.
elf_glibc_versions() {
    LC_ALL=C "$READELF" -V -W "$1" | sed -n 's/.*Name: \(GLIBC_[^ ]*\).*/\1/p' | sort -u -V
}

# elf_glibc_too_new FILE: the GLIBC_* versions FILE needs that glibc $GLIBC_MAX lacks
# (newer numbers, and named ones such as GLIBC_PRIVATE or GLIBC_ABI_DT_RELR), one a line.
elf_glibc_too_new() {
    elf_glibc_versions "$1" | while IFS= read -r v; do
        n=${v#GLIBC_}
        case $n in
            *[!0-9.]* | "") echo "$v" ;;
            *)
                newest=$(printf '%s\n%s\n' "$n" "$GLIBC_MAX" | sort -V | tail -n 1)
                [ "$newest" = "$GLIBC_MAX" ] || echo "$v"
                ;;
        esac
    done
}

# elf_machine FILE: its e_machine as readelf names it (X86-64, AArch64, ...).
elf_machine() {
    LC_ALL=C "$READELF" -h "$1" | sed -n 's/^ *Machine: *//p' |
        sed -e 's/Advanced Micro Devices X86-64/X86-64/'
}

# elf_interp FILE: its program interpreter (PT_INTERP), empty for a shared library.
elf_interp() {
    LC_ALL=C "$READELF" -l -W "$1" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p'
}

# is_elf FILE: true when FILE starts with the ELF magic.
is_elf() {
    [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}
