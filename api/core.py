"""The API's slow work, run in its own process (see api.pipeline): validating the whole content
tree after a change and writing it, and running a build. Functions here take and return
plain picklable values.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import yaml

from api.cms import Change
from generator.build import build, in_process_runner
from generator.content import FOLDERS, load_content
from generator.errors import BuildBusyError, CarepressError, ContentError, Problem
from generator.project import load_project
from generator.settings import Settings
from generator.storage import atomic_write


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
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None


def _serve(conn: Connection) -> None:
    # Validation, planning and (embedded) rendering are background work: answering requests
    # in the API process comes first when they compete for a CPU.
    os.nice(CORE_NICENESS)
    while True:
        try:
            function, args = conn.recv()
        except EOFError:
            return
        try:
            conn.send((True, function(*args)))
        except Exception as exc:  # reported to the caller, the process stays up
            conn.send((False, f"{type(exc).__name__}: {exc}"))


HEADER = "# Written by carepress from a CMS webhook: edit this entry in the CMS.\n"

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
    """Write the changes if the whole tree is valid with them. If not, find the ones at fault
    by trying them one at a time in order; the others are still written."""
    if not tree_problems(settings, changes):
        write_changes(settings.content_dir, changes)
        return PublishResult(tuple(range(len(changes))))
    accepted: list[int] = []
    rejected: dict[int, list[Problem]] = {}
    for index, change in enumerate(changes):
        problems = tree_problems(settings, [changes[i] for i in accepted] + [change])
        if problems:
            rejected[index] = problems
        else:
            accepted.append(index)
    write_changes(settings.content_dir, [changes[i] for i in accepted])
    return PublishResult(tuple(accepted), rejected)


def tree_problems(settings: Settings, changes: list[Change]) -> list[Problem]:
    """Load a copy of the tree with the changes applied, exactly as a build would."""
    root = settings.content_dir
    with tempfile.TemporaryDirectory(prefix="carepress-candidate-") as scratch:
        # Same folder name, so problems name files as `validate` does (content/clinics/x.yaml).
        candidate = Path(scratch) / root.resolve().name
        shutil.copytree(root, candidate)
        write_changes(candidate, changes, durable=False)
        try:
            load_content(candidate, settings.language_codes)
        except ContentError as exc:
            return exc.problems
    return []


def write_changes(root: Path, changes: list[Change], durable: bool = True) -> None:
    # A change replaces or removes a whole entry: only the last one per entry is written.
    for change in {(c.kind, c.id): c for c in changes}.values():
        path = root / FOLDERS[change.kind] / f"{change.id}.yaml"
        if change.data is None:
            path.unlink(missing_ok=True)
            # A deleted entry's translations would otherwise be orphans (an invalid tree).
            for overlay in path.parent.glob(f"{change.id}.*.yaml"):
                overlay.unlink(missing_ok=True)
            continue
        text = HEADER + yaml.safe_dump(change.data, sort_keys=False, allow_unicode=True,
                                       width=100)
        if durable:
            atomic_write(path, text.encode())
        else:
            path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class BuildResult:
    built: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    error: str | None = None
    """The whole build failed (invalid content or templates, storage)."""
    busy: bool = False
    """Another build (e.g. the CLI's) holds the output folder; try again later."""


def run_build(settings: Settings, queued: bool) -> BuildResult:
    """One build, published and with its manifest written, exactly as `carepress build`
    (`--queue` when a broker is configured) does it."""
    try:
        project = load_project(settings)
        runner = _queue_runner(settings) if queued else in_process_runner(project)
        report = build(project, settings.out_dir, runner)
    except BuildBusyError:
        return BuildResult(busy=True)
    except CarepressError as exc:
        return BuildResult(error=str(exc))
    return BuildResult(tuple(report.built), dict(report.failed), tuple(report.removed))


def _queue_runner(settings: Settings) -> Any:
    from worker import batches
    from worker.app import make_app

    if settings.broker_url not in _apps:
        _apps[settings.broker_url] = make_app(settings)
    batches.check_broker(settings)
    return batches.queue_runner(_apps[settings.broker_url], settings)
