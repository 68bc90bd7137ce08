# Stopping a child process the tests started, by its own handle: one copy for the e2e harness,
# the soak server's client, the Lambda bench and the install check.
"""stop_process(proc): SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""

import subprocess


def stop_process(proc, grace=5):
    """Ends `proc` (a subprocess.Popen or None) and reaps it; a process already gone is left.
    The grace period lets a server flush its log and close its sockets before being killed."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
