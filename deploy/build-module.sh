#!/usr/bin/env bash
# Builds ngx_http_tenant_guard_module.so for an installed nginx, from the
# source of that same nginx version (the recipe deploy/Dockerfile runs).
#
#   deploy/build-module.sh NGINX_SRC [OUTDIR]
#
# NGINX_SRC   the nginx source of the target's version: a tree, or a .tar.gz
#             of one (nginx.org's nginx-VERSION.tar.gz, or an archive of
#             nginx's repository, whose configure is auto/configure).
# OUTDIR      where the module goes (default: build/deploy); the source is
#             unpacked into OUTDIR/nginx-src, so NGINX_SRC is never written to.
#             On Debian, OUTDIR/runtime-packages lists the packages that hold
#             the libraries the module links (libjansson4, libhiredis*,
#             libssl*), for a runtime image to install.
#
# The module is configured --with-compat and with the configure arguments
# of the target nginx, so that it fits the binary's build:
#
#   NGINX_BINARY=/usr/sbin/nginx   read them from "nginx -V"; the script also
#                                  checks that the source has the binary's
#                                  version and, at the end, that the binary
#                                  loads the module ("nginx -t")
#   CONFIGURE_ARGS='...'           or give them as "nginx -V" prints them
#                                  (after "configure arguments:")
#
# Neither: --with-compat alone.  Arguments that add other modules
# (--add-module, --add-dynamic-module, --with-*=dynamic) are dropped: their
# sources are not here and only this module is built; --with-compat keeps
# the module loadable regardless.  Needs a C compiler, make, and the -dev
# packages of jansson, hiredis, OpenSSL, PCRE2 and zlib (Debian:
# libjansson-dev libhiredis-dev libssl-dev libutf8proc-dev libpcre2-dev zlib1g-dev).
set -euo pipefail

die() { echo "build-module.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: deploy/build-module.sh NGINX_SRC [OUTDIR]"

top=$(cd "$(dirname "$0")/.." && pwd)
src=$1
out=$(mkdir -p "${2:-build/deploy}" && cd "${2:-build/deploy}" && pwd)
tree=$out/nginx-src
binary=${NGINX_BINARY:-}
args_text=${CONFIGURE_ARGS:-}

[ -e "$src" ] || die "$src: no such file or directory"

# --- the target's configure arguments ---------------------------------------

if [ -n "$binary" ]; then
    "$binary" -V > "$out/nginx-V.txt" 2>&1 \
        || die "$binary -V failed: $(cat "$out/nginx-V.txt")"
    target_version=$(sed -n 's|^nginx version: nginx/\([^ ]*\).*|\1|p' \
                     "$out/nginx-V.txt")
    [ -n "$args_text" ] \
        || args_text=$(sed -n 's/^configure arguments: //p' "$out/nginx-V.txt")
fi

# nginx -V prints the arguments with values that hold spaces in single
# quotes (auto/options); xargs splits them the way a shell would, without
# evaluating anything
args=()
if [ -n "$args_text" ]; then
    mapfile -t args < <(printf '%s' "$args_text" | xargs -n1 printf '%s\n')
fi

conf_args=(--with-compat)
dropped=()
for a in "${args[@]}"; do
    case $a in
    --with-compat) ;;
    --add-module=* | --add-dynamic-module=* | --with-*=dynamic)
        dropped+=("$a") ;;
    *) conf_args+=("$a") ;;
    esac
done
conf_args+=(--add-dynamic-module="$top")

# --- the source --------------------------------------------------------------

rm -rf "$tree"
mkdir -p "$tree"
if [ -d "$src" ]; then
    cp -a "$src/." "$tree/"
else
    tar -xzf "$src" -C "$tree" --strip-components=1 \
        || die "$src: not a .tar.gz of an nginx source tree"
fi
[ -f "$tree/src/core/nginx.h" ] || die "$src: not an nginx source tree"
version=$(sed -n 's/^#define NGINX_VERSION *"\([^"]*\)".*/\1/p' \
          "$tree/src/core/nginx.h")

if [ -n "$binary" ] && [ "$version" != "$target_version" ]; then
    die "$src is nginx $version but $binary is nginx $target_version;" \
        "nginx loads only a module built from its own version"
fi

echo "build-module.sh: nginx $version, configure ${conf_args[*]}"
[ ${#dropped[@]} = 0 ] || echo "build-module.sh: dropped ${dropped[*]}"

# --- configure and build the module alone -----------------------------------

cd "$tree"
configure=./configure
[ -f "$configure" ] || configure=./auto/configure
"$configure" "${conf_args[@]}" > "$out/configure.log" 2>&1 || {
    tail -30 "$out/configure.log" >&2
    die "configure failed; see $out/configure.log"
}
make -j"$(nproc)" -f objs/Makefile modules > "$out/make.log" 2>&1 || {
    grep -E 'error|warning' "$out/make.log" >&2 || tail -30 "$out/make.log" >&2
    die "make failed; see $out/make.log"
}
cp objs/ngx_http_tenant_guard_module.so "$out/.tg_module.so.tmp"
mv -f "$out/.tg_module.so.tmp" "$out/ngx_http_tenant_guard_module.so"
echo "build-module.sh: built $out/ngx_http_tenant_guard_module.so"

# The packages of the libraries it links, found by path with the multiarch
# directory (x86_64-linux-gnu/libjansson.so.4), since their names change
# between Debian releases (libhiredis0.14 in 12, libhiredis1.1.0 in 13).
if command -v dpkg-query > /dev/null; then
    ldd "$out/ngx_http_tenant_guard_module.so" \
        | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' \
        | while read -r lib; do
              dpkg-query -S "*/$(basename "$(dirname "$lib")")/$(basename "$lib")" \
                  || die "no package holds $lib"
          done \
        | sed 's/[:,].*//' | sort -u > "$out/runtime-packages"
    echo "build-module.sh: runtime packages:" $(cat "$out/runtime-packages")
fi

# --- does the target nginx load it? ----------------------------------------

if [ -n "$binary" ]; then
    check=$out/load-check
    rm -rf "$check"
    mkdir -p "$check/logs"
    cat > "$check/nginx.conf" <<CONF
load_module $out/ngx_http_tenant_guard_module.so;
error_log $check/logs/error.log;
pid $check/nginx.pid;
events {}
CONF
    # NGINX is nginx's own variable (inherited sockets): not ours to pass on
    env -u NGINX "$binary" -t -p "$check/" -c "$check/nginx.conf" \
        -e "$check/logs/error.log" > "$check/nginx-t.log" 2>&1 || {
        cat "$check/nginx-t.log" >&2
        die "$binary does not load the module"
    }
    echo "build-module.sh: $binary -t loads the module"
fi
