#!/usr/bin/env python3
"""Runs a command and prints "RC PEAK HWM...": its exit code; the peak RSS in KiB of
the largest process it ran (getrusage of the children: across an exec the higher of
the programs, and never below this Python's own RSS, which a forked child counts until
it execs); then, for each program NAME given, the highest VmHWM in KiB sampled every
20 ms while the process ran that program (VmHWM starts afresh at each exec; 0 if never
seen). A sampled peak can only be lower than the real one, never higher. A command
still running after PEAKRSS_TIMEOUT seconds (default 600) is killed (by its pid): RC 124.

usage: peakrss.py NAME[,NAME...] STDOUT_FILE STDERR_FILE CMD...
"""
import os
import resource
import subprocess
import sys
import time


def sample(pid):
    """(program name, VmHWM in KiB) of pid, or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return fields["Name"].strip(), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError, IndexError):
        return None


def main():
    names, out, err, cmd = sys.argv[1].split(","), sys.argv[2], sys.argv[3], sys.argv[4:]
    hwm = dict.fromkeys(names, 0)
    deadline = time.monotonic() + float(os.environ.get("PEAKRSS_TIMEOUT", "600"))
    with open(out, "wb") as o, open(err, "wb") as e:
        p = subprocess.Popen(cmd, stdout=o, stderr=e)
        while True:
            try:
                rc = p.wait(timeout=0.02)
                break
            except subprocess.TimeoutExpired:
                pass
            s = sample(p.pid)
            if s is not None and s[0] in hwm:
                hwm[s[0]] = max(hwm[s[0]], s[1])
            if time.monotonic() > deadline:
                p.kill()
                p.wait()
                rc = 124
                break
    print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, *(hwm[n] for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
