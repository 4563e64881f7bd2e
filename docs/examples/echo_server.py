# The classic threaded echo server, unchanged: run it under `tcplab run`.
import socket, threading
HOST, PORT = "127.0.0.1", 65432
def serve(conn, addr):
    with conn:
        print("Connected by", addr, flush=True)
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data)
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, PORT))
    s.listen()
    while True:
        conn, addr = s.accept()
        threading.Thread(target=serve, args=(conn, addr), daemon=True).start()
