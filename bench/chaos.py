"""Fault injection on real processes and files, against a generated tree of a few hundred documents.

    python -m bench.chaos [--quick] [--random-kills 10] [--burst 40]

Runs, on loopback only and in a temporary folder: `carepress build` stopped after every
publishing step (CAREPRESS_FAULT_KILL_AT=k for every k) and SIGKILLed at random moments; a full
disk (a small tmpfs; skipped with the reason where mounting is not allowed); a poison webhook
and a governance-breaking one followed by valid ones, and SIGTERM of `carepress serve` during
a burst of webhooks (embedded mode); and, on a private redis-server with real Celery workers, a
whole worker SIGKILLed mid-batch and a Redis restart mid-batch. Prints one JSON line:

    {"faults_injected": N, "documents_lost": 0, "documents_mixed": 0, "builds_wedged": 0,
     "accepted_changes_lost": 0, "details": {...}}

Every figure but the first must be 0; the exit status is 1 otherwise. `--quick` uses the demo
tree and fewer faults (every 7th publishing step, 2 random kills, a burst of 10); the smoke test
in tests/test_bench.py runs it with `--no-queue`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from api.signatures import sign_standard
from bench.synth import make_tree
from tests.disk import NoTmpfs, fill, tmpfs
from tests.services import RedisServer, Worker, free_port, service_env, stop_group, wait_for

REPO = Path(__file__).resolve().parents[1]
KEY = b"carepress-chaos-webhook-key-32by"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


@dataclass
class Tally:
    faults_injected: int = 0
    documents_lost: int = 0
    documents_mixed: int = 0
    builds_wedged: int = 0
    accepted_changes_lost: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"chaos: {message}", file=sys.stderr, flush=True)


# --- reading an output folder as a reader does ------------------------------------------------


def view(out: Path) -> dict[str, str]:
    """sha256 of every published file, through the links to the current release."""
    found = {}
    for current, dirs, files in os.walk(out, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".carepress")]
        for name in files:
            if not name.startswith(".carepress"):
                path = Path(current) / name
                found[str(path.relative_to(out))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def mixed(out: Path) -> int:
    """Documents whose files do not all match the manifest and one inputs hash, plus files the
    manifest does not list."""
    entries = json.loads((out / "manifest.json").read_text())["documents"]
    seen = view(out)
    bad: set[str] = set()
    inputs: dict[str, set[str]] = {}
    for entry in entries:
        inputs.setdefault(entry["document"], set()).add(entry["inputs"])
        if seen.get(entry["path"]) != entry["sha256"]:
            bad.add(entry["document"])
    bad |= {d for d, hashes in inputs.items() if len(hashes) > 1}
    listed = {e["path"] for e in entries}
    strays = [p for p in seen if p not in listed and not p.startswith("consent-versions")
              and p != "manifest.json"]
    return len(bad) + len(strays)


def lost(out: Path, clean: dict[str, str]) -> int:
    """Published files that differ from (or are missing against) a clean build's."""
    seen = view(out)
    return sum(seen.get(path) != digest for path, digest in clean.items()) + len(
        set(seen) - set(clean))


def build(content: Path, out: Path, kill_at: int = 0, *extra: str) -> int:
    env = {**os.environ, "CAREPRESS_FAULT_KILL_AT": str(kill_at)}
    done = subprocess.run([sys.executable, "-m", "cli.main", "build", "--content", str(content),
                           "--out", str(out), "--quiet", *extra], cwd=REPO, env=env,
                          capture_output=True, timeout=900, check=False)
    return done.returncode


def copy(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)


# --- publishing --------------------------------------------------------------------------------


def edit(content: Path, clinics: list[str]) -> None:
    """Real changes: two clinics' colours (their PDFs and HTML) and a clinic leaving a place."""
    for clinic in clinics[:2]:
        path = content / "clinics" / f"{clinic}.yaml"
        data = yaml.safe_load(path.read_text())
        data["colors"]["primary"] = "#224466"
        if len(data["locations"]) > 1:
            data["locations"] = data["locations"][:-1]
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def prepare(root: Path, content: Path, clinics: list[str]) -> dict[str, Path]:
    old, clean, staged = root / "old", root / "clean", root / "staged"
    assert build(content, old, 0, "--jobs", "2") == 0, "the first build failed"
    edit(content, clinics)
    assert build(content, clean, 0, "--jobs", "2") == 0, "the clean build failed"
    copy(old, staged)
    build(content, staged, 1, "--jobs", "2")  # renders into staging, killed at the first step
    return {"old": old, "clean": clean, "staged": staged}


def after_kill(tally: Tally, content: Path, out: Path, states: dict[str, Path],
               clean: dict[str, str]) -> None:
    """What a reader sees after the kill, then whether the next build recovers."""
    tally.faults_injected += 1
    seen = view(out)
    if seen not in (view(states["old"]), clean):
        tally.documents_mixed += max(1, mixed(out))
    else:
        tally.documents_mixed += mixed(out)
    if build(content, out) != 0:
        tally.builds_wedged += 1
    tally.documents_lost += lost(out, clean)


def publish_kills(tally: Tally, root: Path, content: Path, states: dict[str, Path],
                  random_kills: int, stride: int) -> None:
    """Kill the build at publishing step k for k = 1, 1 + stride, … until one finishes."""
    clean = view(states["clean"])
    k = 1
    while k < 5000:
        out = root / "k"
        copy(states["staged"], out)
        if build(content, out, k) == 0:
            break
        after_kill(tally, content, out, states, clean)
        k += stride
    tally.details["publishing_steps"] = k - 1
    rng = random.Random(20261202)  # noqa: S311 (kill times, not secrets)
    for _ in range(random_kills):
        out = root / "r"
        copy(states["staged"], out)
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "build", "--content",
                                    str(content), "--out", str(out), "--quiet"], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        after_kill(tally, content, out, states, clean)
    log(f"publishing: killed at every {stride} of {k - 1} steps, {random_kills} random kills")


def disk_full(tally: Tally, root: Path, content: Path, states: dict[str, Path]) -> None:
    size = sum(p.stat().st_size for p in states["old"].rglob("*") if p.is_file())
    try:
        with tmpfs(root / "disk", str(size * 2 + (4 << 20))) as mount:
            out = mount / "out"
            copy(states["old"], out)
            before = view(out)
            filler = fill(mount)
            tally.faults_injected += 1
            done = subprocess.run([sys.executable, "-m", "cli.main", "build", "--content",
                                   str(content), "--out", str(out), "--quiet"], cwd=REPO,
                                  capture_output=True, text=True, timeout=600, check=False)
            errors = [line for line in done.stderr.splitlines() if "error:" in line]
            tally.details["disk_full"] = {"exit": done.returncode, "error_lines": errors}
            tally.documents_mixed += mixed(out) + (view(out) != before)
            filler.unlink()
            if build(content, out) != 0:
                tally.builds_wedged += 1
            tally.documents_lost += lost(out, view(states["clean"]))
    except NoTmpfs as refused:
        tally.details["disk_full"] = f"skipped: {refused}"


# --- the HTTP service --------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict[str, str], log_file: Path) -> None:
        self.env, self.port = env, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.handle = log_file.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port),
             "--no-access-log"], cwd=REPO, env=env, stdout=self.handle,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        wait_for(self._up, 60, "the server")

    def _up(self) -> bool:
        try:
            return self.client.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def send(self, payload: dict[str, Any]) -> httpx.Response:
        body = json.dumps(payload).encode()
        delivery, now = f"chaos_{uuid.uuid4().hex}", int(time.time())
        return self.client.post("/v1/webhooks/cms", content=body, headers={
            "webhook-id": delivery, "webhook-timestamp": str(now),
            "webhook-signature": sign_standard(KEY, delivery, now, body),
            "content-type": "application/json"})

    def outcome(self, batch: str, timeout: float = 600) -> str:
        found: dict[str, Any] = {}

        def finished() -> bool:
            found.update(self.client.get(f"/v1/batches/{batch}").json())
            return found.get("status") in ("done", "failed")

        try:
            wait_for(finished, timeout, f"batch {batch}")
        except TimeoutError:
            return "stuck"
        return str(found["status"])

    def stop(self) -> None:
        stop_group(self.process)
        self.handle.close()


def entry(content: Path, folder: str, entry_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((content / folder / f"{entry_id}.yaml").read_text())
    return data


def api_faults(tally: Tally, root: Path, content: Path, states: dict[str, Path],
               clinics: list[str], places: list[str], burst: int) -> None:
    out = root / "api-out"
    copy(states["clean"], out)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
    env.update({"CAREPRESS_CONTENT_DIR": str(content), "CAREPRESS_OUT_DIR": str(out),
                "CAREPRESS_STATE_DIR": str(root / "state"), "CAREPRESS_WEBHOOK_SECRETS": SECRET})
    server = Server(env, root / "server.log")
    city = next(p for p in places if entry(content, "locations", p).get("type") == "city")
    accepted: list[tuple[str, str]] = []
    try:
        clinic = entry(content, "clinics", clinics[0])
        poisons = [{**clinic, "logo": "logos/no-extension"},
                   {**clinic, "emergency": "Call 911 now."}]  # wording without a new revision
        answers = []
        for data in poisons:
            tally.faults_injected += 1
            answer = server.send({"type": "clinic", "id": clinics[0], "data": data})
            answers.append(answer.status_code)
            # Published, a change the build refuses would fail every build after it.
            if answer.status_code == 202 and server.outcome(answer.json()["batch"]) == "done":
                tally.builds_wedged += 1
        tally.details["poison_answers"] = answers
        place = entry(content, "locations", city)
        for n in range(burst):
            summary = f"Chaos burst edit {n}."
            answer = server.send({"type": "location", "id": city,
                                  "data": {**place, "summary": summary}})
            if answer.status_code == 202:
                accepted.append((answer.json()["batch"], summary))
            if n == burst // 2:
                tally.faults_injected += 1
                server.process.send_signal(signal.SIGTERM)
                break
        server.process.wait(120)
    finally:
        server.stop()
    server = Server(env, root / "server-restarted.log")
    try:
        outcomes = [server.outcome(batch) for batch, _summary in accepted]
        tally.accepted_changes_lost += sum(o != "done" for o in outcomes)
        if accepted and entry(content, "locations", city)["summary"] != accepted[-1][1]:
            tally.accepted_changes_lost += 1
        tally.details["burst"] = {"accepted": len(accepted), "outcomes": sorted(set(outcomes))}
    finally:
        server.stop()
    clean = root / "api-clean"
    build(content, clean)
    tally.documents_lost += lost(out, view(clean))
    tally.documents_mixed += mixed(out)


# --- the queue ---------------------------------------------------------------------------------


def queue_faults(tally: Tally, root: Path, content: Path, states: dict[str, Path]) -> None:
    """A whole worker (main process and pool) SIGKILLed mid-batch, and Redis restarted
    mid-batch; the batch must still complete, with the bytes of a clean build."""
    with RedisServer(root / "redis") as redis:
        env = service_env(redis.url, content, f"chaos-{uuid.uuid4().hex[:6]}")
        for fault in ("worker", "redis"):
            out = root / f"queue-{fault}"
            copy(states["old"], out)
            first = Worker(env, root / f"{fault}-1.log", 1)
            second = Worker(env, root / f"{fault}-2.log", 1)  # takes over
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "build", "--queue", "--force", "--quiet",
                 "--out", str(out)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            time.sleep(4)
            tally.faults_injected += 1
            if fault == "worker":
                os.killpg(first.pid, signal.SIGKILL)
            else:
                redis.stop()
                time.sleep(2)
                redis.start()
            try:
                process.wait(300)
            except subprocess.TimeoutExpired:
                process.kill()
                tally.builds_wedged += 1
            tally.details[f"queue_{fault}_s"] = round(time.monotonic() - started, 1)
            for worker in (first, second):
                worker.stop()
            if process.returncode != 0:
                tally.builds_wedged += 1
            tally.documents_lost += lost(out, view(states["clean"]))
            tally.documents_mixed += mixed(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="demo tree, fewer faults")
    parser.add_argument("--random-kills", type=int, default=None)
    parser.add_argument("--burst", type=int, default=None)
    parser.add_argument("--stride", type=int, default=None,
                        help="kill at every Nth publishing step (default 1; --quick 7)")
    parser.add_argument("--no-queue", action="store_true", help="skip the Redis/worker faults")
    args = parser.parse_args(argv)
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="carepress-chaos-") as scratch:
        root = Path(scratch)
        content = root / "content"
        if args.quick:
            shutil.copytree(REPO / "content", content)
        else:
            make_tree(content, REPO / "content", clinics=16, locations=30, states=3)
        clinics = sorted(p.stem for p in (content / "clinics").glob("*.yaml") if "." not in p.stem)
        places = sorted(p.stem for p in (content / "locations").glob("*.yaml")
                        if "." not in p.stem)
        states = prepare(root, content, clinics)
        documents = len(json.loads((states["clean"] / "manifest.json").read_text())["documents"])
        tally.details["files"] = documents
        log(f"tree: {len(clinics)} clinics, {len(places)} places, {documents} published files")
        publish_kills(tally, root, content, states, args.random_kills or (2 if args.quick else 10),
                      args.stride or (7 if args.quick else 1))
        disk_full(tally, root, content, states)
        if not args.no_queue:
            queue_faults(tally, root, content, states)
        # Last: its webhooks edit the content tree the other faults compare against.
        api_faults(tally, root, content, states, clinics, places,
                   args.burst or (10 if args.quick else 40))
    tally.details["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(asdict(tally)))
    clean = (tally.documents_lost, tally.documents_mixed, tally.builds_wedged,
             tally.accepted_changes_lost)
    return 0 if not any(clean) else 1


if __name__ == "__main__":
    sys.exit(main())
