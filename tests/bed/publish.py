#!/usr/bin/env python3
"""Publishes a file to the test bed's S3 (moto) with the admin key.

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
import json
import os
import sys


def client(endpoint, key_id, secret, region, checksums=True):
    """An S3 client on the admin key (path-style, no retries)."""
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                 request_checksum_calculation="when_supported" if checksums else "when_required",
                 response_checksum_validation="when_required")
    return boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                 region_name=region).client("s3", endpoint_url=endpoint,
                                                            config=cfg)


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

    s3 = client(endpoint, key_id, secret, region, checksums=not args.no_checksum)
    kw = {"Bucket": args.bucket, "Key": args.key, "Body": data}
    if meta:
        kw["Metadata"] = meta
    stored = None
    if args.bad_checksum:
        # A well-formed but wrong SHA-256 (of other bytes): botocore sends the supplied
        # value as x-amz-checksum-sha256 with x-amz-sdk-checksum-algorithm: SHA256.
        stored = base64.b64encode(hashlib.sha256(data + b"tampered").digest()).decode()
        kw["ChecksumAlgorithm"] = "SHA256"
        kw["ChecksumSHA256"] = stored
    elif not args.no_checksum:
        kw["ChecksumAlgorithm"] = "SHA256"
        stored = b64
    r = s3.put_object(**kw)
    if args.sidecar:
        s3.put_object(Bucket=args.bucket, Key=args.key + ".sha256",
                      Body=(digest.hex() + "\n").encode())
    print(json.dumps({"bucket": args.bucket, "key": args.key, "size": len(data),
                      "sha256": digest.hex(), "checksum": stored,
                      "etag": r.get("ETag", "").strip('"')}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
