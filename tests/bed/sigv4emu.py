"""What the bed's own AWS emulators (asg_emulator.py, s3gen_emulator.py) share: the parts
of a SigV4 Authorization header, X-Amz-Date and its allowed skew, the request record and
the server with its command line. Each emulator words the errors the way its service does."""

import argparse
import datetime
import json
import threading
from http.server import ThreadingHTTPServer

from bedserve import serve, write_port_file

SKEW = datetime.timedelta(minutes=15)  # what AWS accepts between a request's time and its own


def split_authorization(value):
    """(access key id, date, region, service, scope end, signed header names, signature) of an
    AWS4-HMAC-SHA256 Authorization header; None when there is none or it is another scheme;
    ValueError when it is malformed."""
    if not value or not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    parts = {}
    for item in value[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        parts[k] = v
    try:
        akid, date, region, service, term = parts["Credential"].split("/")
        return akid, date, region, service, term, parts["SignedHeaders"].split(";"), parts["Signature"]
    except (KeyError, ValueError):
        raise ValueError("malformed Authorization header") from None


def amz_date(value):
    """X-Amz-Date as an aware datetime; None when missing or malformed."""
    try:
        return datetime.datetime.strptime(value or "", "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def too_skewed(when):
    """True when when is further than SKEW from now."""
    return abs(datetime.datetime.now(datetime.timezone.utc) - when) > SKEW


class RecordingState:
    """Credentials and the record of every request (kept, and appended to the log file as
    JSON lines), behind one lock that subclasses use for their own state too."""

    def __init__(self, region, log_path):
        self.lock = threading.Lock()
        self.region, self.log_path = region, log_path
        self.creds = {}
        self.records = []

    def record(self, entry):
        with self.lock:
            self.records.append(entry)
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    quiet = False  # True: connections clients drop on purpose are not reported

    def handle_error(self, request, client_address):
        if not self.quiet:
            super().handle_error(request, client_address)


def main(description, handler, state_class, quiet=False, argv=None):
    """Parses --port, --port-file, --log and --region, then serves on 127.0.0.1 until stopped."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args(argv)
    srv = Server(("127.0.0.1", args.port), handler)
    srv.quiet = quiet
    srv.state = state_class(args.region, args.log)
    write_port_file(args.port_file, srv.server_address[1])
    serve(srv)
    return 0
