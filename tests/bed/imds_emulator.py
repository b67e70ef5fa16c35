#!/usr/bin/env python3
"""IMDSv2 emulator for hoist's tests (stdlib only).

Serves one scenario (user data, instance identity, an IAM role and its
credentials) the way the EC2 instance metadata service does (tests/bed/README.md
lists the behaviour it follows), and injects faults on request. Binds 127.0.0.1 only.

Control API (never subject to tokens or faults), under /_emulator/:
  GET  /_emulator/health           200 "ok"
  GET  /_emulator/state            scenario + faults (JSON)
  POST /_emulator/scenario         replace the scenario (JSON body); faults <- its "faults"
  POST /_emulator/credentials      replace the role's credentials (JSON: AccessKeyId,
                                   SecretAccessKey, Token, Expiration)
  POST /_emulator/autoscaling      set target_lifecycle_state and/or tags (JSON)
  POST /_emulator/user-data        raw body becomes the user data
  DELETE /_emulator/user-data      no user data (404)
  POST /_emulator/faults           merge JSON into the active faults
  POST /_emulator/reset            every fault cleared, issued tokens forgotten (user data
                                   and scenario stay as they are)
  GET  /_emulator/requests         the request log (JSON lines)
  DELETE /_emulator/requests       truncate the request log

Faults (JSON object, keys optional):
  "fail":   {"count": N, "status": 503, "path_prefix": "/latest/"}  N failures, then success
  "stall":  {"seconds": S, "path_prefix": "/latest/user-data", "count": N}  sleep before answering
            (count omitted: every matching request)
  "token_ttl": T              tokens really expire after T seconds (header still echoes the request)
  "expired_credentials": true Expiration (and LastUpdated) in the past
  "malformed_credentials": true  credentials document is broken JSON
  "credentials_error": {"Code": C, "Message": M}  the document IMDS serves when it cannot
                              get the role's credentials: Code, Message, LastUpdated, no keys
                              (default Code AssumeRoleUnauthorizedAccess)
  "no_role": true             no role attached: security-credentials/ and iam/info are 404
  "no_user_data": true        /latest/user-data is 404
  "disabled": true            every metadata request is 403 (endpoint disabled)

Scenario keys for Auto Scaling: "target_lifecycle_state" (served at
meta-data/autoscaling/target-lifecycle-state; unset: 404, not in a group) and
"tags" (instance tags in metadata: meta-data/tags/instance/NAME).
"""

import argparse
import base64
import copy
import datetime
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bedserve import serve, write_port_file

TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
MAX_TTL = 21600
MAX_CONTROL_BODY = 1 << 20

DEFAULT_SCENARIO = {
    "instance_id": "i-0123456789abcdef0",
    "region": "us-east-1",
    "availability_zone": "us-east-1a",
    "instance_type": "t3.micro",
    "image_id": "ami-0abcdef1234567890",
    "account_id": "123456789012",
    "private_ip": "10.0.0.12",
    "v1_allowed": False,
    "user_data_file": None,
    "user_data": None,          # inline text alternative to user_data_file
    "role": None,               # role name, None = no role attached
    "credentials": None,        # {AccessKeyId, SecretAccessKey, Token, Expiration}
    "target_lifecycle_state": None,  # e.g. "InService" (in an Auto Scaling group); None = 404
    "tags": None,               # instance tags in metadata, e.g. {"aws:autoscaling:groupName": "web"}
    "faults": {},
}


def iso(ts):
    """Formats a UNIX time as IMDS does (UTC, seconds, trailing Z)."""
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class State:
    """Scenario, active faults, issued tokens and the request log, behind one lock."""

    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.log_path = log_path
        self.log_lock = threading.Lock()
        self.scenario = copy.deepcopy(DEFAULT_SCENARIO)
        self.user_data = None
        self.faults = {}
        self.tokens = {}
        self.started = time.time()

    def load(self, scenario):
        """Replaces the scenario; faults become the scenario's own."""
        sc = copy.deepcopy(DEFAULT_SCENARIO)
        sc.update(scenario)
        user_data = None
        if sc.get("user_data_file"):
            with open(sc["user_data_file"], "rb") as f:
                user_data = f.read()
        elif sc.get("user_data") is not None:
            user_data = sc["user_data"].encode()
        with self.lock:
            self.scenario = sc
            self.user_data = user_data
            self.faults = copy.deepcopy(sc.get("faults") or {})
            self.tokens = {}

    def reset(self):
        """Clears every fault and forgets issued tokens; the user data stays as set."""
        with self.lock:
            self.faults = {}
            self.tokens = {}

    def log(self, entry):
        """Appends one JSON line to the request log (one write, flushed)."""
        if not self.log_path:
            return
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.log_lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line)


class Handler(BaseHTTPRequestHandler):
    """One request: the control API or the metadata service."""

    server_version = "EC2ws"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # silence stderr; we keep our own log
        pass

    # ---- plumbing -------------------------------------------------------
    def _send(self, status, body=b"", ctype="text/plain", headers=None):
        """Sends a complete response and logs it."""
        if isinstance(body, str):
            body = body.encode()
        self._status = status
        # Logged before the client can see the answer: a test that reads the log
        # (or clears it) right after the client is done must find every request.
        self._log_request()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self):
        """Reads the request body (bounded)."""
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_CONTROL_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def _dispatch(self):
        """Routes one request (control API or metadata) and logs metadata requests."""
        st = self.server.state
        self._status = 0
        self._logged = False
        path = self.path.split("?", 1)[0]
        self._t0 = t0 = time.time()
        try:
            if path.startswith("/_emulator/"):
                self._control(st, path)
                return
            self._body()   # drain any body so the kept-alive connection stays in sync
            self._metadata(st, path)
        except (BrokenPipeError, ConnectionResetError):
            self._status = -1
        except ValueError:   # a body over the bound: answer and drop the connection
            self.close_connection = True
            self._send(413, "Payload Too Large\n")
        finally:
            self._log_request()   # when nothing was sent (a broken connection)

    def _log_request(self):
        """Appends this metadata request to the log, once (control requests are not logged)."""
        path = self.path.split("?", 1)[0]
        if self._logged or path.startswith("/_emulator/"):
            return
        self._logged = True
        self.server.state.log({"ts": round(self._t0, 6), "method": self.command, "path": path,
                               "status": self._status,
                               "token": self.headers.get(TOKEN_HEADER) is not None,
                               "ms": round((time.time() - self._t0) * 1000, 1)})

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _dispatch

    # ---- control API ----------------------------------------------------
    def _control(self, st, path):
        """Handles /_emulator/*: run-time changes made by the tests."""
        m = self.command
        try:
            body = self._body()
            if path == "/_emulator/health" and m == "GET":
                return self._send(200, "ok")
            if path == "/_emulator/state" and m == "GET":
                with st.lock:
                    doc = {"scenario": st.scenario, "faults": st.faults,
                           "user_data_bytes": None if st.user_data is None else len(st.user_data),
                           "tokens": len(st.tokens)}
                return self._send(200, json.dumps(doc, default=str), "application/json")
            if path == "/_emulator/scenario" and m == "POST":
                st.load(json.loads(body or b"{}"))
                return self._send(200, "ok")
            if path == "/_emulator/credentials" and m == "POST":
                creds = json.loads(body or b"{}")
                if not isinstance(creds, dict):
                    raise ValueError("credentials must be a JSON object")
                with st.lock:
                    st.scenario["credentials"] = creds
                return self._send(200, "ok")
            if path == "/_emulator/autoscaling" and m == "POST":
                doc = json.loads(body or b"{}")
                if not isinstance(doc, dict) or set(doc) - {"target_lifecycle_state", "tags"}:
                    raise ValueError("expected {target_lifecycle_state, tags}")
                with st.lock:
                    st.scenario.update(doc)
                return self._send(200, "ok")
            if path == "/_emulator/user-data" and m in ("POST", "PUT"):
                with st.lock:
                    st.user_data = body
                    st.faults.pop("no_user_data", None)
                return self._send(200, "ok")
            if path == "/_emulator/user-data" and m == "DELETE":
                with st.lock:
                    st.user_data = None
                return self._send(200, "ok")
            if path == "/_emulator/faults" and m == "POST":
                faults = json.loads(body or b"{}")
                if not isinstance(faults, dict):
                    raise ValueError("faults must be a JSON object")
                with st.lock:
                    st.faults.update(faults)
                    st.faults = {k: v for k, v in st.faults.items() if v not in (None, False)}
                return self._send(200, json.dumps(st.faults), "application/json")
            if path == "/_emulator/reset" and m == "POST":
                st.reset()
                return self._send(200, "ok")
            if path == "/_emulator/requests" and m == "GET":
                data = b""
                if st.log_path and os.path.exists(st.log_path):
                    with open(st.log_path, "rb") as f:
                        data = f.read()
                return self._send(200, data, "application/x-ndjson")
            if path == "/_emulator/requests" and m == "DELETE":
                if st.log_path:
                    with st.log_lock:
                        open(st.log_path, "w").close()
                return self._send(200, "ok")
            return self._send(404, "no such control endpoint\n")
        except (ValueError, OSError) as e:
            return self._send(400, f"bad control request: {e}\n")

    # ---- metadata service -----------------------------------------------
    def _take_fault(self, st, path):
        """Returns (stall_seconds, fail_status) for this request, consuming counts."""
        stall, fail = 0.0, 0
        with st.lock:
            f = st.faults.get("stall")
            if f and path.startswith(f.get("path_prefix", "")):
                cnt = f.get("count")
                if cnt is None or cnt > 0:
                    stall = float(f.get("seconds", 0))
                    if cnt is not None:
                        f["count"] = cnt - 1
            f = st.faults.get("fail")
            if f and path.startswith(f.get("path_prefix", "")) and f.get("count", 0) > 0:
                f["count"] -= 1
                fail = int(f.get("status", 503))
        return stall, fail

    def _metadata(self, st, path):
        """Serves the IMDSv2 protocol for one request."""
        stall, fail = self._take_fault(st, path)
        if stall > 0:
            time.sleep(stall)
        if st.faults.get("disabled"):
            return self._send(403, "Forbidden\n")
        if fail:
            return self._send(fail, "Service Unavailable\n" if fail == 503 else "error\n")
        if path == TOKEN_PATH:
            if self.command != "PUT":
                return self._send(405, "Method Not Allowed\n")
            return self._token(st)
        if self.command not in ("GET", "HEAD"):
            return self._send(405, "Method Not Allowed\n")
        tok = self.headers.get(TOKEN_HEADER)
        if tok is None:
            if not st.scenario.get("v1_allowed"):
                return self._send(401, "Unauthorized\n")
        else:
            with st.lock:
                exp = st.tokens.get(tok)
            if exp is None or exp <= time.monotonic():
                return self._send(401, "Unauthorized\n")
        status, body, ctype = self._item(st, path)
        return self._send(status, body, ctype)

    def _token(self, st):
        """PUT /latest/api/token: a new session token for TTL seconds."""
        if self.headers.get("X-Forwarded-For") is not None:
            return self._send(403, "Forbidden\n")
        raw = self.headers.get(TTL_HEADER)
        try:
            ttl = int(raw.strip()) if raw is not None and raw.strip().isdigit() else 0
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= MAX_TTL:
            return self._send(400, "Bad Request\n")
        real = ttl
        override = st.faults.get("token_ttl")
        if override is not None:
            real = min(ttl, float(override))
        tok = "AQAEA" + base64.urlsafe_b64encode(secrets.token_bytes(39)).decode().rstrip("=")
        with st.lock:
            st.tokens[tok] = time.monotonic() + real
            if len(st.tokens) > 10000:  # bound memory: drop expired tokens
                now = time.monotonic()
                st.tokens = {k: v for k, v in st.tokens.items() if v > now}
        return self._send(200, tok, headers={TTL_HEADER: str(ttl)})

    def _item(self, st, path):
        """Returns (status, body, content type) for a metadata path."""
        with st.lock:
            sc = st.scenario
            faults = dict(st.faults)
            user_data = st.user_data
        role = None if faults.get("no_role") else sc.get("role")
        md = "/latest/meta-data/"
        simple = {
            md + "instance-id": sc["instance_id"],
            md + "instance-type": sc["instance_type"],
            md + "ami-id": sc["image_id"],
            md + "local-ipv4": sc["private_ip"],
            md + "placement/region": sc["region"],
            md + "placement/availability-zone": sc["availability_zone"],
        }
        if path in simple:
            return 200, simple[path], "text/plain"
        if path == md + "autoscaling/target-lifecycle-state" and sc.get("target_lifecycle_state"):
            return 200, sc["target_lifecycle_state"], "text/plain"
        tags = sc.get("tags") or {}
        if path in (md + "tags/instance", md + "tags/instance/") and tags:
            return 200, "\n".join(sorted(tags)), "text/plain"
        if path.startswith(md + "tags/instance/") and path[len(md + "tags/instance/"):] in tags:
            return 200, tags[path[len(md + "tags/instance/"):]], "text/plain"
        if path == "/latest/user-data":
            if user_data is None or faults.get("no_user_data"):
                return 404, "Not Found\n", "text/plain"
            return 200, user_data, "application/octet-stream"
        if path in ("/latest/meta-data", "/latest/meta-data/"):
            items = "ami-id\nplacement/\ninstance-id\ninstance-type\nlocal-ipv4\n"
            if role:
                items += "iam/\n"
            return 200, items, "text/plain"
        if path == "/latest/dynamic/instance-identity/document":
            doc = {"accountId": sc["account_id"], "architecture": "x86_64",
                   "availabilityZone": sc["availability_zone"], "billingProducts": None,
                   "devpayProductCodes": None, "marketplaceProductCodes": None,
                   "imageId": sc["image_id"], "instanceId": sc["instance_id"],
                   "instanceType": sc["instance_type"], "kernelId": None,
                   "pendingTime": iso(st.started), "privateIp": sc["private_ip"],
                   "ramdiskId": None, "region": sc["region"], "version": "2017-09-30"}
            return 200, json.dumps(doc, indent=2), "application/json"
        if path.startswith(md + "iam/"):
            if not role:
                return 404, "Not Found\n", "text/plain"
            now = time.time()
            if path == md + "iam/info":
                doc = {"Code": "Success", "LastUpdated": iso(now),
                       "InstanceProfileArn": f"arn:aws:iam::{sc['account_id']}:instance-profile/{role}",
                       "InstanceProfileId": "AIPAEXAMPLEPROFILEID0"}
                return 200, json.dumps(doc, indent=2), "application/json"
            if path in (md + "iam/security-credentials/", md + "iam/security-credentials"):
                return 200, role, "text/plain"
            if path in (md + "iam", md + "iam/"):
                return 200, "info\nsecurity-credentials/", "text/plain"
            if path == md + "iam/security-credentials/" + role:
                return self._credentials(sc, faults, now)
        return 404, "Not Found\n", "text/plain"

    @staticmethod
    def _credentials(sc, faults, now):
        """The role's credentials document, possibly expired or malformed."""
        if faults.get("malformed_credentials"):
            return 200, '{\n  "Code" : "Success",\n  "AccessKeyId" : "ASIA', "text/plain"
        failure = faults.get("credentials_error")
        if failure:
            # IMDS's answer when EC2 cannot get the role's credentials (for example a
            # trust policy that does not let ec2.amazonaws.com assume the role)
            failure = failure if isinstance(failure, dict) else {}
            doc = {"Code": failure.get("Code", "AssumeRoleUnauthorizedAccess"),
                   "Message": failure.get("Message", "EC2 cannot assume the role. Please see "
                                          "documentation at https://docs.aws.amazon.com/IAM/latest/"
                                          "UserGuide/id_roles_terms-and-concepts.html."),
                   "LastUpdated": iso(now)}
            return 200, json.dumps(doc, indent=2), "text/plain"
        creds = sc.get("credentials") or {}
        expiration = creds.get("Expiration") or iso(now + 6 * 3600)
        updated = iso(now)
        if faults.get("expired_credentials"):
            expiration = iso(now - 3600)
            updated = iso(now - 7200)
        doc = {"Code": "Success", "LastUpdated": updated, "Type": "AWS-HMAC",
               "AccessKeyId": creds.get("AccessKeyId", ""),
               "SecretAccessKey": creds.get("SecretAccessKey", ""),
               "Token": creds.get("Token", ""), "Expiration": expiration}
        return 200, json.dumps(doc, indent=2), "text/plain"


class Server(ThreadingHTTPServer):
    daemon_threads = True        # a stalled handler must not delay shutdown
    allow_reuse_address = True
    request_queue_size = 64


def main(argv=None):
    """Parses options, binds 127.0.0.1, writes the port file, serves until SIGTERM."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    ap.add_argument("--port-file", help="write the bound port here (atomically)")
    ap.add_argument("--scenario", help="scenario JSON file")
    ap.add_argument("--log", help="request log (JSON lines)")
    ap.add_argument("--bind", default="127.0.0.1",
                    help="address (default 127.0.0.1; the fleet bed: 169.254.169.254 in a host's namespace)")
    args = ap.parse_args(argv)

    state = State(args.log)
    if args.scenario:
        with open(args.scenario, encoding="utf-8") as f:
            state.load(json.load(f))
    srv = Server((args.bind, args.port), Handler)
    srv.state = state
    port = srv.server_address[1]
    write_port_file(args.port_file, port)
    serve(srv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
