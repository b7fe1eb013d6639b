"""Render jobs: which documents the next build renders, and rendering one of them.

A job carries ids and paths only, so the same job runs in this process, in a local pool or on a
queue worker, and its result comes back the same way from each.
"""

from __future__ import annotations

import errno
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from generator.errors import CarepressError, StorageError, TemplateError
from generator.plan.documents import DocumentSpec
from generator.plan.fingerprints import sha256_bytes
from generator.plan.kinds import kind_of
from generator.plan.project import Project
from generator.publish.holdback import held_back
from generator.publish.storage import ManifestEntry, OutputStore, io_message
from generator.render.documents import DocumentRenderer


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


def pending_jobs(project: Project, store: OutputStore, force: bool = False) -> list[Job]:
    """The jobs a build hands its runner, or `build --queue --no-wait` sends: every stale
    document (all with `force`) except those held back, whose last version stays published."""
    held = held_back(project.tree, project.specs)
    content = str(project.settings.content_dir.resolve())
    out = str(project.settings.out_dir.resolve())
    return [Job(s.key.id, project.hashes[s.key.id], content, out)
            for s in stale_documents(project, store, force) if s.key.id not in held]


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


# A full, read-only or forbidden output folder fails every document the same way: stop there.
_WHOLE_BUILD_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def io_failure(job: Job, exc: OSError) -> JobResult:
    """A document that could not be staged; raises StorageError when no document could be."""
    if exc.errno in _WHOLE_BUILD_ERRNOS:
        raise StorageError(io_message(exc)) from exc
    return JobResult(job.document, error=io_message(exc))
