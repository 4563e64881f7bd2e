#!/usr/bin/env bash
# tools/bench --quick still runs and prints every figure. A smoke test only:
# no speed is asserted (benchmarks are not tests; the figures are noise-prone).
set -u
root=$1
[ "$(id -u)" -eq 0 ] || { echo "SKIP: tools/bench needs root"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/tools/bench" --quick --json "$tmp/bench.json" >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
[ $rc -eq 0 ] || { echo "FAIL: tools/bench --quick exited $rc"; exit 1; }
# Without iptables' random drops the bench says so and prints no loss table.
grep -q "no loss table" "$tmp/out" && loss=0 || loss=1
python3 - "$tmp/bench.json" "$loss" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
got = {(x["target"], x["figure"]) for x in r["results"]}
want = [("tcplab", f) for f in ("bulk_recv", "bulk_send", "echo_rr", "echo_rr_idle", "conn_rate",
                                "rss_idle", "bytes_per_conn", "instr_per_rx_seg", "instr_per_tx_seg")]
want += [(t, f) for t in ("raw", "linux") for f in ("bulk_recv", "bulk_send", "echo_rr")]
want += [(t, f) for t in ("tcplab", "tcplab_run")
         for f in ("run_bulk_recv", "run_bulk_send", "run_echo_rr", "run_conn_rate")]
want += [(t, f) for t in ("tcplab_run", "linux")
         for f in ("iperf3_rx", "iperf3_tx", "iperf3_client_tx", "iperf3_client_rx")]
want += [("tcplab", f) for f in ("loss5_time", "loss10_time", "loss5_rtos", "loss10_rtos",
                                "loss20_time", "burst5_time", "reorder_time", "reorder_rexmit")]
if sys.argv[2] == "1":  # the loss table, --quick: 1% and 5%; lwIP is optional
    want += [(t, f"iptables_loss{p}") for t in ("tcplab", "linux", "linux_cubic") for p in (1, 5)]
    want += [("tcplab", "iptables_loss5_rtos")]
missing = [w for w in want if w not in got]
assert not missing, f"missing figures: {missing}"
assert all(x["median"] > 0 for x in r["results"] if x["figure"] != "bytes_per_conn" and not x["figure"].startswith("allocs")
           and not x["figure"].endswith(("_rtos", "_rexmit"))), \
    [x for x in r["results"] if x["median"] <= 0]
print(f"ok: {len(r['results'])} figures for {sorted({t for t, _ in got})}")
PY
