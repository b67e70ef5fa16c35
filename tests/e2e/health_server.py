#!/usr/bin/env python3
"""health_server.py MODE PORT [N] - a scripted service for the health check tests (127.0.0.1).

  flap N    HTTP: the first N requests answer 200 "ok", every later one 500
  silent    accepts TCP connections and never answers (an HTTP check times out)
Writes "ready" to stdout once listening."""
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode, port = sys.argv[1], int(sys.argv[2])
if mode == "silent":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    print("ready", flush=True)
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)  # never read, never answered
else:
    limit = int(sys.argv[3])
    lock = threading.Lock()
    count = [0]

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            with lock:
                count[0] += 1
                n = count[0]
            code = 200 if n <= limit else 500
            body = b"ok\n" if code == 200 else b"broken\n"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    print("ready", flush=True)
    srv.serve_forever()
