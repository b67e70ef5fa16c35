#!/usr/bin/env python3
"""Runs a command and prints "RC PEAK FIRST": its exit code, the peak RSS in KiB of
the largest process it ran (getrusage of the children: across an exec, the higher of
the two programs), and the highest VmHWM in KiB sampled every 20 ms while the process
still ran the program named NAME (before it exec'd another one; 0 if never seen).
A sampled peak can only be lower than the real one, never higher.

usage: peakrss.py NAME STDOUT_FILE STDERR_FILE CMD...
"""
import resource
import subprocess
import sys


def sample(pid, name):
    """VmHWM (KiB) of pid while its program is name, else None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    if fields.get("Name", "").strip() != name or "VmHWM" not in fields:
        return None
    return int(fields["VmHWM"].split()[0])


def main():
    name, out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    first = 0
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen(cmd, stdout=o, stderr=e)
        while True:
            try:
                rc = p.wait(timeout=0.02)
                break
            except subprocess.TimeoutExpired:
                pass
            hwm = sample(p.pid, name)
            if hwm is not None:
                first = max(first, hwm)
    print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, first)
    return 0


if __name__ == "__main__":
    sys.exit(main())
