#!/usr/bin/env python3
"""Vectors for the pure logic of fleet/filter_plugins: waves, allowances, the halt rule, verdicts,
the dashboard's model. Run by test_fleet_plan.sh (ctest fleet/test_fleet_plan)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("HOIST_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                                "fleet", "filter_plugins"))
import fleet_plan as P  # noqa: E402
import fleet_report as R  # noqa: E402
import fleet_verdict as V  # noqa: E402

HOSTS = [f"h{i}" for i in range(1, 7)]


def status(version="v2", result="succeeded", current=None, health=None, failed_event=None):
    d = {"deployment_id": "d-X", "kind": "deploy", "version": version, "result": result,
         "current": current or version, "environment": "prod", "failed_event": failed_event,
         "steps": [{"event": "Install", "result": "ok", "duration_s": 0.012, "started": "t"}]}
    if health:
        d["health"] = {"result": health}
    return {"rc": 0, "stdout": json.dumps(d)}


class Waves(unittest.TestCase):
    def test_modes(self):
        self.assertEqual(P.wave_sizes("one-at-a-time", 6), [1] * 6)
        self.assertEqual(P.wave_sizes("half-at-a-time", 6), [3, 3])
        self.assertEqual(P.wave_sizes("half-at-a-time", 5), [2, 2, 1])   # rounded down, like CodeDeploy
        self.assertEqual(P.wave_sizes("half-at-a-time", 1), [1])
        self.assertEqual(P.wave_sizes("all-at-once", 24), [24])
        self.assertEqual(P.wave_sizes("1,2,50%", 24), [1, 2, 12, 9])       # the last size repeats
        self.assertEqual(P.wave_sizes([2], 5), [2, 2, 1])
        self.assertEqual(P.wave_sizes("one-at-a-time", 0), [])
        self.assertEqual(P.fleet_waves(HOSTS, "half-at-a-time"), [HOSTS[:3], HOSTS[3:]])

    def test_serial_matches_ansible(self):
        # Ansible's serial: int((pct / 100.0) * n) or 1, a count as is, the last item repeating
        def ansible(serial, n):
            out, left, i = [], n, 0
            while left:
                t = serial[min(i, len(serial) - 1)]
                s = (int((int(t[:-1]) / 100.0) * n) or 1) if isinstance(t, str) else int(t)
                out.append(min(s, left))
                left -= out[-1]
                i += 1
            return out
        for mode in ("one-at-a-time", "half-at-a-time", "all-at-once", "1,2,50%", "3", "10%,30%"):
            for n in range(1, 30):
                self.assertEqual(ansible(P.fleet_serial(mode), n), P.wave_sizes(mode, n), (mode, n))

    def test_bad_sizes(self):
        for bad in ("0", "-1", "x", "0%", "101%", "2.5%", "", "one"):
            with self.assertRaises(P.PlanError, msg=bad):
                P.wave_sizes(bad, 6)


class Policy(unittest.TestCase):
    def test_defaults(self):
        p = P.fleet_policy(6, "one-at-a-time")
        self.assertEqual((p["max_failures"], p["min_healthy"]), (1, 5))
        p = P.fleet_policy(6, "half-at-a-time")
        self.assertEqual((p["max_failures"], p["min_healthy"]), (3, 3))
        p = P.fleet_policy(5, "half-at-a-time")
        self.assertEqual((p["max_failures"], p["min_healthy"]), (2, 3))   # half rounded up stays
        p = P.fleet_policy(6, "all-at-once")
        self.assertEqual((p["max_failures"], p["min_healthy"]), (0, 6))
        p = P.fleet_policy(6, "2")
        self.assertEqual((p["max_failures"], p["min_healthy"]), (0, 6))
        p = P.fleet_policy(1, "one-at-a-time")
        self.assertEqual(p["max_failures"], 0)    # a lone host failing never passes
        p = P.fleet_policy(6, "2", max_failures=2)
        self.assertEqual((p["max_failures"], p["min_healthy"]), (2, 4))
        p = P.fleet_policy(10, "one-at-a-time", min_healthy="70%")
        self.assertEqual((p["max_failures"], p["min_healthy"]), (3, 7))

    def test_halt_rule(self):
        one = P.fleet_policy(6, "one-at-a-time")
        self.assertEqual(P.fleet_decide(one, 0, 1), "continue")
        self.assertEqual(P.fleet_decide(one, 1, 1), "halt")     # h3 fails: h4 must not start
        self.assertEqual(P.fleet_decide(one, 1, 0), "done")     # only the last host failed
        half = P.fleet_policy(6, "half-at-a-time")
        self.assertEqual(P.fleet_decide(half, 1, 3), "halt")    # 1 + 3 > 6 - 3
        self.assertEqual(P.fleet_decide(half, 0, 3), "continue")
        self.assertEqual(P.fleet_decide(half, 3, 0), "done")
        self.assertEqual(P.fleet_decide(half, 4, 0), "halt")
        allp = P.fleet_policy(6, "all-at-once")
        self.assertEqual(P.fleet_decide(allp, 1, 0), "halt")
        self.assertEqual(P.fleet_decide(allp, 0, 0), "done")
        loose = P.fleet_policy(10, "1", max_failures=2, min_healthy=7)
        self.assertEqual(P.fleet_decide(loose, 2, 1), "continue")   # 2 + 1 <= 3
        self.assertEqual(P.fleet_decide(loose, 3, 1), "halt")


def boot(rc=0, **kw):
    r = status(**kw)
    r["rc"] = rc
    r["stderr"] = "hoist-boot: [download] ...\nhoist-boot: the last line"
    return r


def probed(ok=True, phase="healthy", error=""):
    return {"rc": 0 if ok else 1, "stdout": json.dumps({"ok": ok, "phase": phase, "error": error, "tries": 3,
                                                        "healthy_s": 1.0})}


class Verdicts(unittest.TestCase):
    def test_host_check(self):
        self.assertTrue(V.fleet_host_check(boot(), "v2")["ok"])
        c = V.fleet_host_check(boot(13, result="rolled-back", current="v1", failed_event="ValidateService"), "v2")
        self.assertFalse(c["ok"])
        self.assertIn("ValidateService", c["reason"])
        self.assertEqual((c["current"], c["boot_rc"]), ("v1", 13))
        c = V.fleet_host_check({"unreachable": True, "msg": "ssh: connect refused"}, "v2")
        self.assertTrue(c["unreachable"])
        self.assertFalse(c["ok"])
        self.assertFalse(V.fleet_host_check(boot(health="failed"), "v2")["ok"])
        self.assertTrue(V.fleet_host_check(boot(health="none"), "v2")["ok"])
        self.assertTrue(V.fleet_host_check(boot(health="passed"), "v2")["ok"])
        self.assertFalse(V.fleet_host_check(boot(version="v1"), "v2")["ok"])
        c = V.fleet_host_check({"rc": 7, "stdout": "", "stderr": "hoist-boot: [s3] 403 AccessDenied"}, "v2")
        self.assertFalse(c["ok"])
        self.assertIn("403 AccessDenied", c["reason"])
        # hoist-boot failed before deploying: the status still shows the old good deployment
        c = V.fleet_host_check(boot(6, version="v1"), "v2")
        self.assertFalse(c["ok"])
        self.assertIn("the last line", c["reason"])

    def test_host_verdict(self):
        good = V.fleet_host_check(boot(), "v2")
        v = V.fleet_host_verdict(good, probed(), status(), "v2", "http://h:80/")
        self.assertTrue(v["ok"])
        v = V.fleet_host_verdict(good, probed(False, "probe", "Connection refused"), {"skipped": True}, "v2",
                                 "http://h:80/")
        self.assertFalse(v["ok"])
        self.assertTrue(v["took_release"])             # it runs v2: roll it back
        self.assertIn("controller probe http://h:80/ failed (3 tries): Connection refused", v["reason"])
        v = V.fleet_host_verdict(good, probed(False, "healthy", "status 503"), {"skipped": True}, "v2")
        self.assertFalse(v["ok"])
        self.assertIn("healthy time", v["reason"])
        v = V.fleet_host_verdict(good, probed(), {"unreachable": True}, "v2")
        self.assertFalse(v["ok"])
        v = V.fleet_host_verdict(good, probed(), status(version="v2", current="v1"), "v2")
        self.assertFalse(v["ok"])
        self.assertFalse(v["took_release"])

    def test_wave(self):
        st = {"policy": P.fleet_policy(6, "half-at-a-time"), "waves": [], "failed": [], "halted": False,
              "stopped_after_wave": None}
        okv = {"ok": True, "took_release": True}
        bad = {"ok": False, "took_release": False, "reason": "x"}
        s = V.fleet_wave(st, HOSTS[:3], [okv, okv, bad])
        self.assertTrue(s["halted"])
        self.assertEqual(s["stopped_after_wave"], 1)
        self.assertEqual(s["waves"][0]["took_release"], ["h1", "h2"])
        self.assertEqual([f["host"] for f in s["failed"]], ["h3"])
        s = V.fleet_wave(st, HOSTS[:3], [okv] * 3)
        self.assertFalse(s["halted"])
        s = V.fleet_wave(s, HOSTS[3:], [okv, okv, bad])
        self.assertFalse(s["halted"])                  # the last wave: 5 of 6 healthy >= 3
        self.assertEqual(s["waves"][1]["decision"], "done")


class Report(unittest.TestCase):
    def test_host_report(self):
        r = R.fleet_host_report("h1", status(result="rolled-back", current="v1", failed_event="ValidateService"),
                                "prod")
        self.assertEqual((r["state"], r["current"]), ("failed", "v1"))
        self.assertEqual(r["last"]["steps"][0], {"name": "Install", "result": "ok", "started": "t", "duration_ms": 12})
        r = R.fleet_host_report("h2", {"unreachable": True, "msg": "x"}, "prod")
        self.assertEqual(r["state"], "unreachable")
        both = status()
        both["stdout"] += "\n" + R.HISTORY_MARK + "\n" + json.dumps(
            {"deployments": [{"id": "d-2", "result": "succeeded"}, {"id": "d-1", "result": "failed"}]})
        r = R.fleet_host_report("h3", both, "prod")
        self.assertEqual((r["state"], r["last"]["id"], len(r["deployments"])), ("ok", "d-2", 2))
        r = R.fleet_host_report("h3", dict(status(), stdout=status()["stdout"] + "\n" + R.HISTORY_MARK + "\n"), "prod")
        self.assertEqual((r["state"], r["last"]["id"], len(r["deployments"])), ("ok", "d-X", 1))   # no history
        r = R.fleet_host_report("h4", both, "prod", None, "rollout r-1: probe failed")
        self.assertEqual(r["state"], "failed")
        # hoist's automatic rollback is an entry of its own, newer than the deployment it undid:
        # the host's last deployment is that failed one (its failed step and output)
        auto = status()
        auto["stdout"] += "\n" + R.HISTORY_MARK + "\n" + json.dumps({"deployments": [
            {"id": "d-3", "kind": "rollback", "version": "v1", "result": "succeeded"},
            {"id": "d-2", "kind": "deploy", "version": "v2", "result": "rolled-back", "rolled_back_to": "v1",
             "failed_step": "ValidateService", "output_tail": "failing on purpose"},
            {"id": "d-1", "kind": "deploy", "version": "v1", "result": "succeeded"}]})
        r = R.fleet_host_report("h5", auto, "prod")
        self.assertEqual((r["state"], r["last"]["id"], r["last"]["output_tail"]), ("failed", "d-2", "failing on purpose"))
        # an operator's rollback after a good deployment stays the last one
        manual = status()
        manual["stdout"] += "\n" + R.HISTORY_MARK + "\n" + json.dumps({"deployments": [
            {"id": "d-3", "kind": "rollback", "version": "v1", "result": "succeeded"},
            {"id": "d-2", "kind": "deploy", "version": "v2", "result": "succeeded"}]})
        r = R.fleet_host_report("h6", manual, "prod")
        self.assertEqual((r["state"], r["last"]["id"]), ("ok", "d-3"))

    def test_summary(self):
        reps = [R.fleet_host_report(f"h{i}", status(version="v2" if i < 3 else "v1"), "prod", "s3://b/a/channels/prod")
                for i in range(1, 5)]
        reps.append(R.fleet_host_report("h5", {"unreachable": True}, "prod", "s3://b/a/channels/prod"))
        m = R.fleet_summary(reps, {"s3://b/a/channels/prod": {"version": "v2", "seq": 4}}, [
            {"id": "r-1", "started": "2026-01-01T00:00:00Z"}, {"id": "r-2", "started": "2026-01-02T00:00:00Z"}])
        e = m["environments"][0]
        self.assertEqual(e["versions"], [{"version": "unknown", "count": 1}, {"version": "v1", "count": 2},
                                         {"version": "v2", "count": 2}])
        self.assertEqual(e["channels"], [{"url": "s3://b/a/channels/prod", "release": {"version": "v2", "seq": 4}}])
        self.assertEqual([r["id"] for r in m["rollouts"]], ["r-2", "r-1"])   # newest first
        self.assertEqual(R.fleet_failed_in({"id": "r", "failed": [{"host": "h5", "reason": "unreachable"}]}, "h5"),
                         "rollout r: unreachable")


if __name__ == "__main__":
    unittest.main(verbosity=1)
