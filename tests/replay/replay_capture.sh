#!/usr/bin/env bash
# Replays one capture of captures/ against tcplab: replay_capture.sh TCPLAB NAME.pcap
# Extra replay flags (tolerances, the host) come from NAME.replay if present.
# Two runs with --trace must print byte-identical output (determinism).
set -u
tcplab=$1 cap=$2
args=()
[ -f "${cap%.pcap}.replay" ] && read -r -a args <"${cap%.pcap}.replay"
out1=$(mktemp) out2=$(mktemp)
trap 'rm -f "$out1" "$out2"' EXIT
"$tcplab" --replay "$cap" "${args[@]}" --trace >"$out1" 2>&1
rc=$?
tail -5 "$out1"
[ $rc -eq 0 ] || { echo "FAIL: replay of $cap diverged (exit $rc)"; exit 1; }
"$tcplab" --replay "$cap" "${args[@]}" --trace >"$out2" 2>&1
cmp -s "$out1" "$out2" || { echo "FAIL: two replays of $cap differ"; exit 1; }
echo "ok: $cap replays without divergence, and identically twice"
