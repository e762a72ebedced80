"""Running a server child in the foreground (`papers ui` runs Streamlit) so that stopping us stops it.

``subprocess.call`` does not forward signals: a SIGTERM to `papers ui` used to leave Streamlit running
and holding the port. Here SIGTERM and SIGINT are forwarded, the child gets a grace period, then is
killed; on Linux the child also dies if we are killed outright (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

FORWARDED = (signal.SIGINT, signal.SIGTERM)


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def run_foreground(cmd: list[str], grace: float) -> int:
    """Run ``cmd`` until it exits or we are signalled. Returns the child's exit code, 130 after SIGINT,
    0 after SIGTERM (a clean stop)."""
    received: list[tuple[int, float]] = []  # (signal, when)
    # its own session: a terminal's Ctrl-C reaches us once and we forward it once
    proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=_die_with_parent)

    def forward(sig: int, frame: object) -> None:
        received.append((sig, time.monotonic()))
        if proc.poll() is None:
            proc.send_signal(sig)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if received and time.monotonic() - received[0][1] > grace:
                    proc.kill()
                    code = proc.wait()
                    break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if any(sig == signal.SIGINT for sig, _ in received):
        return 130
    return 0 if received else code
