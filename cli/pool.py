"""Render jobs in N local processes, each with its own warm renderer."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from generator.plan.project import Project
from generator.publish.build import Job, JobResult, Runner, costliest_first, io_failure, render_job
from generator.render.documents import DocumentRenderer
from generator.render.gctuning import tune_gc_after_warm_up

# One per worker process, set by the pool initializer: a front-end's per-process cache.
_renderer: DocumentRenderer | None = None
# The parent's loaded project, inherited by the forked children (never pickled): loading it
# again in each child cost ~1 s of CPU before the first render.
_project: Project | None = None


def _init() -> None:
    global _renderer
    assert _project is not None, "pool started without a project"
    _renderer = DocumentRenderer(_project)
    tune_gc_after_warm_up()  # the inherited project is what this child holds for good


def _run(job: Job) -> JobResult:
    assert _renderer is not None, "pool initializer did not run"
    return render_job(_renderer, job)


def pool_runner(project: Project, jobs: int) -> Runner:
    """Up to `jobs` processes; a batch of one document stays in this process."""

    def run(batch: list[Job]) -> Iterator[JobResult]:
        global _project
        if len(batch) <= 1:
            renderer = DocumentRenderer(project)
            yield from (render_job(renderer, job) for job in batch)
            return
        ordered = costliest_first(batch)
        _project = project
        # fork is safe: the parent never imports WeasyPrint, each child does after the fork.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(jobs, len(batch)), mp_context=context,
                                 initializer=_init) as pool:
            futures = {pool.submit(_run, job): job for job in ordered}
            for future in as_completed(futures):
                try:
                    yield future.result()
                except OSError as exc:
                    yield io_failure(futures[future], exc)
                except Exception as exc:  # a crashed worker fails its document, not the build
                    yield JobResult(futures[future].document, error=f"worker failed: {exc!r}")

    return run
