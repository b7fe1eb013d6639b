"""Real services for the integration tests: a private redis-server and Celery worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.services import RedisServer, stop_group
from tests.conftest import REPO

__all__ = ["RedisServer", "Worker", "cli", "free_port", "service_env", "stop_group", "wait_for"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition, timeout: float, what: str, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def service_env(redis_url: str, content: Path, queue: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
    env.update({
        "CAREPRESS_BROKER_URL": f"{redis_url}/0",
        "CAREPRESS_RESULT_BACKEND": f"{redis_url}/1",
        "CAREPRESS_CONTENT_DIR": str(content),
        "CAREPRESS_QUEUE": queue,
        "CAREPRESS_BROKER_WAIT": "60",
        **extra,
    })
    return env


class Worker:
    """`carepress worker` in its own process group, so SIGKILL takes its pool children too."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 1) -> None:
        self.log = log
        self.handle = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker", "--concurrency", str(concurrency),
             "--loglevel", "INFO"],
            cwd=REPO, env=env, stdout=self.handle, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for(lambda: b" ready." in log.read_bytes() or self.process.poll() is not None,
                 60, "the worker to be ready")
        assert self.process.poll() is None, log.read_text()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.handle.close()

    def stop(self) -> None:
        stop_group(self.process)
        self.handle.close()


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
