"""Real services for the integration tests: a private redis-server and Celery worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO


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


class RedisServer:
    """A redis-server of our own on a free port, so a test may stop and restart it."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (scripts/setup.sh installs it)")
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.answers, 10, "redis-server to answer")

    def answers(self) -> bool:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                                capture_output=True, text=True, check=False)
        return result.stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


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
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.handle.close()


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
