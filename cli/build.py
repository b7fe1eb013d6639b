"""`carepress build`: render what changed, here, in local processes or on the queue's workers,
then publish it with its manifest."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from cli.options import command_settings, content_option, out_option
from cli.queue import celery_app
from cli.reporting import reported_errors
from generator.errors import CarepressError, PublishError
from generator.plan.project import Project
from generator.publish import gate
from generator.publish.build import BuildReport, Progress, build
from generator.publish.jobs import pending_jobs
from generator.publish.runners import Runner, choose_runner
from generator.publish.storage import OutputStore


@click.command("build")
@content_option
@out_option
@click.option("--jobs", "-j", type=click.IntRange(1, 64),
              help="Render processes [default: $CAREPRESS_JOBS, or the CPUs this process may use; "
                   "--jobs 1 renders in this process alone].")
@click.option("--force", is_flag=True, help="Render every document, even unchanged ones.")
@click.option("--queue", "use_queue", is_flag=True,
              help="Render on the Celery workers ($CAREPRESS_BROKER_URL) instead of here.")
@click.option("--no-wait", is_flag=True,
              help="With --queue: print the batch id and return; `carepress status` follows it.")
@click.option("--strict", is_flag=True,
              help="Refuse to publish on reading grades over limits, overdue reviews or "
                   "doorway pages (see `validate`).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, only the summary.")
@click.pass_context
def build_command(ctx: click.Context, content_dir: Path | None, out_dir: Path | None,
                  jobs: int | None, force: bool, use_queue: bool, no_wait: bool,
                  strict: bool, quiet: bool) -> None:
    """Regenerate every document whose inputs changed (all of them with --force).

    With --queue the workers render and this command publishes the results and the manifest
    when the batch completes. After --no-wait, run `build --queue` again to publish: documents
    the workers finished are not rendered again.
    """
    settings = command_settings(ctx, content_dir=content_dir, out_dir=out_dir, jobs=jobs)
    with reported_errors(ctx.obj["debug"]):
        if no_wait and not use_queue:
            raise click.UsageError("--no-wait needs --queue")
        project = gate.admit(settings)
        if strict:
            _refuse_on_quality(project)
        _print_notes(project)
        if use_queue and no_wait:
            _enqueue_only(project, force)
            return
        runner = choose_runner(project, settings.jobs, _queue_runner if use_queue else None)
        try:
            with _progress_bar(quiet) as progress:
                report = build(project, settings.out_dir, runner, force=force,
                               progress=progress)
        except PublishError as exc:
            _summarise(exc.report, settings.out_dir, published=False)  # type: ignore[arg-type]
            raise
    _summarise(report, settings.out_dir)
    if report.failed:
        sys.exit(1)


def _refuse_on_quality(project: Project) -> None:
    """--strict: what `validate --strict` fails on, and a missing clinical reviewer."""
    from generator.quality.checks import quality_report  # textstat is slow to import

    quality = quality_report(project, project.settings.out_dir, dt.date.today())
    failures = quality.failures(strict=True, publishing=True)
    if failures:
        raise CarepressError("; ".join(failures) + " (--strict: nothing published)")


def _print_notes(project: Project) -> None:
    """What the build publishes but an editor should know: fallbacks, stale translations."""
    for fallback in project.tree.fallbacks:
        kind, entry_id, lang = fallback
        click.echo(f"carepress: note: {kind} {entry_id} [{lang}] shows English for "
                   f"{', '.join(project.tree.fallbacks[fallback])}", err=True)
    for problem in (p for found in project.tree.stale.values() for p in found):
        click.echo(f"carepress: note: {problem}", err=True)


def _queue_runner(project: Project) -> Runner:
    from worker import batches  # Celery is imported only with --queue

    settings = project.settings
    batches.check_broker(settings)
    return batches.queue_runner(celery_app(settings), settings, notice=_notice)


def _notice(line: str) -> None:
    """What a queued build waits for (Redis, a lost worker's tasks), even with --quiet."""
    click.echo(f"carepress: {line}", err=True)


def _enqueue_only(project: Project, force: bool) -> None:
    from worker import batches

    settings = project.settings
    batches.check_broker(settings)
    jobs = pending_jobs(project, OutputStore(settings.out_dir), force)
    batch = batches.enqueue(celery_app(settings), settings, jobs)
    click.echo(f"queued {len(jobs)} documents")
    click.echo(batch)


@contextmanager
def _progress_bar(quiet: bool) -> Iterator[Progress]:
    if quiet:
        yield lambda done, total, document: None
        return
    state: dict[str, Any] = {}

    def progress(done: int, total: int, document: str) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label="rendering", file=sys.stderr,
                                             show_pos=True, item_show_func=lambda x: x)
            state["bar"].__enter__()
        state["bar"].update(1, document)

    try:
        yield progress
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def _summarise(report: BuildReport, out_dir: Path, published: bool = True) -> None:
    if not published:  # the error line that follows says why, once for every document
        click.echo(f"built 0, unchanged {len(report.unchanged)}, failed {len(report.failed)}, "
                   f"removed 0 → {out_dir} (nothing published)")
        return
    click.echo(f"built {len(report.built)}, unchanged {len(report.unchanged)}, "
               f"failed {len(report.failed)}, removed {len(report.removed)}"
               + (f", held back {len(report.held_back)}" if report.held_back else "")
               + f" → {out_dir}")
    for document, error in sorted(report.failed.items()):
        click.echo(f"carepress: failed: {document}: {error}", err=True)
    for document, why in sorted(report.held_back.items()):
        click.echo(f"carepress: not published: {document}: {why}", err=True)


def register(group: click.Group) -> None:
    group.add_command(build_command)
