"""A build: plan every document, render the stale ones, publish them, write the manifest last."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import BuildBusyError, PublishError, StorageError, TemplateError
from generator.plan.project import Project
from generator.publish import governance, releases
from generator.publish.holdback import held_back
from generator.publish.jobs import Job, JobResult, pending_jobs
from generator.publish.releases import Release
from generator.publish.runners import Runner
from generator.publish.storage import (
    MANIFEST,
    ManifestEntry,
    OutputStore,
    io_message,
    manifest_bytes,
)

Progress = Callable[[int, int, str], None]
"""progress(done, total, document_id): called after each document finishes."""


def no_progress(done: int, total: int, document_id: str) -> None:
    """The default when the caller shows no progress."""


@dataclass
class BuildReport:
    """What a build did, by document id (removed: published paths)."""

    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    held_back: dict[str, str] = field(default_factory=dict)
    """Documents not published, with why (a stale translation); their last version stays."""


@contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Two builds into one folder would publish over each other; the second one waits its turn."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = (out_dir / ".carepress.lock").open("a")
    except OSError as exc:
        raise StorageError(io_message(exc)) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildBusyError(f"{out_dir}: another build is running") from exc
        yield


def build(project: Project, out_dir: Path, runner: Runner, force: bool = False,
          progress: Progress = no_progress) -> BuildReport:
    """Render what is stale, then publish a new release with its manifest in one switch.
    Raises TemplateError, or PublishError (with the report), before anything is published."""
    store = OutputStore(out_dir)
    with build_lock(out_dir):
        governance.check(project.tree, out_dir)
        recover(store)
        old = store.read_manifest()
        held = held_back(project.tree, project.specs)
        jobs = pending_jobs(project, store, force)
        try:
            results = _collect(runner(jobs), len(jobs), progress)
        except StorageError as exc:
            store.prune_staged(keep=set())
            raise PublishError(f"{exc}; nothing was published, the previous documents stay",
                               _unpublished(project, jobs, str(exc))) from exc
        fatal = [r for r in results if r.fatal]
        if fatal:
            store.prune_staged(keep=set())
            raise TemplateError(fatal[0].error or "template error")
        try:
            report = _publish(project, store, old, results, held)
        finally:
            store.prune_staged(keep=set())
    return report


def _unpublished(project: Project, jobs: list[Job], error: str) -> BuildReport:
    stale = {j.document for j in jobs}
    return BuildReport(unchanged=[s.key.id for s in project.specs if s.key.id not in stale],
                       failed=dict.fromkeys(sorted(stale), error))


def recover(store: OutputStore) -> None:
    """Whatever an earlier, killed build left: partial renders and releases, missing links."""
    try:
        store.clean_leftovers()
        releases.ensure_links(store.root)
        releases.collect(store.root)
    except OSError as exc:
        raise StorageError(io_message(exc)) from exc


def _collect(results: Iterable[JobResult], total: int, progress: Progress) -> list[JobResult]:
    collected = []
    for done, result in enumerate(results, start=1):
        collected.append(result)
        progress(done, total, result.document)
    return collected


@dataclass
class _Outcome:
    report: BuildReport = field(default_factory=BuildReport)
    entries: list[ManifestEntry] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    """(staged file, published path) of every rendered file."""


def _outcome(project: Project, old: dict[str, ManifestEntry], results: list[JobResult],
             held: dict[str, str]) -> _Outcome:
    outcome = _Outcome(BuildReport(held_back=held))
    report = outcome.report
    rendered = {r.document: r for r in results}
    for spec in project.specs:
        result = rendered.get(spec.key.id)
        if spec.key.id in held:  # the last good version stays published
            outcome.entries.extend(old[o.path] for o in spec.outputs if o.path in old)
        elif result is None:
            report.unchanged.append(spec.key.id)
            outcome.entries.extend(old[o.path] for o in spec.outputs)
        elif result.error is not None:
            report.failed[spec.key.id] = result.error
            outcome.entries.extend(old[o.path] for o in spec.outputs if o.path in old)
        else:
            outcome.files.extend((s, e.path) for e, s in zip(result.entries, result.staged,
                                                              strict=True))
            outcome.entries.extend(result.entries)
            report.built.append(spec.key.id)
    report.removed = sorted(set(old) - {e.path for e in outcome.entries})
    return outcome


def _publish(project: Project, store: OutputStore, old: dict[str, ManifestEntry],
             results: list[JobResult], held: dict[str, str]) -> BuildReport:
    outcome = _outcome(project, old, results, held)
    report = outcome.report
    record = governance.record_files(project.tree, store.root)
    manifest = manifest_bytes(outcome.entries)
    if not (outcome.files or report.removed or record) and store.published_bytes(
            MANIFEST) == manifest:
        return report  # a no-op build touches nothing
    release = Release(store.root)
    try:
        release.start()
        for staged, path in outcome.files:
            release.put(store.root / staged, path)
        for path in report.removed:
            release.remove(path)
        for path, data in record.items():
            release.write(path, data)
        release.write(MANIFEST, manifest)
        release.commit()
    except OSError as exc:
        release.abort()
        report.failed.update(dict.fromkeys(report.built, io_message(exc)))
        report.built, report.removed = [], []
        raise PublishError(f"{io_message(exc)}; nothing was published, the previous "
                           "documents stay", report) from exc
    return report
