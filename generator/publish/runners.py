"""Who renders a build's jobs: this process, a pool of local processes, or the queue's workers.

`choose_runner` is the one place that picks. The queue runner lives in `worker/` (the core does
not import Celery), so a front-end that offers the queue passes in how to reach it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol

from generator.plan.project import Project
from generator.publish.jobs import Job, JobResult, costliest_first, io_failure, render_job
from generator.render.documents import DocumentRenderer
from generator.render.gctuning import tune_gc_after_warm_up


class Runner(Protocol):
    """Renders the jobs and yields each result as it comes back, in any order."""

    def __call__(self, jobs: list[Job], /) -> Iterable[JobResult]: ...


QueueRunner = Callable[[Project], Runner]
"""Connects to the queue for this project's settings (worker.batches.queue_runner behind it)."""


def choose_runner(project: Project, processes: int = 1,
                  queue: QueueRunner | None = None) -> Runner:
    """The queue's workers when a front-end passes `queue`, else `processes` local processes
    (`carepress build --jobs`), else this process (the embedded default)."""
    if queue is not None:
        return queue(project)
    if processes > 1:
        return pool_runner(project, processes)
    return in_process_runner(project)


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


# One per pool process, set by the pool initializer: a per-process cache of a warm renderer.
_renderer: DocumentRenderer | None = None
# The parent's loaded project, inherited by the forked children (never pickled): loading it
# again in each child cost ~1 s of CPU before the first render.
_project: Project | None = None


def _init(parent: int) -> None:
    global _renderer
    _die_with(parent)
    assert _project is not None, "pool started without a project"
    _renderer = DocumentRenderer(_project)
    tune_gc_after_warm_up()  # the inherited project is what this child holds for good


def _die_with(parent: int) -> None:
    """A killed build must not leave its render processes behind: they hold its lock (the
    open file is inherited with the fork) and would keep every later build out."""
    if sys.platform != "linux":
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the build died before the request took effect
        os._exit(1)


def _run(job: Job) -> JobResult:
    assert _renderer is not None, "pool initializer did not run"
    return render_job(_renderer, job)


def pool_runner(project: Project, jobs: int) -> Runner:
    """Up to `jobs` processes, each with its own warm renderer; a batch of one document stays
    in this process."""

    def run(batch: list[Job]) -> Iterator[JobResult]:
        global _project
        if len(batch) <= 1:
            yield from in_process_runner(project)(batch)
            return
        ordered = costliest_first(batch)
        _project = project
        # fork is safe: the parent never imports WeasyPrint, each child does after the fork.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(jobs, len(batch)), mp_context=context,
                                 initializer=_init, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(_run, job): job for job in ordered}
            for future in as_completed(futures):
                try:
                    yield future.result()
                except OSError as exc:
                    yield io_failure(futures[future], exc)
                except Exception as exc:  # a crashed worker fails its document, not the build
                    yield JobResult(futures[future].document, error=f"worker failed: {exc!r}")

    return run
