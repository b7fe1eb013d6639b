"""Send a batch of render jobs to the workers and follow it until every document is back."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import redis
from celery import Celery
from celery.result import AsyncResult
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

from generator.errors import BrokerError
from generator.publish.jobs import Job, JobResult, costliest_first
from generator.publish.runners import Runner
from generator.settings import Settings
from worker import keys, results
from worker.app import TASK_NAME
from worker.liveness import Sweeper, broker_connection, refresh_seconds

log = logging.getLogger("carepress.queue")
POLL_SECONDS = 0.25
"""Between two reads of the pending results. Each read is an MGET of every pending task and
an INFO: at 0.1 s they were most of what the CLI of `build --queue` used beyond `--jobs 2`'s
parent (~3.7 s of 6 s on 600 documents), while two workers finish a document about every
0.15 s; the longer wait adds at most 0.25 s to the end of a build."""
STALL_SECONDS = 10.0
"""No result for this long: look for tasks whose message is gone (see _lost)."""
SWEEP_SECONDS = 1.0
"""How often the follower looks for its batch's tasks held by a worker that is gone."""
Notice = Callable[[str], None]
"""Told, in one line each, when the batch waits for something other than renders and when it
goes on (a Redis outage, a lost worker's tasks)."""


def task_id(job: Job) -> str:
    """Derived from the inputs hash and the output store: the same document with the same
    inputs for the same store is the same task, so a duplicate is recognised as one."""
    store = hashlib.sha256(job.out.encode()).hexdigest()[:12]
    return f"carepress-{job.inputs}-{store}"


def broker_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(settings.broker_url, socket_connect_timeout=3, socket_timeout=10)


def check_broker(settings: Settings) -> None:
    """Fail fast, with what to do, when Redis is not there."""
    try:
        with broker_client(settings) as client:
            client.ping()
    except redis.RedisError as exc:
        raise BrokerError(
            f"cannot reach the broker at {settings.broker_url} ({exc}); start Redis "
            "(scripts/ensure-redis.sh) or set CAREPRESS_BROKER_URL, or build without --queue"
        ) from exc


def enqueue(app: Celery, settings: Settings, jobs: list[Job]) -> str:
    """Send every job and record the batch; returns the batch id."""
    batch = uuid.uuid4().hex[:16]
    record = {"documents": [[j.document, task_id(j)] for j in jobs], "created": time.time()}
    with broker_client(settings) as client:
        client.set(keys.batch(batch), json.dumps(record), ex=settings.result_expires)
    _send(app, settings, costliest_first(jobs))
    return batch


def _send(app: Celery, settings: Settings, jobs: list[Job], reset_attempts: bool = True) -> None:
    # The attempts of an earlier batch are not this one's: without the reset, the fourth
    # forced build of unchanged content within a day gave up on every document.
    if not jobs:
        return
    if reset_attempts:
        with broker_client(settings) as client:
            client.delete(*(keys.attempts(task_id(j)) for j in jobs))
    for job in jobs:
        tid = task_id(job)
        # An old result under this id belongs to a render that was already published.
        AsyncResult(tid, app=app).forget()
        app.send_task(TASK_NAME, args=[asdict(job)], task_id=tid)


def queue_runner(app: Celery, settings: Settings, batch_ids: list[str] | None = None,
                 notice: Notice | None = None) -> Runner:
    """Enqueue the jobs, then yield each result as it arrives. If Redis restarts (and loses its
    queue) or is unreachable for a while, unfinished jobs are sent again: tasks are idempotent,
    so a job that had already finished just returns its files."""

    def run(jobs: list[Job]) -> Iterator[JobResult]:
        if not jobs:
            return
        batch = enqueue(app, settings, jobs)
        if batch_ids is not None:
            batch_ids.append(batch)
        yield from _follow(app, settings, {task_id(j): j for j in jobs}, notice or _logged)

    return run


def _logged(line: str) -> None:
    """Without a notice callable (the HTTP service), the lines go to its log."""
    log.warning("%s", line)


def _follow(app: Celery, settings: Settings, pending: dict[str, Job],
            notice: Notice) -> Iterator[JobResult]:
    # One client for the whole batch: it reconnects by itself after an error, and a new
    # connection per poll cost a TCP handshake ten times a second.
    with broker_client(settings) as client, broker_connection(app) as conn:
        gone = _LostWorkers(conn, settings, notice)
        yield from _follow_with(app, settings, client, pending, notice, gone)
        gone.settle(pending)


class _LostWorkers:
    """Puts back this batch's tasks held by a worker that is gone (worker/liveness.py) and
    says so; says again when the last of them is done."""

    def __init__(self, conn: Any, settings: Settings, notice: Notice) -> None:
        self.conn, self.settings, self.notice = conn, settings, notice
        self.sweeper: Sweeper | None = None
        self.next_look = 0.0
        self.waiting: set[str] = set()

    def settle(self, pending: dict[str, Job]) -> None:
        if self.waiting and not self.waiting & pending.keys():
            self.notice("the documents of the lost worker are done; going on")
            self.waiting = set()

    def look(self, pending: dict[str, Job]) -> None:
        self.settle(pending)
        if time.monotonic() < self.next_look:
            return
        self.next_look = time.monotonic() + SWEEP_SECONDS
        if self.sweeper is None:
            # Shorter than the workers' own look, so the follower puts the tasks back first.
            confirm = 2 * refresh_seconds(self.settings)
            self.sweeper = Sweeper(self.conn.default_channel, TASK_NAME, confirm=confirm)
        orphans = self.sweeper.orphans(set(pending))
        for tag in orphans:
            self.sweeper.restore(tag)
        back = set(orphans.values()) - self.waiting
        if back:
            self.waiting |= back
            self.notice(f"waiting for {len(back)} document(s) held by a worker that is gone "
                        f"(no sign of life for {self.settings.worker_lost_after} s): back in "
                        "the queue for another worker")


def _follow_with(app: Celery, settings: Settings, client: redis.Redis,
                 pending: dict[str, Job], notice: Notice,
                 gone_workers: _LostWorkers) -> Iterator[JobResult]:
    server = _server_id(client)
    progress, missing = time.monotonic(), set[str]()
    while pending:
        try:
            gone_workers.look(pending)
            finished = _ready(app, list(pending))
            now = _server_id(client)
            if now != server:  # Redis restarted: the queue it held in memory may be gone
                _send(app, settings, list(pending.values()))
                server = now
            if finished:
                progress, missing = time.monotonic(), set()
            elif time.monotonic() - progress > STALL_SECONDS:
                gone = _lost(client, settings, set(pending))
                # Gone at two checks a second apart: not a message caught mid-delivery.
                lost, missing = gone & missing, gone - missing
                if lost:  # never delivered, so not an attempt: the counters stay
                    _send(app, settings, [pending[t] for t in lost], reset_attempts=False)
                    notice(f"sent {len(lost)} document(s) again: a worker took them off the "
                           "queue and was lost before recording them")
                progress = time.monotonic() - STALL_SECONDS + 1.0
        except (redis.RedisError, OSError, OperationalError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            where = maybe_sanitize_url(settings.broker_url)  # no password on the terminal
            notice(f"waiting for Redis at {where} ({reason}), up to {settings.broker_wait} s")
            if not _broker_back(settings, client):
                for tid in list(pending):
                    yield JobResult(pending.pop(tid).document,
                                    error=f"broker unreachable at {settings.broker_url}")
                return
            notice("Redis is back; going on")
            continue
        for tid, outcome in finished.items():
            job = pending.pop(tid)
            yield outcome if isinstance(outcome, JobResult) else JobResult(job.document,
                                                                           error=outcome)
        time.sleep(POLL_SECONDS)


def _lost(client: redis.Redis, settings: Settings, ids: set[str]) -> set[str]:
    """Tasks whose message is neither queued nor held by a worker: kombu's Redis transport
    loses a message when its worker dies between taking it off the queue and recording it as
    unacknowledged (celery/celery#4354), and nothing would ever send it again."""
    queued = [_message_task(raw) for raw in client.lrange(settings.queue, 0, -1)]
    # An unacknowledged entry is [message, exchange, routing key]; other apps' entries may be
    # anything, and only ids of this batch matter.
    held = [_message_task(raw, unacked=True) for raw in client.hvals(keys.UNACKED)]
    return ids - set(queued) - set(held)


def _message_task(raw: bytes | str, unacked: bool = False) -> str | None:
    try:
        message = json.loads(raw)
        if unacked:
            message = message[0]
        task = message["headers"]["id"]
    except (ValueError, LookupError, TypeError):
        return None
    return task if isinstance(task, str) else None


def _ready(app: Celery, ids: list[str]) -> dict[str, JobResult | str]:
    """The finished tasks among `ids`: what each returned, or why it failed."""
    return {tid: outcome for tid, state in results.read(app, ids).items()
            if (outcome := state.outcome()) is not None}


def _server_id(client: redis.Redis) -> str:
    return str(client.info("server")["run_id"])


def _broker_back(settings: Settings, client: redis.Redis) -> bool:
    """Wait up to `broker_wait` seconds for Redis to answer again."""
    deadline = time.monotonic() + settings.broker_wait
    while time.monotonic() < deadline:
        try:
            _server_id(client)
            return True
        except (redis.RedisError, OSError):
            time.sleep(0.5)
    return False


def batch_status(app: Celery, settings: Settings, batch: str) -> dict[str, Any]:
    """Counts of a batch's documents by state, and the failed ones with their errors."""
    with broker_client(settings) as client:
        raw = client.get(keys.batch(batch))
    if raw is None:
        raise BrokerError(f"unknown or expired batch {batch!r}")
    documents = json.loads(raw)["documents"]
    states = results.read(app, [tid for _document, tid in documents])
    counts = {"queued": 0, "running": 0, "done": 0, "failed": 0}
    failed = {}
    for document, tid in documents:
        state = states[tid]
        counts[state.status] += 1
        if state.status == "failed":
            failed[document] = state.error
    return {"batch": batch, "total": len(documents), **counts, "failures": failed}
