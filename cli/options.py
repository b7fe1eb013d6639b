"""What the commands share: the --content and --out options, and their settings.

Command modules import this, never cli.main (that would import it twice under
`python -m cli.main`); the group puts the settings and --debug in ctx.obj.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from generator.settings import Settings


def content_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--content", "content_dir", type=click.Path(path_type=Path),
                        help="Content tree [default: $CAREPRESS_CONTENT_DIR or ./content].")(f)


def out_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
                        help="Output folder [default: $CAREPRESS_OUT_DIR or ./out].")(f)


def command_settings(ctx: click.Context, **overrides: Any) -> Settings:
    """The group's settings with the options this command was given (None: not given)."""
    base: Settings = ctx.obj["settings"]
    return base.model_copy(update={k: v for k, v in overrides.items() if v is not None})
