"""Accept latency of the CMS webhook at a fixed request rate, with the workers busy.

    python -m bench.webhook_latency [--rate 200] [--seconds 10]

Starts everything itself, on loopback only: a private redis-server, a Celery worker
(2 processes), a forced `carepress build --queue` of a larger content tree (so the workers are
rendering PDFs throughout), and `carepress serve` against a copy of the demo content. Then it
sends signed generic webhooks, each a real change (a city's summary), on a fixed schedule of
RATE per second for SECONDS, and prints one JSON line: median and p99 of the time from sending
a request to its answer, and how the answers were distributed. The loop is bounded by count and
time and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml

from api.signatures import sign_standard
from tests.conftest import CONTENT, REPO
from tests.services import RedisServer, Worker, cli, free_port, service_env, wait_for

KEY = b"carepress-bench-webhook-key-32by"
BUSY_CLINICS = 12


def busy_content(folder: Path) -> Path:
    """The demo tree with more clinics, so the forced build keeps both workers rendering."""
    target = folder / "busy-content"
    shutil.copytree(CONTENT, target)
    clinics = target / "clinics"
    source = yaml.safe_load((clinics / "prairie-mind.yaml").read_text())
    overlays = sorted(clinics.glob("prairie-mind.*.yaml"))
    for n in range(BUSY_CLINICS):
        (clinics / f"bench-{n}.yaml").write_text(yaml.safe_dump({**source, "name": f"Bench {n}"}))
        for overlay in overlays:
            lang = overlay.name.split(".")[1]
            shutil.copy(overlay, clinics / f"bench-{n}.{lang}.yaml")
    return target


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Connections:
    """Keep-alive HTTP/1.1 connections to the server, on bare asyncio streams: a general
    client (httpx) spends about a millisecond of CPU per request, which would be measured too."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.server_ms: list[float] = []
        """The server's own time per request (its Server-Timing header)."""

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> int:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (f"POST {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-length: {len(body)}"
                   f"\r\n{head}\r\n").encode() + body
        reused = bool(self.idle)
        reader, writer = self.idle.pop() if reused else await asyncio.open_connection(
            self.host, self.port)
        writer.write(request)
        status_line = await reader.readline()
        if not status_line and reused:  # the server closed an idle connection: a fresh one
            writer.close()
            reader, writer = await asyncio.open_connection(self.host, self.port)
            writer.write(request)
            status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "server-timing":
                self.server_ms.append(float(value.rpartition("dur=")[2]))
        await reader.readexactly(length)
        self.idle.append((reader, writer))
        return int(status_line.split()[1])

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()


async def send_all(url: str, rate: int, seconds: float, city: dict[str, Any]) -> tuple[
        list[float], Counter[str], list[float]]:
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    host, port = url.removeprefix("http://").split(":")
    connections = Connections(host, int(port))

    async def one(i: int) -> None:
        payload = {"type": "location", "id": "naperville",
                   "data": {**city, "summary": f"Naperville, benchmark change {i}."}}
        body = json.dumps(payload).encode()
        delivery, now = f"bench_{uuid.uuid4().hex}", int(time.time())
        headers = {"webhook-id": delivery, "webhook-timestamp": str(now),
                   "webhook-signature": sign_standard(KEY, delivery, now, body),
                   "content-type": "application/json"}
        started = time.perf_counter()
        try:
            statuses[str(await connections.post("/v1/webhooks/cms", headers, body))] += 1
        except (OSError, asyncio.IncompleteReadError) as exc:
            statuses[type(exc).__name__] += 1
        latencies.append((time.perf_counter() - started) * 1000)

    tasks = []
    start = time.perf_counter()
    for i in range(total):  # a fixed schedule: late answers do not slow the sending
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    connections.close()
    return latencies, statuses, connections.server_ms


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port),
                                "--no-access-log"], cwd=REPO, env=env, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, 60, "the server")
    return process, url


def run(rate: int, seconds: float, busy_workers: bool = True,
        worker_nice: int = 10) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="carepress-bench-") as scratch:
        tmp = Path(scratch)
        redis = RedisServer(tmp)
        redis.start()
        content = tmp / "content"
        shutil.copytree(CONTENT, content)
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        secret = "whsec_" + base64.b64encode(KEY).decode()
        env = service_env(redis.url, content, queue, CAREPRESS_OUT_DIR=str(tmp / "out"),
                          CAREPRESS_STATE_DIR=str(tmp / "state"),
                          CAREPRESS_WEBHOOK_SECRETS=secret)
        worker = Worker(env, tmp / "worker.log", concurrency=2)
        # Workers are batch jobs: on a shared host they run below the API's priority (a
        # Celery worker and its pool are one process group).
        os.setpriority(os.PRIO_PGRP, worker.process.pid, worker_nice)
        busy_env = {**env, "CAREPRESS_CONTENT_DIR": str(busy_content(tmp))}
        forced = cli(busy_env if busy_workers else {**busy_env, "CAREPRESS_BROKER_URL": "x"},
                     "build", "--queue", "--force", "--quiet", "--out", str(tmp / "busy-out"))
        server, url = serve(env, tmp / "server.log")
        try:
            if busy_workers:
                wait_for(lambda: "] received" in (tmp / "worker.log").read_text(), 60,
                         "the workers to start rendering")
            city = yaml.safe_load((content / "locations" / "naperville.yaml").read_text())
            latencies, statuses, server_ms = asyncio.run(send_all(url, rate, seconds, city))
            busy = forced.poll() is None
        finally:
            server.terminate()
            server.wait(30)
            forced.kill()
            forced.communicate()
            worker.stop()
            redis.stop()
    return {"rate_per_s": rate, "seconds": seconds, "requests": len(latencies),
            "median_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(max(latencies), 2), "statuses": dict(statuses),
            "server_median_ms": round(statistics.median(server_ms), 2),
            "server_p99_ms": round(percentile(server_ms, 0.99), 2),
            "workers_busy_throughout": busy_workers and busy, "worker_nice": worker_nice,
            "load_average_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=200, help="Requests per second.")
    parser.add_argument("--seconds", type=float, default=10, help="How long to send.")
    parser.add_argument("--idle-workers", action="store_true",
                        help="Skip the forced build: measure with the workers idle.")
    parser.add_argument("--worker-nice", type=int, default=10, choices=range(20),
                        metavar="0-19", help="CPU niceness of the workers (default 10).")
    args = parser.parse_args()
    if not 1 <= args.rate <= 1000 or not 0 < args.seconds <= 60:
        parser.error("keep it bounded: rate 1-1000 per second, at most 60 seconds")
    print(json.dumps(run(args.rate, args.seconds, not args.idle_workers, args.worker_nice)))


if __name__ == "__main__":
    main()
