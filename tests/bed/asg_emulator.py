#!/usr/bin/env python3
"""Auto Scaling emulator for hoist's tests: CompleteLifecycleAction and
RecordLifecycleActionHeartbeat, which moto 5.2 lacks.

Speaks the Query protocol (form POST to "/", XML answers, API version
2011-01-01) and checks every request as Auto Scaling would:
  - the SigV4 signature, recomputed with botocore's own signer from the
    credentials the test registered (unknown key: 403 InvalidClientTokenId;
    missing or wrong session token: 403 InvalidClientTokenId; another
    signature, scope region or service: 403 SignatureDoesNotMatch; a date
    more than 15 minutes off: 403 SignatureDoesNotMatch "Signature expired");
  - the permission of that key (an allow-list of actions: 403 AccessDenied);
  - the parameters against the API reference: Action, Version=2011-01-01,
    LifecycleHookName and AutoScalingGroupName required (1-255), one of
    LifecycleActionToken (36) or InstanceId (1-19), LifecycleActionResult
    CONTINUE|ABANDON for CompleteLifecycleAction; anything else is a
    400 ValidationError (unknown parameters too: they would be typos);
  - the state: the named lifecycle action must be pending (400
    ValidationError "No active Lifecycle Action found with instance ID ...").
Every call, accepted or not, is recorded for the tests.

Control API (no signature), under /_asg/:
  GET  /_asg/health
  POST /_asg/credentials   {"AKID": {"secret": S, "token": T|null, "allow": [actions]}} (merged)
  POST /_asg/actions       {"group", "hook", "instance_id"[, "token"]}: a pending launch action
                           (an older pending one of the instance becomes "superseded")
  GET  /_asg/actions       every action and its state (pending, CONTINUE, ABANDON) and heartbeats
  GET  /_asg/calls         the recorded calls (JSON list)
Options: --port-file, --log (JSON lines of calls), --region (default us-east-1).
"""

import datetime
import json
import sys
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import sigv4emu
from sigv4emu import RecordingState, amz_date, split_authorization, too_skewed

API_VERSION = "2011-01-01"
NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
ACTIONS = ("CompleteLifecycleAction", "RecordLifecycleActionHeartbeat")
MAX_BODY = 64 * 1024


class ApiError(Exception):
    """An error answer: HTTP status, Auto Scaling error code, message."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class State(RecordingState):
    """Credentials, lifecycle actions and the call record, behind one lock."""

    def __init__(self, region, log_path):
        super().__init__(region, log_path)
        self.actions = []


def parse_auth(value):
    """Splits an AWS4-HMAC-SHA256 Authorization header into its parts."""
    try:
        auth = split_authorization(value)
    except ValueError:
        raise ApiError(403, "IncompleteSignature", "Authorization header is malformed") from None
    if auth is None:
        raise ApiError(403, "IncompleteSignature", "Authorization header missing or not SigV4")
    akid, date, region, service, term, signed, sig = auth
    if term != "aws4_request":
        raise ApiError(403, "IncompleteSignature", "credential scope must end in aws4_request")
    return akid, date, region, service, signed, sig


def check_signature(st, method, path, headers, body):
    """Verifies the request's SigV4 signature; returns the access key id."""
    akid, date, region, service, signed, sig = parse_auth(headers.get("Authorization"))
    with st.lock:
        known = st.creds.get(akid)
    if known is None:
        raise ApiError(403, "InvalidClientTokenId",
                       "The security token included in the request is invalid.")
    if (known.get("token") or None) != (headers.get("X-Amz-Security-Token") or None):
        raise ApiError(403, "InvalidClientTokenId",
                       "The security token included in the request is invalid.")
    date_hdr = headers.get("X-Amz-Date") or ""
    when = amz_date(date_hdr)
    if when is None:
        raise ApiError(403, "IncompleteSignature", "X-Amz-Date missing or malformed")
    if too_skewed(when):
        raise ApiError(403, "SignatureDoesNotMatch", "Signature expired: " + date_hdr)
    if "host" not in signed or "x-amz-date" not in signed:
        raise ApiError(403, "SignatureDoesNotMatch", "host and x-amz-date must be signed")
    # botocore's own signer over the signed headers as received
    sub = {h: headers.get(h) for h in signed}
    if any(v is None for v in sub.values()):
        raise ApiError(403, "SignatureDoesNotMatch", "a signed header is missing")
    req = AWSRequest(method=method, url=f"http://{headers.get('Host')}{path}", data=body,
                     headers=sub)
    req.context["timestamp"] = date_hdr
    signer = SigV4Auth(Credentials(akid, known["secret"], known.get("token")), service, st.region)
    canonical = signer.canonical_request(req)
    expect = signer.signature(signer.string_to_sign(req, canonical), req)
    if (date != date_hdr[:8] or region != st.region or service != "autoscaling"
            or expect != sig):
        raise ApiError(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you "
                       "provided.")
    return akid


def check_params(form):
    """Checks the parameters against the API reference; returns (action, params)."""
    action = form.get("Action")
    version = form.get("Version")
    if action not in ACTIONS:
        raise ApiError(400, "InvalidAction", f"Could not find operation {action} for version "
                       f"{version}")
    if version != API_VERSION:
        raise ApiError(400, "InvalidAction", f"Could not find operation {action} for version "
                       f"{version}")
    allowed = {"Action", "Version", "LifecycleHookName", "AutoScalingGroupName",
               "LifecycleActionToken", "InstanceId"}
    if action == "CompleteLifecycleAction":
        allowed.add("LifecycleActionResult")
    unknown = sorted(set(form) - allowed)
    if unknown:
        raise ApiError(400, "ValidationError", f"Unknown parameter(s): {', '.join(unknown)}")
    for name in ("LifecycleHookName", "AutoScalingGroupName"):
        v = form.get(name)
        if v is None:
            raise ApiError(400, "ValidationError", f"1 validation error detected: Value null at "
                           f"'{name[0].lower() + name[1:]}' failed to satisfy constraint: "
                           "Member must not be null")
        if not 1 <= len(v) <= 255:
            raise ApiError(400, "ValidationError", f"{name} must be 1-255 characters")
    token, inst = form.get("LifecycleActionToken"), form.get("InstanceId")
    if token is None and inst is None:
        raise ApiError(400, "ValidationError",
                       "Either LifecycleActionToken or InstanceId must be specified")
    if token is not None and len(token) != 36:
        raise ApiError(400, "ValidationError", "LifecycleActionToken must be 36 characters")
    if inst is not None and not 1 <= len(inst) <= 19:
        raise ApiError(400, "ValidationError", "InstanceId must be 1-19 characters")
    if action == "CompleteLifecycleAction" and form.get("LifecycleActionResult") not in (
            "CONTINUE", "ABANDON"):
        raise ApiError(400, "ValidationError",
                       "LifecycleActionResult must be CONTINUE or ABANDON")
    return action, form


def apply(st, action, p):
    """Finds the pending lifecycle action and completes it or records a heartbeat."""
    with st.lock:
        for a in st.actions:
            if (a["group"] == p["AutoScalingGroupName"] and a["hook"] == p["LifecycleHookName"]
                    and a["state"] == "pending"
                    and (a["instance_id"] == p.get("InstanceId")
                         or a["token"] == p.get("LifecycleActionToken"))):
                if action == "CompleteLifecycleAction":
                    a["state"] = p["LifecycleActionResult"]
                else:
                    a["heartbeats"] += 1
                return
    raise ApiError(400, "ValidationError", "No active Lifecycle Action found with instance ID "
                   f"{p.get('InstanceId') or p.get('LifecycleActionToken')}")


class Handler(BaseHTTPRequestHandler):
    """One request: the control API or the Auto Scaling Query API."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="text/xml"):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if not 0 <= n <= MAX_BODY:
            raise ApiError(413, "ValidationError", "request too large")
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        st = self.server.state
        with st.lock:
            docs = {"/_asg/health": "ok", "/_asg/actions": st.actions, "/_asg/calls": st.records}
            doc = docs.get(self.path)
            text = json.dumps(doc) if doc is not None else None
        if text is None:
            return self._send(404, "no such control endpoint\n", "text/plain")
        return self._send(200, text, "application/json")

    def do_POST(self):
        st = self.server.state
        try:
            body = self._body()
        except ApiError as e:
            self.close_connection = True
            return self._send(e.status, e.message, "text/plain")
        if self.path.startswith("/_asg/"):
            return self._control(st, body)
        return self._api(st, body)

    def _control(self, st, body):
        try:
            doc = json.loads(body or b"{}")
            if self.path == "/_asg/credentials":
                with st.lock:
                    st.creds.update(doc)
            elif self.path == "/_asg/actions":
                with st.lock:
                    # one lifecycle action per instance at a time, as in Auto Scaling
                    for a in st.actions:
                        if a["instance_id"] == doc["instance_id"] and a["state"] == "pending":
                            a["state"] = "superseded"
                    st.actions.append({"group": doc["group"], "hook": doc["hook"],
                                       "instance_id": doc["instance_id"],
                                       "token": doc.get("token") or str(uuid.uuid4()),
                                       "state": "pending", "heartbeats": 0})
            else:
                return self._send(404, "no such control endpoint\n", "text/plain")
        except (ValueError, KeyError, TypeError) as e:
            return self._send(400, f"bad control request: {e}\n", "text/plain")
        return self._send(200, "ok", "text/plain")

    def _api(self, st, body):
        entry = {"ts": round(datetime.datetime.now().timestamp(), 3), "action": None,
                 "params": {}, "status": 200, "code": None, "key": None}
        try:
            if self.path != "/":
                raise ApiError(400, "InvalidAction", "the Query API answers on / only")
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                raise ApiError(400, "ValidationError", "expected a form-encoded body")
            try:
                pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True,
                                               strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400, "ValidationError", "malformed form body") from None
            form = dict(pairs)
            if len(form) != len(pairs):
                raise ApiError(400, "ValidationError", "a parameter is repeated")
            entry["action"] = form.get("Action")
            entry["params"] = {k: v for k, v in form.items() if k not in ("Action", "Version")}
            entry["key"] = check_signature(st, "POST", self.path, self.headers, body)
            action, params = check_params(form)
            with st.lock:
                allow = st.creds[entry["key"]].get("allow", list(ACTIONS))
            if action not in allow:
                raise ApiError(403, "AccessDenied",
                               f"User: arn:aws:sts::123456789012:assumed-role/hoist-instance is "
                               f"not authorized to perform: autoscaling:{action}")
            apply(st, action, params)
            rid = str(uuid.uuid4())
            xml = (f'<{action}Response xmlns="{NS}"><{action}Result/><ResponseMetadata>'
                   f"<RequestId>{rid}</RequestId></ResponseMetadata></{action}Response>\n")
            self._send(200, xml)
        except ApiError as e:
            entry["status"], entry["code"] = e.status, e.code
            kind = "Sender" if e.status < 500 else "Receiver"
            msg = e.message.replace("&", "&amp;").replace("<", "&lt;")
            xml = (f'<ErrorResponse xmlns="{NS}"><Error><Type>{kind}</Type><Code>{e.code}</Code>'
                   f"<Message>{msg}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
                   "</ErrorResponse>\n")
            self._send(e.status, xml)
        finally:
            st.record(entry)


def main(argv=None):
    return sigv4emu.main(__doc__.split("\n")[0], Handler, State, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
