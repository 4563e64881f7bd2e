#!/usr/bin/env bash
# docs/ stays true: every src/FILE:function reference names a function that
# FILE defines, and every generated diagram or table is what its command
# prints today (tools/docs check). A copy with one broken reference and one
# stale diagram must fail, naming both.
set -u
root=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$("$root/tools/docs" check 2>&1) || fail "tools/docs check: $out"
echo "ok: $out"
grep -Eq 'docs: [0-9]+ files, [1-9][0-9]+ function references, [1-9][0-9]* generated blocks' <<<"$out" ||
	fail "nothing was checked: $out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/tools" "$root/docs" "$root/src" "$root/include" "$root/captures" "$root/README.md" "$tmp/"
sed -i 's/src\/core\/icmp.c:icmp_input/src\/core\/icmp.c:icmp_inputt/' "$tmp/docs/01-icmp.md"
sed -i '0,/SYN-ACK seq=0 ack=1/s//SYN-ACK seq=0 ack=2/' "$tmp/docs/03-handshake.md"
out=$("$tmp/tools/docs" check 2>&1) && fail "a broken copy passed: $out"
grep -q 'docs/01-icmp.md: src/core/icmp.c:icmp_inputt: no such function' <<<"$out" || fail "no error for the bad reference: $out"
grep -q 'docs/03-handshake.md: the block from `tools/pcap2mermaid captures/echo.pcap` is not its current output' <<<"$out" ||
	fail "no error for the stale diagram: $out"
echo "ok: a bad reference and a stale diagram are caught"
