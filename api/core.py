"""The process the API's slow work runs in (see api.pipeline): validating and writing content
changes (api.content_writes) and running builds (api.builds). The functions it is given take
and return plain picklable values.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any


class CoreDied(Exception):
    """The core process exited in the middle of a call (killed, or a native crash)."""


class CoreProcess:
    """One long-lived child process that runs this module's functions, one call at a time.

    Spawned, not forked: the API process has threads, and WeasyPrint must be imported after
    a fork anyway. The child exits when the API process goes away (its pipe closes)."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._process is None or not self._process.is_alive() or self._conn is None:
            self._start()
        assert self._conn is not None
        try:
            self._conn.send((function, args))
            ok, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            raise CoreDied(f"core process died: {exc!r}") from exc
        if not ok:
            raise CoreDied(value)
        return value

    def _start(self) -> None:
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(theirs,),
                                              name="carepress-core", daemon=True)
        self._process.start()
        theirs.close()
        self._conn = ours

    def stop(self) -> None:
        """Close the pipe (an idle child exits at once), then kill what is still running."""
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(1)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
        self._process = self._conn = None


def _serve(conn: Connection) -> None:
    # Validation, planning and (embedded) rendering are background work: answering requests
    # in the API process comes first when they compete for a CPU.
    os.nice(CORE_NICENESS)
    # A stop signal sent to the whole process group (Ctrl-C, systemd) is the server's to
    # handle: it lets the call in progress finish, then closes the pipe or kills this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        try:
            function, args = conn.recv()
        except EOFError:
            return
        try:
            conn.send((True, function(*args)))
        except Exception as exc:  # reported to the caller, the process stays up
            conn.send((False, f"{type(exc).__name__}: {exc}"))


CORE_NICENESS = 5
"""Background work yields the CPU to the process answering requests."""
