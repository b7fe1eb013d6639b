"""A build: plan every document, render the stale ones, publish them, write the manifest last."""

from __future__ import annotations

import errno
import fcntl
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import (
    BuildBusyError,
    CarepressError,
    PublishError,
    StorageError,
    TemplateError,
)
from generator.plan.documents import DocumentSpec
from generator.plan.fingerprints import sha256_bytes
from generator.plan.kinds import kind_of
from generator.plan.project import Project
from generator.publish import governance, releases
from generator.publish.holdback import held_back
from generator.publish.releases import Release
from generator.publish.storage import MANIFEST, ManifestEntry, OutputStore, manifest_bytes
from generator.render.documents import DocumentRenderer

Progress = Callable[[int, int, str], None]
"""progress(done, total, document_id): called after each document finishes."""


def no_progress(done: int, total: int, document_id: str) -> None:
    """The default when the caller shows no progress."""


@dataclass(frozen=True)
class Job:
    """One document to render: ids and paths only, so it can cross a process or a queue."""

    document: str
    inputs: str
    content: str
    """The content tree the document was planned from (absolute path)."""
    out: str
    """The output folder it is published into (absolute path; shared by every worker)."""


@dataclass(frozen=True)
class JobResult:
    document: str
    entries: tuple[ManifestEntry, ...] = ()
    staged: tuple[str, ...] = ()
    """Where each entry's file waits to be published, relative to the output folder."""
    error: str | None = None
    fatal: bool = False
    """A template error: the same for every document, so the whole build stops."""
    rendered: bool = False
    """False when an earlier run of the same job had already finished it."""

    def to_dict(self) -> dict[str, object]:
        return {"document": self.document, "entries": [asdict(e) for e in self.entries],
                "staged": list(self.staged), "error": self.error, "fatal": self.fatal,
                "rendered": self.rendered}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobResult:
        return cls(data["document"], tuple(ManifestEntry(**e) for e in data["entries"]),
                   tuple(data["staged"]), data["error"], data["fatal"], data["rendered"])


Runner = Callable[[list[Job]], Iterable[JobResult]]


@dataclass
class BuildReport:
    """What a build did, by document id (removed: published paths)."""

    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    held_back: dict[str, str] = field(default_factory=dict)
    """Documents not published, with why (a stale translation); their last version stays."""


def is_current(spec: DocumentSpec, inputs: str, manifest: dict[str, ManifestEntry],
               store: OutputStore) -> bool:
    for output in spec.outputs:
        entry = manifest.get(output.path)
        if entry is None or entry.inputs != inputs or not store.file_matches(
                output.path, entry.sha256):
            return False
    return True


def stale_documents(project: Project, store: OutputStore, force: bool = False) -> list[
        DocumentSpec]:
    manifest = store.read_manifest()
    return [s for s in project.specs
            if force or not is_current(s, project.hashes[s.key.id], manifest, store)]


def render_job(renderer: DocumentRenderer, job: Job) -> JobResult:
    """Render one document into the store's staging area; in-process, in a pool or a worker.

    Idempotent: a job whose inputs were already rendered (by an earlier, interrupted run or a
    duplicate message) returns the finished files without rendering them again.
    """
    store = OutputStore(Path(job.out))
    finished = store.finished(job.inputs)
    if finished is not None:
        return JobResult(job.document, tuple(finished), _staged(store, job.inputs, finished))
    project = renderer.project
    if project.hashes.get(job.document) != job.inputs:
        return JobResult(job.document, error="the content changed after this job was planned; "
                                             "build again")
    spec = project.spec(job.document)
    try:
        artifacts = renderer.render(spec)
    except TemplateError as exc:
        return JobResult(job.document, error=str(exc), fatal=True)
    except CarepressError as exc:
        return JobResult(job.document, error=str(exc))
    entries = [_entry(project, spec, a.path, a.format, sha256_bytes(a.data), job.inputs)
               for a in artifacts]
    store.stage(job.inputs, [(a.path, a.data) for a in artifacts], entries)
    return JobResult(job.document, tuple(entries), _staged(store, job.inputs, entries),
                     rendered=True)


def _staged(store: OutputStore, inputs: str, entries: list[ManifestEntry]) -> tuple[str, ...]:
    return tuple(store.staged_path(inputs, e.path) for e in entries)


def _entry(project: Project, spec: DocumentSpec, path: str, fmt: str, digest: str,
           inputs: str) -> ManifestEntry:
    key = spec.key
    therapy = project.tree.therapies.get(key.therapy)
    version = None if therapy is None else key.document_kind.version_of(therapy)
    return ManifestEntry(
        path=path, kind=key.kind, format=fmt, clinic=key.clinic or None,
        therapy=key.therapy or None, location=key.location or None, lang=key.lang or None,
        sha256=digest, inputs=inputs, version=version, document=key.id,
    )


def costliest_first(jobs: list[Job]) -> list[Job]:
    """The order to hand jobs to parallel renderers (local processes or queue workers)."""
    return sorted(jobs, key=lambda j: kind_of(j.document).priority)


def in_process_runner(project: Project) -> Runner:
    """Render in this process: the embedded default when there is one job and no queue."""
    renderer = DocumentRenderer(project)

    def run(jobs: list[Job]) -> Iterator[JobResult]:
        for job in jobs:
            try:
                yield render_job(renderer, job)
            except OSError as exc:
                yield io_failure(job, exc)

    return run


# A full, read-only or forbidden output folder fails every document the same way: stop there.
_WHOLE_BUILD_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def io_failure(job: Job, exc: OSError) -> JobResult:
    """A document that could not be staged; raises StorageError when no document could be."""
    if exc.errno in _WHOLE_BUILD_ERRNOS:
        raise StorageError(io_message(exc)) from exc
    return JobResult(job.document, error=io_message(exc))


def io_message(exc: OSError) -> str:
    """One line naming the path, e.g. `out/.carepress-staging/…: No space left on device`."""
    where = exc.filename if exc.filename is not None else "output folder"
    return f"{where}: {exc.strerror or exc}"


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
        stale = [s for s in stale_documents(project, store, force) if s.key.id not in held]
        jobs = make_jobs(project, stale)
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


def make_jobs(project: Project, specs: list[DocumentSpec]) -> list[Job]:
    content = str(project.settings.content_dir.resolve())
    out = str(project.settings.out_dir.resolve())
    return [Job(s.key.id, project.hashes[s.key.id], content, out) for s in specs]


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
