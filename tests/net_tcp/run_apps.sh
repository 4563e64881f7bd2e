#!/usr/bin/env bash
# tcplab run (issue 15) with programs nobody on the project wrote, each
# unmodified: gunicorn with two workers (fork, one listener shared),
# wsgiref.simple_server, http.server without --bind, nginx (worker
# processes, epoll, sendfile), iperf3 as server and as client in both
# directions, curl and wget as clients of a kernel-side server, socat and
# nc.openbsd both ways. Each answer is checked byte for byte.
set -u
. "$(dirname "$0")/../net/netlib.sh"
TCPLAB=$1
tl_net_require
for p in gunicorn nginx iperf3 curl wget socat nc; do
	command -v $p >/dev/null || tl_net_skip "$p is not installed (tools/test installs it)"
done
. "$(dirname "$0")/runlib.sh"
# listening PORT: waits (5 s at most) until tcplab ss shows a listener on PORT.
listening() {
	for _ in $(seq 50); do
		tl_in "$TCPLAB" ss | grep -q "LISTEN .*:$1 " && return 0
		sleep 0.1
	done
	tl_fail "nothing listens on port $1: $(tl_in "$TCPLAB" ss)"
}
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

chmod 711 "$TL_TMP"
WWW=$TL_TMP/www
mkdir -m 755 "$WWW"
echo "static from nginx on tcplab" >"$WWW/index.html"
head -c 300000 /dev/urandom >"$WWW/big.bin"
chmod 644 "$WWW"/*

tl_net_start "$TCPLAB" --seed 5

# gunicorn: a slow app and four requests at once, so both workers answer.
cat >"$TL_TMP/app.py" <<'EOF'
import os, time
def app(environ, start_response):
    time.sleep(0.3)
    body = ("pid %d says %s\n" % (os.getpid(), environ["PATH_INFO"])).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
EOF
bg gunicorn timeout 60 "$TCPLAB" run -- gunicorn -w 2 -b 0.0.0.0:8000 --chdir "$TL_TMP" app:app
GUNI=$LAST
listening 8000
sleep 1 # both workers booted (they log it)
cpids=""
for i in 1 2 3 4; do
	tl_in curl -s -m 10 "http://10.10.0.2:8000/r$i" >"$TL_TMP/g$i" &
	cpids="$cpids $!"
done
wait $cpids
for i in 1 2 3 4; do grep -q "says /r$i" "$TL_TMP/g$i" || tl_fail "gunicorn request $i: $(cat "$TL_TMP/g$i")"; done
pids=$(cat "$TL_TMP"/g? | awk '{print $2}' | sort -u | wc -l)
[ "$pids" -eq 2 ] || tl_fail "gunicorn: $pids workers answered, not 2: $(cat "$TL_TMP"/g?)"
tl_ok "gunicorn -w 2: four requests at once, both workers answered over the shared listener"
stop "$GUNI"

bg wsgiref timeout 60 "$TCPLAB" run -- /usr/bin/python3 -m wsgiref.simple_server
WSGI=$LAST
listening 8000
out=$(tl_in curl -s -m 10 http://10.10.0.2:8000/hello)
grep -q "Hello world!" <<<"$out" || tl_fail "wsgiref.simple_server: $out"
tl_ok "python3 -m wsgiref.simple_server answered curl"
stop "$WSGI"

echo "served without --bind" >"$WWW/plain.txt"
bg http timeout 60 "$TCPLAB" run -- /usr/bin/python3 -m http.server --directory "$WWW" 8080
HTTP=$LAST
listening 8080
out=$(tl_in curl -s -m 10 http://10.10.0.2:8080/plain.txt)
[ "$out" = "served without --bind" ] || tl_fail "http.server without --bind: $out $(cat "$TL_TMP/http")"
tl_ok "python3 -m http.server (no --bind) answered curl"
stop "$HTTP"

cat >"$TL_TMP/nginx.conf" <<EOF
worker_processes 2;
pid $TL_TMP/nginx.pid;
error_log $TL_TMP/nginx.err info;
daemon off;
events { worker_connections 256; use epoll; }
http {
  access_log $TL_TMP/nginx.log;
  client_body_temp_path $TL_TMP; proxy_temp_path $TL_TMP; fastcgi_temp_path $TL_TMP;
  uwsgi_temp_path $TL_TMP; scgi_temp_path $TL_TMP;
  sendfile on;
  server { listen 8081; root $WWW; }
}
EOF
bg nginx timeout 60 "$TCPLAB" run -- nginx -c "$TL_TMP/nginx.conf"
NGINX=$LAST
listening 8081
out=$(tl_in curl -s -m 10 http://10.10.0.2:8081/)
[ "$out" = "static from nginx on tcplab" ] || tl_fail "nginx index: $out $(cat "$TL_TMP/nginx.err")"
cpids=""
for i in 1 2 3 4 5 6; do
	tl_in curl -s -m 10 -o "$TL_TMP/big$i" http://10.10.0.2:8081/big.bin &
	cpids="$cpids $!"
done
wait $cpids
for i in 1 2 3 4 5 6; do cmp -s "$TL_TMP/big$i" "$WWW/big.bin" || tl_fail "nginx big.bin copy $i differs"; done
workers=$(grep -c "start worker process [0-9]" "$TL_TMP/nginx.err")
[ "$workers" -eq 2 ] || tl_fail "nginx started $workers workers: $(cat "$TL_TMP/nginx.err")"
tl_ok "nginx (2 workers, epoll, sendfile): index and six 300 KB files at once, byte for byte"
stop "$NGINX"

# iperf3: tcplab's program as server, the kernel's as client, both ways;
# then the other way round. -J: the figures, and the sender's Retr from
# TCP_INFO (tcplab's numbers when the sender is on tcplab).
iperf() { # NAME SERVER_SIDE(tcplab|kernel) [-R]
	local name=$1 side=$2 rev=${3:-} srv cli
	if [ "$side" = tcplab ]; then
		bg "$name.s" timeout 30 "$TCPLAB" run -- iperf3 -s -1 -p 5201
		cli=(tl_in timeout 20 iperf3 -c 10.10.0.2)
		listening 5201
	else
		bg "$name.s" timeout 30 iperf3 -s -1 -B 10.10.0.1 -p 5201
		cli=(tl_in timeout 20 "$TCPLAB" run -- iperf3 -c 10.10.0.1)
		for _ in $(seq 50); do tl_in ss -tln | grep -q ":5201 " && break; sleep 0.1; done
	fi
	srv=$LAST
	"${cli[@]}" -p 5201 -t 1 -J $rev >"$TL_TMP/$name.json" || tl_fail "iperf3 $name: $(cat "$TL_TMP/$name.json")"
	wait "$srv"
	/usr/bin/python3 - "$TL_TMP/$name.json" <<'EOF' || tl_fail "iperf3 $name: $(cat "$TL_TMP/$name.json")"
import json, sys
r = json.load(open(sys.argv[1]))
sent, recv = r["end"]["sum_sent"], r["end"]["sum_received"]
assert recv["bytes"] > 1_000_000 and recv["bytes"] <= sent["bytes"], (sent, recv)
retr = sent.get("retransmits", 0)
assert 0 <= retr < 1_000_000, retr
print(f"{recv['bits_per_second'] / 1e9:.2f} Gbit/s, {retr} retransmits")
EOF
}
for c in "srv tcplab:server on tcplab, the kernel's client sends" \
	"srv_r tcplab -R:server on tcplab sends (-R)" \
	"cli kernel:client on tcplab sends to the kernel's server" \
	"cli_r kernel -R:client on tcplab receives (-R)"; do
	out=$(iperf ${c%%:*}) || exit 1
	tl_ok "iperf3 ${c#*:}: $out"
done

mkdir -m 755 "$TL_TMP/kw" && echo "kernel-side file" >"$TL_TMP/kw/f.txt"
bg khttp timeout 60 /usr/bin/python3 -m http.server --bind 10.10.0.1 --directory "$TL_TMP/kw" 8090
for _ in $(seq 50); do tl_in ss -tln | grep -q ":8090 " && break; sleep 0.1; done
out=$(run curl -s -m 10 http://10.10.0.1:8090/f.txt)
[ "$out" = "kernel-side file" ] || tl_fail "curl under tcplab run: $out"
out=$(run wget -q -O - http://10.10.0.1:8090/f.txt)
[ "$out" = "kernel-side file" ] || tl_fail "wget under tcplab run: $out"
grep -q '^10.10.0.2 .*"GET /f.txt HTTP/1.1" 200' "$TL_TMP/khttp" || tl_fail "the kernel's server did not see 10.10.0.2: $(cat "$TL_TMP/khttp")"
tl_ok "curl and wget under tcplab run fetched from a kernel-side server, which saw 10.10.0.2"

bg socat_s timeout 30 "$TCPLAB" run -- socat TCP-LISTEN:7300,reuseaddr,fork EXEC:cat
listening 7300
out=$(echo "through socat on tcplab" | tl_in timeout 10 nc -q 1 10.10.0.2 7300)
[ "$out" = "through socat on tcplab" ] || tl_fail "socat as server: $out"
bg nc_k timeout 30 nc -l 10.10.0.1 7301
for _ in $(seq 50); do tl_in ss -tln | grep -q ":7301 " && break; sleep 0.1; done
echo "socat as client" | run socat - TCP:10.10.0.1:7301 || tl_fail "socat as client"
wait "$LAST"
[ "$(cat "$TL_TMP/nc_k")" = "socat as client" ] || tl_fail "socat as client: $(cat "$TL_TMP/nc_k")"
bg nc_t timeout 30 "$TCPLAB" run -- nc -l 7302
listening 7302
echo "to nc on tcplab" | tl_in timeout 10 nc -q 1 10.10.0.2 7302
wait "$LAST"
[ "$(cat "$TL_TMP/nc_t")" = "to nc on tcplab" ] || tl_fail "nc -l under tcplab run: $(cat "$TL_TMP/nc_t")"
bg nc_k2 timeout 30 nc -l 10.10.0.1 7303
for _ in $(seq 50); do tl_in ss -tln | grep -q ":7303 " && break; sleep 0.1; done
echo "from nc on tcplab" | run nc -q 1 10.10.0.1 7303
wait "$LAST"
[ "$(cat "$TL_TMP/nc_k2")" = "from nc on tcplab" ] || tl_fail "nc under tcplab run: $(cat "$TL_TMP/nc_k2")"
tl_ok "socat and nc.openbsd both ways: as servers under tcplab run, and as clients of the kernel's"
