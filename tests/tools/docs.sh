#!/usr/bin/env bash
# docs/ stays true: every src/FILE:function reference names a function that
# FILE defines, every generated diagram or table is what its command prints
# today, every counter quoted is one tcplab prints as it prints it, and every
# RFC section cited is one the code cites (tools/docs check). A copy with one
# of each error must fail, naming each.
set -u
root=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$("$root/tools/docs" check 2>&1) || fail "tools/docs check: $out"
echo "ok: $out"
grep -Eq 'docs: [0-9]+ files, [1-9][0-9]+ function references, [1-9][0-9]* generated blocks' <<<"$out" ||
	fail "nothing was checked: $out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/tools" "$root/docs" "$root/src" "$root/include" "$root/captures" "$root/tests" \
	"$root/README.md" "$tmp/"
sed -i 's/src\/core\/icmp.c:icmp_input/src\/core\/icmp.c:icmp_inputt/' "$tmp/docs/01-icmp.md"
sed -i '0,/SYN-ACK seq=0 ack=1/s//SYN-ACK seq=0 ack=2/' "$tmp/docs/03-handshake.md"
# The tour's old errors: counters quoted as tcplab did not print them, a
# sequence-space figure under the wrong section, a section the code never
# cites, one listed twice; in the code, a figure and a step with no section.
printf '\nThe counters show `1 TCP resets sent`, `tcp_out_resets` and `tcp_out_rst 1  TCP reset sent`.\n' \
	>>"$tmp/docs/11-rst.md"
sed -i 's/^- RFC 9293 section 3.3.1 (the connection.s variables: the send and$/- RFC 9293 section 3.4 (figure 3), 3.3.1 (the send and/' \
	"$tmp/docs/04-sequence-numbers.md"
sed -i 's/^- RFC 1337 (TIME_WAIT assassination: ignore RST in TIME_WAIT).$/&\n- RFC 9293 section 3.9 (the user interface), 3.6 (again)./' \
	"$tmp/docs/06-teardown.md"
sed -i 's/(RFC 9293 3.5, figure 7)/(RFC 9293 figure 8)/; s|	/\* fourth: SYN. \*/|	/* RFC 9293 fourth: SYN. */|' \
	"$tmp/src/core/tcp/tcp_input.c"
out=$("$tmp/tools/docs" check 2>&1) && fail "a broken copy passed: $out"
grep -q 'docs/01-icmp.md: src/core/icmp.c:icmp_inputt: no such function' <<<"$out" || fail "no error for the bad reference: $out"
grep -q 'docs/03-handshake.md: the block from `tools/pcap2mermaid captures/echo.pcap` is not its current output' <<<"$out" ||
	fail "no error for the stale diagram: $out"
for want in 'docs/11-rst.md: `1 TCP resets sent`: tcplab prints `tcp_out_rst 1  TCP resets sent`' \
	'docs/11-rst.md: `tcp_out_resets` is not a counter tcplab prints' \
	'docs/11-rst.md: `tcp_out_rst 1  TCP reset sent`: tcp_out_rst is "TCP resets sent"' \
	'docs/04-sequence-numbers.md:[0-9]*: RFC 9293 figure 3 is in section 3.3.1, not 3.4' \
	'docs/06-teardown.md:[0-9]*: RFC 9293 3.9: no comment in src/ or include/ cites it' \
	'docs/06-teardown.md: The RFCs lists RFC 9293 3.6 twice' \
	'src/core/tcp/tcp_input.c:[0-9]*: RFC 9293 figure 8: say its section, 3.5' \
	'src/core/tcp/tcp_input.c:[0-9]*: RFC 9293 cited for a step ("fourth") without its section'; do
	grep -q -- "$want" <<<"$out" || fail "no error '$want': $out"
done
echo "ok: a bad reference, a stale diagram, 3 misquoted counters, 3 wrong RFC citations in docs and 2 in code are caught"

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
