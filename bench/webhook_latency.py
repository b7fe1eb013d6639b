"""Accept latency of the CMS webhook with the workers busy: at a fixed rate, or closed loop.

    python -m bench.webhook_latency [--rate 200] [--seconds 10]
    python -m bench.webhook_latency --clients 8 [--duplicates 0.2] [--requests 800]

Starts everything itself, on loopback only: a private redis-server, a Celery worker
(2 processes), a forced `carepress build --queue` of a larger content tree (so the workers are
rendering PDFs throughout), and `carepress serve` against a copy of the demo content. Then it
sends signed generic webhooks, each a real change (a city's summary), on a fixed schedule of
RATE per second for SECONDS, and prints one JSON line: median and p99 of the time from sending
a request to its answer, and how the answers were distributed. The loop is bounded by count and
time and stops by itself.

With --clients N it runs closed loop instead: N concurrent clients, each sending its next
delivery as soon as its previous answer arrives, for --requests deliveries (or --seconds, at
most), a share (--duplicates) of them redeliveries of an earlier delivery (same webhook-id and
body, re-signed), which the server answers "duplicate". The figure that counts there is the
server's own p99 (its Server-Timing header); the client's includes the wait for a CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import yaml

from api.signatures import sign_standard
from tests.conftest import CONTENT, REPO
from tests.services import (
    RedisServer,
    Worker,
    cli,
    free_port,
    service_env,
    stop_group,
    wait_for,
)

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


class Answer(NamedTuple):
    status: int
    body: bytes
    server_ms: float | None
    """The server's own time (its Server-Timing header), None if it sent none."""


class Connections:
    """Keep-alive HTTP/1.1 connections to the server, on bare asyncio streams: a general
    client (httpx) spends about a millisecond of CPU per request, which would be measured too."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
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
        length, server_ms = 0, None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "server-timing":
                server_ms = float(value.rpartition("dur=")[2])
        answer = Answer(int(status_line.split()[1]), await reader.readexactly(length), server_ms)
        self.idle.append((reader, writer))
        return answer

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()


def connect(url: str) -> Connections:
    host, port = url.removeprefix("http://").split(":")
    return Connections(host, int(port))


def change(city: dict[str, Any], i: int) -> bytes:
    """The body of delivery `i`: a real change, so each fresh delivery is accepted and queued."""
    return json.dumps({"type": "location", "id": "naperville",
                       "data": {**city, "summary": f"Naperville, benchmark change {i}."}}).encode()


def signed(delivery: str, body: bytes) -> dict[str, str]:
    """Signed now, as a CMS signs each attempt, its redeliveries too (same id, new timestamp)."""
    now = int(time.time())
    return {"webhook-id": delivery, "webhook-timestamp": str(now),
            "webhook-signature": sign_standard(KEY, delivery, now, body),
            "content-type": "application/json"}


class Tally:
    """What the answers were and how long they took, seen from the client and by the server."""

    def __init__(self) -> None:
        self.client_ms: list[float] = []
        self.server_ms: list[float] = []
        self.statuses: Counter[str] = Counter()

    async def send(self, connections: Connections, delivery: str, body: bytes,
                   label: Callable[[Answer], str] = lambda answer: str(answer.status)) -> None:
        headers = signed(delivery, body)
        started = time.perf_counter()
        try:
            answer = await connections.post("/v1/webhooks/cms", headers, body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.statuses[type(exc).__name__] += 1
        else:
            self.statuses[label(answer)] += 1
            if answer.server_ms is not None:
                self.server_ms.append(answer.server_ms)
        self.client_ms.append((time.perf_counter() - started) * 1000)

    def figures(self) -> dict[str, Any]:
        client, server = self.client_ms, self.server_ms or [float("nan")]
        return {"requests": len(client), "statuses": dict(self.statuses),
                "median_ms": round(statistics.median(client), 2),
                "p99_ms": round(percentile(client, 0.99), 2), "max_ms": round(max(client), 2),
                "server_median_ms": round(statistics.median(server), 2),
                "server_p99_ms": round(percentile(server, 0.99), 2)}


async def send_at_rate(url: str, rate: int, seconds: float, city: dict[str, Any]) -> Tally:
    tally, connections = Tally(), connect(url)
    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):  # a fixed schedule: late answers do not slow the sending
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(
            tally.send(connections, f"bench_{uuid.uuid4().hex}", change(city, i))))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    connections.close()
    return tally


def labelled(answer: Answer) -> str:
    """The status code and the answer's own status ("202 accepted", "200 duplicate")."""
    try:
        status = json.loads(answer.body).get("status", "")
    except (ValueError, AttributeError):
        status = ""
    return f"{answer.status} {status}".strip()


async def send_closed_loop(url: str, clients: int, duplicate_share: float, requests: int,
                           seconds: float, city: dict[str, Any]) -> tuple[Tally, int]:
    """`clients` senders, each sending its next delivery as soon as its previous answer came;
    a `duplicate_share` of them redeliver an earlier, answered delivery (same id and body)."""
    tally, connections = Tally(), connect(url)
    # The same mix of fresh and duplicate deliveries every run.
    chance = random.Random(14)  # noqa: S311 (not a secret)
    answered: list[tuple[str, bytes]] = []
    sent = duplicates = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal sent, duplicates
        while sent < requests and time.perf_counter() < deadline:
            sent += 1
            if answered and chance.random() < duplicate_share:
                duplicates += 1
                await tally.send(connections, *chance.choice(answered), label=labelled)
                continue
            delivery = (f"bench_{uuid.uuid4().hex}", change(city, sent))
            await tally.send(connections, *delivery, label=labelled)
            answered.append(delivery)

    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))),
                           timeout=seconds + 60)
    connections.close()
    return tally, duplicates


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port),
                                "--no-access-log"], cwd=REPO, env=env, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, 60, "the server")
    return process, url


class Running(NamedTuple):
    url: str
    city: dict[str, Any]
    """The city the webhooks change, as it is on disk."""
    forced: subprocess.Popen[str]
    """The forced build keeping the workers rendering; still running = still busy."""


def stopped(forced: subprocess.Popen[str]) -> None:
    forced.kill()
    forced.communicate()


@contextmanager
def services(busy_workers: bool = True, worker_nice: int = 10) -> Iterator[Running]:
    """Redis, a 2-process worker (rendering a forced build of the busy tree when `busy_workers`)
    and `carepress serve`, all private and on loopback; all stopped on leaving, each even if
    stopping another failed (a worker left behind would load every later measurement)."""
    with tempfile.TemporaryDirectory(prefix="carepress-bench-") as scratch, ExitStack() as stack:
        tmp = Path(scratch)
        redis = RedisServer(tmp)
        redis.start()
        stack.callback(redis.stop)
        content = tmp / "content"
        shutil.copytree(CONTENT, content)
        secret = "whsec_" + base64.b64encode(KEY).decode()
        env = service_env(redis.url, content, f"bench-{uuid.uuid4().hex[:8]}",
                          CAREPRESS_OUT_DIR=str(tmp / "out"),
                          CAREPRESS_STATE_DIR=str(tmp / "state"),
                          CAREPRESS_WEBHOOK_SECRETS=secret,
                          # Hundreds of accepted changes are still being written at the end:
                          # no need to wait out the step in progress, the scratch goes anyway.
                          CAREPRESS_STOP_TIMEOUT="2")
        worker = Worker(env, tmp / "worker.log", concurrency=2)
        stack.callback(worker.stop)
        # Workers are batch jobs: on a shared host they run below the API's priority (a
        # Celery worker and its pool are one process group).
        os.setpriority(os.PRIO_PGRP, worker.process.pid, worker_nice)
        busy_env = {**env, "CAREPRESS_CONTENT_DIR": str(busy_content(tmp))}
        forced = cli(busy_env if busy_workers else {**busy_env, "CAREPRESS_BROKER_URL": "x"},
                     "build", "--queue", "--force", "--quiet", "--out", str(tmp / "busy-out"))
        stack.callback(stopped, forced)
        server, url = serve(env, tmp / "server.log")
        stack.callback(stop_group, server)  # the server and the core process it started
        if busy_workers:
            wait_for(lambda: "] received" in (tmp / "worker.log").read_text(), 60,
                     "the workers to start rendering")
        city = yaml.safe_load((content / "locations" / "naperville.yaml").read_text())
        yield Running(url, city, forced)


def run(rate: int, seconds: float, busy_workers: bool = True,
        worker_nice: int = 10) -> dict[str, Any]:
    """Webhooks on a fixed schedule of `rate` per second for `seconds`."""
    with services(busy_workers, worker_nice) as running:
        tally = asyncio.run(send_at_rate(running.url, rate, seconds, running.city))
        busy = running.forced.poll() is None
    return {"rate_per_s": rate, "seconds": seconds, **tally.figures(),
            "workers_busy_throughout": busy_workers and busy, "worker_nice": worker_nice,
            "load_average_1min": round(os.getloadavg()[0], 2)}


def run_clients(clients: int = 8, duplicate_share: float = 0.2, requests: int = 800,
                busy_workers: bool = True, seconds: float = 60,
                worker_nice: int = 10) -> dict[str, Any]:
    """Closed loop: `clients` concurrent senders for `requests` deliveries (at most `seconds`),
    a `duplicate_share` of them redeliveries; the server's p50/p99 from its Server-Timing."""
    with services(busy_workers, worker_nice) as running:
        started = time.perf_counter()
        tally, duplicates = asyncio.run(send_closed_loop(
            running.url, clients, duplicate_share, requests, seconds, running.city))
        took = time.perf_counter() - started
        busy = running.forced.poll() is None
    figures = tally.figures()
    return {"mode": "closed-loop", "clients": clients, "duplicate_share": duplicate_share,
            "requests": figures["requests"], "duplicates_sent": duplicates,
            "seconds": round(took, 2), "per_s": round(figures["requests"] / took, 1),
            "server_p50_ms": figures["server_median_ms"],
            "server_p99_ms": figures["server_p99_ms"],
            "client_p50_ms": figures["median_ms"], "client_p99_ms": figures["p99_ms"],
            "client_max_ms": figures["max_ms"], "statuses": figures["statuses"],
            "workers_busy_throughout": busy_workers and busy, "worker_nice": worker_nice,
            "load_average": [round(load, 2) for load in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=200, help="Requests per second.")
    parser.add_argument("--seconds", type=float, default=None,
                        help="How long to send (default 10; closed loop: at most, default 60).")
    parser.add_argument("--clients", type=int, default=None,
                        help="Closed loop with this many concurrent clients (instead of --rate).")
    parser.add_argument("--duplicates", type=float, default=0.2, metavar="SHARE",
                        help="Closed loop: the share of deliveries sent again (default 0.2).")
    parser.add_argument("--requests", type=int, default=800,
                        help="Closed loop: how many deliveries in all (default 800).")
    parser.add_argument("--idle-workers", action="store_true",
                        help="Skip the forced build: measure with the workers idle.")
    parser.add_argument("--worker-nice", type=int, default=10, choices=range(20),
                        metavar="0-19", help="CPU niceness of the workers (default 10).")
    args = parser.parse_args()
    busy = not args.idle_workers
    if args.clients is not None:
        seconds = 60 if args.seconds is None else args.seconds
        if not (1 <= args.clients <= 64 and 0 <= args.duplicates < 1
                and 1 <= args.requests <= 10000 and 0 < seconds <= 120):
            parser.error("keep it bounded: 1-64 clients, a duplicate share in [0, 1), "
                         "1-10000 requests, at most 120 seconds")
        print(json.dumps(run_clients(args.clients, args.duplicates, args.requests, busy,
                                     seconds, args.worker_nice)))
        return
    seconds = 10 if args.seconds is None else args.seconds
    if not 1 <= args.rate <= 1000 or not 0 < seconds <= 60:
        parser.error("keep it bounded: rate 1-1000 per second, at most 60 seconds")
    print(json.dumps(run(args.rate, seconds, busy, args.worker_nice)))


if __name__ == "__main__":
    main()
