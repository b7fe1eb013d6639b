"""`carepress validate`: every check a build makes, and the quality report, without a PDF."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.options import command_settings, content_option, out_option
from cli.reporting import reported_errors
from generator.publish import gate

if TYPE_CHECKING:
    from generator.quality.checks import QualityReport


@click.command("validate")
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
    settings = command_settings(ctx, content_dir=content_dir, out_dir=out_dir)
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
    for label, items in (("overdue reviews", report.overdue),
                         ("translation fallbacks", report.fallbacks),
                         ("near-identical location pages", report.doorways),
                         ("stale translations", report.stale)):
        click.echo(f"{label}: {len(items)}")
        for item in items:
            click.echo(f"  {item}")
    click.echo(f"awaiting a named clinical reviewer (build --strict will not publish): "
               f"{len(report.unreviewed)}")
    for problem in report.unreviewed:
        click.echo(f"  {problem}")


def register(group: click.Group) -> None:
    group.add_command(validate_command)
