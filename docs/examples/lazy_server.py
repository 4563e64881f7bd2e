# A server that accepts and then never reads (docs/13-your-programs.md):
# tcplab's window for it closes. With --forget it reads to the end but never
# closes: the connection sits in CLOSE_WAIT.
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8000))
s.listen()
conn, addr = s.accept()
print("accepted", addr, flush=True)
if "--forget" in sys.argv:
    while conn.recv(65536):
        pass
    print("the peer closed; we forget to", flush=True)
time.sleep(30)
