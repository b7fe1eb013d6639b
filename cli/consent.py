"""`carepress consent-diff`: the redline a clinical reviewer signs off before a consent changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.options import command_settings, content_option, out_option
from cli.reporting import reported_errors
from generator.content.loading import load_content
from generator.errors import CarepressError
from generator.files import atomic_write
from generator.plan.project import Project, load_project
from generator.publish import governance
from generator.quality.redline import compare, snapshot_of
from generator.render.documents import render_redline
from generator.settings import Settings


@click.command("consent-diff")
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
    settings = command_settings(ctx, content_dir=content_dir, out_dir=out_dir)
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


def register(group: click.Group) -> None:
    group.add_command(consent_diff_command)
