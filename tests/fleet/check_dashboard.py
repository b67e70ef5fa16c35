#!/usr/bin/env python3
"""Asserts on what the fleet dashboard shows, from the DOM headless Chromium rendered (or the file).

usage: check_dashboard.py DOM.html CHECK...
  versions=v1:4,v2:2     the per-version host counts shown, exactly
  state=h3:failed        host h3 is shown in that state (ok, failed, unreachable, unknown)
  hostversion=h3:v1      host h3 is shown on that version
  channel=v1             the channel's release shown
  rollout=failed:3       the newest rollout's result and the wave it stopped after ("" = none)
  text=SUBSTRING         the page's text contains SUBSTRING
Always: the page is self-contained (no script, no src/href to anything else).
Prints one line per check; exits 1 if any fails.
"""

import sys
from html.parser import HTMLParser


class Dom(HTMLParser):
    """Collects the elements carrying data-* attributes, and the page's text."""

    def __init__(self):
        super().__init__()
        self.elems = []
        self.text = []
        self.external = []   # scripts, and anything loaded from elsewhere

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "iframe", "object", "embed"):
            self.external.append(tag)
        for k in ("src", "href", "data"):
            if a.get(k) and not a[k].startswith("#"):
                self.external.append(f"{tag} {k}={a[k]}")
        if any(k.startswith("data-") for k in a):
            self.elems.append((tag, a))

    def handle_data(self, data):
        self.text.append(data)


def main(argv):
    dom = Dom()
    with open(argv[1], encoding="utf-8") as f:
        dom.feed(f.read())
    text = " ".join(" ".join(dom.text).split())
    bad = 0

    def check(ok, what, got):
        nonlocal bad
        print(("ok: " if ok else "FAIL: ") + f"dashboard {what}" + ("" if ok else f" (shows {got})"))
        bad += 0 if ok else 1

    check(not dom.external, "is self-contained (no script, nothing loaded from elsewhere)", dom.external)
    hosts = {a["data-host"]: a for t, a in dom.elems if t == "tr" and "data-state" in a and "data-host" in a}
    for c in argv[2:]:
        key, _, val = c.partition("=")
        if key == "versions":
            want = dict(p.split(":") for p in val.split(","))
            got = {a["data-version"]: a["data-count"] for t, a in dom.elems if "version-count" in a.get("class", "")}
            check(got == want, f"counts per version {want}", got)
        elif key in ("state", "hostversion"):
            h, _, v = val.partition(":")
            attr = "data-state" if key == "state" else "data-version"
            got = hosts.get(h, {}).get(attr)
            check(got == v, f"{h} {key} {v}", got)
        elif key == "channel":
            got = [a.get("data-release") for t, a in dom.elems if "data-channel" in a]
            check(got == [val], f"channel release {val}", got)
        elif key == "rollout":
            res, _, stop = val.partition(":")
            r = [a for t, a in dom.elems if "data-rollout" in a]
            got = (r[0].get("data-result"), r[0].get("data-stopped-after")) if r else None
            check(got == (res, stop), f"newest rollout {res}, stopped after wave '{stop}'", got)
        elif key == "text":
            check(val in text, f"text '{val}'", "not there")
        else:
            check(False, f"unknown check {c}", "")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
