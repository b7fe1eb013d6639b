"""The API's typed records read what the untyped ones stored (records.json, Redis values) and
store the same JSON shape."""

from __future__ import annotations

import json
import time
from pathlib import Path

from api.builds import BuildResult
from api.records import BatchRecord, JobRecord, Records
from api.stores import MemoryStore
from generator.errors import Problem

# As the untyped records were stored, at each step of their life.
OLD_BATCH = {"status": "queued", "documents": ["handout/a/b/en", "consent/a/b/en"],
             "removed": 1, "instance": "i1", "delivery": "delivery:d1"}
OLD_BATCH_DONE = {**OLD_BATCH, "status": "done", "error": None, "built": 2, "held_back": 0}
OLD_BATCH_REJECTED = {**OLD_BATCH, "status": "failed", "error": "invalid",
                      "problems": [{"file": "f", "field": "x", "message": "m", "line": 3}]}
OLD_JOB = {"clinic": "c", "document": "handout/c/t/en", "format": "pdf", "status": "queued",
           "error": None, "instance": "i1"}


def old_records_file(path: Path) -> None:
    expires = time.time() + 3600
    path.write_text(json.dumps({
        "delivery:d1": [expires, {}], "batch:b1": [expires, OLD_BATCH],
        "batch:b2": [expires, OLD_BATCH_DONE], "batch:b3": [expires, OLD_BATCH_REJECTED],
        "job:j1": [expires, OLD_JOB]}))


def test_an_old_records_file_loads_and_keeps_its_shape(tmp_path: Path) -> None:
    old_records_file(tmp_path / "records.json")
    store = MemoryStore()
    store.restore(tmp_path / "records.json")
    records = Records(store, 60)
    batch, done = records.get(BatchRecord, "b1"), records.get(BatchRecord, "b2")
    rejected, job = records.get(BatchRecord, "b3"), records.get(JobRecord, "j1")
    assert batch is not None and (batch.built, batch.held_back, batch.problems) == (0, 0, [])
    assert done is not None and done.status == "done" and done.built == 2
    assert rejected is not None and rejected.problems[0].line == 3
    assert job is not None and job.clinic == "c" and job.format == "pdf"
    assert not store.claim("delivery:d1", 60)
    for key, record_id, record in (("batch:b3", "b3", rejected), ("job:j1", "j1", job)):
        before = store.get(key)
        records.put(record_id, record)
        after = store.get(key)
        # Every key of the old shape with its value; a new one only where the old lacked it.
        assert before is not None and after is not None and before.items() <= after.items()
    records.put("b1", batch)
    assert store.get("batch:b1") == {**OLD_BATCH, "error": None, "built": 0, "held_back": 0,
                                     "problems": []}


def test_a_build_settles_each_kind_of_record(tmp_path: Path) -> None:
    store = MemoryStore()
    records = Records(store, 60)
    records.put("b1", BatchRecord.model_validate(OLD_BATCH))
    records.put("j1", JobRecord.model_validate(OLD_JOB))
    keys = ["batch:b1", "job:j1", "batch:expired"]
    records.update_many(keys, lambda record: record.running())
    assert [store.get(k)["status"] for k in keys[:2]] == ["running", "running"]  # type: ignore[index]
    result = BuildResult(built=("handout/a/b/en",), failed={"consent/a/b/en": "boom"},
                         held_back={"handout/c/t/en": "stale"})
    records.update_many(keys, lambda record: record.settled(result))
    assert store.get("batch:b1") == {**OLD_BATCH, "status": "failed",
                                     "error": "1 documents failed", "built": 1,
                                     "held_back": 0, "problems": []}
    assert store.get("job:j1") == {**OLD_JOB, "status": "done"}
    assert store.get("batch:expired") is None
    batch = records.get(BatchRecord, "b1")
    assert batch is not None
    rejected = batch.rejected([Problem("f", "x", "m", 3)])
    assert rejected.model_dump(mode="json")["problems"] == OLD_BATCH_REJECTED["problems"]
    store.save(tmp_path / "records.json")
    again = MemoryStore()
    again.restore(tmp_path / "records.json")
    assert again.get("job:j1") == store.get("job:j1")
