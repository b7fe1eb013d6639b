"""`carepress status` and `carepress worker`: following a queued batch, running a worker."""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.options import command_settings
from cli.reporting import reported_errors
from generator.settings import Settings


def celery_app(settings: Settings) -> Any:
    from worker.app import make_app  # Celery is imported only by the commands that use it

    return make_app(settings)


@click.command("status")
@click.argument("batch")
@click.pass_context
def status_command(ctx: click.Context, batch: str) -> None:
    """Show the progress of a queued batch (from `build --queue --no-wait`)."""
    settings = command_settings(ctx)
    with reported_errors(ctx.obj["debug"]):
        from worker import batches

        batches.check_broker(settings)
        status = batches.batch_status(celery_app(settings), settings, batch)
    click.echo(f"batch {batch}: {status['done']} done, {status['running']} running, "
               f"{status['queued']} queued, {status['failed']} failed of {status['total']}")
    for document, error in sorted(status["failures"].items()):
        click.echo(f"carepress: failed: {document}: {error}", err=True)
    if status["failed"]:
        sys.exit(1)


@click.command("worker")
@click.option("--concurrency", "-c", type=click.IntRange(1, 64),
              help="Worker processes [default: one per CPU].")
@click.option("--queues", "-Q", help="Comma-separated queues [default: $CAREPRESS_QUEUE].")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.pass_context
def worker_command(ctx: click.Context, concurrency: int | None, queues: str | None,
                   loglevel: str) -> None:
    """Start a Celery worker (the same as `celery -A worker.app worker`)."""
    settings = command_settings(ctx)
    from worker.app import app

    # Without gossip: carepress does not use it, and after a Redis outage its restart logged a
    # traceback (worker/liveness.py watches for lost workers instead).
    argv = ["worker", f"--loglevel={loglevel}", f"--queues={queues or settings.queue}",
            "--without-gossip"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


def register(group: click.Group) -> None:
    group.add_command(status_command)
    group.add_command(worker_command)
