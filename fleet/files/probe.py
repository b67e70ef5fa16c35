#!/usr/bin/env python3
"""The controller's health probe of one host, as a load balancer would do it (stdlib only).

usage: probe.py URL [--expect TEXT] [--timeout S] [--retries N] [--delay S]
                    [--healthy-for S] [--interval S]

First GET URL until it answers 200 (with TEXT in the body when --expect is given): at most
1 + N tries, D seconds apart. Then keep probing every --interval seconds until --healthy-for
seconds have passed since the first good answer; every probe must be good. Prints one JSON
object {"ok", "phase", "status", "error", "tries", "samples", "healthy_s"} and exits 0 when
healthy, 1 when not (phase "probe": never answered well; "healthy": failed while staying);
--always-zero: exit 0 either way (for Ansible's pipe lookup, which fails on any other code).
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def probe(url, expect, timeout):
    """One GET without proxies: (good, status, error)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as r:
            body = r.read(1 << 20).decode("utf-8", "replace")
            if r.status != 200:
                return False, r.status, f"status {r.status}"
            if expect and expect not in body:
                return False, r.status, f"body lacks {expect!r}"
            return True, r.status, ""
    except urllib.error.HTTPError as e:
        return False, e.code, f"status {e.code}"
    except (OSError, ValueError) as e:
        return False, -1, str(getattr(e, "reason", e))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("--expect", default="")
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--retries", type=int, default=5)
    ap.add_argument("--delay", type=float, default=1)
    ap.add_argument("--healthy-for", type=float, default=0)
    ap.add_argument("--interval", type=float, default=2)
    ap.add_argument("--always-zero", action="store_true", help="exit 0 even when unhealthy (the JSON says)")
    a = ap.parse_args(argv)
    bad = 0 if a.always_zero else 1
    out = {"ok": False, "phase": "probe", "status": None, "error": "", "tries": 0, "samples": 0, "healthy_s": 0.0}
    for i in range(a.retries + 1):
        out["tries"] += 1
        good, out["status"], out["error"] = probe(a.url, a.expect, a.timeout)
        if good:
            break
        if i < a.retries:
            time.sleep(a.delay)
    else:
        print(json.dumps(out))
        return bad
    out["phase"] = "healthy"
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.healthy_for:
        time.sleep(min(a.interval, max(0.0, a.healthy_for - (time.monotonic() - t0))))
        out["samples"] += 1
        good, out["status"], out["error"] = probe(a.url, a.expect, a.timeout)
        if not good:
            out["healthy_s"] = round(time.monotonic() - t0, 3)
            print(json.dumps(out))
            return bad
    out["healthy_s"] = round(time.monotonic() - t0, 3)
    out["ok"] = True
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
