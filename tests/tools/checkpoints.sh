#!/usr/bin/env bash
# The checkpoints cannot rot (tools/checkpoint): the real tree passes every
# checkpoint's tests and speed floor; for each N, the tree `start N` writes
# builds with warnings as errors (only the core and the tests it needs, in
# temporary directories of this test's own), fails checkpoint N's tests,
# and still passes checkpoint N-1's (real code there, later stubs or not).
# Usage: checkpoints.sh ROOT BUILD. In the sanitizer run it skips: the
# trees are built without sanitizers, so that run would repeat this one.
set -u
root=$1 build=$2
tool=$root/tools/checkpoint
fail() { echo "FAIL: $*"; exit 1; }
[ "${TL_SANITIZED:-0}" = 1 ] && { echo "SKIP: checked in the run without sanitizers"; exit 77; }
tmp=$(mktemp -d /tmp/tl-ckpt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The list: at least six checkpoints, numbered in order from 1.
list=$("$tool" list) || fail "tools/checkpoint list: $list"
count=$(grep -c '^[0-9]' <<<"$list")
[ "$count" -ge 6 ] || fail "only $count checkpoints: $list"
[ "$(awk '{print $1}' <<<"$list" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$count") " ] ||
	fail "not numbered 1 to $count: $list"
"$tool" --help | grep -q 'tools/checkpoint start N DIR' || fail "--help does not show the usage"
"$tool" test 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "a bad N is not a usage error (exit 2)"
echo "ok: $count checkpoints listed"

# Each handout exists and names every function of its checkpoint as
# src/FILE:function (which tools/docs check then finds in FILE).
"$tool" list --long | awk '
	/^[0-9]/ { n = $1 } $1 ~ /^docs\/checkpoints\// { doc[n] = $1 }
	$1 ~ /^src\// { f = $1; sub(/:$/, "", f); for (i = 2; i <= NF; i++) if ($i != "(in" && $i != "part)") { g = $i; sub(/,$/, "", g); need[n] = need[n] " " f ":" g } }
	END { for (k in doc) print doc[k] need[k] }' >"$tmp/handouts"
[ -s "$tmp/handouts" ] || fail "list --long names no handouts"
while read -r doc refs; do
	[ -f "$root/$doc" ] || fail "no handout $doc"
	for r in $refs; do
		grep -qF "$r" "$root/$doc" || fail "$doc does not name $r"
	done
done <"$tmp/handouts"
echo "ok: every handout names its functions"

# Each line of the summary: "checkpoint N: X of Y tests passed".
summary() { grep -E "^checkpoint $1: [0-9]+ of [0-9]+ tests passed" "$2" | tail -1; }

# The real tree, with the build meson tests from.
for n in $(seq 1 "$count"); do
	(cd "$root" && TL_BUILD=$build "$tool" test "$n") >"$tmp/real$n" 2>&1
	rc=$?
	line=$(summary "$n" "$tmp/real$n")
	[ -n "$line" ] || fail "the real tree, checkpoint $n: no summary line: $(tail -5 "$tmp/real$n")"
	if [ $rc -eq 77 ]; then
		echo "ok: the real tree, checkpoint $n: skipped here ($line)"
		continue
	fi
	[ $rc -eq 0 ] || fail "the real tree fails checkpoint $n: $(grep -A3 '^FAIL' "$tmp/real$n" | head -20)"
	echo "ok: the real tree: $line"
done

# Each student's tree is built in one work tree and build directory: the
# files that differ from the last tree's are copied in (with a new mtime),
# so ninja recompiles just those, and the first tree checks that a fresh
# one configures and builds from nothing.
work=$tmp/work
sync_tree() { # sync_tree FROM: make $work hold what FROM holds
	(cd "$1" && find . -type f) | while read -r f; do
		cmp -s "$1/$f" "$work/$f" 2>/dev/null && continue
		mkdir -p "$(dirname "$work/$f")"
		cp "$1/$f" "$work/$f"
	done
}
for n in $(seq 1 "$count"); do
	tree=$tmp/tree$n
	"$tool" start "$n" "$tree" >/dev/null || fail "start $n failed"
	grep -rq "/\* checkpoint $n: " "$tree/src" || fail "tree $n: no checkpoint $n stub in src/"
	[ -f "$tree/CHECKPOINT.md" ] || fail "tree $n: no CHECKPOINT.md"
	[ ! -e "$tree/docs/checkpoints/answers.md" ] || fail "tree $n: the answer key was copied"
	sync_tree "$tree"
	rm -rf "$tree"
	if [ ! -d "$tmp/build" ]; then
		meson setup "$tmp/build" "$work" --werror >"$tmp/setup" 2>&1 ||
			fail "tree $n: meson setup: $(tail -5 "$tmp/setup")"
	fi
	(cd "$work" && TL_BUILD=$tmp/build "$tool" test "$n") >"$tmp/stub$n" 2>&1
	rc=$?
	line=$(summary "$n" "$tmp/stub$n")
	grep -q 'the build failed' <<<"$line" && fail "tree $n does not build: $(head -40 "$tmp/stub$n")"
	[ -n "$line" ] || fail "tree $n: no summary line: $(tail -5 "$tmp/stub$n")"
	if [ $rc -eq 77 ]; then
		echo "ok: tree $n builds; its test is skipped here ($line)"
	else
		[ $rc -eq 1 ] || fail "tree $n passes checkpoint $n with its stubs (exit $rc): $line"
		echo "ok: tree $n builds and fails: $line"
	fi
	[ "$n" -gt 1 ] || continue
	m=$((n - 1))
	(cd "$work" && TL_BUILD=$tmp/build TL_CKPT_SPEED=0 "$tool" test "$m") >"$tmp/prev$n" 2>&1 ||
		fail "tree $n fails checkpoint $m: $(grep -A3 '^FAIL' "$tmp/prev$n" | head -20)"
	echo "ok: tree $n passes checkpoint $m: $(summary "$m" "$tmp/prev$n")"
done
