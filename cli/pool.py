"""Render jobs in N local processes, each with its own warm renderer."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from generator.build import Job, JobResult, Runner, render_job
from generator.project import load_project
from generator.render import DocumentRenderer
from generator.settings import Settings

# One per worker process, set by the pool initializer: a front-end's per-process cache.
_renderer: DocumentRenderer | None = None

# PDFs take far longer than HTML; starting them first keeps both cores busy until the end.
_COST = {"consent": 0, "handout": 1, "page": 2}


def _init(settings: Settings) -> None:
    global _renderer
    _renderer = DocumentRenderer(load_project(settings))


def _run(job: Job) -> JobResult:
    assert _renderer is not None, "pool initializer did not run"
    return render_job(_renderer, job)


def pool_runner(settings: Settings) -> Runner:
    def run(batch: list[Job]) -> Iterator[JobResult]:
        if not batch:
            return
        ordered = sorted(batch, key=lambda j: _COST.get(j.document.split("/")[0], 3))
        # fork is safe: the parent never imports WeasyPrint, each child does after the fork.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(settings.jobs, mp_context=context, initializer=_init,
                                 initargs=(settings,)) as pool:
            futures = {pool.submit(_run, job): job for job in ordered}
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:  # a crashed worker fails its document, not the build
                    yield JobResult(futures[future].document, error=f"worker failed: {exc!r}")

    return run
