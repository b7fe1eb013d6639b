"""`carepress render` and `carepress list`: one document, and the plan of all of them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.options import command_settings, content_option, out_option
from cli.reporting import reported_errors
from generator.errors import CarepressError
from generator.files import atomic_write
from generator.plan.documents import DocumentKey
from generator.plan.kinds import CONSENT, HANDOUT, PAGE, SITEMAP
from generator.plan.project import load_project
from generator.publish.jobs import stale_documents
from generator.publish.storage import OutputStore
from generator.render.documents import DocumentRenderer

KINDS = (HANDOUT.id, CONSENT.id, PAGE.id, SITEMAP.id)


@click.command("render")
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
    settings = command_settings(ctx, content_dir=content_dir)
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
    atomic_write(Path(output), data)
    click.echo(f"wrote {output} ({len(data)} bytes)", err=True)


@click.command("list")
@content_option
@out_option
@click.option("--stale", is_flag=True, help="Only documents that the next build would render.")
@click.pass_context
def list_command(ctx: click.Context, content_dir: Path | None, out_dir: Path | None,
                 stale: bool) -> None:
    """Show the plan: every document, its files, and whether it is stale."""
    settings = command_settings(ctx, content_dir=content_dir, out_dir=out_dir)
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


def register(group: click.Group) -> None:
    group.add_command(render_command)
    group.add_command(list_command)
