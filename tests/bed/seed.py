#!/usr/bin/env python3
"""Seeds moto for the test bed and hands the role's credentials to the IMDS emulator.

One process does it all (python + boto3 start-up is the slow part): wait for
moto and the emulator, create the buckets, the admin user, the read-only
instance role and its AssumeRole credentials, switch auth enforcement on, write
BED_DIR/scenario.json and BED_DIR/env (shell exports), and load the scenario
into the emulator.
"""

import argparse
import json
import os
import re
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "hoist-releases"
OTHER_BUCKET = "hoist-other"
ROLE = "hoist-instance"
ADMIN = "hoist-admin"
BUILD_ROLE = "hoist-build"
BUILD_PREFIX = "releases"
REPORT_PREFIX = "reports"  # the instance role may write status reports here only


def die(msg):
    """Prints a bed error and exits 1."""
    print(f"seed: {msg}", file=sys.stderr)
    sys.exit(1)


def alive(pid):
    """False once pid has exited (a zombie not yet reaped by the shell counts as exited)."""
    if not pid:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False


def wait_port(path, deadline, what, log=None, pid=None):
    """Waits (bounded) for a port file, or for moto_server's "http://127.0.0.1:PORT" log line."""
    while time.monotonic() < deadline:
        if not alive(pid):
            die(f"{what} (pid {pid}) exited before writing its port")
        try:
            with open(path) as f:
                txt = f.read().strip()
            if txt:
                return int(txt)
        except FileNotFoundError:
            pass
        if log:
            try:
                with open(log, errors="replace") as f:
                    m = re.search(r"http://127\.0\.0\.1:(\d+)", f.read())
                if m:
                    return int(m.group(1))
            except FileNotFoundError:
                pass
        time.sleep(0.02)
    die(f"{what} did not write its port to {path} in time")


def wait_http(url, deadline, what):
    """Waits (bounded) until GET url answers 200."""
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:
            last = e
        time.sleep(0.02)
    die(f"{what} at {url} not ready in time ({last})")


def post(url, body, ctype):
    """POSTs body; returns the response text (raises on HTTP errors)."""
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def call(endpoint, method, path, body=b"", headers=None):
    """One unsigned request (auth is still off while seeding); returns the body."""
    req = urllib.request.Request(endpoint + path, data=body if method != "GET" else None,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        die(f"{method} {path} -> {e.code}: {e.read()[:300]!r}")


def query(endpoint, action, version, **params):
    """An IAM/STS query-API call; returns the parsed XML response."""
    # IAM and STS share moto's endpoint: the Authorization scope names the service.
    service = "sts" if version == "2011-06-15" else "iam"
    auth = (f"AWS4-HMAC-SHA256 Credential=seed/20250101/{REGION}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")
    body = urllib.parse.urlencode({"Action": action, "Version": version, **params}).encode()
    xml = call(endpoint, "POST", "/", body,
               {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Authorization": auth})
    return ET.fromstring(xml)


def find(root, tag):
    """Text of the first element named tag, any namespace."""
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == tag:
            return el.text
    die(f"no <{tag}> in moto's answer")


def seed(endpoint, region=REGION):
    """Creates buckets, admin user, instance role; returns (admin, role credentials)."""
    # Raw HTTP instead of boto3: importing boto3 and building three clients
    # costs more than the whole seeding, and every test pays for bed_start.
    # The buckets live in the scenario's region (moto_wire refuses a request
    # signed for another region, as S3 does); us-east-1 takes no constraint.
    where = b"" if region == "us-east-1" else (
        "<CreateBucketConfiguration><LocationConstraint>" + region +
        "</LocationConstraint></CreateBucketConfiguration>").encode()
    call(endpoint, "PUT", f"/{BUCKET}", where)
    call(endpoint, "PUT", f"/{OTHER_BUCKET}", where)
    call(endpoint, "PUT", f"/{OTHER_BUCKET}/secret.txt", b"not for the instance role\n")

    iam = "2010-05-08"
    # The admin user must exist in moto's IAM (same account) with a policy of its
    # own: once enforcement is on, every request is checked against IAM.
    query(endpoint, "CreateUser", iam, UserName=ADMIN)
    query(endpoint, "PutUserPolicy", iam, UserName=ADMIN, PolicyName="admin",
          PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = query(endpoint, "CreateAccessKey", iam, UserName=ADMIN)
    admin = {"AccessKeyId": find(key, "AccessKeyId"),
             "SecretAccessKey": find(key, "SecretAccessKey")}

    trust = {"Version": "2012-10-17", "Statement": [{
        # moto matches principals literally (no "account root means every principal of
        # the account"): name the admin user too, so it can AssumeRole once auth is on.
        "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root",
                                                 f"arn:aws:iam::{ACCOUNT}:user/{ADMIN}"]},
        "Action": "sts:AssumeRole"}]}
    query(endpoint, "CreateRole", iam, RoleName=ROLE, MaxSessionDuration="43200",
          AssumeRolePolicyDocument=json.dumps(trust))
    query(endpoint, "PutRolePolicy", iam, RoleName=ROLE, PolicyName="read-releases",
          PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Action": "s3:GetObject",
               "Resource": f"arn:aws:s3:::{BUCKET}/*"},
              {"Effect": "Allow", "Action": "s3:PutObject",
               "Resource": f"arn:aws:s3:::{BUCKET}/{REPORT_PREFIX}/*"}]}))
    c = query(endpoint, "AssumeRole", "2011-06-15",
              RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
              RoleSessionName="i-0123456789abcdef0", DurationSeconds="43200")
    role = {"AccessKeyId": find(c, "AccessKeyId"), "SecretAccessKey": find(c, "SecretAccessKey"),
            "Token": find(c, "SessionToken"),
            "Expiration": find(c, "Expiration").split(".")[0].rstrip("Z") + "Z"}

    # The build side (hoist-release): may read and write PREFIX/* only.
    query(endpoint, "CreateRole", iam, RoleName=BUILD_ROLE, MaxSessionDuration="43200",
          AssumeRolePolicyDocument=json.dumps(trust))
    query(endpoint, "PutRolePolicy", iam, RoleName=BUILD_ROLE, PolicyName="publish-releases",
          PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow",
               "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
               "Resource": f"arn:aws:s3:::{BUCKET}/{BUILD_PREFIX}/*"}]}))
    b = query(endpoint, "AssumeRole", "2011-06-15",
              RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{BUILD_ROLE}",
              RoleSessionName="build", DurationSeconds="43200")
    role["build"] = {"AccessKeyId": find(b, "AccessKeyId"),
                     "SecretAccessKey": find(b, "SecretAccessKey"),
                     "Token": find(b, "SessionToken")}

    # Enforcement on: body "0" as text/plain (a form content type makes moto answer 500).
    post(f"{endpoint}/moto-api/reset-auth", b"0", "text/plain")
    return admin, role


def main(argv=None):
    """Waits for both servers, seeds, writes scenario.json and env, loads the emulator."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="BED_DIR")
    ap.add_argument("--moto-port-file", required=True)
    ap.add_argument("--moto-log", help="plain moto_server's log (port from its banner)")
    ap.add_argument("--moto-pid", type=int, help="fail fast if this pid exits")
    ap.add_argument("--imds-pid", type=int, help="fail fast if this pid exits")
    ap.add_argument("--imds-port-file", required=True)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--user-data", help="user data file (default: none, 404)")
    ap.add_argument("--v1", action="store_true", help="allow IMDSv1 (token-less GETs)")
    ap.add_argument("--no-role", action="store_true", help="no instance role attached")
    ap.add_argument("--faults", help="initial faults (JSON object)")
    ap.add_argument("--instance-id", default="i-0123456789abcdef0")
    ap.add_argument("--region", default=REGION)
    ap.add_argument("--moto-host", default="127.0.0.1", help="the address moto is bound to")
    args = ap.parse_args(argv)

    deadline = time.monotonic() + args.timeout
    moto_port = wait_port(args.moto_port_file, deadline, "moto", args.moto_log, args.moto_pid)
    endpoint = f"http://{args.moto_host}:{moto_port}"
    wait_http(f"{endpoint}/moto-api/", deadline, "moto")
    admin, role = seed(endpoint, args.region)

    build = role.pop("build")
    scenario = {
        "instance_id": args.instance_id, "region": args.region,
        "availability_zone": args.region + "a", "account_id": ACCOUNT,
        "v1_allowed": args.v1, "role": None if args.no_role else ROLE,
        "credentials": role,
        "user_data_file": os.path.abspath(args.user_data) if args.user_data else None,
        "faults": json.loads(args.faults) if args.faults else {},
    }
    sc_path = os.path.join(args.dir, "scenario.json")
    with open(sc_path, "w", encoding="utf-8") as f:
        json.dump(scenario, f, indent=2)

    imds_port = wait_port(args.imds_port_file, deadline, "imds emulator", pid=args.imds_pid)
    imds = f"http://127.0.0.1:{imds_port}"
    wait_http(f"{imds}/_emulator/health", deadline, "imds emulator")
    post(f"{imds}/_emulator/scenario", json.dumps(scenario).encode(), "application/json")

    env = {
        "HOIST_TEST_S3_ENDPOINT": endpoint,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds,
        "BED_IMDS_ENDPOINT": imds,
        "BED_ADMIN_ACCESS_KEY_ID": admin["AccessKeyId"],
        "BED_ADMIN_SECRET_ACCESS_KEY": admin["SecretAccessKey"],
        "BED_ROLE_ACCESS_KEY_ID": role["AccessKeyId"],
        "BED_ROLE_SECRET_ACCESS_KEY": role["SecretAccessKey"],
        "BED_ROLE_SESSION_TOKEN": role["Token"],
        "BED_ROLE_NAME": ROLE,
        "BED_BUILD_ACCESS_KEY_ID": build["AccessKeyId"],
        "BED_BUILD_SECRET_ACCESS_KEY": build["SecretAccessKey"],
        "BED_BUILD_SESSION_TOKEN": build["Token"],
        "BED_BUILD_ROLE_NAME": BUILD_ROLE,
        "BED_BUILD_PREFIX": BUILD_PREFIX,
        "BED_REPORT_PREFIX": REPORT_PREFIX,
        "BED_BUCKET": BUCKET,
        "BED_OTHER_BUCKET": OTHER_BUCKET,
        "BED_REGION": args.region,
        "BED_INSTANCE_ID": args.instance_id,
    }
    env_path = os.path.join(args.dir, "env")
    with open(env_path + ".tmp", "w", encoding="utf-8") as f:
        for k, v in env.items():
            f.write(f"export {k}={shlex.quote(v)}\n")
    os.rename(env_path + ".tmp", env_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
