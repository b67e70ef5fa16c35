#!/usr/bin/env python3
"""Checks the running test bed with independent clients (called by test_bed.sh).

botocore's own IMDS credential provider and S3 client, and plain http.client,
against the emulator, moto (auth enforced) and the fault proxy. Each check
prints what it checks; exit status 1 if any check fails.

Expects the bed_start environment plus CHECK_DATA (the published file),
CHECK_USER_DATA (the user data file), CHECK_SPECIAL_KEY (a key with
+ = & : , ; ! ' ( ) * $ @ % and non-ASCII characters, published by the admin).
"""

import base64
import datetime
import hashlib
import http.client
import io
import json
import os
import sys
import tarfile
import time
import urllib.request
from urllib.parse import quote, urlsplit

import botocore.session
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials, InstanceMetadataProvider
from botocore.exceptions import ClientError, MetadataRetrievalError
from botocore.utils import InstanceMetadataFetcher

ENV = os.environ
IMDS = ENV["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
S3 = ENV["HOIST_TEST_S3_ENDPOINT"]
BUCKET = ENV["BED_BUCKET"]
REGION = ENV["BED_REGION"]
ROLE = ENV["BED_ROLE_NAME"]
FAILED = []


def check(what, ok, detail=""):
    """Records and prints one check."""
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f"  [{detail}]" if detail and not ok else ""))
    if not ok:
        FAILED.append(what)


def imds(method, path, headers=None):
    """One raw request to the emulator: (status, headers, body)."""
    u = urlsplit(IMDS)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def token(ttl="60"):
    """A fresh IMDSv2 token (asserts success)."""
    st, _, body = imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
    if st != 200:
        raise SystemExit(f"cannot get an IMDS token: {st}")
    return body.decode()


def ctl(path, body=b"", method="POST"):
    """The emulator's control API."""
    req = urllib.request.Request(IMDS + "/_emulator/" + path, data=body or None, method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def get(path, tok):
    """GET with a token."""
    return imds("GET", path, {"X-aws-ec2-metadata-token": tok})


def s3_client(access, secret, session_token=None, endpoint=S3):
    """A botocore S3 client (path style, no retries, checksums only when required)."""
    sess = botocore.session.get_session()
    return sess.create_client(
        "s3", region_name=REGION, endpoint_url=endpoint, aws_access_key_id=access,
        aws_secret_access_key=secret, aws_session_token=session_token,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                      request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))


def s3_error(fn, **kw):
    """(HTTP status, error code) of a call expected to fail; (200, None) if it worked."""
    try:
        fn(**kw)
        return 200, None
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code")


def provider_fetch(attempts=1):
    """botocore's own IMDS credential provider, v1 disabled, on the emulator."""
    fetcher = InstanceMetadataFetcher(
        timeout=5, num_attempts=attempts, env={},
        config={"ec2_metadata_service_endpoint": IMDS, "ec2_metadata_v1_disabled": True})
    try:
        return InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
    except MetadataRetrievalError:   # no token and v1 disabled: nothing fetched
        return None


def imds_log():
    """The emulator's request log, parsed."""
    return [json.loads(x) for x in ctl("requests", method="GET").decode().splitlines() if x]


def check_provider_and_s3(data):
    """Credentials through botocore's IMDS provider read the allowed object, nothing more."""
    ctl("requests", method="DELETE")
    creds = provider_fetch()
    check("botocore InstanceMetadataProvider (IMDSv2, v1 disabled) loads the role credentials",
          creds is not None and creds.access_key == ENV["BED_ROLE_ACCESS_KEY_ID"])
    if creds is None:
        return
    log = imds_log()
    check("provider used PUT token then token-carrying GETs only",
          log and log[0]["method"] == "PUT" and log[0]["path"] == "/latest/api/token"
          and all(e["token"] for e in log[1:]) and len(log) == 3, str(log))
    fc = creds.get_frozen_credentials()
    s3 = s3_client(fc.access_key, fc.secret_key, fc.token)
    r = s3.get_object(Bucket=BUCKET, Key="rel/app-1.0.tgz")
    check("GetObject s3://hoist-releases/rel/app-1.0.tgz with the IMDS credentials is 200 "
          "and the bytes match", r["Body"].read() == data)
    st, code = s3_error(s3.put_object, Bucket=BUCKET, Key="rel/evil.tgz", Body=b"x")
    check("PutObject with the read-only role credentials is 403 AccessDenied",
          (st, code) == (403, "AccessDenied"), f"{st} {code}")
    st, code = s3_error(s3.get_object, Bucket=ENV["BED_OTHER_BUCKET"], Key="secret.txt")
    check("GetObject in hoist-other with the role credentials is 403 AccessDenied",
          (st, code) == (403, "AccessDenied"), f"{st} {code}")
    bad = s3_client(fc.access_key, fc.secret_key[:-1] + ("A" if fc.secret_key[-1] != "A" else "B"),
                    fc.token)
    st, code = s3_error(bad.get_object, Bucket=BUCKET, Key="rel/app-1.0.tgz")
    check("a wrong secret is 403 SignatureDoesNotMatch",
          (st, code) == (403, "SignatureDoesNotMatch"), f"{st} {code}")
    bad = s3_client(fc.access_key, fc.secret_key, fc.token[:-8] + "AAAAAAAA")
    st, code = s3_error(bad.get_object, Bucket=BUCKET, Key="rel/app-1.0.tgz")
    check("a wrong session token is 400 InvalidToken", (st, code) == (400, "InvalidToken"),
          f"{st} {code}")
    bad = s3_client("AKIAUNKNOWNKEY000000", "x" * 40)
    st, code = s3_error(bad.get_object, Bucket=BUCKET, Key="rel/app-1.0.tgz")
    check("an unknown access key id is 403 InvalidAccessKeyId",
          (st, code) == (403, "InvalidAccessKeyId"), f"{st} {code}")
    st, code = s3_error(s3.get_object, Bucket=BUCKET, Key="rel/missing.tgz")
    check("a missing key is 404 NoSuchKey", (st, code) == (404, "NoSuchKey"), f"{st} {code}")
    admin = s3_client(ENV["BED_ADMIN_ACCESS_KEY_ID"], ENV["BED_ADMIN_SECRET_ACCESS_KEY"])
    st, _ = s3_error(admin.put_object, Bucket=BUCKET, Key="rel/admin-ok.txt", Body=b"ok")
    check("the admin key can still PutObject with auth enforced", st == 200, str(st))


def check_checksums(data):
    """Flexible checksums as published by publish.py."""
    s3 = s3_client(ENV["BED_ROLE_ACCESS_KEY_ID"], ENV["BED_ROLE_SECRET_ACCESS_KEY"],
                   ENV["BED_ROLE_SESSION_TOKEN"])
    good = base64.b64encode(hashlib.sha256(data).digest()).decode()
    r = s3.get_object(Bucket=BUCKET, Key="rel/app-1.0.tgz", ChecksumMode="ENABLED")
    check("GET with x-amz-checksum-mode: ENABLED returns the file's SHA-256 (base64)",
          r.get("ChecksumSHA256") == good, str(r.get("ChecksumSHA256")))
    r = s3.get_object(Bucket=BUCKET, Key="rel/app-1.0.tgz.sha256")
    check("--sidecar stored KEY.sha256 = hex digest + newline",
          r["Body"].read() == (hashlib.sha256(data).hexdigest() + "\n").encode())
    r = s3.get_object(Bucket=BUCKET, Key="rel/bad.tgz", ChecksumMode="ENABLED")
    planted = r.get("ChecksumSHA256")
    check("--bad-checksum stores a well-formed but wrong x-amz-checksum-sha256",
          planted is not None and planted != good and len(base64.b64decode(planted)) == 32,
          str(planted))
    r = s3.get_object(Bucket=BUCKET, Key="rel/none.tgz", ChecksumMode="ENABLED")
    check("--no-checksum stores no checksum", r.get("ChecksumSHA256") is None,
          str(r.get("ChecksumSHA256")))
    r = s3.get_object(Bucket=BUCKET, Key="rel/app-1.0.tgz", Range="bytes=2-5")
    check("Range bytes=2-5 is 206 with 4 bytes",
          r["ResponseMetadata"]["HTTPStatusCode"] == 206 and r["Body"].read() == data[2:6])


def signed_get(path_key, sign_key, creds):
    """GET path_key signed (by botocore) as if for sign_key; returns (status, body)."""
    u = urlsplit(S3)
    sign_url = f"{S3}/{BUCKET}/{quote(sign_key, safe='/~')}"
    req = AWSRequest(method="GET", url=sign_url, headers={})
    S3SigV4Auth(creds, "s3", REGION).add_auth(req)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request("GET", f"/{BUCKET}/{quote(path_key, safe='/~')}",
                  headers=dict(req.headers.items()))
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def admin_creds():
    """The admin key as botocore Credentials."""
    return Credentials(ENV["BED_ADMIN_ACCESS_KEY_ID"], ENV["BED_ADMIN_SECRET_ACCESS_KEY"])


def signed_list_raw_query(creds):
    """ListObjectsV2 signed over prefix=rel%2F but sent as prefix=rel/; returns the status."""
    u = urlsplit(S3)
    req = AWSRequest(method="GET", url=f"{S3}/{BUCKET}?list-type=2&prefix=rel%2F", headers={})
    S3SigV4Auth(creds, "s3", REGION).add_auth(req)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request("GET", f"/{BUCKET}?list-type=2&prefix=rel/", headers=dict(req.headers.items()))
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def check_special_key(data):
    """moto_wire.py: keys with reserved and non-ASCII characters verify; forgeries still fail."""
    key = ENV["CHECK_SPECIAL_KEY"]
    s3 = s3_client(ENV["BED_ROLE_ACCESS_KEY_ID"], ENV["BED_ROLE_SECRET_ACCESS_KEY"],
                   ENV["BED_ROLE_SESSION_TOKEN"])
    mode = ENV.get("BED_MOTO_MODE")
    st, code = s3_error(s3.get_object, Bucket=BUCKET, Key=key)
    if mode == "wire":
        check(f"GetObject of {key!r} (space + = & : , ; ! ' ( ) * $ @ % unicode ~) under "
              "enforced auth is 200 via moto_wire.py", st == 200, f"{st} {code}")
    else:
        print(f"note: plain moto_server: GetObject of the special key is {st} {code} (known bug)")
    creds = Credentials(ENV["BED_ROLE_ACCESS_KEY_ID"], ENV["BED_ROLE_SECRET_ACCESS_KEY"],
                        ENV["BED_ROLE_SESSION_TOKEN"])
    st, body = signed_get(key, key, creds)
    if mode == "wire":
        check("the same GET signed by botocore's S3SigV4Auth and sent raw is 200", st == 200,
              str(st))
    admin = s3_client(ENV["BED_ADMIN_ACCESS_KEY_ID"], ENV["BED_ADMIN_SECRET_ACCESS_KEY"])
    try:
        keys = [o["Key"] for o in admin.list_objects_v2(
            Bucket=BUCKET, Prefix="rel/sp ace+b=2&").get("Contents", [])]
    except ClientError as e:
        keys = [str(e)]
    if mode == "wire":
        check("ListObjectsV2 with a prefix holding + = & (query signed by botocore) is 200",
              keys == [key], str(keys))
        st = signed_list_raw_query(admin_creds())
        check("the same query sent unencoded on the wire (prefix=rel/) still verifies, as on S3",
              st == 200, str(st))
    st, body = signed_get(key, key.replace("+", "-"), creds)
    check("a request signed for another key (+ -> -) is still 403 SignatureDoesNotMatch",
          st == 403 and b"SignatureDoesNotMatch" in body, f"{st} {body[:120]!r}")
    st, body = signed_get(key, key.replace("\u00fc", "u"), creds)
    check("a request signed for another key (\u00fc -> u) is still 403", st == 403, str(st))


def check_imds_protocol(user_data):
    """The emulator's IMDSv2 protocol, with raw http.client."""
    ctl("reset")
    st, h, body = imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    check("PUT token TTL 21600 is 200, TTL header echoed, token in body",
          st == 200 and h.get("x-aws-ec2-metadata-token-ttl-seconds") == "21600" and len(body) > 20)
    tok = body.decode()
    for ttl in ("0", "21601", "-1", "abc", ""):
        st, _, _ = imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        check(f"PUT token with TTL {ttl!r} is 400", st == 400, str(st))
    st, _, _ = imds("PUT", "/latest/api/token")
    check("PUT token without the TTL header is 400", st == 400, str(st))
    st, _, _ = imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60",
                                                 "X-Forwarded-For": "10.1.2.3"})
    check("PUT token carrying X-Forwarded-For is refused (403)", st == 403, str(st))
    st, _, _ = imds("GET", "/latest/api/token")
    check("GET on the token path is 405", st == 405, str(st))
    st, _, _ = imds("PUT", "/latest/meta-data/instance-id", {"X-aws-ec2-metadata-token": tok})
    check("PUT on a metadata path is 405", st == 405, str(st))
    st, _, _ = imds("GET", "/latest/meta-data/instance-id")
    check("GET without a token (v1 disabled) is 401", st == 401, str(st))
    st, _, _ = get("/latest/meta-data/instance-id", "AQAEAnotarealtoken")
    check("GET with an unknown token is 401", st == 401, str(st))
    st, _, body = get("/latest/meta-data/instance-id", tok)
    check("instance-id", st == 200 and body.decode() == ENV["BED_INSTANCE_ID"], f"{st} {body!r}")
    st, _, body = get("/latest/meta-data/placement/region", tok)
    check("placement/region", st == 200 and body.decode() == REGION, f"{st} {body!r}")
    st, _, body = get("/latest/meta-data/placement/availability-zone", tok)
    check("placement/availability-zone", st == 200 and body.decode() == REGION + "a")
    st, _, body = get("/latest/dynamic/instance-identity/document", tok)
    doc = json.loads(body) if st == 200 else {}
    check("instance identity document has accountId, availabilityZone, instanceId, "
          "instanceType, imageId, region, privateIp",
          all(doc.get(k) for k in ("accountId", "availabilityZone", "instanceId", "instanceType",
                                   "imageId", "region", "privateIp"))
          and doc["instanceId"] == ENV["BED_INSTANCE_ID"] and doc["region"] == REGION, str(doc))
    st, _, body = get("/latest/meta-data/iam/info", tok)
    info = json.loads(body) if st == 200 else {}
    check("iam/info is JSON with Code Success and InstanceProfileArn",
          info.get("Code") == "Success" and ROLE in info.get("InstanceProfileArn", ""))
    st, _, body = get("/latest/meta-data/iam/security-credentials/", tok)
    check("iam/security-credentials/ names the role", st == 200 and body.decode() == ROLE)
    st, _, body = get(f"/latest/meta-data/iam/security-credentials/{ROLE}", tok)
    cr = json.loads(body) if st == 200 else {}
    check("security-credentials/ROLE has Code LastUpdated Type AccessKeyId SecretAccessKey "
          "Token Expiration", all(k in cr for k in (
              "Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token",
              "Expiration")) and cr["AccessKeyId"] == ENV["BED_ROLE_ACCESS_KEY_ID"])
    st, _, _ = get("/latest/meta-data/iam/security-credentials/other-role", tok)
    check("security-credentials/<another role> is 404", st == 404, str(st))
    st, _, _ = get("/latest/meta-data/no-such-thing", tok)
    check("an unknown path is 404", st == 404, str(st))
    st, _, body = get("/latest/user-data", tok)
    check("user data is served byte for byte", st == 200 and body == user_data, str(st))

    short = token("1")
    time.sleep(1.3)
    st, _, _ = get("/latest/meta-data/instance-id", short)
    check("GET with an expired token (TTL 1 s, 1.3 s later) is 401", st == 401, str(st))


def check_faults(user_data):
    """Fault injection through the control API."""
    tok = token()
    ctl("user-data", method="DELETE")
    st, _, _ = get("/latest/user-data", tok)
    check("no user data (DELETE /_emulator/user-data) is 404", st == 404, str(st))
    ctl("user-data", user_data)
    st, _, body = get("/latest/user-data", tok)
    check("POST /_emulator/user-data serves it again", st == 200 and body == user_data, str(st))

    ctl("faults", json.dumps({"fail": {"count": 3, "path_prefix": "/latest/user-data"}}).encode())
    seen = [get("/latest/user-data", tok)[0] for _ in range(4)]
    check("fail count 3: 503, 503, 503, then 200", seen == [503, 503, 503, 200], str(seen))
    ctl("reset")
    ctl("faults", json.dumps({"fail": {"count": 3}}).encode())
    creds = provider_fetch(attempts=4)
    check("botocore's provider (4 attempts) gets the credentials through 3 x 503",
          creds is not None and creds.access_key == ENV["BED_ROLE_ACCESS_KEY_ID"])
    ctl("reset")
    ctl("faults", json.dumps({"fail": {"count": 3}}).encode())
    creds = provider_fetch(attempts=1)
    check("botocore's provider (1 attempt) gets nothing through 503", creds is None)

    ctl("reset")
    tok = token()
    ctl("faults", json.dumps({"stall": {"seconds": 1.0, "path_prefix": "/latest/meta-data/instance-id",
                                        "count": 1}}).encode())
    t0 = time.monotonic()
    st, _, _ = get("/latest/meta-data/instance-id", tok)
    dt = time.monotonic() - t0
    check("stall 1 s on instance-id: answer after >= 1 s", st == 200 and dt >= 1.0, f"{st} {dt:.2f}")
    t0 = time.monotonic()
    get("/latest/meta-data/instance-id", tok)
    check("stall count 1: the next answer is immediate", time.monotonic() - t0 < 0.5)

    ctl("reset")
    ctl("faults", b'{"token_ttl": 1}')
    st, h, body = imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    check("token_ttl fault: TTL header still echoes 21600",
          st == 200 and h.get("x-aws-ec2-metadata-token-ttl-seconds") == "21600")
    st1, _, _ = get("/latest/meta-data/instance-id", body.decode())
    time.sleep(1.2)
    st2, _, _ = get("/latest/meta-data/instance-id", body.decode())
    check("token_ttl 1: the token works, then is 401 after 1.2 s", (st1, st2) == (200, 401),
          f"{st1} {st2}")

    ctl("reset")
    tok = token()
    ctl("faults", b'{"expired_credentials": true}')
    st, _, body = get(f"/latest/meta-data/iam/security-credentials/{ROLE}", tok)
    exp = json.loads(body)["Expiration"]
    past = datetime.datetime.strptime(exp, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc) < datetime.datetime.now(datetime.timezone.utc)
    check("expired_credentials: Expiration is in the past", st == 200 and past, exp)

    ctl("reset")
    tok = token()
    ctl("faults", b'{"malformed_credentials": true}')
    st, _, body = get(f"/latest/meta-data/iam/security-credentials/{ROLE}", tok)
    try:
        json.loads(body)
        parsed = True
    except ValueError:
        parsed = False
    check("malformed_credentials: 200 with a body that is not JSON", st == 200 and not parsed)
    check("botocore's provider gets nothing from malformed credentials", provider_fetch() is None)

    ctl("reset")
    tok = token()
    ctl("faults", b'{"no_role": true}')
    st1, _, _ = get("/latest/meta-data/iam/security-credentials/", tok)
    st2, _, _ = get("/latest/meta-data/iam/info", tok)
    check("no_role: security-credentials/ and iam/info are 404", (st1, st2) == (404, 404),
          f"{st1} {st2}")
    check("botocore's provider gets nothing without a role", provider_fetch() is None)

    ctl("reset")
    tok = token()
    ctl("faults", b'{"no_user_data": true}')
    st, _, _ = get("/latest/user-data", tok)
    check("no_user_data fault: user-data is 404", st == 404, str(st))
    ctl("reset")
    st, _, _ = get("/latest/user-data", tok)
    check("reset clears the faults (tokens issued before reset are forgotten: 401)", st == 401,
          str(st))
    st, _, _ = get("/latest/user-data", token())
    check("after reset a new token reads user data again", st == 200, str(st))

    ctl("faults", b'{"disabled": true}')
    st, _, _ = imds("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    check("disabled fault: 403 everywhere", st == 403, str(st))
    ctl("reset")


def check_proxy(data):
    """faultproxy: the first N object GETs are cut after K bytes; Range passes."""
    ep = ENV.get("HOIST_TEST_S3_PROXY_ENDPOINT")
    if not ep:
        return
    k = int(ENV["CHECK_PROXY_K"])
    u = urlsplit(ep)
    creds = Credentials(ENV["BED_ROLE_ACCESS_KEY_ID"], ENV["BED_ROLE_SECRET_ACCESS_KEY"],
                        ENV["BED_ROLE_SESSION_TOKEN"])

    def raw_get(rng=None):
        # Signed for the proxy's host:port, which the proxy passes on unchanged.
        hdr = {"Range": rng} if rng else {}
        req = AWSRequest(method="GET", url=f"{ep}/{BUCKET}/rel/app-1.0.tgz", headers=hdr)
        S3SigV4Auth(creds, "s3", REGION).add_auth(req)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            c.request("GET", f"/{BUCKET}/rel/app-1.0.tgz", headers=dict(req.headers.items()))
            r = c.getresponse()
            length = int(r.getheader("Content-Length") or -1)
            try:
                body = r.read()
                complete = True
            except http.client.IncompleteRead as e:
                body, complete = e.partial, False
            return r.status, length, body, complete
        finally:
            c.close()

    st, length, body, complete = raw_get()
    check(f"proxy: first GET is {st} with Content-Length {len(data)} and is cut after {k} bytes",
          st == 200 and length == len(data) and not complete and body == data[:k],
          f"{st} {length} {len(body)} {complete}")
    st, length, body, complete = raw_get(f"bytes={k}-")
    check("proxy: the Range resume passes unchanged (206, the rest of the bytes)",
          st == 206 and complete and body == data[k:], f"{st} {len(body)}")
    st, length, body, complete = raw_get()
    check("proxy: second full GET is cut too (N=2)", not complete and len(body) == k)
    st, length, body, complete = raw_get()
    check("proxy: third full GET passes whole", st == 200 and complete and body == data)

    req = urllib.request.Request(ep + "/_faultproxy/config", method="POST", data=json.dumps(
        {"count": 1, "mode": "stall", "stall_seconds": 1.0, "drop_after": 10}).encode())
    with urllib.request.urlopen(req, timeout=5) as r:
        cfg = json.loads(r.read())
    check("proxy control: POST /_faultproxy/config sets stall mode", cfg.get("mode") == "stall")
    t0 = time.monotonic()
    st, length, body, complete = raw_get()
    dt = time.monotonic() - t0
    check("proxy stall: 10 bytes, silence for >= 1 s, then the cut",
          not complete and len(body) == 10 and dt >= 1.0, f"{len(body)} {dt:.2f}")
    st, length, body, complete = raw_get("bytes=0-9")
    check("proxy: a Range GET is never cut with the default faults_on=full",
          st == 206 and complete and body == data[:10])


def s3gen_ctl(path, doc=None):
    """The s3gen emulator's control API: POST JSON, or GET when doc is None."""
    ep = ENV["BED_S3GEN_ENDPOINT"]
    data = json.dumps(doc).encode() if doc is not None else None
    with urllib.request.urlopen(urllib.request.Request(ep + "/_s3gen/" + path, data=data),
                                timeout=30) as r:
        return json.loads(r.read())


def check_s3gen(_data):
    """The generated-object S3 emulator, with botocore's own S3 client (group "s3gen",
    run only when asked: it needs bed_s3gen_start)."""
    ep, key = ENV["BED_S3GEN_ENDPOINT"], "gen/app 1+x.tar"
    akid, secret = ENV["BED_ROLE_ACCESS_KEY_ID"], ENV["BED_ROLE_SECRET_ACCESS_KEY"]
    tok = ENV["BED_ROLE_SESSION_TOKEN"]
    mib = 1 << 20
    doc = s3gen_ctl("objects", {"bucket": BUCKET, "key": key, "members": [
        {"name": "appspec.yml", "text": "version: 0.0\n"}, {"name": "d/", "dir": True},
        {"name": "d/z.img", "size": 3 * mib, "marks": [[mib - 1, "M1"], [3 * mib - 1, "E"]]}]})
    s3 = s3_client(akid, secret, tok, endpoint=ep)
    r = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    body = r["Body"].read()
    n = len(body)
    t = tarfile.open(fileobj=io.BytesIO(body))
    z = t.extractfile("d/z.img").read()
    check("s3gen: GetObject is the described tar (members, size, markers, zeros elsewhere)",
          t.getnames() == ["appspec.yml", "d", "d/z.img"] and n == doc["size"]
          and len(z) == 3 * mib and z[mib - 1:mib + 1] == b"M1" and z[-1:] == b"E"
          and z.count(0) == 3 * mib - 3, f"{t.getnames()} {n} {len(z)}")
    check("s3gen: x-amz-checksum-sha256 of the whole object, the registered ETag",
          r.get("ChecksumSHA256") == base64.b64encode(hashlib.sha256(body).digest()).decode()
          and r["ETag"] == doc["etag"], f"{r.get('ChecksumSHA256')} {r['ETag']}")
    meta = s3gen_ctl("object?bucket=" + quote(BUCKET) + "&key=" + quote(key, safe=""))
    check("s3gen: the control API's digests are the object's and the member's",
          meta["sha256"] == hashlib.sha256(body).hexdigest()
          and [m["sha256"] for m in meta["members"] if m["name"] == "d/z.img"]
          == [hashlib.sha256(z).hexdigest()])
    r = s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=1000-")
    check("s3gen: Range bytes=1000- is 206 with the rest",
          r["ResponseMetadata"]["HTTPStatusCode"] == 206 and r["Body"].read() == body[1000:]
          and r["ContentRange"] == f"bytes 1000-{n - 1}/{n}", r.get("ContentRange", ""))
    check("s3gen: HeadObject gives the size", s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == n)
    for what, kw, want in (
            ("If-Match another ETag is 412 PreconditionFailed", {"IfMatch": '"x"'},
             (412, "PreconditionFailed")),
            ("a Range past the end is 416 InvalidRange", {"Range": f"bytes={n}-"},
             (416, "InvalidRange"))):
        got = s3_error(s3.get_object, Bucket=BUCKET, Key=key, **kw)
        check("s3gen: " + what, got == want, str(got))
    got = s3_error(s3.get_object, Bucket=BUCKET, Key="gen/none")
    check("s3gen: an unknown key is 404 NoSuchKey", got == (404, "NoSuchKey"), str(got))
    for what, client, want in (
            ("a wrong secret", s3_client(akid, secret + "x", tok, endpoint=ep),
             (403, "SignatureDoesNotMatch")),
            ("a wrong session token", s3_client(akid, secret, tok + "x", endpoint=ep),
             (400, "InvalidToken")),
            ("an unknown access key id", s3_client("AKIAUNKNOWNKEY000000", secret, tok, endpoint=ep),
             (403, "InvalidAccessKeyId"))):
        got = s3_error(client.get_object, Bucket=BUCKET, Key=key)
        check(f"s3gen: {what} is {want[0]} {want[1]}", got == want, str(got))
    other = botocore.session.get_session().create_client(
        "s3", region_name="eu-west-1", endpoint_url=ep, aws_access_key_id=akid,
        aws_secret_access_key=secret, aws_session_token=tok,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
    got = s3_error(other.get_object, Bucket=BUCKET, Key=key)
    check("s3gen: a request signed for another region is 400 AuthorizationHeaderMalformed",
          got == (400, "AuthorizationHeaderMalformed"), str(got))
    s3gen_ctl("faults", {"drop_after": 1000})
    try:
        short = len(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    except Exception:  # noqa: BLE001 - botocore/urllib3 name a cut body differently by version
        short = -1
    last = s3gen_ctl("requests")[-1]
    check("s3gen: drop_after 1000 cuts the next GET after 1000 body bytes",
          short != n and last["fault"] == "drop" and last["sent"] == 1000, f"{short} {last}")


def main():
    """Runs every check group; exit 1 on any failure."""
    with open(ENV["CHECK_DATA"], "rb") as f:
        data = f.read()
    with open(ENV["CHECK_USER_DATA"], "rb") as f:
        user_data = f.read()
    groups = sys.argv[1:] or ["s3", "checksums", "special", "imds", "faults", "proxy"]
    table = {"s3": check_provider_and_s3, "checksums": check_checksums,
             "special": check_special_key, "imds": check_imds_protocol,
             "faults": check_faults, "proxy": check_proxy, "s3gen": check_s3gen}
    for g in groups:
        table[g](user_data if g in ("imds", "faults") else data)
    print(f"{len(FAILED)} check(s) failed" if FAILED else "all checks passed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
