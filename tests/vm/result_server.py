#!/usr/bin/env python3
"""result_server.py - receives the VM's reports: POST /result/NAME stores the
body as DIR/NAME.txt; every request is logged to DIR/requests.jsonl.
Binds 127.0.0.1 only (the guest reaches it through a qemu guestfwd)."""

import argparse
import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bed"))
import bedserve  # noqa: E402  (port file, SIGTERM, parent watchdog)

MAX_BODY = 4 * 1024 * 1024
NAME = re.compile(r"^/result/([A-Za-z0-9._-]{1,64})$")


class Handler(BaseHTTPRequestHandler):
    """One request: store a report or refuse."""

    def log_message(self, fmt, *args):  # noqa: A003  (quiet: the JSON log is enough)
        pass

    def _log(self, status, size):
        with open(os.path.join(self.server.dir, "requests.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps({"ts": time.time(), "method": self.command, "path": self.path,
                                "status": status, "bytes": size}) + "\n")

    def _answer(self, status, size=0):
        self._log(status, size)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):  # noqa: N802
        m = NAME.match(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if not m or length < 0 or length > MAX_BODY:
            self._answer(400)
            return
        body = self.rfile.read(length)
        path = os.path.join(self.server.dir, m.group(1) + ".txt")
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        os.rename(path + ".tmp", path)
        self._answer(200, len(body))

    def do_GET(self):  # noqa: N802
        self._answer(404)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.dir = args.dir
    bedserve.write_port_file(args.port_file, srv.server_address[1])
    bedserve.serve(srv)


if __name__ == "__main__":
    main()
