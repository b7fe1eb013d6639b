"""The render task: the same generator code as the in-process build, one document per task."""

from __future__ import annotations

import errno
import logging
import os
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import redis
from celery import Task
from celery.signals import worker_process_init
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from generator.errors import CarepressError, TransientError
from generator.plan.project import load_project
from generator.publish.jobs import Job, JobResult, render_job
from generator.render.documents import DocumentRenderer
from generator.render.gctuning import tune_gc_after_warm_up
from generator.settings import Settings
from worker import keys
from worker.app import TASK_NAME, app

log = logging.getLogger("carepress.worker")
settings = Settings()
TEST_WARM_UP_DELAY = "CAREPRESS_TEST_WARM_UP_DELAY"
"""Test only: seconds each new pool child waits before warming up, as on a busy host."""
TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EIO, errno.ESTALE,
                    errno.ETIMEDOUT}

# Per worker process (never shared across a fork): one warm renderer per content tree, and
# one Redis client for the counters (a new connection per task cost a TCP handshake twice).
_renderers: dict[str, DocumentRenderer] = {}
_counters: redis.Redis | None = None


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _warm(**_: Any) -> None:
    """Import WeasyPrint and load fonts and shared CSS after the fork, once per process."""
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    time.sleep(float(os.environ.get(TEST_WARM_UP_DELAY, "0")))
    if settings.content_dir.is_dir():
        try:
            _renderer_for(str(settings.content_dir.resolve()), None).pdf  # noqa: B018
        except CarepressError as exc:  # a broken tree is reported per task, not at start
            log.warning("could not warm up: %s", exc)
    tune_gc_after_warm_up()


def _renderer_for(content: str, job: Job | None) -> DocumentRenderer:
    """The cached renderer for a content tree, reloaded when the tree changed since."""
    current = _renderers.get(content)
    if current is not None and (job is None or current.project.hashes.get(job.document)
                                == job.inputs):
        return current
    project = load_project(settings.model_copy(update={"content_dir": Path(content)}))
    warm_pdf = current._pdf if current is not None else None
    _renderers[content] = DocumentRenderer(project, pdf=warm_pdf)
    return _renderers[content]


def _count(key: str) -> int:
    """Per-task counters in Redis: `keys.attempts` (deliveries; a task that kills its worker
    every time is requeued by reject-on-worker-lost, and only this count stops it) and
    `keys.renders`."""
    global _counters
    if _counters is None:
        # Retries: after a Redis restart the pooled connection is stale; reconnect, don't fail.
        # While Redis is away, wait as long as `build --queue` does: failing the render for
        # it lost the document (the result could not be stored either).
        retries = 5 + settings.broker_wait // 2
        _counters = redis.Redis.from_url(
            settings.broker_url, retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError])
    with _counters.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, settings.result_expires)
        count, _ = pipe.execute()
    return int(count)


@app.task(  # type: ignore[untyped-decorator]
    name=TASK_NAME, bind=True, autoretry_for=(TransientError,), retry_backoff=2,
    retry_backoff_max=60, retry_jitter=True, max_retries=settings.max_attempts - 1)
def render_document(self: Task, job: dict[str, str]) -> dict[str, Any]:
    """Render one document into the output store's staging area; returns a JobResult dict."""
    parsed = Job(**{f.name: job[f.name] for f in fields(Job)})
    if _count(keys.attempts(self.request.id)) > settings.max_attempts:
        error = f"gave up after {settings.max_attempts} attempts (the worker was lost each time)"
        return JobResult(parsed.document, error=error).to_dict()
    try:
        renderer = _renderer_for(parsed.content, parsed)
        result = render_job(renderer, parsed)
    except OSError as exc:
        if exc.errno in TRANSIENT_ERRNOS:
            raise TransientError(f"{parsed.document}: {exc}") from exc
        result = JobResult(parsed.document, error=f"storage: {exc}")
    except CarepressError as exc:
        result = JobResult(parsed.document, error=str(exc))
    if result.error:
        log.warning("render failed: %s: %s", parsed.document, result.error)
    if result.rendered:
        _count(keys.renders(self.request.id))
    return result.to_dict()
