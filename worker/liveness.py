"""Tasks held by a worker that died go back to the queue within seconds, not after Redis's
visibility timeout.

kombu's Redis transport records each message a worker has taken but not acknowledged in the
`unacked` hash (delivery tag → message) and only puts it back after `visibility_timeout`
(an hour): a worker killed with its pool (host, container, OOM killer) left its tasks there
and the batch waited that long. The hash does not say which worker holds an entry, so each
worker's main process keeps a short-lived key per delivery tag it holds (`keys.held`, refreshed
every `refresh_seconds`, expiring after `worker_lost_after`). An entry whose key has been
missing at two looks `confirm` seconds apart is held by no live worker: a live worker wrote
its key within `refresh_seconds` of taking the message. Such an entry is put back with kombu's
own restore (`Channel._do_restore_message`, as `QoS.restore_by_tag` does), in a transaction
that gives up if the key appears or the entry changes meanwhile. Only Redis's clock matters
(key expiry) and time measured on one host, so clock skew between hosts cannot restore a live
worker's task.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis
from celery import bootsteps
from kombu.connection import Connection
from kombu.exceptions import OperationalError

from generator.settings import Settings
from worker import keys

log = logging.getLogger("carepress.worker")


def refresh_seconds(settings: Settings) -> float:
    return max(1.0, settings.worker_lost_after / 5)


class Sweeper:
    """Finds the entries of kombu's unacked hash that no live worker holds. It remembers when
    it first saw each one without its key, so it must be asked again and again (one per
    worker thread or follower; never shared between threads)."""

    def __init__(self, channel: Any, task_name: str, confirm: float) -> None:
        self.channel = channel
        self.task_name = task_name
        self.confirm = confirm
        self._unheld_since: dict[str, float] = {}
        self._last_look = -1e9
        # The channel's own `client` is on its event-loop pool; kombu's synchronous calls
        # (conn_or_acquire) use one like this, which applies its key prefix if one is set.
        self.client: redis.Redis = channel._create_client()

    def orphans(self, only: set[str] | None = None) -> dict[str, str]:
        """Delivery tag → task id of the entries held by no live worker for `confirm` seconds
        (with `only`, of those task ids)."""
        tags = [_text(t) for t in self.client.hkeys(self.channel.unacked_key)]
        with self.client.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.exists(keys.held(tag))
            alive = pipe.execute()
        now = time.monotonic()
        if now - self._last_look > self.confirm / 2:
            # Not looking for a while (Redis was away, or the caller was busy): a live worker
            # may not have refreshed its keys yet either, so what was missing proves nothing.
            self._unheld_since.clear()
        self._last_look = now
        unheld = [tag for tag, live in zip(tags, alive, strict=True) if not live]
        self._unheld_since = {t: self._unheld_since.get(t, now) for t in unheld}
        due = [t for t, since in self._unheld_since.items() if now - since >= self.confirm]
        if not due:
            return {}
        found = {}
        for tag, raw in zip(due, self.client.hmget(self.channel.unacked_key, due), strict=True):
            task = _task_of(raw, self.task_name)
            if task is not None and (only is None or task in only):
                found[tag] = task
        return found

    def restore(self, tag: str) -> bool:
        """Put one entry back on its queue, unless its holder turned out to be alive or it was
        acknowledged or restored meanwhile; True if this call put it back."""
        unacked, index = self.channel.unacked_key, self.channel.unacked_index_key

        def transaction(pipe: Any) -> bool:
            raw = pipe.hget(unacked, tag)
            if raw is None or pipe.exists(keys.held(tag)):
                return False
            payload, exchange, routing_key = json.loads(_text(raw))
            pipe.multi()
            pipe.zrem(index, tag)
            pipe.hdel(unacked, tag)
            self.channel._do_restore_message(payload, exchange, routing_key, pipe)
            return True

        restored = self.client.transaction(transaction, unacked,  # type: ignore[arg-type]
                                           keys.held(tag), value_from_callable=True)
        self._unheld_since.pop(tag, None)
        return bool(restored)

    def sweep(self, only: set[str] | None = None) -> dict[str, str]:
        """Restore every orphan; returns delivery tag → task id of those this call put back."""
        return {tag: task for tag, task in self.orphans(only).items() if self.restore(tag)}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _task_of(raw: bytes | str | None, task_name: str) -> str | None:
    """The task id of a carepress render message in the unacked hash; None for anything
    else (other apps may share the hash, and only our own tasks carry our keys)."""
    if raw is None:
        return None
    try:
        headers = json.loads(_text(raw))[0]["headers"]
        task, name = headers["id"], headers["task"]
    except (ValueError, LookupError, TypeError):
        return None
    return task if name == task_name and isinstance(task, str) else None


def held_tags(worker: Any) -> set[str]:
    """Delivery tags of the messages this worker process has taken and not acknowledged:
    its reserved and running requests (kept across a reconnection, while the pool still
    runs them) and what its consumer channel has delivered."""
    from celery.worker import state

    tags: set[str] = set()
    for _ in range(3):  # the sets change under us while the event loop runs
        try:
            tags.update(r.message.delivery_tag for r in list(state.reserved_requests))
            tags.update(r.message.delivery_tag for r in list(state.active_requests))
            consumer = getattr(worker, "consumer", None)
            task_consumer = getattr(consumer, "task_consumer", None)
            delivered = getattr(getattr(task_consumer, "channel", None), "qos", None)
            tags.update(getattr(delivered, "_delivered", {}).keys())
            break
        except RuntimeError:
            continue
    return {str(t) for t in tags if t}


class Liveness(bootsteps.StartStopStep):  # type: ignore[misc]
    """A worker bootstep: a thread in the main process that refreshes the keys of what this
    worker holds and puts back what dead workers held. A thread, not a timer on the event
    loop, so Redis calls never block the consumer and a busy event loop never lets keys
    expire."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        self._thread = threading.Thread(target=self._run, args=(parent,),
                                        name="carepress-liveness", daemon=True)
        self._thread.start()

    def stop(self, parent: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self, worker: Any) -> None:
        settings = Settings()
        interval = refresh_seconds(settings)
        with broker_connection(worker.app) as conn:
            beat = _Beat(worker, conn, settings, interval)
            # The first look one interval after start, once the consumer is up: a message
            # taken meanwhile is covered by the looks' confirmation time (2-3 intervals).
            while not self._stop.wait(interval):
                beat.tick()


class _Beat:
    """One look every `interval`: refresh this worker's keys, put back what the dead held."""

    def __init__(self, worker: Any, conn: Connection, settings: Settings,
                 interval: float) -> None:
        self.worker, self.conn, self.settings, self.interval = worker, conn, settings, interval
        self.who = f"{socket.gethostname()}:{os.getpid()}"
        self.sweeper: Sweeper | None = None
        self.failing = False

    def tick(self) -> None:
        from worker.app import TASK_NAME

        try:
            if self.sweeper is None:
                # A longer look than the follower's (batches.py), so a `build --queue`
                # following the batch is the one that puts tasks back and says so.
                self.sweeper = Sweeper(self.conn.default_channel, TASK_NAME,
                                       confirm=3 * self.interval)
            refresh(self.sweeper.client, held_tags(self.worker), self.who,
                    self.settings.worker_lost_after)
            restored = self.sweeper.sweep()
        except (redis.RedisError, OSError, OperationalError) as exc:
            if not self.failing:  # one line per outage, not one per look
                log.warning("liveness: Redis unreachable (%s); retrying every %.0f s",
                            exc, self.interval)
            self.failing = True
            return
        except Exception:  # a dead thread would let this worker's keys expire
            log.exception("liveness: unexpected error; going on")
            return
        if self.failing:
            log.info("liveness: Redis reachable again")
        self.failing = False
        if restored:
            log.warning("put back %d task(s) held by a worker that is gone: %s",
                        len(restored), ", ".join(sorted(restored.values())))


def broker_connection(app: Any) -> Connection:
    """A kombu connection of our own (kombu's are not shared between threads) that fails at
    once instead of retrying forever, with the app's transport options (unacked key names)."""
    options = {**(app.conf.broker_transport_options or {}), "max_retries": 0,
               "socket_timeout": 10, "socket_connect_timeout": 3}
    return Connection(app.conf.broker_url,  # type: ignore[no-untyped-call]
                      transport_options=options)


def refresh(client: redis.Redis, tags: Iterable[str], who: str, ttl: int) -> None:
    with client.pipeline(transaction=False) as pipe:
        for tag in tags:
            pipe.set(keys.held(tag), who, ex=ttl)
        pipe.execute()
