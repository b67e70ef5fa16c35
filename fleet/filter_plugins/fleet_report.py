"""The fleet's status and history for fleet/status.yml and its dashboard (pure).

fleet_host_report turns what a host answered (`hoist status --json`, `hoist history --json`, or
only the status on agents without `history`) into one record per host; fleet_summary groups the
hosts by environment with the channel's release, counts per version, and the deployment history
of the whole fleet. tests/fleet/test_fleet_plan.py checks these.
"""

import json


HISTORY_MARK = "--8<-- hoist history"


def _parse(text):
    try:
        doc = json.loads(text or "")
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _json(reg):
    """The parsed JSON stdout of a registered command result, or None."""
    if not isinstance(reg, dict) or reg.get("skipped") or reg.get("unreachable") or reg.get("rc") != 0:
        return None
    return _parse(reg.get("stdout"))


def _status_and_history(reg):
    """(status, history) documents from status.yml's one command: the status JSON, a mark line,
    then the history JSON (absent on agents without `hoist history`)."""
    if not isinstance(reg, dict) or reg.get("skipped") or reg.get("unreachable") or reg.get("rc") != 0:
        return None, None
    head, _, tail = (reg.get("stdout") or "").partition(HISTORY_MARK)
    return _parse(head), _parse(tail)


def _from_status(st):
    """One deployment record (history's shape) from a `hoist status --json` document."""
    steps = []
    for s in st.get("steps") or []:
        d = s.get("duration_s")
        steps.append({"name": s.get("event"), "result": s.get("result"), "started": s.get("started"),
                      "duration_ms": None if d is None else int(round(float(d) * 1000))})
    rb = st.get("rollback") or None
    return {
        "id": st.get("deployment_id"), "version": st.get("version"), "kind": st.get("kind"),
        "result": st.get("result"), "started": st.get("started"), "finished": None,
        "duration_s": st.get("duration_s"), "failed_step": st.get("failed_event"),
        "steps": steps, "output_tail": st.get("output_tail"),
        "rolled_back_to": rb.get("version") if isinstance(rb, dict) else None,
        "health": st.get("health") if isinstance(st.get("health"), dict) else None,
    }


def fleet_host_report(host, st, env=None, channel=None, failed_in_rollout=None):
    """What the dashboard shows of one host.

    state: "unreachable" (no answer over the connection), "unknown" (hoist answered nothing
    usable), "failed" (its last deployment did not succeed, or it failed the latest rollout's
    gate), else "ok".
    """
    r = {"host": host, "state": "ok", "current": None, "last_good": None, "environment": env,
         "application": None, "channel": channel, "last": None, "deployments": [], "note": ""}
    if isinstance(st, dict) and st.get("unreachable"):
        r["state"] = "unreachable"
        r["note"] = str(st.get("msg", "")).strip()[:200]
        return r
    doc, h = _status_and_history(st)
    if doc is None:
        r["state"] = "unknown"
        r["note"] = "hoist status --json gave no answer"
        return r
    r["current"] = doc.get("current")
    r["last_good"] = doc.get("last_good")
    r["environment"] = r["environment"] or doc.get("environment")
    r["application"] = doc.get("application")
    if h is not None and isinstance(h.get("deployments"), list):
        r["deployments"] = h["deployments"]
    elif doc.get("deployment_id"):
        r["deployments"] = [_from_status(doc)]
    r["last"] = _last_deployment(r["deployments"])
    if r["last"] and r["last"].get("result") != "succeeded":
        r["state"] = "failed"
    if isinstance(doc.get("health"), dict) and doc["health"].get("result") == "failed":
        r["state"] = "failed"
        r["note"] = "health checks failed"
    if failed_in_rollout:
        r["state"] = "failed"
        r["note"] = failed_in_rollout
    return r


def _last_deployment(deps):
    """The host's last deployment, newest first in deps. hoist records the automatic rollback of
    a failed deployment as an entry of its own, started just after the deployment it undid; the
    deployment (result rolled-back, rolled_back_to naming the rollback's version) says more: its
    failed step and that step's output."""
    if not deps:
        return None
    last = deps[0]
    if (len(deps) > 1 and last.get("kind") == "rollback" and deps[1].get("result") == "rolled-back"
            and deps[1].get("rolled_back_to") == last.get("version")):
        return deps[1]
    return last


def fleet_summary(reports, channels, rollouts):
    """The dashboard's model: environments (channel, counts per version, hosts) and history.

    reports: fleet_host_report records; channels: {channel URL: `channel show --json` or None};
    rollouts: rollout records of fleet/rollout.yml (any order).
    """
    envs = {}
    for r in reports:
        name = r.get("environment") or "unknown"
        e = envs.setdefault(name, {"name": name, "channels": [], "hosts": [], "versions": {}, "states": {}})
        e["hosts"].append(r)
        v = r.get("current") or ("unknown" if r["state"] in ("unreachable", "unknown") else "none")
        e["versions"][v] = e["versions"].get(v, 0) + 1
        e["states"][r["state"]] = e["states"].get(r["state"], 0) + 1
        ch = r.get("channel")
        if ch and ch not in [c["url"] for c in e["channels"]]:
            e["channels"].append({"url": ch, "release": (channels or {}).get(ch)})
    history = []
    for r in reports:
        for d in r.get("deployments") or []:
            history.append(dict(d, host=r["host"]))
    history.sort(key=lambda d: (d.get("started") or "", d.get("id") or ""), reverse=True)
    ordered = sorted(rollouts or [], key=lambda x: (x.get("started") or "", x.get("id") or ""), reverse=True)
    for e in envs.values():
        e["hosts"].sort(key=lambda r: r["host"])
        e["versions"] = [{"version": k, "count": n} for k, n in sorted(e["versions"].items())]
    return {"environments": [envs[k] for k in sorted(envs)], "history": history, "rollouts": ordered,
            "hosts": len(reports)}


def fleet_failed_in(rollout, host):
    """Why host failed the gate of this rollout record, or "" (it did not, or no record)."""
    if not isinstance(rollout, dict):
        return ""
    for f in rollout.get("failed") or []:
        if f.get("host") == host:
            return f"rollout {rollout.get('id')}: {f.get('reason')}"
    return ""


def fleet_reports(targets, hostvars, default_channel=None, latest=None):
    """fleet_host_report for each target host, from the variables status.yml registered."""
    out = []
    for h in targets:
        hv = hostvars[h]
        out.append(fleet_host_report(h, hv.get("st"), hv.get("hoist_environment"),
                                     hv.get("hoist_channel") or default_channel, fleet_failed_in(latest, h)))
    return out


def fleet_records(record_dir):
    """The rollout records in record_dir/rollouts/*.json (unreadable ones are skipped)."""
    import glob
    import os
    out = []
    for path in sorted(glob.glob(os.path.join(str(record_dir), "rollouts", "*.json"))):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


def fleet_channel_map(channels, release_bin="hoist-release", release_args=()):
    """{channel URL: `hoist-release channel show URL --json`, or None when it cannot be read}.

    Runs the tool once per channel on the controller (the dashboard's only I/O besides the hosts).
    """
    import subprocess
    out = {}
    for url in channels or []:
        try:
            p = subprocess.run([release_bin, *list(release_args or []), "channel", "show", url, "--json"],
                               capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError):
            out[url] = None
            continue
        out[url] = _parse(p.stdout) if p.returncode == 0 else None
    return out


class FilterModule:
    """Ansible's entry point: the report filters used by fleet/status.yml."""

    def filters(self):
        return {
            "fleet_host_report": fleet_host_report,
            "fleet_summary": fleet_summary,
            "fleet_failed_in": fleet_failed_in,
            "fleet_reports": fleet_reports,
            "fleet_channel_map": fleet_channel_map,
            "fleet_records": fleet_records,
        }
