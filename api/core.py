"""The API's slow work, run in its own process (see api.pipeline): validating the whole content
tree after a change and writing it, and running a build. Functions here take and return
plain picklable values.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from generator.content.changes import Change, write_changes
from generator.errors import BuildBusyError, CarepressError, Problem
from generator.publish import gate
from generator.publish.build import build, in_process_runner
from generator.settings import Settings


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

# Per core process: one Celery app per broker (a front-end's per-process cache).
_apps: dict[str, Any] = {}


@dataclass(frozen=True)
class PublishResult:
    written: tuple[int, ...] = ()
    """Indexes of the changes now in the content tree."""
    rejected: dict[int, list[Problem]] = field(default_factory=dict)
    """Indexes of the changes refused, with what would have been wrong with the tree."""


def publish_changes(settings: Settings, changes: list[Change]) -> PublishResult:
    """Write the changes if the gate admits the tree with them. If not, find the ones at fault
    by trying them one at a time in order; the others are still written."""
    if not gate.problems(settings, changes):
        write_changes(settings.content_dir, changes)
        return PublishResult(tuple(range(len(changes))))
    accepted: list[int] = []
    rejected: dict[int, list[Problem]] = {}
    for index, change in enumerate(changes):
        problems = gate.problems(settings, [changes[i] for i in accepted] + [change])
        if problems:
            rejected[index] = problems
        else:
            accepted.append(index)
    write_changes(settings.content_dir, [changes[i] for i in accepted])
    return PublishResult(tuple(accepted), rejected)


@dataclass(frozen=True)
class BuildResult:
    built: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    held_back: dict[str, str] = field(default_factory=dict)
    """Documents kept at their last published version, with the reason."""
    error: str | None = None
    """The whole build failed (invalid content or templates, storage)."""
    busy: bool = False
    """Another build (e.g. the CLI's) holds the output folder; try again later."""


def run_build(settings: Settings, queued: bool) -> BuildResult:
    """One build, published and with its manifest written, exactly as `carepress build`
    (`--queue` when a broker is configured) does it."""
    try:
        project = gate.admit(settings)
        runner = _queue_runner(settings) if queued else in_process_runner(project)
        report = build(project, settings.out_dir, runner)
    except BuildBusyError:
        return BuildResult(busy=True)
    except CarepressError as exc:
        return BuildResult(error=str(exc))
    return BuildResult(tuple(report.built), dict(report.failed), tuple(report.removed),
                       dict(report.held_back))


def _queue_runner(settings: Settings) -> Any:
    from worker import batches
    from worker.app import make_app

    if settings.broker_url not in _apps:
        _apps[settings.broker_url] = make_app(settings)
    batches.check_broker(settings)
    return batches.queue_runner(_apps[settings.broker_url], settings)
