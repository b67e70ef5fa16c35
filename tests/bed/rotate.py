#!/usr/bin/env python3
"""New credentials for the instance role: AssumeRole (admin key), served by the emulator.

Prints shell exports of the new BED_ROLE_* variables (bed_rotate_credentials evals them).
The old credentials keep working at moto (it does not expire them).
"""

import json
import os
import shlex
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def text(root, tag):
    """Text of the first element named tag, any namespace."""
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == tag:
            return el.text
    raise SystemExit(f"rotate: no <{tag}> in moto's answer")


def main():
    """AssumeRole signed by botocore's SigV4Auth, then POST /_emulator/credentials."""
    env = os.environ
    s3 = env["HOIST_TEST_S3_ENDPOINT"]
    region = env.get("BED_REGION", "us-east-1")
    body = urllib.parse.urlencode({
        "Action": "AssumeRole", "Version": "2011-06-15", "DurationSeconds": "43200",
        "RoleArn": f"arn:aws:iam::123456789012:role/{env.get('BED_ROLE_NAME', 'hoist-instance')}",
        "RoleSessionName": sys.argv[1] if len(sys.argv) > 1 else "rotated"})
    req = AWSRequest(method="POST", url=s3 + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(env["BED_ADMIN_ACCESS_KEY_ID"], env["BED_ADMIN_SECRET_ACCESS_KEY"]),
              "sts", region).add_auth(req)
    r = urllib.request.Request(s3 + "/", data=body.encode(), method="POST",
                               headers=dict(req.headers.items()))
    with urllib.request.urlopen(r, timeout=10) as resp:
        root = ET.fromstring(resp.read())
    creds = {"AccessKeyId": text(root, "AccessKeyId"),
             "SecretAccessKey": text(root, "SecretAccessKey"),
             "Token": text(root, "SessionToken"),
             "Expiration": text(root, "Expiration").split(".")[0].rstrip("Z") + "Z"}
    ctl = urllib.request.Request(env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] + "/_emulator/credentials",
                                 data=json.dumps(creds).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(ctl, timeout=10):
        pass
    for k, v in (("BED_ROLE_ACCESS_KEY_ID", creds["AccessKeyId"]),
                 ("BED_ROLE_SECRET_ACCESS_KEY", creds["SecretAccessKey"]),
                 ("BED_ROLE_SESSION_TOKEN", creds["Token"])):
        print(f"export {k}={shlex.quote(v)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
