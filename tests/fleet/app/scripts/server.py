#!/usr/bin/env python3
"""fleetapp's server: GET answers "fleetapp VERSION" (stdlib only).

usage: server.py ADDRESS PORT VERSION [--fail-later]
--fail-later: healthy for the first request from another host (the controller's first probe), then
503 to every later one from another host; requests from 127.0.0.1 (ValidateService) keep working.
So a host passes its first probe and fails while it must stay healthy, whatever the timing.
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main(argv):
    addr, port, version = argv[1], int(argv[2]), argv[3]
    fail_later = "--fail-later" in argv[4:]
    seen = {"external": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            external = self.client_address[0] != "127.0.0.1"
            if external:
                seen["external"] += 1
            if fail_later and external and seen["external"] > 1:
                code, body = 503, b"unhealthy\n"
            else:
                code, body = 200, f"fleetapp {version}\n".encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    ThreadingHTTPServer((addr, port), Handler).serve_forever()


if __name__ == "__main__":
    main(sys.argv)
