"""The rollout plan of fleet/rollout.yml: waves, the failure allowance, the halt rule (pure).

Ansible loads this file as a filter plugin because it sits in filter_plugins/ next to the
playbooks. The functions take and return plain data, so tests/fleet/test_fleet_plan.py
checks them without Ansible.

Modes (docs/fleet.md):
  one-at-a-time   waves of 1 host; at least N-1 hosts stay healthy
  half-at-a-time  waves of floor(N/2) hosts (at least 1); at least ceil(N/2) stay healthy
  all-at-once     one wave of N hosts; any failed host fails the rollout
  "1,2,50%"       explicit wave sizes (a count or a percentage of N, the last one repeats);
                  any failed host fails the rollout unless max_failures / min_healthy say otherwise
"""

import math

MODES = ("one-at-a-time", "half-at-a-time", "all-at-once")


class PlanError(ValueError):
    """A mode, size or limit the plan cannot use (the playbook fails before touching a host)."""


def _size(token, n):
    """One wave size: 'K' hosts or 'P%' of n (rounded down, at least 1)."""
    t = str(token).strip()
    try:
        if t.endswith("%"):
            pct = int(t[:-1])   # whole percentages, as Ansible's serial takes them
            if not 0 < pct <= 100:
                raise PlanError(f"wave size {t!r}: a percentage must be above 0 and at most 100")
            return max(1, int((pct / 100.0) * n))   # as Ansible's serial: pct_to_int
        k = int(t)
    except ValueError:
        raise PlanError(f"wave size {t!r}: expected a number of hosts or a whole percentage like 25%") from None
    if k < 1:
        raise PlanError(f"wave size {t!r}: must be at least 1")
    return k


def wave_sizes(mode, n):
    """The size of each wave for n hosts, in order; their sum is n."""
    if n < 0:
        raise PlanError("negative host count")
    if n == 0:
        return []
    if isinstance(mode, str) and mode in MODES:
        tokens = {"one-at-a-time": ["1"], "half-at-a-time": ["50%"], "all-at-once": ["100%"]}[mode]
    elif isinstance(mode, (list, tuple)):
        tokens = [str(t) for t in mode]
    elif isinstance(mode, (str, int)):
        tokens = [t for t in str(mode).split(",") if t.strip()]
    else:
        raise PlanError(f"mode {mode!r}: expected one of {', '.join(MODES)} or wave sizes like 1,2,50%")
    if not tokens:
        raise PlanError(f"mode {mode!r}: no wave sizes")
    sizes, left, i = [], n, 0
    while left > 0:
        s = min(_size(tokens[min(i, len(tokens) - 1)], n), left)
        sizes.append(s)
        left -= s
        i += 1
    return sizes


def fleet_serial(mode):
    """The play's `serial` list for a mode: Ansible then forms the same waves as wave_sizes."""
    if isinstance(mode, str) and mode in MODES:
        return {"one-at-a-time": [1], "half-at-a-time": ["50%"], "all-at-once": ["100%"]}[mode]
    if isinstance(mode, (list, tuple)):
        tokens = [str(t).strip() for t in mode]
    else:
        tokens = [t.strip() for t in str(mode).split(",") if t.strip()]
    wave_sizes(tokens, 100)   # checks every token
    return [t if t.endswith("%") else int(t) for t in tokens]


def fleet_waves(hosts, mode):
    """Splits the hosts (inventory order) into waves: a list of lists of host names."""
    hosts = list(hosts)
    out, at = [], 0
    for s in wave_sizes(mode, len(hosts)):
        out.append(hosts[at:at + s])
        at += s
    return out


def fleet_policy(n, mode, max_failures=None, min_healthy=None):
    """How many hosts may fail, and the healthy minimum kept while waves are running.

    Returns {"hosts", "waves" (sizes), "max_failures", "min_healthy"}. The defaults follow
    CodeDeploy's configurations: one-at-a-time N-1 healthy (so only the last host may fail),
    half-at-a-time ceil(N/2) healthy, all-at-once and explicit waves no failure at all.
    """
    n = int(n)
    sizes = wave_sizes(mode, n)
    if min_healthy not in (None, ""):
        mh = _healthy(min_healthy, n)
    elif mode == "one-at-a-time":
        mh = max(n - 1, 0)
    elif mode == "half-at-a-time":
        mh = math.ceil(n / 2)
    else:
        mh = None
    if max_failures not in (None, ""):
        try:
            mf = int(max_failures)
        except ValueError:
            raise PlanError(f"max_failures {max_failures!r}: expected a number") from None
        if mf < 0:
            raise PlanError("max_failures must be at least 0")
    elif mh is not None:
        # at least one host must succeed: one host failing alone never passes
        mf = min(n - mh, max(n - 1, 0))
    else:
        mf = 0
    if mh is None:
        mh = n - mf
    return {"hosts": n, "waves": sizes, "max_failures": mf, "min_healthy": mh}


def _healthy(value, n):
    """min_healthy as 'K' hosts or 'P%' of n (rounded up, like CodeDeploy's FLEET_PERCENT)."""
    t = str(value).strip()
    try:
        if t.endswith("%"):
            pct = float(t[:-1])
            if not 0 <= pct <= 100:
                raise PlanError(f"min_healthy {t!r}: a percentage must be 0 to 100")
            return math.ceil(pct * n / 100)
        k = int(t)
    except ValueError:
        raise PlanError(f"min_healthy {t!r}: expected a number of hosts or a percentage") from None
    if not 0 <= k <= n:
        raise PlanError(f"min_healthy {t!r}: must be between 0 and the {n} hosts")
    return k


def fleet_decide(policy, failed, next_wave=0):
    """After a wave: 'continue', 'done' (no wave left, within the allowance) or 'halt'.

    Halt when the failures exceed the allowance, or when failures exist and starting the next
    wave could take the healthy hosts below the minimum (failed + next wave > N - min_healthy).
    No host of a later wave starts after a halt.
    """
    failed = int(failed)
    next_wave = int(next_wave)
    if failed > policy["max_failures"]:
        return "halt"
    if next_wave == 0:
        return "done"
    if failed > 0 and failed + next_wave > policy["hosts"] - policy["min_healthy"]:
        return "halt"
    return "continue"


class FilterModule:
    """Ansible's entry point: the filters used by fleet/rollout.yml."""

    def filters(self):
        return {
            "fleet_waves": fleet_waves,
            "fleet_serial": fleet_serial,
            "fleet_policy": fleet_policy,
            "fleet_decide": fleet_decide,
        }
