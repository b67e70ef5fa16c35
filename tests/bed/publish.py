#!/usr/bin/env python3
"""Publishes a file to the test bed's S3 (moto) with the admin key.

Signed with botocore's own S3SigV4Auth (an independent client), sent with
http.client: no boto3 client to build, so a publish costs about 0.2 s.

publish.py [--bucket B] [--bad-checksum | --no-checksum] [--sidecar] [--meta K=V]... FILE KEY

Default: PutObject with ChecksumAlgorithm=SHA256, so a GET with
x-amz-checksum-mode: ENABLED returns x-amz-checksum-sha256 (base64).
--bad-checksum plants a wrong x-amz-checksum-sha256 (moto stores a supplied
checksum without checking it); --no-checksum stores no checksum at all;
--sidecar also puts KEY.sha256 holding the hex digest and a newline.
Prints one JSON line: bucket, key, size, sha256 (hex), checksum (base64 stored), etag.
Environment: HOIST_TEST_S3_ENDPOINT, BED_ADMIN_ACCESS_KEY_ID, BED_ADMIN_SECRET_ACCESS_KEY,
BED_BUCKET, BED_REGION (all exported by bed_start).
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import sys
from urllib.parse import quote, urlsplit


def put(endpoint, creds, region, bucket, key, data, headers):
    """PUTs one object, signed by botocore's S3SigV4Auth; returns the response headers."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = f"{endpoint}/{bucket}/{quote(key, safe='/~')}"
    req = AWSRequest(method="PUT", url=url, data=data, headers=dict(headers))
    S3SigV4Auth(creds, "s3", region).add_auth(req)   # also signs x-amz-content-sha256
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("PUT", u.path, body=data, headers=dict(req.headers.items()))
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"publish: PUT s3://{bucket}/{key} -> {r.status}: {body[:300]!r}")
        return {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def main(argv=None):
    """Parses options and puts the object (and its sidecar)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("key")
    ap.add_argument("--bucket", default=os.environ.get("BED_BUCKET", "hoist-releases"))
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--bad-checksum", action="store_true")
    g.add_argument("--no-checksum", action="store_true")
    ap.add_argument("--sidecar", action="store_true")
    ap.add_argument("--meta", action="append", default=[], help="x-amz-meta-K: V")
    args = ap.parse_args(argv)

    try:
        endpoint = os.environ["HOIST_TEST_S3_ENDPOINT"]
        key_id = os.environ["BED_ADMIN_ACCESS_KEY_ID"]
        secret = os.environ["BED_ADMIN_SECRET_ACCESS_KEY"]
    except KeyError as e:
        print(f"publish: {e.args[0]} not set (run bed_start first)", file=sys.stderr)
        return 2
    region = os.environ.get("BED_REGION", "us-east-1")

    with open(args.file, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).digest()
    b64 = base64.b64encode(digest).decode()
    meta = dict(m.split("=", 1) for m in args.meta)

    from botocore.credentials import Credentials
    creds = Credentials(key_id, secret)
    headers = {"Content-Type": "application/octet-stream"}
    headers.update({f"x-amz-meta-{k}": v for k, v in meta.items()})
    stored = None
    if args.bad_checksum:
        # A well-formed but wrong SHA-256 (of other bytes); moto stores it unchecked.
        stored = base64.b64encode(hashlib.sha256(data + b"tampered").digest()).decode()
    elif not args.no_checksum:
        stored = b64
    if stored is not None:
        # What an SDK sends for ChecksumAlgorithm=SHA256 (checksum in a header).
        headers["x-amz-sdk-checksum-algorithm"] = "SHA256"
        headers["x-amz-checksum-sha256"] = stored
    r = put(endpoint, creds, region, args.bucket, args.key, data, headers)
    if args.sidecar:
        put(endpoint, creds, region, args.bucket, args.key + ".sha256",
            (digest.hex() + "\n").encode(), {"Content-Type": "text/plain"})
    print(json.dumps({"bucket": args.bucket, "key": args.key, "size": len(data),
                      "sha256": digest.hex(), "checksum": stored,
                      "etag": r.get("etag", "").strip('"')}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
