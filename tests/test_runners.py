"""The one place that builds the job list and the one that picks who renders it."""

from __future__ import annotations

from pathlib import Path

from generator.plan.project import Project
from generator.publish.jobs import Job, JobResult, pending_jobs
from generator.publish.runners import Runner, choose_runner
from generator.publish.storage import OutputStore


def _queue(project: Project) -> Runner:
    def run(jobs: list[Job]) -> list[JobResult]:
        return [JobResult(j.document, error="queued") for j in jobs]

    return run


def test_the_queue_when_a_front_end_passes_one_else_a_pool_else_this_process(project):
    assert choose_runner(project, 4, _queue).__qualname__.startswith("_queue.")
    assert choose_runner(project, 2).__qualname__.startswith("pool_runner.")
    assert choose_runner(project).__qualname__.startswith("in_process_runner.")


def test_an_empty_output_folder_needs_every_document_in_plan_order(project, tmp_path: Path):
    jobs = pending_jobs(project, OutputStore(tmp_path / "out"))
    assert [j.document for j in jobs] == [s.key.id for s in project.specs]
    assert {j.out for j in jobs} == {str(project.settings.out_dir.resolve())}
    assert all(j.inputs == project.hashes[j.document] for j in jobs)
