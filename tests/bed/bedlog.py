#!/usr/bin/env python3
"""Counts requests in the test bed's logs (used by bed_requests).

bedlog.py --dir BED_DIR [--imds] [--s3] [--proxy] [--method M] [--status N] [--list] [PREFIX]
Sources: imds.log (emulator), moto.log (moto_wire.py) or moto.stderr (plain
moto_server's werkzeug lines), proxy.log (faultproxy). Default: --imds --s3.
PREFIX matches the start of the path (S3 paths as on the wire, percent-encoded).
"""

import argparse
import json
import os
import re
import sys

WERKZEUG = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})')


def read_json_lines(path):
    """Yields the JSON objects of a JSON-lines file (missing file: none)."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def moto_entries(d):
    """moto's requests: our JSON log, else werkzeug's stderr lines."""
    if os.path.exists(os.path.join(d, "moto.log")):
        yield from read_json_lines(os.path.join(d, "moto.log"))
        return
    path = os.path.join(d, "moto.stderr")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = WERKZEUG.search(line)
            if m:
                yield {"method": m.group(1), "path": m.group(2).split("?", 1)[0],
                       "status": int(m.group(3))}


def main(argv=None):
    """Prints the count (or the matching entries with --list)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--imds", action="store_true")
    ap.add_argument("--s3", action="store_true")
    ap.add_argument("--proxy", action="store_true")
    ap.add_argument("--method")
    ap.add_argument("--status", type=int)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("prefix", nargs="?", default="")
    a = ap.parse_args(argv)
    if not (a.imds or a.s3 or a.proxy):
        a.imds = a.s3 = True
    entries = []
    if a.imds:
        entries += list(read_json_lines(os.path.join(a.dir, "imds.log")))
    if a.s3:
        entries += list(moto_entries(a.dir))
    if a.proxy:
        entries += list(read_json_lines(os.path.join(a.dir, "proxy.log")))
    hits = [e for e in entries
            if str(e.get("path", "")).startswith(a.prefix)
            and (a.method is None or e.get("method") == a.method.upper())
            and (a.status is None or e.get("status") == a.status)]
    if a.list:
        for e in hits:
            print(json.dumps(e, sort_keys=True))
    else:
        print(len(hits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
