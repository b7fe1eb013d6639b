"""Real services for the integration tests (and the benchmark, which imports them): a private
redis-server and `carepress worker` processes, each in its own process group, ended by its id."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def stop_group(process: subprocess.Popen[bytes] | subprocess.Popen[str],
               grace: float = 20) -> None:
    """SIGTERM the process group we started, SIGKILL it if it does not go."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return sorted(set(found))


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit may wait for a reaper that never comes)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def forked_children(pid: int) -> list[int]:
    """Children that are forks of the process (its own command line), such as a render pool's
    workers; not the programs it runs (the linker ctypes calls to find WeasyPrint's
    libraries)."""
    try:
        own = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{child}/cmdline").read_bytes() == own:
                found.append(child)
    return found


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


class RedisServer:
    """redis-server on a free loopback port, no persistence."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (scripts/setup.sh installs it)")
        self.binary = binary
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or, after stop(), restart on the same port and folder) and wait for PONG."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self._answers, 15, "redis-server to answer")

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                             check=False).stdout
        return out.strip()


class Worker:
    """`carepress worker --concurrency N`, started like a user would and ready when built, in
    its own process group so that SIGKILL takes its pool children too."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 1) -> None:
        self.env, self.log, self.concurrency = env, log, concurrency
        self.handle = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker", "--concurrency", str(concurrency),
             "--loglevel", "INFO"],
            cwd=REPO, env=env, stdout=self.handle, stderr=subprocess.STDOUT,
            start_new_session=True)
        # Loading the project, WeasyPrint and Celery takes a while on a busy machine.
        wait_for(lambda: b" ready." in log.read_bytes() or self.process.poll() is not None,
                 90, "the worker to be ready")
        if self.process.poll() is not None:
            self.handle.close()
            raise RuntimeError("worker exited:\n" + log.read_text()[-2000:])

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.handle.close()

    def stop(self) -> None:
        stop_group(self.process)
        self.handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
