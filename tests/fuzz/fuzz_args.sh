#!/usr/bin/env bash
# tools/fuzz: --help, and a one-line error with exit 2 for each bad argument
# (checked before anything is built).
set -u
fuzz=$1
fails=0

expect() { # expect STATUS PATTERN ARGS...
	local want=$1 pat=$2
	shift 2
	local out rc
	out=$("$fuzz" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -q -- "$pat" <<<"$out" ||
		{ [ "$want" -eq 2 ] && [ "$(wc -l <<<"$out")" -ne 1 ]; }; then
		echo "FAIL: tools/fuzz $* -> status $rc, output: $out"
		fails=$((fails + 1))
	else
		echo "ok: tools/fuzz $* -> $rc"
	fi
}

expect 0 "TARGET SECONDS" --help
expect 2 "missing TARGET"
expect 2 "unknown target 'bogus'" bogus 10
expect 2 "missing SECONDS" core
expect 2 "bad number of seconds '1x'" core 1x
expect 2 "bad number of seconds '0'" replay 0
expect 2 "bad number of seconds '-5'" options -5
expect 2 "bad number of seconds '90000'" core 90000
[ "$fails" -eq 0 ]
