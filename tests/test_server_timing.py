"""Every answer of the real server (`carepress serve`) carries the server's own time in a
Server-Timing header, and that time is no longer than what the client saw."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api_client import KEY, PATH, Api, serve, standard_headers


@pytest.fixture
def api(content: Path, tmp_path: Path) -> Iterator[Api]:
    started = serve(tmp_path, content, tmp_path / "out")  # embedded: no broker needed
    yield started
    started.stop()


def timed(api: Api, body: bytes, headers: dict[str, str]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    answer = api.client.post(PATH, content=body, headers=headers)
    return answer, (time.perf_counter() - started) * 1000


def server_ms(answer: httpx.Response) -> float:
    values = answer.headers.get_list("server-timing")
    assert len(values) == 1, values  # one timing, not the middleware's and a handler's
    name, _, duration = values[0].partition(";dur=")
    assert name == "app", values
    return float(duration)


@pytest.mark.slow
def test_signed_and_refused_webhooks_carry_the_servers_own_time(api: Api):
    # The entry as it is on disk: signed, verified, claimed and validated, yet renders nothing.
    body = json.dumps({"type": "location", "id": "naperville",
                       "data": api.entry("locations", "naperville")}).encode()
    signed = standard_headers(KEY, f"msg_timing_{time.time_ns()}", int(time.time()), body)
    answers = [timed(api, body, signed), timed(api, body, signed),
               timed(api, body, standard_headers(b"x" * 32, "msg_forged", int(time.time()), body))]
    assert [(a.status_code, a.json().get("status")) for a, _ in answers] == [
        (200, "unchanged"), (200, "duplicate"), (401, None)]
    for answer, round_trip in answers:
        assert 0 < server_ms(answer) <= round_trip, (answer.status_code, round_trip)


@pytest.mark.slow
def test_every_route_carries_it(api: Api):
    for path in ("/healthz", "/v1/batches/unknown", "/nowhere"):
        started = time.perf_counter()
        answer = api.client.get(path)
        assert 0 < server_ms(answer) <= (time.perf_counter() - started) * 1000, path
