#!/usr/bin/env python3
"""Systematic crash testing of hoist (issue 9, item 18).

hoist is killed (SIGKILL, by strace's fault injection: -e inject=SYSCALL:signal=KILL:when=N) at
write, rename, unlink, mkdir, link, chmod and sync boundaries of:
  deploy    a deployment of v2 (a few hundred files) over v1;
  recover   a recovery of a deployment interrupted mid-Install;
  rollback  a deployment of v3 whose ValidateService fails, with its automatic rollback to v1.
After each kill `hoist recover` runs, then the destination must equal exactly one revision's
reference tree (paths, types, modes, sha256, link targets: taken from clean deployments of v1 and
v2) and the records must agree with it: installed and current name that revision, its
installed.list names exactly its files with their sha256, no journal, no partial list and no
temporary file is left.

Usage: crashpoints.py HOIST WORKDIR [--points sample|all] [--sample N]
Only hoist's own process is traced (no -f): a kill always hits hoist, never a hook.
"""
import argparse
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile

SYSCALLS = [
    "write", "pwrite64", "writev", "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir",
    "mkdir", "mkdirat", "link", "linkat", "symlink", "symlinkat", "fchmod", "fchmodat", "fchown",
    "fsync", "fdatasync", "syncfs", "sync_file_range",
]
DEST = "opt/app"


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def traced_env():
    """LeakSanitizer cannot run under ptrace: off for the traced hoist (the untraced runs keep it)."""
    env = dict(os.environ)
    opts = [o for o in env.get("ASAN_OPTIONS", "").split(":") if o and not o.startswith("detect_leaks")]
    env["ASAN_OPTIONS"] = ":".join(opts + ["detect_leaks=0"])
    return env


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)


def make_bundle(work, name, variant):
    """A bundle of ~200 files in nested directories, a symlink, cheap hooks."""
    src = os.path.join(work, "src-" + name)
    shutil.rmtree(src, ignore_errors=True)
    hooks = {"BeforeInstall": "exit 0", "AfterInstall": "exit 0", "ApplicationStart": "exit 0",
             "ApplicationStop": "exit 0", "ValidateService": "exit 1" if variant == 3 else "exit 0"}
    spec = ["version: 0.0", "os: linux", "files:", "  - source: app", "    destination: /" + DEST,
            "file_exists_behavior: OVERWRITE", "hooks:"]
    for ev, body in hooks.items():
        write(os.path.join(src, "scripts", ev + ".sh"), "#!/bin/sh\n" + body + "\n", 0o755)
        spec += ["  %s:" % ev, "    - location: scripts/%s.sh" % ev, "      timeout: 30"]
    write(os.path.join(src, "appspec.yml"), "\n".join(spec) + "\n")
    app = os.path.join(src, "app")
    for d in range(10):
        for i in range(20):
            # v2 changes a third of the files, drops directory 9 and adds directory 10
            if variant >= 2 and d == 9:
                continue
            body = "v%d file %d/%d\n" % (variant if i % 3 == 0 else 1, d, i)
            write(os.path.join(app, "d%d" % d, "sub%d" % (i % 3), "f%d.txt" % i), body * (1 + i % 7),
                  0o755 if i % 10 == 0 else 0o644)
    if variant >= 2:
        for i in range(20):
            write(os.path.join(app, "d10", "g%d.txt" % i), "new %d\n" % i)
    os.symlink("d0/sub0/f0.txt", os.path.join(app, "link"))
    out = os.path.join(work, name + ".tgz")
    with tarfile.open(out, "w:gz") as t:
        t.add(src, arcname=".")
    return out


def snapshot(root):
    """{relative path: (type, mode, sha256 or link target)} of the destination."""
    top = os.path.join(root, DEST)
    snap = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, top)
            st = os.lstat(p)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                snap[rel] = ("L", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                snap[rel] = ("D", mode, "")
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    snap[rel] = ("F", mode, hashlib.sha256(f.read()).hexdigest())
            else:
                snap[rel] = ("?", mode, "")
    return snap


def record(state, name):
    try:
        with open(os.path.join(state, name)) as f:
            return dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
    except FileNotFoundError:
        return {}


def check(root, refs, allowed, hoist):
    """'' when the host holds exactly one allowed revision and the records agree, else why."""
    state = os.path.join(root, "var/lib/hoist")
    snap = snapshot(root)
    match = [v for v in allowed if refs[v] == snap]
    if not match:
        best = min(allowed, key=lambda v: len(set(refs[v].items()) ^ set(snap.items())))
        diff = sorted(set(refs[best].items()) ^ set(snap.items()))[:4]
        return "tree equals no revision (closest %s; differs in %s)" % (best, diff)
    v = match[0]
    for name in ("installed", "current"):
        if record(state, name).get("version") != v:
            return "%s record says %r, the tree is %s" % (name, record(state, name).get("version"), v)
    if os.path.exists(os.path.join(state, "journal")):
        return "journal left"
    for other in ("v2", "v3"):
        res = record(os.path.join(state, "revisions", other), "meta").get("result")
        if res == "in-progress" or (res == "succeeded" and other != v):
            return "revisions/%s/meta says %s, the host holds %s" % (other, res, v)
    rev = os.path.join(state, "revisions", v)
    if os.path.exists(os.path.join(rev, "installed.partial")):
        return "installed.partial left"
    files = {}
    with open(os.path.join(rev, "installed.list")) as f:
        for line in f:
            kind, sha, _mode, path = line.rstrip("\n").split(" ", 3)
            files[path] = (kind, sha)
    want = {"/" + DEST + "/" + p: (t, h if t == "F" else "-") for p, (t, _m, h) in snap.items() if t != "D"}
    got = {p: (k, s if k == "F" else "-") for p, (k, s) in files.items() if k != "D"}
    if want != got:
        return "installed.list of %s disagrees with the tree (%s)" % (v, sorted(set(want.items()) ^ set(got.items()))[:3])
    for dirpath, _d, filenames in os.walk(state):
        for n in filenames:
            if ".tmp." in n or n.endswith(".list.new"):
                return "temporary file left: " + os.path.join(dirpath, n)
    r = run([hoist, "--root", root, "status", "--json"])
    try:
        res = json.loads(r.stdout).get("result")
    except ValueError:
        return "status --json is not JSON: %r" % r.stdout[:200]
    if r.returncode != 0 or res in ("in-progress", "unknown"):
        return "status says %r (exit %d)" % (res, r.returncode)
    return ""


class Runner:
    def __init__(self, hoist, work):
        self.hoist = hoist
        self.work = work

    def hoist_cmd(self, root, *args):
        return [self.hoist, "--root", root] + list(args)

    def fresh(self, base, name):
        """A copy of base: hard links for speed, real copies for every file hoist may change in
        place (logs, lists, journal); the kept trees and bundles are only read or replaced."""
        root = os.path.join(self.work, name)
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["cp", "-al", base, root], check=True)
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, "var/lib/hoist")):
            if "tree" in dirnames and os.path.basename(os.path.dirname(dirpath)) == "revisions":
                dirnames.remove("tree")
            for n in filenames:
                p = os.path.join(dirpath, n)
                if not n.startswith("bundle") and not os.path.islink(p):
                    shutil.copy2(p, p + ".copy")
                    os.replace(p + ".copy", p)
        return root

    def trace_points(self, root, args):
        """The (syscall, n-th call) boundaries of one untraced-equivalent run, in order."""
        log = os.path.join(self.work, "trace.log")
        r = run(["strace", "-qq", "-o", log, "-e", "trace=" + ",".join(SYSCALLS)] + self.hoist_cmd(root, *args), env=traced_env())
        seen, points = {}, []
        with open(log) as f:
            for line in f:
                name = line.split("(", 1)[0]
                if name in SYSCALLS:
                    seen[name] = seen.get(name, 0) + 1
                    points.append((name, seen[name]))
        return points, r.returncode

    def killed(self, root, args, point):
        sc, n = point
        return run(["strace", "-qq", "-o", "/dev/null", "-e", "trace=" + sc,
                    "-e", "inject=%s:signal=KILL:when=%d" % (sc, n)] + self.hoist_cmd(root, *args),
                   env=traced_env())


def sample(points, k):
    if k <= 0 or k >= len(points):
        return points
    step = len(points) / k
    return [points[int(i * step)] for i in range(k)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hoist")
    ap.add_argument("work")
    ap.add_argument("--points", choices=["sample", "all"], default="sample")
    ap.add_argument("--sample", type=int, default=120, help="points in all (sample mode)")
    a = ap.parse_args()
    work = a.work
    os.makedirs(work, exist_ok=True)
    R = Runner(a.hoist, work)
    b = {v: make_bundle(work, "v%d" % v, v) for v in (1, 2, 3)}
    dep = {v: ["deploy", "--bundle", b[v], "--version", "v%d" % v] for v in (1, 2, 3)}

    # References: clean deployments. base1 holds v1, ref2 v2 over v1.
    base1 = os.path.join(work, "base1")
    os.makedirs(base1)
    r = run(R.hoist_cmd(base1, *dep[1]))
    assert r.returncode == 0, r.stderr
    ref2 = R.fresh(base1, "ref2")
    r = run(R.hoist_cmd(ref2, *dep[2]))
    assert r.returncode == 0, r.stderr
    refs = {"v1": snapshot(base1), "v2": snapshot(ref2)}
    assert refs["v1"] != refs["v2"] and len(refs["v2"]) > 200, "bundles too small"

    t = R.fresh(base1, "t")
    deploy_pts, rc = R.trace_points(t, dep[2])
    assert rc == 0, "traced deploy failed"
    t = R.fresh(base1, "t")
    rollback_pts, rc = R.trace_points(t, dep[3])
    assert rc == 13, "traced failing deploy exited %d, want 13 (rolled back)" % rc
    # An interrupted state for the recovery runs: killed at the middle rename of the deployment
    # (mid-Install: the renames of installed files dominate).
    renames = [p for p in deploy_pts if p[0].startswith("rename")]
    mid = renames[len(renames) // 2]
    interrupted = R.fresh(base1, "interrupted")
    r = R.killed(interrupted, dep[2], mid)
    assert r.returncode in (-9, 137), "the kill at %s did not happen (rc %d)" % (mid, r.returncode)
    assert os.path.exists(os.path.join(interrupted, "var/lib/hoist/journal"))
    t = R.fresh(interrupted, "t")
    recover_pts, rc = R.trace_points(t, ["recover"])
    assert rc == 0, "traced recovery failed"

    plans = [("deploy", base1, dep[2], deploy_pts, ("v1", "v2")),
             ("recover", interrupted, ["recover"], recover_pts, ("v1", "v2")),
             ("rollback", base1, dep[3], rollback_pts, ("v1",))]
    total = len(deploy_pts) + len(recover_pts) + len(rollback_pts)
    print("boundaries: deploy %d, recover %d, rollback %d" % (len(deploy_pts), len(recover_pts), len(rollback_pts)))
    failures = tested = kills = 0
    for name, base, args, pts, allowed in plans:
        chosen = pts if a.points == "all" else sample(pts, max(1, a.sample * len(pts) // total))
        for p in chosen:
            root = R.fresh(base, "t")
            k = R.killed(root, args, p)
            kills += k.returncode in (-9, 137)
            rec = run(R.hoist_cmd(root, "recover"))
            why = "recover exited %d: %s" % (rec.returncode, rec.stderr[-300:]) if rec.returncode else check(root, refs, allowed, a.hoist)
            tested += 1
            if why:
                failures += 1
                print("FAIL %s killed at %s #%d: %s" % (name, p[0], p[1], why))
        print("%s: %d points" % (name, len(chosen)))
    print("%d kill points tested (%d killed hoist), %d failures" % (tested, kills, failures))
    return 1 if failures or kills == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
