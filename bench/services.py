"""Processes the benchmark starts and stops itself: the tests' redis-server and `carepress worker`
(tests/services.py), measured, and a headless Chromium driven over the DevTools protocol. Each
runs in its own process group, which is ended by its id when the measurement is done."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.services import RedisServer, Worker, children, stop_group, wait_for

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def proc_cpu_ticks(pid: int, reaped: bool = False) -> int:
    """utime + stime of a process; with reaped, plus that of its children that have exited
    (a recycled pool child's CPU moves there when the worker reaps it)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])
    return ticks + int(fields[13]) + int(fields[14]) if reaped else ticks


def session(sid: int) -> list[int]:
    """The processes of a session (field 6 of /proc/PID/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[3]) == sid:
                found.append(int(stat.parent.name))
    return found


class MeasuredRedis(RedisServer):
    """The tests' redis-server, with the CPU it has used."""

    def cpu_s(self) -> float:
        return proc_cpu_ticks(self.process.pid) / CLOCK_TICKS if self.process else 0.0


class MeasuredWorker(Worker):
    """The tests' `carepress worker`, with its pool's warm-up, CPU and memory."""

    def pool(self) -> list[int]:
        return children(self.pid)

    def wait_idle(self, quiet: float = 1.5, timeout: float = 90) -> float:
        """Wait until the pool children have warmed up (loaded the project, WeasyPrint, fonts)
        and stopped using CPU; returns the seconds waited."""
        start = time.monotonic()
        wait_for(lambda: len(self.pool()) >= self.concurrency, 30, "the pool children")
        last, since = -1, time.monotonic()
        while time.monotonic() - start < timeout:
            ticks = sum(proc_cpu_ticks(p) for p in [self.pid, *self.pool()])
            if ticks != last:
                last, since = ticks, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.25)
        return time.monotonic() - start

    def cpu_s(self) -> float:
        """CPU seconds of the worker and of its pool children, live or recycled."""
        return sum(self.cpu_breakdown().values())

    def cpu_breakdown(self) -> dict[str, float]:
        """CPU seconds by part: `main`, the worker's own process (consumer, timers, the
        liveness thread), and `pool`, its pool children, live or recycled (a reaped child's
        CPU is in the main process's children's times)."""
        main = proc_cpu_ticks(self.pid)
        reaped = proc_cpu_ticks(self.pid, reaped=True) - main
        pool = reaped + sum(proc_cpu_ticks(p, reaped=True) for p in self.pool())
        return {"main": main / CLOCK_TICKS, "pool": pool / CLOCK_TICKS}

    def pool_rss_mb(self) -> list[float]:
        return [r for r in (proc_rss_mb(p) for p in self.pool()) if r is not None]


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """A warm headless Chromium; print_pdf(url) returns the bytes of a tagged Page.printToPDF."""

    def __init__(self, binary: str, profile: Path) -> None:
        import websocket  # websocket-client: the [dev] extra

        self._websocket = websocket
        self.binary = binary
        self.profile = profile
        self.process: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        self.profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--allow-file-access-from-files",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = self.profile / "DevToolsActivePort"
        process = self.process
        wait_for(lambda: port_file.exists() or process.poll() is not None, 60,
                 "Chromium's DevTools port")
        if process.poll() is not None:
            raise RuntimeError(f"Chromium exited with status {process.returncode}")
        port = int(port_file.read_text().split()[0])
        wait_for(lambda: self._page_socket(port) is not None, 30, "a Chromium page target")
        socket = self._page_socket(port)
        assert socket is not None
        self._ws = self._websocket.create_connection(socket,
                                                     suppress_origin=True, timeout=60)
        self.call("Page.enable")
        return self

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                             check=False).stdout
        return out.strip()

    @staticmethod
    def _page_socket(port: int) -> str | None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/json/list")
            targets = json.loads(connection.getresponse().read())
        except (OSError, ValueError):
            return None
        pages = [t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"]
        return pages[0] if pages else None

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        ident = self._next_id
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self._events.append(message)

    def _wait_event(self, name: str) -> None:
        while not any(e["method"] == name for e in self._events):
            message = json.loads(self._ws.recv())
            if "method" in message:
                self._events.append(message)
        self._events.clear()

    def cpu_s(self) -> float:
        """CPU seconds of every process of this Chromium (browser, renderers, utilities: its
        session), with the exited children they have reaped."""
        if self.process is None:
            return 0.0
        members = session(self.process.pid)  # start_new_session: its id is the browser's pid
        return sum(proc_cpu_ticks(pid, reaped=True) for pid in members) / CLOCK_TICKS

    def print_pdf(self, url: str) -> bytes:
        """Load the page (fonts included), then print it with the page size its CSS asks for."""
        self._events.clear()
        self.call("Page.navigate", url=url)
        self._wait_event("Page.loadEventFired")
        self.call("Runtime.evaluate", expression="document.fonts.ready.then(() => true)",
                  awaitPromise=True)
        result = self.call("Page.printToPDF", printBackground=True, preferCSSPageSize=True,
                           generateTaggedPDF=True)
        return base64.b64decode(result["data"])

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.close()
        if self.process is not None:
            stop_group(self.process, grace=10)
