#!/usr/bin/env bash
# Every "See it on the lab" block in docs/ runs as written, from the top of
# the repository, and succeeds (each ends in a grep or a tool that fails when
# what the chapter promises did not happen, or the chapter shows its output
# and the output must be that, numbers aside: tools/docs compare). tools/lab
# makes a namespace of its own for each command and deletes it afterwards.
set -u
tcplab=$1 root=$2
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
TL_BUILD=$(dirname "$tcplab")
export TL_TCPLAB=$tcplab TL_BUILD
# Python buffers what it prints, as in a reader's shell: PYTHONUNBUFFERED
# (set in some environments) splits one print into writes that tcplab's
# trace lines can come between.
unset PYTHONUNBUFFERED
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The sh blocks under a "## See it on the lab" heading, one file each, and
# the output shown after each.
"$root/tools/docs" commands "$tmp" || fail "could not read the chapters"
count=0
for f in "$tmp"/*.sh; do
	count=$((count + 1))
	start=$SECONDS
	(cd "$root" && timeout 180 bash -eo pipefail "$f" >"$f.out" 2>"$f.err")
	rc=$?
	[ $rc -eq 0 ] || fail "$(basename "$f"): exit $rc: $(cat "$f")
stderr: $(tail -5 "$f.err")
stdout: $(tail -5 "$f.out")"
	shown=""
	if [ -f "${f%.sh}.shows" ]; then
		why=$("$root/tools/docs" compare "${f%.sh}.shows" "$f.out" 2>&1) ||
			fail "$(basename "$f"): not the output the chapter shows: $why
$(cat "$f")
stdout: $(cat "$f.out")"
		shown=", printed what the chapter shows"
	fi
	echo "ok: $(basename "$f") ($((SECONDS - start)) s$shown): $(head -c 100 "$f" | head -1)"
done
echo "ok: $count lab commands from docs/ ran as written"
