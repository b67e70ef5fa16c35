"""Shared plumbing of the bed's servers: port file, SIGTERM, parent watchdog."""

import os
import signal
import threading
import time


def write_port_file(path, port):
    """Writes the bound port atomically, so a reader never sees half a number."""
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.rename(tmp, path)


def serve(srv):
    """Serves until SIGTERM/SIGINT or until the parent (the test's shell) is gone."""
    def stop(signum=None, frame=None):
        # shutdown() waits for serve_forever to return: never call it on the serving thread.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    def watch_parent(ppid):
        # A test killed with SIGKILL never runs its trap: do not outlive it.
        while os.getppid() == ppid:
            time.sleep(0.5)
        stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if os.environ.get("BED_NO_PARENT_WATCH") != "1":
        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    # Every log line is already written and closed: skip the interpreter's teardown
    # (moto's modules make it take a few hundred ms, and every test pays for bed_stop).
    os._exit(0)
