"""Queued builds with a real Redis server and real Celery worker processes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
import yaml

from generator.publish.jobs import Job
from generator.settings import Settings
from tests.conftest import CONTENT, broken_png, manifest, run_build, snapshot, use_logo
from tests.services import Worker, cli, free_port, service_env, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def queue() -> str:
    """A queue of the test's own, so no worker of another test takes its tasks."""
    return f"test-{uuid.uuid4().hex[:8]}"


def finish(process, timeout: float = 300) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    stdout, stderr = process.communicate(timeout=timeout)
    return stdout, stderr


def add_clinics(content: Path, count: int) -> None:
    """More documents, so that a batch is still running when a test interferes with it."""
    source = yaml.safe_load((content / "clinics" / "prairie-mind.yaml").read_text())
    spanish = (content / "clinics" / "prairie-mind.es.yaml").read_text()
    for n in range(count):
        clinic = {**source, "name": f"Demo Clinic {n}"}
        (content / "clinics" / f"demo-{n}.yaml").write_text(yaml.safe_dump(clinic))
        (content / "clinics" / f"demo-{n}.es.yaml").write_text(spanish)


def successes(log: Path) -> int:
    return log.read_text(errors="replace").count("] succeeded in")


def test_queued_build_matches_in_process_build(redis_server, built, tmp_path, queue, project):
    env = service_env(redis_server.url, CONTENT, queue)
    worker = Worker(env, tmp_path / "worker.log", concurrency=2)
    try:
        out = tmp_path / "out"
        build = cli(env, "build", "--queue", "--out", str(out), "--quiet")
        stdout, stderr = finish(build)
        assert build.returncode == 0, stderr
        documents = len(project.specs)
        assert stdout.startswith(f"built {documents}, unchanged 0, failed 0")
        assert snapshot(out) == snapshot(built)
        again = cli(env, "build", "--queue", "--out", str(out), "--quiet")
        assert finish(again)[0].startswith(f"built 0, unchanged {documents}")
    finally:
        worker.stop()


def test_a_message_lost_with_its_worker_is_sent_again(redis_server, content, tmp_path, queue):
    """A worker killed between taking a message off the queue and recording it as
    unacknowledged loses it for good (kombu's Redis transport); the build sends it again."""
    expected = tmp_path / "expected"
    run_build(content, expected)
    env = service_env(redis_server.url, content, queue)
    out = tmp_path / "out"
    build = cli(env, "build", "--queue", "--out", str(out), "--quiet")
    client = redis.Redis.from_url(f"{redis_server.url}/0")
    wait_for(lambda: client.llen(queue) > 0, 60, "the batch to be queued")
    taken = client.rpop(queue)  # what a worker dying right after BRPOP would leave behind
    assert taken is not None
    worker = Worker(env, tmp_path / "worker.log")
    try:
        _stdout, stderr = finish(build, timeout=120)
    finally:
        worker.stop()
    assert build.returncode == 0, stderr
    assert snapshot(out) == snapshot(expected)
    assert stderr.splitlines() == ["carepress: sent 1 document(s) again: a worker took them off "
                                   "the queue and was lost before recording them"]


def test_poison_document_fails_once_and_the_rest_succeed(redis_server, content, tmp_path, queue,
                                                         project):
    use_logo(content, "riverwalk-wellness", "broken.png", broken_png())
    env = service_env(redis_server.url, content, queue)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        out = tmp_path / "out"
        build = cli(env, "build", "--queue", "--out", str(out), "--quiet")
        stdout, stderr = finish(build)
    finally:
        worker.stop()
    assert build.returncode == 1, stderr
    failed = sorted(line.split(": ")[2] for line in stderr.splitlines()
                    if line.startswith("carepress: failed:"))
    poisoned = [f"{kind}/riverwalk-wellness/{therapy}/{lang}" for kind in ("consent", "handout")
                for therapy in project.tree.clinics["riverwalk-wellness"].therapies
                for lang in ("en", "es")]
    assert failed == sorted(poisoned)
    assert (f"built {len(project.specs) - len(poisoned)}, unchanged 0, "
            f"failed {len(poisoned)}") in stdout
    published = {e["document"] for e in manifest(out)["documents"]}
    assert "handout/prairie-mind/ketamine/en" in published
    assert not published & set(poisoned)
    client = redis.Redis.from_url(f"{redis_server.url}/0")
    attempts = [int(client.get(k)) for k in client.scan_iter("carepress:attempts:*")
                if worker_log_mentions(tmp_path / "worker.log", k.decode().split(":")[-1])]
    assert attempts and set(attempts) == {1}, "a failing render must not be retried"


def worker_log_mentions(log: Path, task_id: str) -> bool:
    return task_id in log.read_text(errors="replace")


class OneJob:
    """One demo document as a queue job, with the app, settings and Redis client to send it."""

    def __init__(self, redis_server, queue, project, out, document):  # type: ignore[no-untyped-def]
        from worker.app import make_app

        self.env = service_env(redis_server.url, CONTENT, queue)
        self.settings = Settings(broker_url=self.env["CAREPRESS_BROKER_URL"],
                                 result_backend=self.env["CAREPRESS_RESULT_BACKEND"], queue=queue)
        self.app = make_app(self.settings)
        self.job = Job(document, project.hashes[document], str(CONTENT), str(out))
        self.client = redis.Redis.from_url(self.settings.broker_url)


def test_duplicate_enqueue_renders_once(redis_server, tmp_path, queue, project):
    from worker import batches

    one = OneJob(redis_server, queue, project, tmp_path / "out",
                 "consent/prairie-mind/ketamine/en")
    env, settings, app, job, client = one.env, one.settings, one.app, one.job, one.client
    tid = batches.task_id(job)
    client.delete(f"carepress:attempts:{tid}", f"carepress:renders:{tid}")
    batches.enqueue(app, settings, [job])
    batches.enqueue(app, settings, [job])
    worker = Worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: client.get(f"carepress:attempts:{tid}") == b"2", 60,
                 "both deliveries to run")
        wait_for(lambda: batches._ready(app, [tid]), 30, "the result")
    finally:
        worker.stop()
    assert client.get(f"carepress:renders:{tid}") == b"1"
    staged = tmp_path / "out" / ".carepress-staging" / job.inputs
    assert sorted(p.name for p in staged.rglob("*.pdf")) == ["consent.pdf"]


def test_attempts_of_earlier_batches_do_not_count_against_a_new_one(redis_server, tmp_path,
                                                                     queue, project):
    from worker import batches, keys

    one = OneJob(redis_server, queue, project, tmp_path / "out",
                 "handout/prairie-mind/ketamine/en")
    env, settings, app, job, client = one.env, one.settings, one.app, one.job, one.client
    tid = batches.task_id(job)
    # As after earlier forced builds of the same, unchanged document within the last day.
    client.set(keys.attempts(tid), settings.max_attempts)
    batches.enqueue(app, settings, [job])
    worker = Worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: batches._ready(app, [tid]), 60, "the result")
    finally:
        worker.stop()
    result = batches._ready(app, [tid])[tid]
    assert not isinstance(result, str), result
    assert result.error is None and result.rendered
    assert client.get(keys.attempts(tid)) == b"1"


def test_unreachable_redis_is_one_clear_line_and_writes_nothing(tmp_path, queue):
    url = f"redis://127.0.0.1:{free_port()}"
    env = service_env(url, CONTENT, queue)
    out = tmp_path / "out"
    build = cli(env, "build", "--queue", "--out", str(out))
    _stdout, stderr = finish(build, 60)
    assert build.returncode == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"carepress: error: cannot reach the broker at {url}/0")
    assert "Traceback" not in stderr
    assert not out.exists()
