#!/usr/bin/env python3
"""S3 GetObject and HeadObject of generated objects, for tests that need a bundle
larger than the disk or the memory they may use (moto holds every object in memory:
a 4 GiB object cost it 8.8 GB in tests/big/).

An object is described, never stored: an uncompressed tar (GNU format, as Python's
tarfile writes it) whose members are directories, files given as text, or files of
SIZE zero bytes with marker strings at given offsets. Every answer's body is computed
from the description while it is sent (memory stays flat at any size). The object's
SHA-256, and each member's, are computed once, in a background thread, when the
object is registered (about 2 s per 4 GiB per digest with SHA-NI); an answer waits
for them only when it must send the digest.

Checked the way S3 checks them:
  - the SigV4 signature, recomputed with botocore's S3 signer over the path as it
    arrived (percent-decoded, then encoded again by the S3 rules): unknown key 403
    InvalidAccessKeyId; a session token other than the registered one 400
    InvalidToken; a date more than 15 minutes off 403 RequestTimeTooSkewed; another
    region in the scope 400 AuthorizationHeaderMalformed with x-amz-bucket-region;
    any other difference 403 SignatureDoesNotMatch;
  - x-amz-content-sha256 must be present and be the empty body's digest or
    UNSIGNED-PAYLOAD (a GET or HEAD has no body): else 400 InvalidArgument;
  - GET and HEAD only (405 MethodNotAllowed), path style /BUCKET/KEY, no query
    parameters (400 InvalidArgument: hoist sends none of GetObject's);
  - Range: one "bytes=A-B", "bytes=A-" or "bytes=-N" range (206, Content-Range);
    starting past the end: 416 InvalidRange; anything else is ignored (200), as S3 does;
  - If-Match against the ETag (412 PreconditionFailed), If-None-Match (304);
  - x-amz-checksum-mode: ENABLED (the only value) adds x-amz-checksum-sha256 (base64)
    and x-amz-checksum-type: FULL_OBJECT to an answer for the whole object;
  - unknown bucket 404 NoSuchBucket, unknown key 404 NoSuchKey.

Faults (POST /_s3gen/faults, JSON; each applies to the next GET with a body, then clears):
  "drop_after": N   send N body bytes, then close the connection
  "stall_after": N  send N body bytes, then send nothing more until the client goes
                    away (or "stall_seconds", default 120, pass; then close)

Control API (no signature), under /_s3gen/:
  GET  /_s3gen/health
  POST /_s3gen/credentials {"AKID": {"secret": S, "token": T|null}}  (merged)
  POST /_s3gen/objects     {"bucket", "key", "members": [{"name", "dir": true} |
                            {"name", "text"} | {"name", "size", "marks": [[OFFSET, TEXT], ...]}]}
                           -> {"size", "etag", "members": [{"name", "offset", "size"}]}
                           (offset: where the member's data starts in the object)
  GET  /_s3gen/object?bucket=B&key=K   the same and "sha256" (hex) of the object and of
                           each file member (waits for the digests)
  POST /_s3gen/faults      merge JSON into the pending faults
  GET  /_s3gen/requests    every request so far (JSON list; also --log, JSON lines):
                           ts, method, path, status, range, if_match, akid, sent (body
                           bytes written), fault ("drop" or "stall" once it acted)
Options: --port-file, --log, --region (default us-east-1).
"""

import base64
import bisect
import hashlib
import json
import re
import select
import socket
import sys
import tarfile
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import sigv4emu
from sigv4emu import RecordingState, amz_date, split_authorization, too_skewed

CHUNK = 1 << 20
ZEROS = memoryview(bytes(CHUNK))
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MTIME = 1700000000
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class S3Error(Exception):
    """An S3 error answer: status, code, message, extra headers."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class GenObject:
    """A tar described by its members: the non-zero runs and their offsets."""

    def __init__(self, members):
        self.runs = []       # sorted, non-overlapping (offset, bytes)
        self.files = []      # (name, data offset, size) of each file member
        pos = 0
        for m in members:
            name = m["name"]
            ti = tarfile.TarInfo(name.rstrip("/") if m.get("dir") else name)
            ti.mtime, ti.uname, ti.gname = MTIME, "root", "root"
            if m.get("dir"):
                ti.type, ti.mode, ti.size, data = tarfile.DIRTYPE, 0o755, 0, b""
            elif "text" in m:
                data = m["text"].encode()
                ti.mode, ti.size = 0o644, len(data)
            else:
                data = None
                ti.mode, ti.size = 0o644, int(m["size"])
            hdr = ti.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
            self.runs.append((pos, hdr))
            pos += len(hdr)
            if not m.get("dir"):
                self.files.append((name, pos, ti.size))
            if data:
                self.runs.append((pos, data))
            elif data is None:
                for off, text in sorted(m.get("marks", [])):
                    raw = text.encode()
                    if not 0 <= off <= ti.size - len(raw):
                        raise ValueError(f"mark at {off} is outside {name} ({ti.size} bytes)")
                    self.runs.append((pos + off, raw))
            pos += -(-ti.size // 512) * 512
        self.size = pos + 1024   # two zero blocks end the archive
        self.starts = [r[0] for r in self.runs]
        for (a, d), (b, _) in zip(self.runs, self.runs[1:]):
            if a + len(d) > b:
                raise ValueError("marks overlap")
        self.etag = '"%s-1"' % hashlib.md5(json.dumps(members, sort_keys=True).encode(),
                                           usedforsecurity=False).hexdigest()
        self.sha256 = None         # hex, once known
        self.file_sha256 = {}      # member name -> hex
        self.hashed = threading.Event()

    def chunks(self, start, end):
        """Yields the bytes of [start, end) in pieces of at most CHUNK."""
        pos = start
        while pos < end:
            n = min(CHUNK, end - pos)
            i = max(bisect.bisect_right(self.starts, pos) - 1, 0)
            buf = None
            while i < len(self.runs) and self.runs[i][0] < pos + n:
                off, data = self.runs[i]
                lo, hi = max(off, pos), min(off + len(data), pos + n)
                if lo < hi:
                    if buf is None:
                        buf = bytearray(n)
                    buf[lo - pos:hi - pos] = data[lo - off:hi - off]
                i += 1
            yield ZEROS[:n] if buf is None else buf
            pos += n

    def hash_all(self):
        """The object's SHA-256 and each file member's, in one pass."""
        whole = hashlib.sha256()
        per = [(name, off, off + size, hashlib.sha256()) for name, off, size in self.files]
        pos = 0
        for piece in self.chunks(0, self.size):
            whole.update(piece)
            end = pos + len(piece)
            for _, a, b, h in per:
                lo, hi = max(a, pos), min(b, end)
                if lo < hi:
                    h.update(piece[lo - pos:hi - pos])
            pos = end
        self.file_sha256 = {name: h.hexdigest() for name, _, _, h in per}
        self.sha256 = whole.hexdigest()
        self.hashed.set()

    def describe(self, digests):
        doc = {"size": self.size, "etag": self.etag,
               "members": [{"name": n, "offset": o, "size": s} for n, o, s in self.files]}
        if digests:
            self.hashed.wait()
            doc["sha256"] = self.sha256
            for m in doc["members"]:
                m["sha256"] = self.file_sha256[m["name"]]
        return doc


class State(RecordingState):
    """Objects, credentials, faults and the request record, behind one lock."""

    def __init__(self, region, log_path):
        super().__init__(region, log_path)
        self.objects = {}   # (bucket, key) -> GenObject
        self.faults = {}

    def take_fault(self):
        with self.lock:
            f, self.faults = self.faults, {}
        return f


def wire_path_canonical(raw):
    """The S3 canonical URI of a wire path: decoded, then encoded by the SigV4 S3 rules."""
    return urllib.parse.quote(urllib.parse.unquote_to_bytes(raw), safe="/~")


def check_signature(st, method, raw_path, headers):
    """Verifies the SigV4 signature of a GET or HEAD; returns the access key id."""
    try:
        auth = split_authorization(headers.get("Authorization"))
    except ValueError:
        raise S3Error(400, "AuthorizationHeaderMalformed",
                      "The authorization header is malformed") from None
    if auth is None:
        raise S3Error(403, "AccessDenied", "Anonymous access is forbidden for this operation")
    akid, date, region, service, _, signed, sig = auth
    with st.lock:
        known = st.creds.get(akid)
    if known is None:
        raise S3Error(403, "InvalidAccessKeyId",
                      "The AWS Access Key Id you provided does not exist in our records.")
    if (known.get("token") or None) != (headers.get("x-amz-security-token") or None):
        raise S3Error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
    if region != st.region:
        raise S3Error(400, "AuthorizationHeaderMalformed",
                      f"The authorization header is malformed; the region '{region}' is wrong; "
                      f"expecting '{st.region}'", {"x-amz-bucket-region": st.region})
    date_hdr = headers.get("x-amz-date") or ""
    when = amz_date(date_hdr)
    if when is None:
        raise S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or "
                      "x-amz-date header")
    if too_skewed(when):
        raise S3Error(403, "RequestTimeTooSkewed", "The difference between the request time "
                      "and the current time is too large.")
    payload = headers.get("x-amz-content-sha256")
    if payload not in (EMPTY_SHA256, "UNSIGNED-PAYLOAD"):
        raise S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be the empty body's "
                      "digest or UNSIGNED-PAYLOAD for a request without a body")
    if "host" not in signed or "x-amz-date" not in signed or "x-amz-content-sha256" not in signed:
        raise S3Error(403, "SignatureDoesNotMatch", "host, x-amz-date and x-amz-content-sha256 "
                      "must be signed")
    sub = {h: headers.get(h) for h in signed}
    if any(v is None for v in sub.values()):
        raise S3Error(403, "SignatureDoesNotMatch", "a signed header is missing")
    req = AWSRequest(method=method, url=f"http://{headers.get('Host')}"
                     f"{wire_path_canonical(raw_path)}", headers=sub)
    req.context["timestamp"] = date_hdr
    signer = S3SigV4Auth(Credentials(akid, known["secret"], known.get("token")), "s3", st.region)
    expect = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
    if date != date_hdr[:8] or service != "s3" or expect != sig:
        raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does "
                      "not match the signature you provided. Check your key and signing method.")
    return akid


def parse_range(value, size):
    """(start, end inclusive) of a Range header, None to send the whole object."""
    m = RANGE.match(value or "")
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    if m.group(1) == "":
        n = int(m.group(2))
        if n == 0:
            raise S3Error(416, "InvalidRange", "The requested range is not satisfiable")
        return max(size - n, 0), size - 1
    a = int(m.group(1))
    b = int(m.group(2)) if m.group(2) else size - 1
    if a >= size:
        raise S3Error(416, "InvalidRange", "The requested range is not satisfiable")
    if b < a:
        return None
    return a, min(b, size - 1)


def client_gone(sock, seconds):
    """Waits up to seconds for the peer to close; True when it did."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([sock], [], [], 0.2)
        if r:
            try:
                if sock.recv(1, socket.MSG_PEEK) == b"":
                    return True
            except OSError:
                return True
            time.sleep(0.2)   # it sent something: a new request cannot come before our answer
    return False


class Handler(BaseHTTPRequestHandler):
    """One request: the control API or GetObject/HeadObject."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _plain(self, status, body, ctype="application/json"):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _control(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        try:
            if self.command == "GET" and url.path == "/_s3gen/health":
                return self._plain(200, "ok", "text/plain")
            if self.command == "GET" and url.path == "/_s3gen/requests":
                with st.lock:
                    text = json.dumps(st.records)
                return self._plain(200, text)
            if self.command == "GET" and url.path == "/_s3gen/object":
                q = dict(urllib.parse.parse_qsl(url.query))
                with st.lock:
                    obj = st.objects.get((q.get("bucket"), q.get("key")))
                if obj is None:
                    return self._plain(404, '{"error": "no such object"}')
                return self._plain(200, json.dumps(obj.describe(True)))
            if self.command != "POST":
                return self._plain(404, '{"error": "no such control endpoint"}')
            n = int(self.headers.get("Content-Length") or 0)
            doc = json.loads(self.rfile.read(n) or b"{}")
            if url.path == "/_s3gen/credentials":
                with st.lock:
                    st.creds.update(doc)
                return self._plain(200, "{}")
            if url.path == "/_s3gen/faults":
                with st.lock:
                    st.faults.update(doc)
                return self._plain(200, "{}")
            if url.path == "/_s3gen/objects":
                obj = GenObject(doc["members"])
                with st.lock:
                    st.objects[(doc["bucket"], doc["key"])] = obj
                threading.Thread(target=obj.hash_all, daemon=True).start()
                return self._plain(200, json.dumps(obj.describe(False)))
            return self._plain(404, '{"error": "no such control endpoint"}')
        except (ValueError, KeyError, TypeError) as e:
            return self._plain(400, json.dumps({"error": str(e)}))

    def _error(self, e, entry):
        entry["status"] = e.status
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{e.code}</Code>'
                f"<Message>{e.message}</Message><RequestId>{uuid.uuid4().hex[:16]}</RequestId>"
                "</Error>").encode()
        self.send_response(e.status)
        for k, v in e.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _object(self):
        st = self.server.state
        raw = self.path
        entry = {"ts": round(time.time(), 3), "method": self.command, "path": raw, "status": 200,
                 "range": self.headers.get("Range"), "if_match": self.headers.get("If-Match"),
                 "akid": None, "sent": 0, "fault": None}
        try:
            entry["akid"] = check_signature(st, self.command, raw.split("?")[0], self.headers)
            if self.command not in ("GET", "HEAD"):
                self.close_connection = True   # its body is not read
                raise S3Error(405, "MethodNotAllowed",
                              "The specified method is not allowed against this resource.")
            if "?" in raw:
                raise S3Error(400, "InvalidArgument", "no query parameters are served here")
            bucket, _, key = urllib.parse.unquote(raw[1:]).partition("/")
            with st.lock:
                obj = st.objects.get((bucket, key))
                has_bucket = any(b == bucket for b, _ in st.objects)
            if obj is None:
                raise S3Error(404, "NoSuchKey" if has_bucket else "NoSuchBucket",
                              "The specified key does not exist." if has_bucket
                              else "The specified bucket does not exist")
            mode = self.headers.get("x-amz-checksum-mode")
            if mode is not None and mode != "ENABLED":
                raise S3Error(400, "InvalidArgument", "x-amz-checksum-mode must be ENABLED")
            im, inm = self.headers.get("If-Match"), self.headers.get("If-None-Match")
            if im is not None and im not in (obj.etag, "*"):
                raise S3Error(412, "PreconditionFailed",
                              "At least one of the pre-conditions you specified did not hold")
            if inm is not None and inm in (obj.etag, "*"):
                entry["status"] = 304
                self.send_response(304)
                self.send_header("ETag", obj.etag)
                self.end_headers()
                return
            rng = parse_range(self.headers.get("Range"), obj.size)
            start, end = rng if rng else (0, obj.size - 1)
            self._answer(obj, rng, start, end, mode == "ENABLED", entry)
        except S3Error as e:
            self._error(e, entry)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            st.record(entry)

    def _answer(self, obj, rng, start, end, with_sum, entry):
        st = self.server.state
        entry["status"] = 206 if rng else 200
        self.send_response(entry["status"])
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("ETag", obj.etag)
        self.send_header("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
        self.send_header("Accept-Ranges", "bytes")
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{obj.size}")
        elif with_sum:
            obj.hashed.wait()
            self.send_header("x-amz-checksum-sha256",
                             base64.b64encode(bytes.fromhex(obj.sha256)).decode())
            self.send_header("x-amz-checksum-type", "FULL_OBJECT")
        self.end_headers()
        if self.command == "HEAD":
            return
        fault = st.take_fault()
        limit = fault.get("drop_after", fault.get("stall_after"))
        for piece in obj.chunks(start, end + 1):
            if limit is not None and entry["sent"] + len(piece) >= limit:
                piece = piece[:limit - entry["sent"]]
                self.wfile.write(piece)
                entry["sent"] += len(piece)
                break
            self.wfile.write(piece)
            entry["sent"] += len(piece)
        else:
            return
        self.close_connection = True
        if "stall_after" in fault:
            entry["fault"] = "stall"
            self.server.state.record({"ts": round(time.time(), 3), "stalled": entry["sent"],
                                      "path": entry["path"]})
            client_gone(self.connection, float(fault.get("stall_seconds", 120)))
        else:
            entry["fault"] = "drop"
        self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self):
        if self.path.startswith("/_s3gen/"):
            return self._control()
        return self._object()

    do_HEAD = do_GET

    def do_POST(self):
        if self.path.startswith("/_s3gen/"):
            return self._control()
        return self._object()

    do_PUT = do_DELETE = do_POST


def main(argv=None):
    # quiet: clients dropping a connection on purpose are expected here
    return sigv4emu.main(__doc__.split("\n", maxsplit=1)[0], Handler, State, quiet=True, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
