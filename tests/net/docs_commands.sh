#!/usr/bin/env bash
# Every "See it on the lab" block in docs/ runs as written, from the top of
# the repository, and succeeds (each ends in a grep or a tool that fails when
# what the chapter promises did not happen). tools/lab makes a namespace of
# its own for each command and deletes it afterwards.
set -u
tcplab=$1 root=$2
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
TL_BUILD=$(dirname "$tcplab")
export TL_TCPLAB=$tcplab TL_BUILD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The sh blocks under a "## See it on the lab" heading, one file each.
python3 - "$root/docs" "$tmp" <<'PY'
import glob, os, re, sys
n = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.md"))):
    for sec in re.split(r"^## ", open(path).read(), flags=re.M)[1:]:
        if not sec.startswith("See it on the lab"):
            continue
        for i, block in enumerate(re.findall(r"```sh\n(.*?)```", sec, re.S)):
            n += 1
            name = f"{os.path.basename(path)[:-3]}.{i}"
            open(os.path.join(sys.argv[2], name), "w").write(block)
if n == 0:
    sys.exit("no commands found")
PY
[ $? -eq 0 ] || fail "could not read the chapters"
count=0
for f in "$tmp"/*; do
	count=$((count + 1))
	start=$SECONDS
	(cd "$root" && timeout 180 bash -eo pipefail "$f" >"$f.out" 2>"$f.err")
	rc=$?
	[ $rc -eq 0 ] || fail "$(basename "$f"): exit $rc: $(cat "$f")
stderr: $(tail -5 "$f.err")
stdout: $(tail -5 "$f.out")"
	echo "ok: $(basename "$f") ($((SECONDS - start)) s): $(head -c 100 "$f" | head -1)"
done
echo "ok: $count lab commands from docs/ ran as written"
