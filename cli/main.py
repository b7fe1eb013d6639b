"""`carepress`: build, render, list and validate documents from the content tree.

The group lives here; each command group in its own module (cli/build.py, cli/documents.py…),
registered below. Those modules import cli.options, never this one (that would import it twice
under `python -m cli.main`).
"""

from __future__ import annotations

import logging

import click

from cli import api_commands, build, consent, documents, queue, translations, validate
from cli import preview as preview_commands
from generator.settings import Settings


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


for commands in (build,  # build
                 queue,  # status, worker
                 documents,  # render, list
                 validate,  # validate
                 consent,  # consent-diff
                 api_commands,  # serve, token: the HTTP service
                 translations,  # translations list, mark-reviewed
                 preview_commands):  # preview: the editors' server
    commands.register(main)

if __name__ == "__main__":
    main()
