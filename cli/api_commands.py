"""`carepress serve` and `carepress token`: the HTTP service and its clinic tokens.

Registered on the main group by cli/main.py. This module does not import cli.main (that would
import it twice under `python -m cli.main`); it reads the settings the group put in ctx.obj.
"""

from __future__ import annotations

import logging

import click

from cli.reporting import reported_errors
from generator.errors import CarepressError
from generator.settings import Settings


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


@click.command("serve")
@click.option("--host", help="Address to listen on [default: $CAREPRESS_API_HOST or 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535),
              help="Port [default: $CAREPRESS_API_PORT or 8000].")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log one line per request (method, path, status; never bodies or tokens).")
@click.pass_context
def serve_command(ctx: click.Context, host: str | None, port: int | None,
                  access_log: bool) -> None:
    """Start the HTTP service: CMS webhooks and the clinic API (OpenAPI at /docs).

    Without $CAREPRESS_BROKER_URL it renders in-process (the embedded default); with it,
    on the Celery workers."""
    settings = _settings(ctx)
    with reported_errors(ctx.obj["debug"], ValueError):
        import uvicorn

        from api.app import create_app

        app = create_app(settings)
    logging.getLogger("carepress.api").setLevel(logging.DEBUG if ctx.obj["debug"]
                                                else logging.INFO)
    uvicorn.run(app, host=host or settings.api_host, port=port or settings.api_port,
                access_log=access_log, log_level="info")


@click.group("token")
def token_group() -> None:
    """Create or revoke a clinic's API token (only its hash is stored)."""


@token_group.command("create")
@click.argument("clinic")
@click.pass_context
def token_create(ctx: click.Context, clinic: str) -> None:
    """Print a new token for CLINIC, once, alone on the last line."""
    settings = _settings(ctx)
    with reported_errors(ctx.obj["debug"], ValueError):
        from api.tokens import create_token
        from generator.content.loading import load_content

        tree = load_content(settings.content_dir, settings.language_codes)
        if clinic not in tree.clinics:
            raise CarepressError(f"no clinic {clinic!r} in {settings.content_dir}")
        token = create_token(settings.state_dir, clinic)
    click.echo(f"token for {clinic} (shown only now; store it in the clinic's secret store):",
               err=True)
    click.echo(token)


@token_group.command("revoke")
@click.argument("clinic")
@click.pass_context
def token_revoke(ctx: click.Context, clinic: str) -> None:
    """Revoke every token of CLINIC."""
    settings = _settings(ctx)
    with reported_errors(ctx.obj["debug"], ValueError):
        from api.tokens import revoke_tokens

        count = revoke_tokens(settings.state_dir, clinic)
    click.echo(f"revoked {count} token(s) of {clinic}")


def register(group: click.Group) -> None:
    group.add_command(serve_command)
    group.add_command(token_group)
