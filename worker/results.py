"""What the result backend says of render tasks, read one way for the batch follower and for
`carepress status` alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from celery import Celery

from generator.publish.jobs import JobResult

TaskStatus = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True)
class TaskState:
    status: TaskStatus
    result: JobResult | None = None
    """What the task returned: done, or failed with the render's own error."""
    error: str | None = None
    """Why it failed: the render's error, or the exception that ended the task."""

    def outcome(self) -> JobResult | str | None:
        """What the task returned, or why it failed; None while it is not finished."""
        return self.result if self.result is not None else self.error


def read(app: Celery, ids: list[str]) -> dict[str, TaskState]:
    """The state of every task in one round trip (polled four times a second by a follower)."""
    if not ids:
        return {}
    backend: Any = app.backend
    raws = backend.mget([backend.get_key_for_task(tid) for tid in ids])
    return {tid: decode(None if raw is None else backend.decode_result(raw))
            for tid, raw in zip(ids, raws, strict=True)}


def decode(meta: Mapping[str, Any] | None) -> TaskState:
    """A task's stored meta (None: nothing stored yet) as one of our four states. A task that
    returned has rendered or reported why not; one that raised, or was revoked, has not."""
    status = None if meta is None else meta["status"]
    if meta is not None and status == "SUCCESS":
        result = JobResult.from_dict(meta["result"])
        return TaskState("failed" if result.error else "done", result, result.error)
    if meta is not None and status in ("FAILURE", "REVOKED"):
        return TaskState("failed", error=f"task failed: {meta.get('result')}")
    # STARTED is stored because worker/app.py tracks it; PENDING, RETRY: not yet running.
    return TaskState("running" if status == "STARTED" else "queued")
