#!/usr/bin/env python3
"""A scripted stand-in for S3 (stdlib only) for hoist-boot's retry/resume tests.

It does not check signatures; it serves FILE for any object path and answers
requests from a plan: a JSON list of actions consumed one per request (then
the default: serve normally). An action is an object with any of
  status      answer this status with an S3 error body using "code"
  code        S3 error code for the body (default "InternalError")
  drop_after  send the headers of a full 200 and only this many body bytes, then close
  ignore_range serve the whole object with 200 even when Range was asked
  bad_range_start  answer a Range request with a Content-Range starting elsewhere
  checksum    x-amz-checksum-sha256 value to send (default: the real one)
  etag        ETag to send (default "\"v1\"")
  no_length   send no Content-Length (the body ends when the connection closes)
Paths ending in ".sha256" answer 404 unless --sidecar is given.
Each request is logged to --log as a JSON line: method, path, range, if_match,
content_sha256, has_auth, has_token.  Binds 127.0.0.1, port written to --port-file.
"""
import argparse
import base64
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _log(self):
        entry = {
            "method": self.command, "path": self.path,
            "range": self.headers.get("Range"), "if_match": self.headers.get("If-Match"),
            "content_sha256": self.headers.get("x-amz-content-sha256"),
            "has_auth": self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "),
            "has_token": self.headers.get("x-amz-security-token") is not None,
            "checksum_mode": self.headers.get("x-amz-checksum-mode"),
        }
        with open(self.server.args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def _next(self):
        with LOCK:
            plan = self.server.plan
            return plan.pop(0) if plan else {}

    def _error(self, status, code):
        body = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>m</Message></Error>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self):
        self._log()
        act = self._next()
        data = self.server.data
        if "status" in act:
            return self._error(act["status"], act.get("code", "InternalError"))
        if self.path.endswith(".sha256"):
            if not self.server.args.sidecar:
                return self._error(404, "NoSuchKey")
            body = (self.server.args.sidecar + "  bundle.tgz\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return self.wfile.write(body) if self.command == "GET" else None
        etag = act.get("etag", '"v1"')
        checksum = act.get("checksum", self.server.checksum)
        start = 0
        rng = self.headers.get("Range")
        if rng and not act.get("ignore_range"):
            start = int(rng.split("=")[1].rstrip("-"))
            if self.headers.get("If-Match") not in (None, etag):
                return self._error(412, "PreconditionFailed")
            shown = start + 7 if act.get("bad_range_start") else start
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {shown}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
            if checksum:
                self.send_header("x-amz-checksum-sha256", checksum)
        body = data[start:]
        self.send_header("ETag", etag)
        if act.get("no_length"):
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return None
        if "drop_after" in act:
            self.wfile.write(body[: act["drop_after"]])
            self.wfile.flush()
            self.close_connection = True
            return None
        self.wfile.write(body)
        return None

    do_GET = _serve
    do_HEAD = _serve

    def do_POST(self):
        """POST /_plan: replaces the plan (JSON list)."""
        n = int(self.headers.get("Content-Length", "0"))
        with LOCK:
            self.server.plan = json.loads(self.rfile.read(n) or b"[]")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that drop connections on purpose are expected here


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--sidecar", default="")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    if args.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.args = args
    srv.plan = []
    with open(args.file, "rb") as f:
        srv.data = f.read()
    srv.checksum = base64.b64encode(hashlib.sha256(srv.data).digest()).decode()
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    sys.exit(main())
