"""Every Redis key carepress writes, named and built here and nowhere else.

The CLI, the API and the workers share one Redis (the broker) with Celery and kombu, so each
of our names starts with `carepress:`; the tests and the benchmark read some of them by name
(the attempts and renders counters)."""

from __future__ import annotations

ROOT = "carepress:"
API = f"{ROOT}api:"
"""Prefix of the API's records (api/stores.py): delivery claims, webhook batches, jobs."""
UNACKED = "unacked"
"""Not ours: the hash in which kombu's Redis transport keeps delivered, unacknowledged
messages (its default name, which worker/app.py leaves as it is)."""


def batch(batch_id: str) -> str:
    """A queued batch: its documents and their task ids (worker/batches.py)."""
    return f"{ROOT}batch:{batch_id}"


def attempts(task_id: str) -> str:
    """Deliveries of one task since its batch was sent: counted by worker/tasks.py, reset
    when worker/batches.py sends a new batch."""
    return f"{ROOT}attempts:{task_id}"


def renders(task_id: str) -> str:
    """How often one task really rendered, as opposed to finding its files already there."""
    return f"{ROOT}renders:{task_id}"


def held(delivery_tag: str) -> str:
    """Exists while a live worker holds the message with this delivery tag
    (worker/liveness.py)."""
    return f"{ROOT}held:{delivery_tag}"


def api_record(key: str) -> str:
    """An API record (`batch:…`, `job:…`, `delivery:…`) in Redis."""
    return API + key
