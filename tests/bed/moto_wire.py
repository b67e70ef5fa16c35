#!/usr/bin/env python3
"""moto's server app, in-process, with S3 signatures checked against the wire path.

moto 5.2.1 in server mode recomputes an S3 SigV4 signature over the URL as
werkzeug re-quoted it, so a correctly signed request for a key containing
+ = & : , ; ! ' ( ) * $ @ % or a non-ASCII character fails with 403
SignatureDoesNotMatch. Here the canonical path is rebuilt from the path as it
arrived on the wire (REQUEST_URI): percent-decoded, then re-encoded with the
SigV4 rules for S3 (every byte except A-Z a-z 0-9 - _ . ~ and '/').

moto does not check the region of a signature's credential scope either. S3
does: a request signed for another region than the bucket's is refused with
400 AuthorizationHeaderMalformed ("the region 'X' is wrong; expecting 'Y'"),
an x-amz-bucket-region header naming the bucket's region, and <Region> in the
error document. RegionCheck answers exactly that (path-style requests to a
bucket moto knows; --no-region-check turns it off).

Also: binds 127.0.0.1 on a free port, writes it to --port-file, appends one JSON
line per request to --log (method, wire path, status), and stops on SIGTERM.
"""

import argparse
import json
import os
import re
import sys
import threading
import time
from urllib.parse import quote, unquote_to_bytes, urlsplit

from bedserve import serve, write_port_file


def wire_bytes(s):
    """The request-target's bytes: WSGI hands them over as a latin-1 str (PEP 3333)."""
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def sigv4_s3_path(raw_path):
    """Canonical S3 path for SigV4: decode the wire path, re-encode unreserved-only."""
    return quote(unquote_to_bytes(wire_bytes(raw_path)), safe="/~")


def sigv4_query(raw_query):
    """The wire query with every name and value decoded and re-encoded by the SigV4 rules.

    botocore's S3 signer sorts the query parts as given, so hand it the canonical
    encoding (as S3 does), whatever encoding the client chose for the wire.
    """
    parts = []
    for pair in raw_query.split("&"):
        if not pair:
            continue
        k, _, v = pair.partition("=")
        parts.append(quote(unquote_to_bytes(wire_bytes(k)), safe="-_.~") + "=" +
                     quote(unquote_to_bytes(wire_bytes(v)), safe="-_.~"))
    return "&".join(parts)


def patch_moto():
    """Makes moto's S3 auth check use the wire path instead of werkzeug's URL."""
    from moto.core import authorization

    cls = authorization.ActionAuthenticatorMixin
    orig = cls._authenticate_and_authorize_s3_action   # AttributeError: moto changed

    def s3_action(self, bucket_name=None, key_name=None):
        req = getattr(self, "_wire_request", None)
        environ = getattr(req, "environ", None) if req is not None else None
        raw = environ.get("REQUEST_URI") if environ else None
        if not raw:
            return orig(self, bucket_name, key_name)
        parts = urlsplit(raw)
        saved = self.uri
        # moto builds the signed path from self.uri; give it the wire path, keep the query.
        query = sigv4_query(parts.query)
        self.uri = "http://wire" + sigv4_s3_path(parts.path) + ("?" + query if query else "")
        try:
            return orig(self, bucket_name, key_name)
        finally:
            self.uri = saved

    cls._authenticate_and_authorize_s3_action = s3_action

    from moto.core.responses import BaseResponse
    orig_setup = BaseResponse.setup_class

    def setup_class(self, request, full_url, headers, *a, **kw):
        # Remember the werkzeug request so the auth check can read REQUEST_URI.
        self._wire_request = request
        return orig_setup(self, request, full_url, headers, *a, **kw)

    BaseResponse.setup_class = setup_class


class RegionCheck:
    """WSGI middleware: S3's answer to a request signed for the wrong region."""

    CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/s3/aws4_request")

    def __init__(self, app):
        self.app = app

    @staticmethod
    def bucket_region(name):
        """The region moto created the bucket in, or None when there is no such bucket."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends
        try:
            bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets.get(name)
        except KeyError:
            return None
        return bucket.region_name if bucket is not None else None

    def __call__(self, environ, start_response):
        m = self.CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION") or "")
        raw = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        name = urlsplit(raw).path.lstrip("/").split("/", 1)[0]
        if m and name:
            want = self.bucket_region(name)
            if want is not None and want != m.group(1):
                body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                        "AuthorizationHeaderMalformed</Code><Message>The authorization header "
                        f"is malformed; the region '{m.group(1)}' is wrong; expecting '{want}'"
                        f"</Message><Region>{want}</Region><RequestId>0000000000000000"
                        "</RequestId><HostId>bed</HostId></Error>").encode()
                start_response("400 Bad Request", [
                    ("Content-Type", "application/xml"), ("x-amz-bucket-region", want),
                    ("Content-Length", str(len(body)))])
                return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
        return self.app(environ, start_response)


class RequestLog:
    """WSGI middleware appending one JSON line per request."""

    def __init__(self, app, path):
        self.app, self.path, self.lock = app, path, threading.Lock()

    def __call__(self, environ, start_response):
        t0 = time.time()
        status = {}

        def sr(st, headers, exc_info=None):
            status["code"] = int(st.split(" ", 1)[0])
            return start_response(st, headers, exc_info)

        try:
            return self.app(environ, sr)
        finally:
            raw = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
            line = json.dumps({"ts": round(t0, 6), "method": environ.get("REQUEST_METHOD"),
                               "path": urlsplit(raw).path, "status": status.get("code", 0),
                               "range": environ.get("HTTP_RANGE")}, sort_keys=True) + "\n"
            with self.lock:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(line)


def main(argv=None):
    """Starts moto's app on 127.0.0.1 with the wire-path patch."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", help="request log (JSON lines)")
    ap.add_argument("--no-patch", action="store_true", help="plain moto (to show the bug)")
    ap.add_argument("--bind", default="127.0.0.1",
                    help="address (default 127.0.0.1; the fleet bed uses its bridge address)")
    ap.add_argument("--no-region-check", action="store_true",
                    help="do not refuse requests signed for another region than the bucket's")
    args = ap.parse_args(argv)

    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    if not args.no_patch:
        try:
            patch_moto()
        except (ImportError, AttributeError) as e:
            # bed.sh then falls back to plain moto_server and says so.
            sys.exit(f"moto_wire: cannot patch this moto version ({e})")
    if args.log:
        # our own log replaces werkzeug's per-request stderr lines (cheaper, parseable)
        import logging
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    if not args.no_region_check:
        app = RegionCheck(app)
    wsgi = RequestLog(app, args.log) if args.log else app
    srv = make_server(args.bind, args.port, wsgi, threaded=True)
    srv.daemon_threads = True
    port = srv.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)
    write_port_file(args.port_file, port)
    serve(srv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
