"""How every command reports a failure: one line per problem on standard error, exit 1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from generator.errors import CarepressError, ContentError


@contextmanager
def reported_errors(debug: bool, *also: type[Exception]) -> Iterator[None]:
    """Turn a carepress error (or one of `also`) into one clear line per problem and exit 1;
    --debug shows the traceback."""
    caught: tuple[type[Exception], ...] = (CarepressError, *also)
    try:
        yield
    except caught as exc:
        if debug:
            raise
        lines = exc.lines() if isinstance(exc, ContentError) else [str(exc)]
        for line in lines:
            click.echo(f"carepress: error: {line}", err=True)
        if isinstance(exc, ContentError) and len(lines) > 1:
            click.echo(f"carepress: {len(lines)} problems; nothing was written", err=True)
        sys.exit(1)
