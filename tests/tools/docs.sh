#!/usr/bin/env bash
# docs/ stays true: every src/FILE:function reference names a function that
# FILE defines, and every generated diagram or table is what its command
# prints today, every ladder SVG what it draws (tools/docs check). A copy
# with one broken reference, one stale diagram, one stale and one missing
# ladder must fail, naming each.
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
grep -q 'SYN-ACK 0:0(0) ack 1 ' "$tmp/docs/img/ladder_echo.svg" || fail "no SYN-ACK in ladder_echo.svg"
sed -i 's/SYN-ACK 0:0(0) ack 1 /SYN-ACK 0:0(0) ack 2 /' "$tmp/docs/img/ladder_echo.svg"
rm "$tmp/docs/img/ladder_ping.svg"
out=$("$tmp/tools/docs" check 2>&1) && fail "a broken copy passed: $out"
grep -q 'docs/01-icmp.md: src/core/icmp.c:icmp_inputt: no such function' <<<"$out" || fail "no error for the bad reference: $out"
grep -q 'docs/03-handshake.md: the block from `tools/pcap2mermaid captures/echo.pcap` is not its current output' <<<"$out" ||
	fail "no error for the stale diagram: $out"
grep -q 'docs/06-teardown.md: image img/ladder_echo.svg is not what `tools/pcap2mermaid captures/echo.pcap --svg docs/img/ladder_echo.svg` draws now' <<<"$out" ||
	fail "no error for the stale ladder: $out"
grep -q 'docs/01-icmp.md: image img/ladder_ping.svg is missing' <<<"$out" || fail "no error for the missing ladder: $out"
echo "ok: a bad reference, a stale diagram, a stale and a missing ladder image are caught"

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


# docs/ko, the tour in Korean: each chapter has its English chapter's code
# blocks, generated blocks and images, in order, and its links work. A
# shown output that drifted, a missing chapter, a block added in English
# and broken links fail check-ko, each named; sync-ko mends all but the
# links (the drift and the new block copied from the English, the missing
# chapter started from it), and docs_commands reads no command from docs/ko.
ko=$tmp/ko
mkdir "$ko"
cp -r "$root/tools" "$root/docs" "$root/src" "$root/include" "$root/captures" "$root/README.md" "$root/LICENSE" "$ko/"
"$ko/tools/docs" check-ko >/dev/null || fail "the copy's Korean tour fails check-ko"
sed -i 's/^tcp   CLOSE_WAIT /tcp   ESTABLISHED/' "$ko/docs/ko/13-your-programs.md"
rm "$ko/docs/ko/02-udp.md"
sed -i 's/^## The capture$/```sh\necho a new command\n```\n\n&/' "$ko/docs/04-sequence-numbers.md"
printf '\n[x](../../captures/nope.pcap) [y](01-icmp.md#no-such-heading)\n' >>"$ko/docs/ko/05-data-transfer.md"
out=$("$ko/tools/docs" check-ko 2>&1) && fail "a drifted Korean tour passed: $out"
grep -q 'docs/ko/13-your-programs.md: code block .* is not docs/13-your-programs.md.s code block' <<<"$out" ||
	fail "no error for the drifted output: $out"
grep -q 'docs/ko/02-udp.md: missing' <<<"$out" || fail "no error for the missing chapter: $out"
grep -q 'docs/ko/04-sequence-numbers.md: .* is not docs/04-sequence-numbers.md.s code block `.*echo a new command' <<<"$out" ||
	fail "no error for the block added in English: $out"
grep -q 'docs/ko/05-data-transfer.md: link to ../../captures/nope.pcap: no such file' <<<"$out" &&
	grep -q 'docs/ko/05-data-transfer.md: link to 01-icmp.md#no-such-heading: no heading' <<<"$out" ||
	fail "no error for the broken links: $out"
"$ko/tools/docs" sync-ko >/dev/null || fail "sync-ko failed"
sed -i '$d' "$ko/docs/ko/05-data-transfer.md"
out=$("$ko/tools/docs" check-ko 2>&1) || fail "check-ko after sync-ko: $out"
grep -q '^tcp   CLOSE_WAIT ' "$ko/docs/ko/13-your-programs.md" || fail "sync-ko did not restore the output"
grep -B1 -A1 '^echo a new command$' "$ko/docs/ko/04-sequence-numbers.md" | grep -q '^```sh$' &&
	grep -q 'ko-sync: the English chapter has a new block here' "$ko/docs/ko/04-sequence-numbers.md" ||
	fail "sync-ko did not bring the new block, with a note"
grep -q 'note: docs/ko/04-sequence-numbers.md: 1 ko-sync note' <<<"$out" || fail "check-ko does not note the new block: $out"
grep -q 'note: docs/ko/02-udp.md: not translated yet' <<<"$out" || fail "the missing chapter was not started: $out"
grep -q 'changed since the translation' <<<"$out" && fail "a copy with no git history noted changes: $out"
mkdir "$ko/with" "$ko/without"
"$ko/tools/docs" commands "$ko/with" >/dev/null && rm -r "$ko/docs/ko" && "$ko/tools/docs" commands "$ko/without" >/dev/null ||
	fail "tools/docs commands failed"
[ "$(ls "$ko/with" | wc -l)" -eq "$(ls "$ko/without" | wc -l)" ] || fail "docs_commands would run docs/ko's commands too"
echo "ok: docs/ko keeps the English blocks (a drift, a missing chapter, a new block and broken links caught; sync-ko mends them)"

# Each Korean chapter names the commit whose English it translates
# (<!-- ko-source: COMMIT -->); in a git clone, check notes an English
# chapter that changed since, and says nothing of one that did not.
if command -v git >/dev/null; then
	g=$tmp/git
	mkdir "$g"
	cp -r "$root/tools" "$root/docs" "$root/src" "$root/include" "$root/captures" "$root/README.md" "$root/LICENSE" "$g/"
	(cd "$g" && git init -q && git add docs && git -c user.name=t -c user.email=t@t commit -qm base) || fail "git init"
	c=$(git -C "$g" rev-parse HEAD)
	grep -q '^<!-- ko-source: [0-9a-f]* -->$' "$g/docs/ko/02-udp.md" || fail "docs/ko/02-udp.md has no ko-source line"
	sed -i "s/^<!-- ko-source: [0-9a-f]* -->$/<!-- ko-source: $c -->/" "$g/docs/ko/02-udp.md"
	out=$("$g/tools/docs" check-ko 2>&1) || fail "check-ko in a git copy: $out"
	grep -q 'docs/ko/02-udp.md: docs/02-udp.md changed' <<<"$out" && fail "an unchanged chapter was noted: $out"
	echo "A new sentence." >>"$g/docs/02-udp.md"
	out=$("$g/tools/docs" check-ko 2>&1) || fail "check-ko in a git copy: $out"
	grep -q "note: docs/ko/02-udp.md: docs/02-udp.md changed since the translation (git diff ${c:0:12} -- docs/02-udp.md)" <<<"$out" ||
		fail "no note for an English chapter changed since its translation: $out"
	echo "ok: an English chapter changed since its translation is noted"
fi
