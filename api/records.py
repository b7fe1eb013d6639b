"""What the API remembers between requests: a webhook's batch and a clinic's job, each a typed
record kept for a while under `{kind}:{id}` in a store (api/stores.py), and the claims that
make a webhook delivery count once (`delivery:{id}`).

A record is stored as the JSON object of its fields, the shape the untyped records had, so
state files and Redis entries written before still load: the fields they lack take the
defaults the old code read them with.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import ClassVar, Literal, Protocol, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from api.models import Problem, Status
from api.stores import Store
from generator.errors import Problem as ContentProblem

REJECTED = "the content tree would be invalid with this change"


class BuildOutcome(Protocol):
    """What a build reports (api.core.BuildResult), as far as a record is concerned."""

    @property
    def error(self) -> str | None: ...

    @property
    def failed(self) -> Mapping[str, str]: ...

    @property
    def built(self) -> Collection[str]: ...

    @property
    def held_back(self) -> Collection[str]: ...


class Record(BaseModel):
    """Fields every record has. Records are values: a change makes a new one."""

    model_config = ConfigDict(frozen=True)
    kind: ClassVar[str]
    """The first part of the record's key, which says which type its JSON is."""

    status: Status
    error: str | None = None
    instance: str | None = None
    """The API process that took the request (api.state.AppState.instance)."""

    @classmethod
    def key(cls, record_id: str) -> str:
        return f"{cls.kind}:{record_id}"

    def running(self) -> Self:
        return self.model_copy(update={"status": "running"})


class BatchRecord(Record):
    """A webhook's change: the documents depending on it, then what its build did."""

    kind: ClassVar[str] = "batch"
    documents: list[str]
    removed: int = 0
    delivery: str | None = None
    """The delivery's claim, released when the batch is refused (a redelivery may pass)."""
    built: int = 0
    held_back: int = 0
    problems: list[Problem] = []

    def rejected(self, problems: list[ContentProblem]) -> BatchRecord:
        found = [Problem.model_validate(p, from_attributes=True) for p in problems]
        return self.model_copy(update={"status": "failed", "problems": found,
                                       "error": REJECTED})

    def settled(self, build: BuildOutcome) -> BatchRecord:
        failed = [d for d in self.documents if d in build.failed]
        error = build.error or (f"{len(failed)} documents failed" if failed else None)
        return self.model_copy(update={
            "status": "failed" if error else "done", "error": error,
            "built": sum(d in build.built for d in self.documents),
            "held_back": sum(d in build.held_back for d in self.documents)})


class JobRecord(Record):
    """A clinic's request for one of its documents."""

    kind: ClassVar[str] = "job"
    clinic: str
    document: str
    format: Literal["pdf", "html"]

    def settled(self, build: BuildOutcome) -> JobRecord:
        error = build.error or build.failed.get(self.document)
        return self.model_copy(update={"status": "failed" if error else "done", "error": error})


AnyRecord = BatchRecord | JobRecord
KINDS: dict[str, type[AnyRecord]] = {kind.kind: kind for kind in (BatchRecord, JobRecord)}
R = TypeVar("R", BatchRecord, JobRecord)


def delivery_key(delivery_id: str) -> str:
    return f"delivery:{delivery_id}"


class Records:
    """The typed records over a store; each lives `ttl` seconds from its last write."""

    def __init__(self, store: Store, ttl: int) -> None:
        self.store = store
        self._ttl = ttl

    def claim(self, key: str, ttl: int) -> bool:
        """Create the key if it does not exist; False if it did (atomically)."""
        return self.store.claim(key, ttl)

    def release(self, key: str) -> None:
        self.store.release(key)

    def ping(self) -> None:
        """Raise if the store cannot be reached."""
        self.store.ping()

    def put(self, record_id: str, record: AnyRecord) -> None:
        self.store.put(record.key(record_id), record.model_dump(mode="json"), self._ttl)

    def get(self, kind: type[R], record_id: str) -> R | None:
        value = self.store.get(kind.key(record_id))
        return None if value is None else kind.model_validate(value)

    def update_many(self, keys: list[str], change: Callable[[AnyRecord], AnyRecord]) -> None:
        """Update many records (expired ones stay gone) in two round trips: a build may
        cover hundreds of webhooks."""
        values = self.store.get_many(keys)
        updated = {key: change(_parse(key, value)).model_dump(mode="json")
                   for key, value in zip(keys, values, strict=True) if value is not None}
        self.store.put_many(updated, self._ttl)


def _parse(key: str, value: object) -> AnyRecord:
    return KINDS[key.partition(":")[0]].model_validate(value)
