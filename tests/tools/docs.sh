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

# The lab commands (run as root by the net test docs_commands): each of
# chapter 13's shows what it prints, and tools/docs compare takes another
# run of it (other numbers, elided lines) but not another state.
mkdir "$tmp/cmds"
out=$("$root/tools/docs" commands "$tmp/cmds" 2>&1) || fail "tools/docs commands: $out"
n=$(find "$tmp/cmds" -name '13-your-programs.*.sh' | wc -l)
shown=$(find "$tmp/cmds" -name '13-your-programs.*.shows' | wc -l)
[ "$n" -ge 6 ] && [ "$shown" -eq "$n" ] || fail "chapter 13: $n lab commands, $shown with their output: $out"
close_wait=$(grep -l CLOSE_WAIT "$tmp"/cmds/13-your-programs.*.shows | head -1)
zero_window=$(grep -l 'win 0,' "$tmp"/cmds/13-your-programs.*.shows | head -1)
[ -n "$close_wait" ] && [ -n "$zero_window" ] || fail "chapter 13 shows no CLOSE_WAIT or no zero window"
sed 's/[0-9]\+/4321/g; s/     / /g' "$close_wait" >"$tmp/run1"
"$root/tools/docs" compare "$close_wait" "$tmp/run1" || fail "another run's numbers were not taken"
sed -i 's/CLOSE_WAIT/ESTABLISHED/' "$tmp/run1"
out=$("$root/tools/docs" compare "$close_wait" "$tmp/run1" 2>&1) && fail "ESTABLISHED passed for CLOSE_WAIT"
grep -q 'shown line [0-9]*, `tcp *CLOSE_WAIT' <<<"$out" || fail "no error naming the CLOSE_WAIT line: $out"
awk '/^\.\.\.$/ {print prev; print prev; next} {sub(/options \[\.\.\.\]/, "options [TS val 1 ecr 2]"); print; prev = $0}' \
	"$zero_window" >"$tmp/run2"
"$root/tools/docs" compare "$zero_window" "$tmp/run2" || fail "the lines ... stands for were not taken"
echo "ok: chapter 13's $n lab commands show their output; another run's numbers pass, another state does not"
n=$(find "$tmp/cmds" -name '14-ip.*.sh' | wc -l)
shown=$(find "$tmp/cmds" -name '14-ip.*.shows' | wc -l)
[ "$n" -ge 5 ] && [ "$shown" -eq "$n" ] || fail "chapter 14: $n lab commands, $shown with their output"
grep -q 'path MTU 1280: segments of 1228 bytes' "$tmp"/cmds/14-ip.*.shows || fail "chapter 14 shows no path MTU"
grep -q -- '--router-mtu 1280' "$tmp"/cmds/14-ip.*.sh || fail "chapter 14 has no tools/lab --router-mtu command"
echo "ok: chapter 14's $n lab commands show their output, path MTU discovery through tools/lab --router-mtu among them"
