#!/usr/bin/env python3
"""Checks fleet/ssm/: the Run Command document and the send-command input, against the rules of
the SSM API (SendCommand's MaxConcurrency/MaxErrors/DocumentName patterns, schema 2.2 documents),
and renders the document's script with the given parameters.

usage: check_ssm.py DIR                     check both files; exit 1 on any problem
       check_ssm.py DIR --render K=V ...    print the runShellScript lines with parameters substituted
"""

import json
import os
import re
import sys

# From the SSM API reference (SendCommand).
MAX_CONCURRENCY = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
MAX_ERRORS = re.compile(r"^([1-9]*[0-9]|[1-9]*[0-9]%|100%)$")
DOC_NAME = re.compile(r"^[a-zA-Z0-9_\-.:/]{3,128}$")
PARAM_REF = re.compile(r"\{\{\s*([A-Za-z0-9]+)\s*\}\}")
PARAM_NAME = re.compile(r"^[a-zA-Z0-9_]+$")


def load(d, name):
    with open(os.path.join(d, name), encoding="utf-8") as f:
        return json.load(f)


def check_document(doc, errs):
    if doc.get("schemaVersion") != "2.2":
        errs.append("document: schemaVersion must be 2.2 (Run Command with mainSteps)")
    params = doc.get("parameters") or {}
    for name, p in params.items():
        if not PARAM_NAME.match(name):
            errs.append(f"parameter {name}: bad name")
        if p.get("type") not in ("String", "StringList", "Boolean", "Integer", "MapList", "StringMap"):
            errs.append(f"parameter {name}: bad type {p.get('type')}")
        dflt = p.get("default")
        if "allowedValues" in p and dflt not in p["allowedValues"]:
            errs.append(f"parameter {name}: default {dflt!r} not in allowedValues")
        if "allowedPattern" in p and not re.match(p["allowedPattern"], str(dflt)):
            errs.append(f"parameter {name}: default {dflt!r} does not match allowedPattern")
    steps = doc.get("mainSteps") or []
    if not steps:
        errs.append("document: no mainSteps")
    names = set()
    for s in steps:
        if s.get("action") != "aws:runShellScript":
            errs.append(f"step {s.get('name')}: action {s.get('action')} (want aws:runShellScript)")
        if not re.match(r"^[a-zA-Z0-9_.-]+$", s.get("name", "")) or s.get("name") in names:
            errs.append(f"step {s.get('name')!r}: missing, bad or duplicate name")
        names.add(s.get("name"))
        inputs = s.get("inputs") or {}
        cmds = inputs.get("runCommand")
        if not isinstance(cmds, list) or not all(isinstance(c, str) for c in cmds):
            errs.append(f"step {s.get('name')}: runCommand must be a list of strings")
            continue
        text = json.dumps(s)
        for ref in PARAM_REF.findall(text):
            if ref not in params:
                errs.append(f"step {s.get('name')}: {{{{ {ref} }}}} is not a declared parameter")
        if not any("HoistBoot" in c for c in cmds):
            errs.append(f"step {s.get('name')}: does not run hoist-boot")
    for name in params:
        if "{{ %s }}" % name not in json.dumps(doc):
            errs.append(f"parameter {name}: declared but never used")


def check_send(cmd, doc, errs):
    if not DOC_NAME.match(cmd.get("DocumentName", "")):
        errs.append(f"send-command: DocumentName {cmd.get('DocumentName')!r}")
    if not MAX_CONCURRENCY.match(str(cmd.get("MaxConcurrency", ""))):
        errs.append(f"send-command: MaxConcurrency {cmd.get('MaxConcurrency')!r}")
    if not MAX_ERRORS.match(str(cmd.get("MaxErrors", ""))):
        errs.append(f"send-command: MaxErrors {cmd.get('MaxErrors')!r}")
    targets = cmd.get("Targets") or []
    if not targets or "InstanceIds" in cmd:
        errs.append("send-command: give Targets (tags), not InstanceIds")
    for t in targets:
        if not re.match(r"^(tag:.+|tag-key|InstanceIds|resource-groups:Name|resource-groups:ResourceTypeFilters)$", t.get("Key", "")):
            errs.append(f"send-command: target key {t.get('Key')!r}")
        if not t.get("Values"):
            errs.append(f"send-command: target {t.get('Key')} without Values")
    params = doc.get("parameters") or {}
    for k, v in (cmd.get("Parameters") or {}).items():
        if k not in params:
            errs.append(f"send-command: parameter {k} is not the document's")
        elif not isinstance(v, list) or len(v) != 1:
            errs.append(f"send-command: parameter {k} must be a one-item list")
        elif "allowedValues" in params[k] and v[0] not in params[k]["allowedValues"]:
            errs.append(f"send-command: {k}={v[0]!r} not allowed")


def render(doc, assignments):
    values = {k: str(p.get("default", "")) for k, p in (doc.get("parameters") or {}).items()}
    for a in assignments:
        k, _, v = a.partition("=")
        p = doc["parameters"][k]
        if "allowedPattern" in p and not re.match(p["allowedPattern"], v):
            sys.exit(f"{k}={v!r} does not match {p['allowedPattern']}")
        if "allowedValues" in p and v not in p["allowedValues"]:
            sys.exit(f"{k}={v!r} not allowed")
        values[k] = v
    for s in doc["mainSteps"]:
        for line in s["inputs"]["runCommand"]:
            print(PARAM_REF.sub(lambda m: values[m.group(1)], line))


def main(argv):
    d = argv[1]
    doc = load(d, "hoist-converge.json")
    if len(argv) > 2 and argv[2] == "--render":
        render(doc, argv[3:])
        return 0
    errs = []
    check_document(doc, errs)
    check_send(load(d, "send-command.json"), doc, errs)
    for e in errs:
        print("FAIL: " + e)
    if not errs:
        print("ok: the SSM document and the send-command input follow the API's rules")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
