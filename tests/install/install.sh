#!/usr/bin/env bash
# meson install from the source tree into a fresh prefix: the binary, the
# libraries, the public headers and no others, tcplab.pc and tcplab(1); then
# docs/examples/embed.c, copied out of the tree, is built against the
# installed library with pkg-config (shared, and static), and runs the core
# with no device.
set -u
src=$1
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
meson setup "$tmp/build" "$src" --prefix "$prefix" -Dbuildtype=release >"$tmp/log" 2>&1 &&
	ninja -C "$tmp/build" >>"$tmp/log" 2>&1 && meson install -C "$tmp/build" >>"$tmp/log" 2>&1 ||
	fail "meson setup/build/install: $(tail -5 "$tmp/log")"
[ -x "$prefix/bin/tcplab" ] || fail "no bin/tcplab"
"$prefix/bin/tcplab" --help | grep -q -- --services || fail "the installed tcplab has no --help"
so=$(find "$prefix" -name 'libtcplab.so' | head -1)
a=$(find "$prefix" -name 'libtcplab.a' | head -1)
pc=$(find "$prefix" -name 'tcplab.pc' | head -1)
[ -n "$so" ] && [ -n "$a" ] && [ -n "$pc" ] || fail "libtcplab.so, libtcplab.a or tcplab.pc missing"
headers=$(cd "$prefix/include" && find . -type f | sort | tr '\n' ' ')
want="./tcplab/apps.h ./tcplab/counters.h ./tcplab/socket.h ./tcplab/stack.h ./tcplab/tun.h "
[ "$headers" = "$want" ] || fail "installed headers: $headers (want $want)"
man1=$(find "$prefix" -name tcplab.1 | head -1)
[ -n "$man1" ] && grep -q '^\.TH TCPLAB 1' "$man1" && grep -q 'services' "$man1" || fail "tcplab(1)"
if command -v man >/dev/null; then
	man -l "$man1" 2>/dev/null | grep -q -- "--services LIST" || fail "man -l tcplab.1 does not render"
fi
echo "ok: meson install: bin/tcplab, $(basename "$so"), $(basename "$a"), tcplab.pc, tcplab(1), headers $headers"

mkdir "$tmp/outside"
cp "$src/docs/examples/embed.c" "$tmp/outside/"
cd "$tmp/outside" || fail "cd"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs tcplab) || fail "pkg-config --cflags --libs tcplab"
cc -Wall -Wextra -Werror embed.c $flags -o embed || fail "cc embed.c $flags"
out=$(LD_LIBRARY_PATH=$(dirname "$so") ./embed) || fail "embed (shared): $out"
ldd ./embed | grep -q "$(dirname "$so")/libtcplab.so" 2>/dev/null ||
	LD_LIBRARY_PATH=$(dirname "$so") ldd ./embed | grep -q libtcplab.so || fail "embed is not linked to libtcplab.so"
echo "ok: cc embed.c $flags: $out"
cc -Wall -Wextra -Werror embed.c $(pkg-config --cflags tcplab) "$a" -o embed-static ||
	fail "cc embed.c libtcplab.a"
out=$(./embed-static) || fail "embed (static): $out"
echo "ok: against libtcplab.a: $out"
