"""Fault points for the crash tests: a process can be told to kill itself at the n-th one.

Publishing passes a fault point before every change it makes to the output folder. With
`CAREPRESS_FAULT_KILL_AT=n` in the environment the process SIGKILLs itself at the n-th point, so
the tests can stop a real build after exactly k file operations, for every k, and then check
what a reader of the folder sees. Unset (always, outside the tests), a point costs one integer
comparison.
"""

from __future__ import annotations

import os
import signal

_KILL_AT = int(os.environ.get("CAREPRESS_FAULT_KILL_AT", "0") or 0)
_passed = 0


def point(name: str) -> None:
    """One step of publishing is about to happen (`name` is for whoever debugs a crash test)."""
    global _passed
    if not _KILL_AT:
        return
    _passed += 1
    if _passed >= _KILL_AT:
        os.write(2, f"carepress: fault: killed at point {_passed} ({name})\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)

