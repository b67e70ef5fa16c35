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
    """The parsed `hoist status --json` of a registered command result, or None."""
    if not isinstance(reg, dict) or reg.get("skipped") or reg.get("unreachable") or reg.get("rc") != 0:
        return None
    try:
        doc = json.loads(reg.get("stdout") or "")
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _health_ok(doc):
    """True when the status has no health section (older agents), or its result passed or none."""
    h = doc.get("health")
    if not isinstance(h, dict):
        return True
    return h.get("result") in ("passed", "none")


def _unreachable(*regs):
    return any(isinstance(r, dict) and r.get("unreachable") for r in regs)


def fleet_host_check(boot, st, target_version):
    """The host's own result after hoist-boot: {ok, unreachable, current, boot_rc, reason}."""
    out = {"ok": False, "unreachable": False, "current": None,
           "boot_rc": boot.get("rc") if isinstance(boot, dict) else None, "reason": ""}
    if _unreachable(boot, st):
        out["unreachable"] = True
        out["reason"] = "unreachable: " + str((boot if _unreachable(boot) else st).get("msg", "")).strip()[:200]
        return out
    doc = _status(st)
    if doc is None:
        out["reason"] = f"hoist status --json failed (exit {st.get('rc') if isinstance(st, dict) else '?'})"
        return out
    out["current"] = doc.get("current")
    if doc.get("version") != target_version or doc.get("result") != "succeeded":
        step = doc.get("failed_event") or "?"
        out["reason"] = (f"deployment of {target_version} did not succeed (hoist-boot exit {out['boot_rc']}, "
                         f"last deployment {doc.get('version')} {doc.get('result')}, failed step {step}); "
                         f"host on {doc.get('current')}")
        return out
    if doc.get("current") != target_version:
        out["reason"] = f"current is {doc.get('current')}, not {target_version}"
        return out
    if not _health_ok(doc):
        out["reason"] = f"health checks {doc['health'].get('result')} on the host"
        return out
    out["ok"] = True
    return out


def _probe_failure(r):
    """Why a registered uri result failed, in a few words."""
    if not isinstance(r, dict):
        return "no answer"
    status = r.get("status", -1)
    msg = str(r.get("msg", "")).strip()
    return f"status {status}" + (f" ({msg[:120]})" if status in (-1, None) or not msg.startswith("OK") else "")


def fleet_host_verdict(check, probe, staying, st_after, target_version, url=""):
    """The host's verdict: {ok, reason, unreachable, current, took_release, boot_rc}."""
    v = {"ok": False, "reason": check.get("reason", ""), "unreachable": check.get("unreachable", False),
         "current": check.get("current"), "boot_rc": check.get("boot_rc"),
         "took_release": check.get("current") == target_version}
    if not check.get("ok"):
        return v
    if not isinstance(probe, dict) or probe.get("skipped") or probe.get("failed"):
        v["reason"] = f"controller probe {url} failed: {_probe_failure(probe)}"
        return v
    if isinstance(staying, dict) and not staying.get("skipped"):
        for i, r in enumerate(staying.get("results") or []):
            if r.get("failed"):
                v["reason"] = f"unhealthy within the healthy time: probe {i + 1} {_probe_failure(r)}"
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
        }
