# The classic echo client, unchanged: run it under `tcplab run`.
import socket
HOST, PORT = "127.0.0.1", 65432
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    s.sendall(b"Hello Server!")
    data = s.recv(1024)
print(f"Received {data!r}")
