#!/bin/sh
# Builds the libcurl that the zip's bootstrap links statically: Debian's own curl source,
# at the version of the installed libcurl4-openssl-dev and with Debian's patches (its
# security fixes), configured for HTTP and HTTPS over OpenSSL and nothing else.
#
# Why not Debian's libcurl.so.4: its build pulls in 25 more libraries (LDAP, Kerberos,
# SSH, IDN, PSL, RTMP, HTTP/2, brotli, zstd, ...) that DynamoDB never uses, and loading
# them took 2.8 ms of init and 4.1 MB of RSS (BENCHMARKS.md).
#
# Usage: build-curl.sh TRIPLET SOURCE_CACHE BUILD_DIR PREFIX   (run by mk/package.mk)
#   SOURCE_CACHE  the downloaded, unpacked source, shared by every architecture
#   BUILD_DIR     this architecture's out-of-tree build
#   PREFIX        receives include/curl/*.h and lib/libcurl.a
# Nothing is rebuilt when PREFIX already holds this version built with these options.
set -eu

if [ $# -ne 4 ]; then
    echo "usage: build-curl.sh TRIPLET SOURCE_CACHE BUILD_DIR PREFIX" >&2
    exit 2
fi
triplet=$1
# Absolute: apt reads relative paths from its own folders.
mkdir -p "$2" "$3" "$4"
cache=$(cd "$2" && pwd)
build=$(cd "$3" && pwd)
prefix=$(cd "$4" && pwd)

fail() {
    echo "build-curl: error: $*" >&2
    exit 1
}

case $triplet in
    x86_64-linux-gnu) debarch=amd64 ;;
    aarch64-linux-gnu) debarch=arm64 ;;
    *) fail "no Debian architecture known for $triplet" ;;
esac

version=$(dpkg-query -W -f='${source:Version}' "libcurl4-openssl-dev:$debarch" 2>/dev/null) ||
    fail "libcurl4-openssl-dev:$debarch is not installed (make deps)"

# HTTP/1.1 and HTTPS, a threaded resolver (timeouts cover DNS), and whatever the library
# sets: CURLOPT_PROXY stays built in because the client sets it to "" to ignore the
# environment's proxies. No CA bundle or path is compiled in: the client always names
# one (lib/ddb.c), and a Debian path would be wrong on Amazon Linux. OpenSSL's config
# file is not read, so a host's openssl.cnf cannot change how we connect.
options="--disable-shared --enable-static --with-pic --disable-dependency-tracking
--with-openssl --without-zlib --without-brotli --without-zstd --without-libpsl
--without-libidn2 --without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-librtmp
--without-libssh2 --without-libssh --without-libgsasl --without-gssapi --disable-ldap
--disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3
--disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt --disable-ftp
--disable-file --disable-manual --disable-libcurl-option --disable-ntlm --disable-ntlm-wb
--disable-tls-srp --disable-alt-svc --disable-hsts --disable-cookies --disable-netrc
--disable-doh --disable-mime --disable-websockets --disable-unix-sockets
--enable-threaded-resolver --without-ca-bundle --without-ca-path --without-ca-fallback
--disable-openssl-auto-load-config"
cflags="-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2"
stamp="curl $version for $triplet: $(echo "$options $cflags" | tr '\n' ' ')"

if [ -f "$prefix/lib/libcurl.a" ] && [ "$(cat "$prefix/.built" 2>/dev/null)" = "$stamp" ]; then
    touch "$prefix/lib/libcurl.a" # up to date for make, which ran us for a newer script
    exit 0
fi

# ---- the source: apt's own deb-src view of this machine's configured Debian archives,
# kept in SOURCE_CACHE so that the system's apt setup is never changed.
src=$cache/curl-$version
if [ ! -f "$src/.unpacked" ]; then
    apt=$cache/apt
    rm -rf "$apt" "$src"
    mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/download"
    : >"$apt/sources.list"
    if [ -f /etc/apt/sources.list ]; then
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list >"$apt/sources.list"
    fi
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/parts/${f##*/}"
    done
    for f in /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >"$apt/parts/${f##*/}"
    done
    apt_get() {
        apt-get -q -o Dir::Etc::SourceList="$apt/sources.list" \
            -o Dir::Etc::SourceParts="$apt/parts" -o Dir::State::Lists="$apt/lists" \
            -o Dir::Cache="$apt/cache" -o APT::Sandbox::User="$(id -un)" "$@"
    }
    echo "build-curl: fetching Debian's curl source $version"
    apt_get update >"$apt/update.log" 2>&1 || {
        cat "$apt/update.log" >&2
        fail "apt-get update of the source indexes failed"
    }
    (cd "$apt/download" && apt_get source --download-only "curl=$version") >"$apt/source.log" 2>&1 || {
        cat "$apt/source.log" >&2
        fail "apt-get source curl=$version failed"
    }
    # apt checked the files against the signed archive index; dpkg-source applies
    # Debian's patches.
    dpkg-source -x "$apt/download"/curl_*.dsc "$src" >"$apt/unpack.log" 2>&1 || {
        cat "$apt/unpack.log" >&2
        fail "dpkg-source could not unpack curl $version"
    }
    # When the installed version has gone from the archive (a security archive keeps only
    # its newest upload), apt fetches the newest source: the one with every fix.
    got=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
    [ "$got" = "$version" ] ||
        echo "build-curl: curl $version is no longer in the archive; using its $got" >&2
    : >"$src/.unpacked"
fi

# ---- the build: configure finds the target's OpenSSL through its .pc files alone.
upstream=$(sed -n 's/^#define LIBCURL_VERSION "\(.*\)"$/\1/p' "$src/include/curl/curlver.h")
echo "build-curl: building libcurl $upstream for $triplet (HTTP and HTTPS over OpenSSL only)"
rm -rf "${build:?}"/* "${prefix:?}"/*
build_type=$(dpkg-architecture -qDEB_BUILD_GNU_TYPE 2>/dev/null || gcc -dumpmachine)
# shellcheck disable=SC2086 # $options is a word list
(cd "$build" &&
    PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig PKG_CONFIG_PATH= \
        CC=$triplet-gcc CFLAGS=$cflags \
        "$src/configure" --build="$build_type" --host="$triplet" --prefix="$prefix" \
        $options) >"$build/configure.out" 2>&1 || {
    tail -n 30 "$build/configure.out" >&2
    fail "configure failed: $build/configure.out and $build/config.log say why"
}
jobs=$(nproc 2>/dev/null || echo 2)
(make -C "$build/lib" -j"$jobs" && make -C "$build/lib" install && make -C "$build/include" install) \
    >"$build/make.out" 2>&1 || {
    tail -n 30 "$build/make.out" >&2
    fail "make failed: $build/make.out"
}
rm -f "$prefix"/lib/*.la
echo "$stamp" >"$prefix/.built"
