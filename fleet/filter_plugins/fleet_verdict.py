"""Verdicts of fleet/rollout.yml: is a host healthy, and what a wave's outcome does (pure).

The inputs are the results Ansible registered (dicts); nothing here touches a host. A host is
healthy when hoist-boot reached it, `hoist status --json` says the deployment succeeded with the
channel's version and its health checks passed (or it has none), the controller's probe answered,
and all of that still held after healthy_for_s. tests/fleet/test_fleet_plan.py checks these.
"""

import json
import os
import sys

try:
    from fleet_plan import fleet_decide
except ImportError:   # Ansible loads plugins by path, without their directory on sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fleet_plan import fleet_decide


def _status(reg):
    """The parsed `hoist status --json` in a registered command's stdout (whatever its exit
    code: the converge and rollback tasks print the status after hoist-boot's result), or None."""
    if not isinstance(reg, dict) or reg.get("skipped") or reg.get("unreachable"):
        return None
    try:
        doc = json.loads((reg.get("stdout") or "").strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return doc if isinstance(doc, dict) else None


def fleet_status_doc(reg):
    """The status document of a registered result, or {} (for templates)."""
    return _status(reg) or {}


def _tail(text, n=300):
    """The end of a program's log, for a reason line."""
    t = (text or "").strip()
    return t[-n:].replace("\n", " | ")


def _health_ok(doc):
    """True when the status has no health section (older agents), or its result passed or none."""
    h = doc.get("health")
    if not isinstance(h, dict):
        return True
    return h.get("result") in ("passed", "none")


def _unreachable(*regs):
    return any(isinstance(r, dict) and r.get("unreachable") for r in regs)


def fleet_host_check(boot, target_version):
    """The host's own result after hoist-boot: {ok, unreachable, current, boot_rc, reason}.

    boot: the registered converge task (rc: hoist-boot's exit code, stdout: `hoist status
    --json` after it, stderr: hoist-boot's log).
    """
    out = {"ok": False, "unreachable": False, "current": None,
           "boot_rc": boot.get("rc") if isinstance(boot, dict) else None, "reason": ""}
    if _unreachable(boot):
        out["unreachable"] = True
        out["reason"] = "unreachable: " + str(boot.get("msg", "")).strip()[:200]
        return out
    doc = _status(boot)
    if doc is None:
        out["reason"] = (f"no hoist status after hoist-boot (exit {out['boot_rc']}): "
                         + _tail(boot.get("stderr") if isinstance(boot, dict) else ""))
        return out
    out["current"] = doc.get("current")
    if doc.get("version") != target_version or doc.get("result") != "succeeded":
        step = doc.get("failed_event") or "?"
        out["reason"] = (f"deployment of {target_version} did not succeed (hoist-boot exit {out['boot_rc']}, "
                         f"last deployment {doc.get('version')} {doc.get('result')}, failed step {step}); "
                         f"host on {doc.get('current')}")
        if doc.get("version") != target_version and step == "?":
            out["reason"] += ": " + _tail(boot.get("stderr"), 200)
        return out
    if doc.get("current") != target_version:
        out["reason"] = f"current is {doc.get('current')}, not {target_version}"
        return out
    if not _health_ok(doc):
        out["reason"] = f"health checks {doc['health'].get('result')} on the host"
        return out
    out["ok"] = True
    return out


def fleet_host_verdict(check, probe, st_after, target_version, url=""):
    """The host's verdict: {ok, reason, unreachable, current, took_release, boot_rc}.

    probe: the registered run of files/probe.py (stdout: its JSON); st_after: `hoist status
    --json` after the healthy time (skipped when healthy_for_s is 0).
    """
    v = {"ok": False, "reason": check.get("reason", ""), "unreachable": check.get("unreachable", False),
         "current": check.get("current"), "boot_rc": check.get("boot_rc"),
         "took_release": check.get("current") == target_version}
    if not check.get("ok"):
        return v
    p = _status(probe) if isinstance(probe, dict) else None
    if not p or not p.get("ok"):
        if p and p.get("phase") == "healthy":
            v["reason"] = (f"controller probe {url} failed after {p.get('healthy_s')} s of the healthy time: "
                           f"{p.get('error')}")
        elif p:
            v["reason"] = f"controller probe {url} failed ({p.get('tries')} tries): {p.get('error')}"
        else:
            v["reason"] = f"controller probe {url} did not run: " + _tail((probe or {}).get("stderr"), 200)
        return v
    if isinstance(st_after, dict) and not st_after.get("skipped"):
        if _unreachable(st_after):
            v["unreachable"] = True
            v["reason"] = "unreachable during the healthy time"
            return v
        doc = _status(st_after)
        if doc is None or doc.get("current") != target_version or not _health_ok(doc):
            v["reason"] = "hoist status changed during the healthy time"
            if doc is not None:
                v["current"] = doc.get("current")
                v["took_release"] = doc.get("current") == target_version
            return v
    v["ok"] = True
    v["reason"] = ""
    return v


def fleet_wave(state, batch, verdicts):
    """The rollout state after one wave (batch: its host names; verdicts: one per host, in order)."""
    s = dict(state)
    policy = s["policy"]
    index = len(s.get("waves") or []) + 1
    failed = [dict(v, host=h, wave=index) for h, v in zip(batch, verdicts) if not v.get("ok")]
    all_failed = list(s.get("failed") or []) + failed
    sizes = policy.get("waves") or []
    next_wave = sizes[index] if index < len(sizes) else 0
    decision = fleet_decide(policy, len(all_failed), next_wave)
    wave = {
        "index": index,
        "hosts": list(batch),
        "ok": [h for h, v in zip(batch, verdicts) if v.get("ok")],
        "failed": [f["host"] for f in failed],
        "took_release": [h for h, v in zip(batch, verdicts) if v.get("took_release")],
        "verdicts": {h: v for h, v in zip(batch, verdicts)},
        "decision": decision,
    }
    s["waves"] = list(s.get("waves") or []) + [wave]
    s["failed"] = all_failed
    if decision == "halt":
        s["halted"] = True
        s["stopped_after_wave"] = index
    return s


class FilterModule:
    """Ansible's entry point: the verdict filters used by fleet/rollout.yml."""

    def filters(self):
        return {
            "fleet_host_check": fleet_host_check,
            "fleet_host_verdict": fleet_host_verdict,
            "fleet_wave": fleet_wave,
            "fleet_status_doc": fleet_status_doc,
        }
