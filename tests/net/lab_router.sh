#!/usr/bin/env bash
# tools/lab --router-mtu N: a far host (10.20.0.2, its own namespace) behind
# the lab's kernel as a router whose next hop has MTU N. The far host reads
# chargen and tcplab's trace shows the path MTU it learnt (RFC 1191); both
# namespaces are gone afterwards, also when the command fails; a bad N is
# refused before anything is created.
set -u
TCPLAB=$1 ROOT=$2
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
export TL_TCPLAB=$TCPLAB
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
gone() { ! ip netns list | awk '{print $1}' | grep -qx -- "$1"; }

"$ROOT/tools/lab" --router-mtu 1280 --trace -- env OUT="$tmp/cmd" sh -c '{ echo "far=$TL_LAB_FAR"
ip netns exec "$TL_LAB_FAR" ip -br -4 addr show far0
echo "rt0 mtu $(cat /sys/class/net/rt0/mtu)"
ip netns exec "$TL_LAB_FAR" timeout 20 nc -d 10.10.0.2 19 | head -c 200000 | wc -c; } >"$OUT"' \
	>"$tmp/out" 2>"$tmp/err" || fail "tools/lab --router-mtu 1280: exit $?: $(tail -3 "$tmp/err")"
far=$(sed -n 's/^far=//p' "$tmp/cmd")
[ -n "$far" ] || fail "TL_LAB_FAR was not set: $(cat "$tmp/cmd")"
grep -q '^far0@.* 10\.20\.0\.2/24' "$tmp/cmd" || fail "the far host has no 10.20.0.2: $(cat "$tmp/cmd")"
grep -qx 'rt0 mtu 1280' "$tmp/cmd" || fail "the lab's next hop: $(cat "$tmp/cmd")"
grep -qx 200000 "$tmp/cmd" || fail "the far host did not read 200000 bytes of chargen: $(cat "$tmp/cmd")"
grep -q "10.20.0.2:[0-9]* path MTU 1280: segments of 1228 bytes from now on" "$tmp/out" ||
	fail "no path MTU 1280 in the trace: $(grep -m3 -i 'mtu\|unreach' "$tmp/out")"
grep -q 'in  ICMP 10.10.0.1 > unreachable code 4 about 10.20.0.2:[0-9]* proto 6' "$tmp/out" ||
	fail "no fragmentation needed from the router in the trace"
gone "$far" && gone "${far%-far}" || fail "a namespace is left: $(ip netns list | grep -- "${far%-far}")"
echo "ok: the far host read chargen through a 1280-byte hop; tcplab's trace: $(grep -m1 'path MTU' "$tmp/out" | cut -d' ' -f2-); $far and ${far%-far} deleted"

"$ROOT/tools/lab" --router-mtu=1400 -- sh -c 'echo "far=$TL_LAB_FAR"; exit 3' >"$tmp/out" 2>"$tmp/err"
rc=$?
far=$(sed -n 's/^far=//p' "$tmp/out")
[ $rc -eq 3 ] && [ -n "$far" ] || fail "a failing command: exit $rc, far '$far'"
gone "$far" && gone "${far%-far}" || fail "a namespace is left after a failing command"
echo "ok: a command that fails: its exit status (3), both namespaces deleted"

for bad in 100 1501 x ""; do
	"$ROOT/tools/lab" --router-mtu "$bad" -- sh -c 'echo ran' >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && ! grep -q ran "$tmp/out" && grep -q 'router-mtu wants a number from 576 to 1500' "$tmp/err" ||
		fail "--router-mtu '$bad': exit $rc: $(cat "$tmp/err")"
done
echo "ok: --router-mtu 100, 1501, x and '' refused (exit 2) before the lab starts"
"$ROOT/tools/lab" --help | grep -q -- '--router-mtu N' || fail "tools/lab --help does not say --router-mtu"
echo "ok: tools/lab --help says --router-mtu"
