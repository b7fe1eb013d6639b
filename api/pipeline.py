"""The one thread that changes things: it publishes accepted content changes, then builds.

Webhooks and clinic requests only leave work here and return. The thread takes whatever has
arrived, validates the whole tree with the changes and writes them (a content write never
races another, and a build never reads a half-applied batch of changes), then runs one build
that covers everything waiting. The validation and the build run in a separate "core"
process, so neither their CPU time (YAML parsing, planning, and in embedded mode WeasyPrint)
nor a crash in a native library reaches the process answering requests.

An accepted change is in a journal in the state folder (`inbox/`) before the 202, and the
journal is replayed at start, so an accepted change survives a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import suppress
from dataclasses import asdict
from typing import Any, TextIO

from api.builds import BuildResult, run_build
from api.content import ContentView
from api.content_writes import PublishResult, publish_changes
from api.core import CoreProcess
from api.records import BatchRecord, Records
from generator.content.changes import Change
from generator.errors import Problem
from generator.files import atomic_write
from generator.settings import Settings

log = logging.getLogger("carepress.api")
BUSY_RETRY_SECONDS = 1.0
JOURNAL = "inbox.jsonl"
TAKEN = "inbox.taken.jsonl"
OWED = "builds-owed.txt"
"""Record keys (batches, jobs) whose build has not reported yet: at start they are built."""


class Pipeline:
    def __init__(self, settings: Settings, records: Records, view: ContentView,
                 queued: bool) -> None:
        self._settings = settings
        self._records = records
        self._view = view
        self._queued = queued
        self._spool = settings.state_dir / "inbox"
        self._cond = threading.Condition()
        self._inbox: list[tuple[str, Change]] = []
        self._journal: TextIO | None = None
        self._waiting: list[str] = []
        self._stopping = False
        self._core = CoreProcess()
        self._thread = threading.Thread(target=self._run, name="carepress-pipeline", daemon=True)

    # --- called by request handlers ------------------------------------------------------

    def accept(self, batch: str, change: Change) -> None:
        """Queue a change that passed the schema check. It is in the journal when this
        returns, so it survives a crash or restart of this process (not a power cut: the
        journal is not fsync'd per request, which would cost more than the rest of a webhook)."""
        line = json.dumps({"batch": batch, "change": asdict(change)}) + "\n"
        with self._cond:
            if self._journal is None:
                self._spool.mkdir(parents=True, exist_ok=True)
                self._journal = (self._spool / JOURNAL).open("a", encoding="utf-8")
            self._journal.write(line)
            self._journal.flush()
            self._inbox.append((batch, change))
            self._cond.notify()

    def request_build(self, key: str) -> None:
        """Run a build soon and report its outcome into record `key`. The key is on disk when
        this returns, so a build cut short by a stop or a crash is run at the next start."""
        with self._cond:
            self._spool.mkdir(parents=True, exist_ok=True)
            with (self._spool / OWED).open("a", encoding="utf-8") as handle:
                handle.write(key + "\n")
            self._waiting.append(key)
            self._cond.notify()

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Replay what an earlier process accepted but had not published."""
        self._spool.mkdir(parents=True, exist_ok=True)
        for name in (TAKEN, JOURNAL):
            path = self._spool / name
            if path.exists():
                for line in path.read_text(encoding="utf-8").splitlines():
                    if line.strip():  # a torn last line (killed mid-write) was never accepted
                        with suppress(ValueError):
                            record = json.loads(line)
                            self._inbox.append((record["batch"], Change(**record["change"])))
        owed = self._spool / OWED
        if owed.exists():
            self._waiting = list(dict.fromkeys(owed.read_text(encoding="utf-8").split()))
        self._thread.start()

    def stop(self, grace: float = 0.0) -> None:
        """Let the step in progress finish (up to `grace` seconds), then stop the core.
        Nothing is marked failed for being cut short: what was accepted but not yet written
        is in the journal, and what was written but not yet built is owed to the next start."""
        with self._cond:
            self._stopping = True
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            self._cond.notify()
        self._thread.join(timeout=grace)
        self._core.stop()
        self._thread.join(timeout=5)

    # --- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._stopping or self._inbox or self._waiting):
                    self._cond.wait()
                if self._stopping:
                    return
                changes, self._inbox = self._inbox, []
                self._take_journal(bool(changes))
            try:
                if changes:
                    self._publish(changes)
                with self._cond:
                    if self._stopping:  # the build is owed to the next start
                        return
                    keys, self._waiting = self._waiting, []
                if keys:
                    self._build(keys)
            except Exception:  # the thread must survive anything; the records say what failed
                log.exception("pipeline step failed")

    def _take_journal(self, taking: bool) -> None:
        """Move the journal aside with the changes taken from it (new ones start a new
        journal); it is deleted once they are published. Called holding the lock."""
        if not taking:
            return
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        journal, taken = self._spool / JOURNAL, self._spool / TAKEN
        if journal.exists():
            if taken.exists():  # a replay after a restart: keep both until published
                with taken.open("a", encoding="utf-8") as handle:
                    handle.write(journal.read_text(encoding="utf-8"))
                journal.unlink()
            else:
                journal.replace(taken)

    def _publish(self, items: list[tuple[str, Change]]) -> None:
        changes = [change for _batch, change in items]
        self._view.writing()
        try:
            result: PublishResult = self._call(publish_changes, self._settings, changes)
        except Exception as exc:
            if self._stopping:  # cut short by a stop: the journal replays them at start
                return
            log.error("could not validate content changes: %s", exc)
            result = PublishResult(rejected={i: [] for i in range(len(items))})
        self._view.settled([(items[i][0], changes[i]) for i in result.written],
                           {items[i][0] for i in result.rejected})
        for index, (batch, change) in enumerate(items):
            if index in result.rejected:
                self._reject(batch, change, result.rejected[index])
            else:
                self.request_build(BatchRecord.key(batch))
        (self._spool / TAKEN).unlink(missing_ok=True)

    def _reject(self, batch: str, change: Change, problems: list[Problem]) -> None:
        log.warning("rejected %s:%s: %d problems", change.kind, change.id, len(problems))
        record = self._records.get(BatchRecord, batch)
        if record is not None:
            self._records.put(batch, record.rejected(problems))
            if record.delivery:
                self._records.release(record.delivery)

    def _build(self, keys: list[str]) -> None:
        self._records.update_many(keys, lambda record: record.running())
        while True:
            try:
                result: BuildResult = self._call(run_build, self._settings, self._queued)
            except Exception as exc:
                if self._stopping:  # cut short by a stop: owed to the next start
                    return
                result = BuildResult(error=f"build process failed: {exc!r}")
            if not result.busy:
                break
            with self._cond:  # another build holds the output folder: wait for it
                if self._cond.wait_for(lambda: self._stopping, BUSY_RETRY_SECONDS):
                    return
        if result.error:
            log.error("build failed: %s", result.error)
        self._records.update_many(keys, lambda record: record.settled(result))
        self._settle_owed(keys)

    def _settle_owed(self, reported: list[str]) -> None:
        """Drop the keys whose outcome is recorded from the list of builds owed."""
        with self._cond:
            owed = self._spool / OWED
            done = set(reported)
            left = [k for k in dict.fromkeys(owed.read_text(encoding="utf-8").split())
                    if k not in done] if owed.exists() else []
            if left:
                atomic_write(owed, ("\n".join(left) + "\n").encode())
            else:
                owed.unlink(missing_ok=True)

    def _call(self, function: Any, *args: Any) -> Any:
        return self._core.call(function, *args)
