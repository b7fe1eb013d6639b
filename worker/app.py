"""The Celery app, configured from the one Settings object. `celery -A worker.app worker` works."""

from __future__ import annotations

from typing import Any

from celery import Celery

from generator.settings import Settings
from worker import logs
from worker.liveness import Liveness

TASK_NAME = "carepress.render_document"


def make_app(settings: Settings | None = None) -> Celery:
    settings = settings or Settings()
    app = Celery("carepress", broker=settings.broker_url, backend=settings.result_backend,
                 include=["worker.tasks"])
    app.conf.update(**_task_options(settings), **_worker_options(settings))
    logs.install()
    # Puts back, within seconds, the tasks of a worker killed with its pool (worker/liveness.py).
    app.steps["worker"].add(Liveness)
    return app


def _task_options(settings: Settings) -> dict[str, Any]:
    """How tasks travel, when they count as done, and how long they and their results last."""
    return dict(
        # JSON only: a task carries ids and paths, never pickled objects or rendered bytes.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=settings.queue,
        # Acknowledge after the render, not before, so a render lost with its worker is redone.
        task_acks_late=True,
        # A pool child killed mid-render (OOM, SIGKILL) requeues its task instead of failing it.
        task_reject_on_worker_lost=True,
        # Soft limit raises inside the task (reported as a failure); the hard limit kills it.
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        # Results are read once by the CLI or the API; keep them a day, not forever.
        result_expires=settings.result_expires,
        task_track_started=True,
        # Storing a result waits for Redis as long as `build --queue` does (Celery: ~20 s).
        result_backend_transport_options={"retry_policy": {
            "max_retries": settings.broker_wait, "interval_start": 0, "interval_step": 1,
            "interval_max": 1}},
    )


def _worker_options(settings: Settings) -> dict[str, Any]:
    """How a worker takes messages, keeps its pool healthy and rides out a Redis outage."""
    return dict(
        # Renders are long and CPU-bound: a worker holding spare messages would starve the others.
        worker_prefetch_multiplier=1,
        # Redis hands an unacknowledged task to another worker after this many seconds; it is
        # above the hard limit (checked by Settings) so a slow render never runs twice at once.
        broker_transport_options=_transport_options(settings),
        # Recycle pool children so a leak in a native library cannot grow without bound.
        worker_max_tasks_per_child=settings.max_tasks_per_child,
        worker_max_memory_per_child=settings.max_memory_per_child_kb,
        # Keep reconnecting when Redis goes away mid-batch instead of exiting.
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        # Celery kills a pool child that has not said it is up after this; warming WeasyPrint
        # up (worker/tasks.py) took longer than Celery's 4 s on a busy host.
        worker_proc_alive_timeout=settings.worker_start_timeout,
        # A render running when the connection drops finishes (and stores its result once
        # Redis is back) rather than being cancelled and done again (Celery 6's default).
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )


def _transport_options(settings: Settings) -> dict[str, int]:
    visibility = settings.visibility_timeout
    return {
        "visibility_timeout": visibility,
        # kombu 5.7 looks for the messages of lost workers every 10 s but scans Redis only on
        # every 10th look: a lost task came back up to ~100 s after its visibility timeout.
        "unacked_restore_interval": max(1, min(10, visibility // 2)),
        "unacked_restore_throttle": 1,
        # A worker killed while holding the scan's lock stopped every scan until the lock
        # expired (5 min by default); a scan takes milliseconds.
        "unacked_mutex_expire": min(300, max(10, visibility)),
    }


app = make_app()
