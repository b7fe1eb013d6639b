"""Worker faults with a real redis-server and real Celery worker processes: a whole worker
killed with its pool, pool children slow to start, Redis away mid-batch."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest
import redis

from tests.conftest import CONTENT, REPO, run_build, snapshot
from tests.services import RedisServer, Worker, children, service_env, wait_for
from tests.test_queue import OneJob, add_clinics, successes
from worker import batches, keys
from worker.app import TASK_NAME

pytestmark = pytest.mark.slow


@pytest.fixture
def queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


class Build:
    """`carepress build --queue` with its stderr in a file, to read while it runs."""

    def __init__(self, env: dict[str, str], out: Path, folder: Path) -> None:
        self.stderr_path = folder / "build.stderr"
        self.stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "build", "--queue", "--out", str(out), "--quiet"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self.stderr, text=True)

    def lines(self) -> list[str]:
        return self.stderr_path.read_text().splitlines()

    def says(self, start: str) -> bool:
        return any(line.startswith(start) for line in self.lines())

    def finish(self, timeout: float) -> str:
        stdout, _ = self.process.communicate(timeout=timeout)
        self.stderr.close()
        assert self.process.returncode == 0, self.stderr_path.read_text()
        return stdout


def unacked_tasks(client: redis.Redis) -> dict[str, str]:
    """Delivery tag → task id of what kombu records as taken and not acknowledged."""
    return {tag.decode(): json.loads(raw)[0]["headers"]["id"]
            for tag, raw in client.hgetall("unacked").items()}


def holder(client: redis.Redis, tag: str) -> int | None:
    """The main process id in a liveness key (host:pid)."""
    value = client.get(keys.held(tag))
    return int(value.rsplit(b":", 1)[1]) if value else None


def held_by(client: redis.Redis, worker: Worker) -> dict[str, str]:
    """The unacked entries whose liveness key names this worker's main process."""
    return {tag: task for tag, task in unacked_tasks(client).items()
            if holder(client, tag) == worker.process.pid}


def test_a_whole_worker_killed_mid_batch_its_tasks_finish_on_another(redis_server, content,
                                                                      tmp_path, queue):
    add_clinics(content, 2)
    expected = tmp_path / "expected"
    run_build(content, expected)
    # Redis's visibility timeout stays at its hour: only the liveness keys can bring back
    # the tasks of the killed worker in time.
    env = service_env(redis_server.url, content, queue)
    client = redis.Redis.from_url(f"{redis_server.url}/0")
    survivor = Worker(env, tmp_path / "survivor.log")
    victim = Worker(env, tmp_path / "victim.log")
    try:
        build = Build(env, tmp_path / "out", tmp_path)
        wait_for(lambda: successes(victim.log) >= 1 and held_by(client, victim), 120,
                 "the victim to hold a task after finishing one")
        victim.kill()  # main process and pool, as a host or an OOM kill takes them
        killed_at = time.monotonic()
        at_kill = set(unacked_tasks(client).values())
        # Still taken 6 s later and not the survivor's (it writes the key of what it holds
        # every 3 s; a render takes about one): what the dead worker held.
        time.sleep(6)
        orphaned = (at_kill & set(unacked_tasks(client).values())
                    - set(held_by(client, survivor).values()))
        assert orphaned, "the killed worker held nothing"
        wait_for(lambda: build.says("carepress: waiting for"), 40, "the tasks to be put back")
        back = time.monotonic() - killed_at
        build.finish(timeout=120)
        took = time.monotonic() - killed_at
    finally:
        survivor.stop()
    print(f"tasks back in the queue {back:.1f} s, batch done {took:.1f} s after the kill")
    assert back < 30, f"the dead worker's tasks came back {back:.0f} s after the kill"
    assert took < 60, f"the batch took {took:.0f} s after the kill"
    assert snapshot(tmp_path / "out") == snapshot(expected)
    notices = [line for line in build.lines() if "worker that is gone" in line]
    assert len(notices) == 1 and notices[0].startswith(
        f"carepress: waiting for {len(orphaned)} document(s) held by a worker that is gone")
    assert build.says("carepress: the documents of the lost worker are done; going on")
    # Deliveries per task: only what the dead worker held ran twice, so no task of the live
    # worker was put back behind its back.
    batches = [json.loads(client.get(k) or b"{}")["documents"]
               for k in client.scan_iter("carepress:batch:*")]
    batch = next(ids for ids in ({t for _, t in b} for b in batches) if orphaned <= ids)
    attempts = {t: int(client.get(f"carepress:attempts:{t}") or 0) for t in batch}
    assert {t for t, n in attempts.items() if n != 1} == orphaned
    assert {attempts[t] for t in orphaned} == {2}

def test_pool_children_slow_to_start_are_not_killed(redis_server, tmp_path, queue, project):
    """Celery gives a pool child it forks to replace one (recycled, crashed) a time to say it
    is up, then kills it; warming WeasyPrint up on a busy host took longer than its 4 s."""
    slow = {"CAREPRESS_TEST_WARM_UP_DELAY": "6"}
    # Control: with Celery's own 4 s the slow replacement is killed, so the hook is the fault.
    control = Worker(service_env(redis_server.url, CONTENT, queue,
                                 CAREPRESS_WORKER_START_TIMEOUT="4", **slow),
                     tmp_path / "control.log")
    try:
        replace_the_pool_child(control)
        wait_for(lambda: b"Timed out waiting for UP message" in control.log.read_bytes(), 30,
                 "Celery to kill the slow child")
    finally:
        control.stop()
    env = service_env(redis_server.url, CONTENT, queue, **slow)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        child = replace_the_pool_child(worker)
        one = OneJob(redis_server, queue, project, tmp_path / "out",
                     "handout/prairie-mind/ketamine/en")
        tid = batches.task_id(one.job)
        batches.enqueue(one.app, one.settings, [one.job])
        wait_for(lambda: batches._ready(one.app, [tid]), 60, "the slow child's render")
        assert worker_children(worker) == [child], "the slow child was replaced"
    finally:
        worker.stop()
    assert b"Timed out waiting for UP message" not in worker.log.read_bytes()
    result = batches._ready(one.app, [tid])[tid]
    assert not isinstance(result, str) and result.error is None and result.rendered


def worker_children(worker: Worker) -> list[int]:
    return children(worker.process.pid)


def replace_the_pool_child(worker: Worker) -> int:
    """Kill the one pool child; returns the pid of the child the worker forks instead."""
    wait_for(lambda: len(worker_children(worker)) == 1, 30, "the pool child")
    [first] = worker_children(worker)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: worker_children(worker) not in ([], [first]), 30, "a new pool child")
    [child] = worker_children(worker)
    return child


@pytest.mark.parametrize("keep_data", [False, True], ids=["restarted-empty", "data-kept"])
def test_redis_away_mid_batch_is_one_line_each_way(tmp_path, content, queue, keep_data):
    add_clinics(content, 1)
    expected = tmp_path / "expected"
    run_build(content, expected)
    server = RedisServer(tmp_path / "redis")
    server.start()
    env = service_env(server.url, content, queue)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        build = Build(env, tmp_path / "out", tmp_path)
        wait_for(lambda: successes(worker.log) >= 3, 120, "a few documents to finish")
        outage = worker.log.stat().st_size
        if keep_data:  # as after a network cut: the queue and kombu's unacked hash survive
            with contextlib.suppress(redis.RedisError):
                redis.Redis(port=server.port).shutdown(save=True)
            assert server.process is not None
            server.process.wait(10)
        else:
            server.stop()
        waiting = f"carepress: waiting for Redis at {server.url}/0 ("
        wait_for(lambda: build.says(waiting), 30, "the build to say it waits for Redis")
        assert build.process.poll() is None
        # Longer than the render's Redis calls used to wait (~3 s), which failed the document.
        time.sleep(12)
        server.start()
        build.finish(timeout=180)
        assert snapshot(tmp_path / "out") == snapshot(expected)
    finally:
        worker.stop()
        server.stop()
    lines = build.lines()
    assert [line for line in lines if "Redis" in line] == [
        next(line for line in lines if line.startswith(waiting)),
        "carepress: Redis is back; going on"]
    during = worker.log.read_bytes()[outage:].decode(errors="replace")
    assert "Traceback" not in during, during
    assert "Warning" not in during, during
    assert "raised unexpected" not in during and "Task handler raised error" not in during


def test_a_task_waiting_for_its_retry_is_not_taken_from_a_live_worker(redis_server, tmp_path,
                                                                       queue, project):
    """A retried render waits on its worker with a countdown, taken but not running (not a
    request Celery counts as reserved): it must still count as held."""
    one = OneJob(redis_server, queue, project, tmp_path / "out",
                 "consent/prairie-mind/ketamine/es")
    worker = Worker(one.env, tmp_path / "worker.log")
    try:
        tid = batches.task_id(one.job)
        one.app.send_task(TASK_NAME, args=[asdict(one.job)], task_id=tid, countdown=40)

        def taken() -> list[str]:
            return [t for t, task in unacked_tasks(one.client).items() if task == tid]

        wait_for(taken, 30, "the worker to take the task")
        [tag] = taken()
        # Longer than any look for lost workers needs (3 s refresh, 15 s expiry, 9 s look).
        time.sleep(15)
        assert taken() == [tag]
        # kombu's restore marks the message it puts back (the delivery tag stays the same).
        [raw] = one.client.hmget("unacked", [tag])
        assert "redelivered" not in json.loads(raw or b"[{}]")[0]["headers"], "it was put back"
        assert holder(one.client, tag) == worker.process.pid
        assert one.client.llen(queue) == 0
    finally:
        worker.stop()
    assert b"put back" not in worker.log.read_bytes()
