#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of moto (stdlib only).

Listens on 127.0.0.1 (free port, written to --port-file) and forwards every
request unchanged to --upstream: method, path and query exactly as received,
all headers including Host (so a SigV4 signature made for the proxy's address
still verifies at moto), and the body. The first N matching object GETs
(GET with a key in the path and a 200/206 answer) get the upstream status and
headers, then only K body bytes, then the connection is dropped (--mode drop,
default) or held silent for S seconds first (--mode stall); --mode trickle
sends the rest of the body at --trickle-bps bytes per second instead (a
server that never quite stalls). By default only
GETs without a Range header match (so a client's resume with Range succeeds);
--faults-on range|all changes that.

PUT faults (hoist-release's part retries): with "put_fail": {"count": N,
"query": "partNumber=2", "status": 503}, the first N PUTs whose query string
contains that text are answered with that status and an S3 SlowDown error
document, after their body was read, without reaching moto.

Control (never forwarded; '_' is not valid in a bucket name):
  GET  /_faultproxy/config          current settings and remaining count (JSON)
  POST /_faultproxy/config          merge JSON: count, drop_after, mode, stall_seconds, faults_on,
                                    trickle_bps
Every proxied request is appended to --log as a JSON line: method, path, query,
status, range, faulted, body_bytes (bytes of body actually sent).
"""

import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bedserve import serve, write_port_file

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade"}
# Not forwarded upstream: the proxy already answered "100 Continue" and holds the whole body.
REQUEST_ONLY = {"expect"}
CHUNK = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    """Forwards one request, maybe cutting the answer short."""

    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _json(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _control(self):
        """GET/POST /_faultproxy/config."""
        cfg = self.server.cfg
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            try:
                upd = json.loads(self.rfile.read(min(n, 65536)) or b"{}")
                if not isinstance(upd, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                return self._json(400, {"error": str(e)})
            with self.server.lock:
                cfg.update(upd)
        with self.server.lock:
            return self._json(200, dict(cfg))

    def _matches(self, has_range):
        """True when this request is one of the first N object GETs (consumes one)."""
        if self.command != "GET":
            return False
        path = urlsplit(self.path).path
        host = (self.headers.get("Host") or "").split(":")[0]
        virtual = host.count(".") >= 1 and not host.replace(".", "").isdigit()
        # Path style: /bucket/key...; virtual-host style: bucket.host/key...
        is_object = path.count("/") >= 2 and not path.endswith("/") if not virtual \
            else len(path) > 1
        if not is_object:
            return False
        cfg = self.server.cfg
        on = cfg.get("faults_on", "full")
        if (on == "full" and has_range) or (on == "range" and not has_range):
            return False
        with self.server.lock:
            if cfg.get("count", 0) > 0:
                cfg["count"] -= 1
                return True
        return False

    def _put_fault(self, entry):
        """Answers a matching PUT with the configured error (consumes one); True when it did."""
        if self.command != "PUT":
            return False
        with self.server.lock:
            pf = self.server.cfg.get("put_fail") or {}
            if pf.get("count", 0) <= 0 or pf.get("query", "") not in urlsplit(self.path).query:
                return False
            pf["count"] -= 1
        status = int(pf.get("status", 503))
        msg = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
               b'<Message>injected by faultproxy</Message></Error>')
        entry["status"] = status
        entry["faulted"] = True
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)
        return True

    def _read_body(self):
        """The request body: Content-Length bytes, or a de-chunked chunked body."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out), True
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(n) if n else None), False

    def _proxy(self):
        if self.path.startswith("/_faultproxy/"):
            return self._control()
        t0 = time.time()
        entry = {"ts": round(t0, 6), "method": self.command,
                 "path": urlsplit(self.path).path, "query": urlsplit(self.path).query,
                 "range": self.headers.get("Range"),
                 "status": 0, "faulted": False, "body_bytes": 0}
        try:
            self._forward(entry)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            line = json.dumps(entry, sort_keys=True) + "\n"
            with self.server.lock:
                with open(self.server.log_path, "a", encoding="utf-8") as f:
                    f.write(line)

    def _forward(self, entry):
        """Sends the request upstream and relays (or cuts) the answer."""
        up = self.server.upstream
        body, chunked = self._read_body()
        if self._put_fault(entry):
            return
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() in HOP_BY_HOP or k.lower() in REQUEST_ONLY:
                    continue
                conn.putheader(k, v)
            if chunked:   # the body was de-chunked: send its length instead
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
        except OSError as e:
            conn.close()
            entry["status"] = 502
            msg = f"faultproxy: upstream error: {e}\n".encode()
            self.send_response(502)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        try:
            entry["status"] = r.status
            fault = r.status in (200, 206) and self._matches(self.headers.get("Range") is not None)
            entry["faulted"] = fault
            length = r.getheader("Content-Length")
            self.send_response_only(r.status, r.reason)
            for k, v in r.getheaders():
                if k.lower() in HOP_BY_HOP:
                    continue
                self.send_header(k, v)
            if length is None or fault:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD":
                return
            limit = self.server.cfg.get("drop_after", 0) if fault else None
            sent = 0
            while True:
                want = CHUNK if limit is None else min(CHUNK, limit - sent)
                if want <= 0:
                    break
                data = r.read(want)
                if not data:
                    break
                self.wfile.write(data)
                sent += len(data)
            entry["body_bytes"] = sent
            if fault and self.server.cfg.get("mode") == "trickle":
                self._trickle(r, entry)
                return
            if fault:
                self.wfile.flush()
                if self.server.cfg.get("mode") == "stall":
                    time.sleep(float(self.server.cfg.get("stall_seconds", 30)))
                # Drop: the client sees the connection end before Content-Length bytes.
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        finally:
            conn.close()

    def _trickle(self, r, entry):
        """Sends the rest of the upstream body at trickle_bps bytes/s (until the client gives up)."""
        bps = max(1.0, float(self.server.cfg.get("trickle_bps", 4)))
        step = max(1, int(bps / 4))
        while True:
            data = r.read(step)
            if not data:
                break
            self.wfile.write(data)
            self.wfile.flush()
            entry["body_bytes"] += len(data)
            time.sleep(len(data) / bps)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _proxy


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    """Binds 127.0.0.1, writes the port file, proxies until SIGTERM."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--fail-count", type=int, default=1, help="N: object GETs to cut")
    ap.add_argument("--drop-after", type=int, default=0, help="K: body bytes sent before the cut")
    ap.add_argument("--mode", choices=("drop", "stall", "trickle"), default="drop")
    ap.add_argument("--trickle-bps", type=float, default=4.0)
    ap.add_argument("--stall-seconds", type=float, default=30.0)
    ap.add_argument("--faults-on", choices=("full", "range", "all"), default="full")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", default=os.devnull)
    args = ap.parse_args(argv)

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.upstream = urlsplit(args.upstream)
    srv.lock = threading.Lock()
    srv.log_path = args.log
    srv.cfg = {"count": args.fail_count, "drop_after": args.drop_after, "mode": args.mode,
               "stall_seconds": args.stall_seconds, "faults_on": args.faults_on,
               "trickle_bps": args.trickle_bps}
    port = srv.server_address[1]
    write_port_file(args.port_file, port)
    serve(srv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
