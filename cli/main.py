"""`carepress`: build, render, list and validate documents from the content tree."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.reporting import reported_errors
from generator.content.loading import load_content
from generator.errors import CarepressError, PublishError
from generator.plan.documents import DocumentKey
from generator.plan.kinds import CONSENT, HANDOUT, PAGE, SITEMAP
from generator.plan.project import Project, load_project
from generator.publish import gate, governance
from generator.publish.build import (
    BuildReport,
    Progress,
    Runner,
    build,
    in_process_runner,
    make_jobs,
    stale_documents,
)
from generator.publish.storage import OutputStore, atomic_write
from generator.quality.redline import compare, snapshot_of
from generator.render.documents import DocumentRenderer, render_redline
from generator.settings import Settings

if TYPE_CHECKING:
    from generator.quality.checks import QualityReport

KINDS = (HANDOUT.id, CONSENT.id, PAGE.id, SITEMAP.id)


def content_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--content", "content_dir", type=click.Path(path_type=Path),
                        help="Content tree [default: $CAREPRESS_CONTENT_DIR or ./content].")(f)


def out_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
                        help="Output folder [default: $CAREPRESS_OUT_DIR or ./out].")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="carepress")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """carepress: patient handouts, consent forms and location pages from one content source."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="carepress: %(levelname)s: %(message)s")
    # WeasyPrint's warnings fail the document and are reported with it; do not print them twice.
    logging.getLogger("weasyprint").propagate = debug
    ctx.obj = {"debug": debug, "settings": Settings()}


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    base: Settings = ctx.obj["settings"]
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})


@main.command("build")
@content_option
@out_option
@click.option("--jobs", "-j", type=click.IntRange(1, 64),
              help="Render processes [default: $CAREPRESS_JOBS or 1].")
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
    settings = _settings(ctx, content_dir=content_dir, out_dir=out_dir, jobs=jobs)
    with reported_errors(ctx.obj["debug"]):
        if no_wait and not use_queue:
            raise click.UsageError("--no-wait needs --queue")
        project = gate.admit(settings)
        if strict:
            from generator.quality.checks import quality_report  # textstat is slow to import

            quality = quality_report(project, settings.out_dir, dt.date.today())
            failures = quality.failures(strict=True, publishing=True)
            if failures:
                raise CarepressError("; ".join(failures) + " (--strict: nothing published)")
        _print_notes(project)
        if use_queue and no_wait:
            _enqueue_only(project, force)
            return
        runner = _runner(project, use_queue)
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


def _print_notes(project: Project) -> None:
    """What the build publishes but an editor should know: fallbacks, stale translations."""
    for fallback in project.tree.fallbacks:
        kind, entry_id, lang = fallback
        click.echo(f"carepress: note: {kind} {entry_id} [{lang}] shows English for "
                   f"{', '.join(project.tree.fallbacks[fallback])}", err=True)
    for problem in (p for found in project.tree.stale.values() for p in found):
        click.echo(f"carepress: note: {problem}", err=True)


def _runner(project: Project, use_queue: bool) -> Runner:
    settings = project.settings
    if use_queue:
        from worker import batches

        batches.check_broker(settings)
        return batches.queue_runner(_celery(settings), settings, notice=_notice)
    if settings.jobs > 1:
        from cli.pool import pool_runner

        return pool_runner(project, settings.jobs)
    return in_process_runner(project)


def _notice(line: str) -> None:
    """What a queued build waits for (Redis, a lost worker's tasks), even with --quiet."""
    click.echo(f"carepress: {line}", err=True)


def _celery(settings: Settings) -> Any:
    from worker.app import make_app

    return make_app(settings)


def _enqueue_only(project: Project, force: bool) -> None:
    from worker import batches

    settings = project.settings
    batches.check_broker(settings)
    jobs = make_jobs(project, stale_documents(project, OutputStore(settings.out_dir), force))
    batch = batches.enqueue(_celery(settings), settings, jobs)
    click.echo(f"queued {len(jobs)} documents")
    click.echo(batch)


@main.command("status")
@click.argument("batch")
@click.pass_context
def status_command(ctx: click.Context, batch: str) -> None:
    """Show the progress of a queued batch (from `build --queue --no-wait`)."""
    settings = _settings(ctx)
    with reported_errors(ctx.obj["debug"]):
        from worker import batches

        batches.check_broker(settings)
        status = batches.batch_status(_celery(settings), settings, batch)
    click.echo(f"batch {batch}: {status['done']} done, {status['running']} running, "
               f"{status['queued']} queued, {status['failed']} failed of {status['total']}")
    for document, error in sorted(status["failures"].items()):
        click.echo(f"carepress: failed: {document}: {error}", err=True)
    if status["failed"]:
        sys.exit(1)


@main.command("worker")
@click.option("--concurrency", "-c", type=click.IntRange(1, 64),
              help="Worker processes [default: one per CPU].")
@click.option("--queues", "-Q", help="Comma-separated queues [default: $CAREPRESS_QUEUE].")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.pass_context
def worker_command(ctx: click.Context, concurrency: int | None, queues: str | None,
                   loglevel: str) -> None:
    """Start a Celery worker (the same as `celery -A worker.app worker`)."""
    settings = _settings(ctx)
    from worker.app import app

    # Without gossip: carepress does not use it, and after a Redis outage its restart logged a
    # traceback (worker/liveness.py watches for lost workers instead).
    argv = ["worker", f"--loglevel={loglevel}", f"--queues={queues or settings.queue}",
            "--without-gossip"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


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


@main.command("render")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--clinic", default="", help="Clinic id (handout, consent).")
@click.option("--therapy", default="", help="Therapy id (handout, consent, page).")
@click.option("--location", default="", help="Location id (page).")
@click.option("--lang", default="en", show_default=True, help="Language.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "xml"]),
              help="Which file of the document [default: pdf if it has one].")
@click.option("--output", "-o", default="-", show_default=True,
              help="File to write, or - for standard output.")
@content_option
@click.pass_context
def render_command(ctx: click.Context, kind: str, clinic: str, therapy: str, location: str,
                   lang: str, fmt: str | None, output: str, content_dir: Path | None) -> None:
    """Render one document, e.g. `carepress render consent --clinic X --therapy Y -o f.pdf`."""
    settings = _settings(ctx, content_dir=content_dir)
    with reported_errors(ctx.obj["debug"]):
        project = load_project(settings)
        key = DocumentKey.of(kind, clinic=clinic, therapy=therapy, location=location, lang=lang)
        artifacts = DocumentRenderer(project).render(project.spec(key.id))
        wanted = fmt or ("pdf" if any(a.format == "pdf" for a in artifacts) else
                         artifacts[0].format)
        chosen = next((a for a in artifacts if a.format == wanted), None)
        if chosen is None:
            raise CarepressError(f"{key.id} has no {wanted} file")
        _write_output(output, chosen.data)


def _write_output(output: str, data: bytes) -> None:
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from generator.publish.storage import atomic_write

    atomic_write(Path(output), data)
    click.echo(f"wrote {output} ({len(data)} bytes)", err=True)


@main.command("list")
@content_option
@out_option
@click.option("--stale", is_flag=True, help="Only documents that the next build would render.")
@click.pass_context
def list_command(ctx: click.Context, content_dir: Path | None, out_dir: Path | None,
                 stale: bool) -> None:
    """Show the plan: every document, its files, and whether it is stale."""
    settings = _settings(ctx, content_dir=content_dir, out_dir=out_dir)
    with reported_errors(ctx.obj["debug"]):
        project = load_project(settings)
        stale_ids = {s.key.id for s in stale_documents(project, OutputStore(settings.out_dir))}
    for spec in project.specs:
        is_stale = spec.key.id in stale_ids
        if stale and not is_stale:
            continue
        files = " ".join(o.path for o in spec.outputs)
        click.echo(f"{'stale ' if is_stale else 'current'} {spec.key.id}  {files}")
    click.echo(f"{len(project.specs)} documents, {len(stale_ids)} stale", err=True)


@main.command("validate")
@content_option
@out_option
@click.option("--strict", is_flag=True,
              help="Fail on reading grades over their limits, overdue reviews and doorway pages.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
              help="Check review dates as of this day [default: today].")
@click.pass_context
def validate_command(ctx: click.Context, content_dir: Path | None, out_dir: Path | None,
                     strict: bool, today: dt.datetime | None) -> None:
    """Check content, translations and templates; report reading grades (worst first), review
    dates, translation fallbacks, doorway pages and consent versions. Renders no PDF."""
    settings = _settings(ctx, content_dir=content_dir, out_dir=out_dir)
    with reported_errors(ctx.obj["debug"]):
        from generator.quality.checks import quality_report  # textstat is slow to import

        project = gate.admit(settings)
        report = quality_report(project, settings.out_dir, (today or dt.datetime.now()).date())
    tree = project.tree
    click.echo(f"ok: {len(tree.therapies)} therapies, {len(tree.locations)} locations, "
               f"{len(tree.clinics)} clinics, {len(tree.languages)} languages, "
               f"{len(project.specs)} documents planned")
    _print_report(report)
    failures = report.failures(strict)
    for failure in failures:
        click.echo(f"carepress: error: {failure}", err=True)
    if failures:
        sys.exit(1)


def _print_report(report: QualityReport) -> None:
    click.echo("reading grade (Flesch-Kincaid for English, Crawford for Spanish), worst first:")
    for grade in report.grades:
        click.echo(f"  {grade}")
    click.echo(f"overdue reviews: {len(report.overdue)}")
    for problem in report.overdue:
        click.echo(f"  {problem}")
    click.echo(f"translation fallbacks: {len(report.fallbacks)}")
    for fallback in report.fallbacks:
        click.echo(f"  {fallback}")
    click.echo(f"near-identical location pages: {len(report.doorways)}")
    for pair in report.doorways:
        click.echo(f"  {pair}")
    click.echo(f"stale translations: {len(report.stale)}")
    for problem in report.stale:
        click.echo(f"  {problem}")
    click.echo(f"awaiting a named clinical reviewer (build --strict will not publish): "
               f"{len(report.unreviewed)}")
    for problem in report.unreviewed:
        click.echo(f"  {problem}")


@main.command("consent-diff")
@click.argument("therapy")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--old-content", type=click.Path(path_type=Path, file_okay=False),
              help="Compare with this content tree instead of a published OLD version.")
@content_option
@out_option
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="File for the redline [default: consent-diff-THERAPY.pdf]; "
              "the HTML is written beside it.")
@click.pass_context
def consent_diff_command(ctx: click.Context, therapy: str, old: str | None, new: str | None,
                         old_content: Path | None, content_dir: Path | None,
                         out_dir: Path | None, output: Path | None) -> None:
    """Redline of a therapy's consent text: added, removed and reworded risks and side effects.

    OLD and NEW are published consent versions (kept in the output folder's record); NEW may
    be left out for the current content. With --old-content, compare two content trees.
    """
    settings = _settings(ctx, content_dir=content_dir, out_dir=out_dir)
    with reported_errors(ctx.obj["debug"]):
        project = load_project(settings)
        before = _consent_snapshot(settings, therapy, old, old_content)
        after = _consent_snapshot(settings, therapy, new, None, project)
        diff = compare(before, after)
        target = output or Path(f"consent-diff-{therapy}.pdf")
        html, pdf = render_redline(project, diff)
        atomic_write(target.with_suffix(".html"), html.encode())
        atomic_write(target.with_suffix(".pdf"), pdf)
    click.echo(f"{'changed' if diff['changed'] else 'no change'}: {therapy} "
               f"{diff['old_version']} → {diff['new_version']}: {target.with_suffix('.pdf')}, "
               f"{target.with_suffix('.html')}")


def _consent_snapshot(settings: Settings, therapy: str, version: str | None,
                      content: Path | None, project: Project | None = None) -> dict[str, Any]:
    if content is not None:
        tree = load_content(content, settings.language_codes)
    elif version is None:
        if project is None:
            raise click.UsageError("give OLD, or --old-content")
        tree = project.tree
    else:
        return governance.load_snapshot(settings.out_dir, therapy, version)
    if therapy not in tree.therapies:
        raise CarepressError(f"no therapy {therapy!r} in {tree.root}")
    return snapshot_of(tree.therapies[therapy], therapy)


from cli import api_commands  # noqa: E402, I001 (serve, token: the HTTP service)
api_commands.register(main)
from cli import translations  # noqa: E402, I001 (translations list, mark-reviewed)
translations.register(main)
from cli import preview as preview_commands  # noqa: E402, I001 (preview: the editors' server)
preview_commands.register(main)

if __name__ == "__main__":
    main()
