"""carepress benchmark: `python bench/run.py [--quick] [--repeat N] [--baseline REV]
[--output FILE]`, or `python bench/run.py --profile FILE` for a cProfile of one warm handout.

Generates a synthetic content tree (40 clinics, 2 therapies, 60 locations, English and Spanish;
--quick a tenth) in a temporary folder, measures every figure side by side in one run (the
speed-up against REV, f897949 in a full run, from a temporary worktree of it), writes
bench/results.json and prints the same JSON as the last line of standard output. Progress goes
to standard error. Ratios are the targets (the machine is shared and noisy); absolute times are
reported too. bench/README.md says how each figure is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import baseline, peer, synth  # noqa: E402
from bench import webhook_latency as webhook  # noqa: E402
from bench.services import MeasuredRedis, MeasuredWorker, find_chromium  # noqa: E402

RESULTS = REPO / "bench" / "results.json"
SUMMARY = re.compile(r"built (\d+), unchanged (\d+), failed (\d+), removed (\d+)")
FIGURES = (
    "overhead", "speedup_handout", "speedup_consent", "peer_chromium_ratio", "one_change_warm",
    "queue_cpu", "webhook_p99_ms", "parallel_speedup", "noop_rebuild", "html_pages_per_s",
    "memory_growth_mb", "pdf_ms_per_page_handout", "pdf_ms_per_page_consent",
    "queue_worker_rss_mb",
)
QUEUE_FIGURES = ("one_change_warm", "queue_cpu", "queue_worker_rss_mb")
QUEUE_TARGETS = {"one_change_warm": "<= clinic's share of PDF time + 0.01",
                 "queue_cpu": "<= 1.05", "queue_worker_rss_mb": "report"}
BASELINE = "f897949"  # the revision issue 14's speed-up is measured against


@dataclass(frozen=True)
class Plan:
    """How much of everything to do; --quick is a tenth of the content and fewer repeats."""

    quick: bool
    sizes: dict[str, int]
    samples: int  # documents timed per kind in the warm process
    memory: tuple[int, int]  # (renders, base)
    queue_renders: int  # worker RSS read after this many renders
    quiet_wait: float  # at most this many seconds waited for a quiet machine before a step
    baseline: tuple[int, int]  # (rounds, documents per kind) of the speed-up probe
    webhook_requests: int  # sent by the 8 webhook clients together
    repeat: int = 1  # rounds of full builds (and rebuilds); the fastest counts
    baseline_revision: str | None = None  # None: the speed-up figures are not measured


FULL = Plan(False, synth.FULL, 10, (500, 10), 200, 60, (6, 3), 1600, 1, BASELINE)
QUICK = Plan(True, synth.QUICK, 4, (50, 10), 50, 0, (1, 1), 160)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def figure(value: float | None, unit: str, target: str, met: bool | None,
           **details: Any) -> dict[str, Any]:
    return {"value": _round(value), "unit": unit, "target": target, "met": met,
            **{k: _round(v) for k, v in details.items()}}


def unavailable(unit: str, target: str, reason: str) -> dict[str, Any]:
    return figure(None, unit, target, None, reason=reason)


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4 if abs(value) < 10 else 1)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without CAREPRESS_* settings (they would change what is built)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has used since boot (from /proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_s() -> float:
    """CPU seconds of this process and of its children that have exited."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class Meter:
    """Wall time, our CPU time, and how busy the rest of the (shared) machine was meanwhile:
    other_load is the share of all cores used by processes that are not part of the
    measurement (0: quiet; 0.5 on 2 cores: someone else kept a whole core busy)."""

    def __init__(self, extra_cpu: Callable[[], float] | None = None) -> None:
        self.extra_cpu = extra_cpu or (lambda: 0.0)
        self.wall_s = self.cpu_s = self.other_load = self.extra_s = 0.0

    def __enter__(self) -> Meter:
        self._start = (time.perf_counter(), own_cpu_s(), self.extra_cpu(), machine_busy_s())
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, own0, extra0, busy0 = self._start
        self.wall_s = time.perf_counter() - wall0
        self.extra_s = self.extra_cpu() - extra0
        self.cpu_s = own_cpu_s() - own0 + self.extra_s
        foreign = max(0.0, machine_busy_s() - busy0 - self.cpu_s)
        self.other_load = foreign / (self.wall_s * (os.cpu_count() or 1))


def wait_quiet(limit: float, threshold: float = 0.15) -> tuple[float, float]:
    """Wait until other processes used less than `threshold` of all cores over one second, or
    `limit` seconds passed; returns (seconds waited, last other load)."""
    start = time.monotonic()
    while True:
        with Meter() as meter:
            time.sleep(1.0)
        waited = time.monotonic() - start
        if meter.other_load < threshold or waited >= limit:
            return waited, meter.other_load


@dataclass(frozen=True)
class BuildRun:
    wall_s: float
    cpu_s: float
    other_load: float
    built: int
    unchanged: int
    service_cpu_s: float = 0.0
    """Of cpu_s: the queue worker's and redis-server's share (the rest is the CLI's)."""
    parts: dict[str, float] = dataclasses.field(default_factory=dict)
    """cpu_s by process: the CLI, the worker's parts, redis-server (queued builds)."""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"wall_s": self.wall_s, "cpu_s": self.cpu_s,
                                "other_load": self.other_load, "built": self.built,
                                "unchanged": self.unchanged}
        if self.service_cpu_s:
            data["service_cpu_s"] = self.service_cpu_s
        if self.parts:
            data["cpu_s_by_process"] = self.parts
        return data


def cli_build(content: Path, out: Path, *options: str, env: dict[str, str] | None = None,
              extra_cpu: Callable[[], float] | None = None) -> BuildRun:
    """`python -m cli.main build` in a fresh process: start-up is counted as a user sees it."""
    command = [sys.executable, "-m", "cli.main", "build", "--content", str(content), "--out",
               str(out), "--quiet", *options]
    with Meter(extra_cpu) as meter:
        result = subprocess.run(command, cwd=REPO, env=env or clean_env(), capture_output=True,
                                text=True, timeout=3600, check=False)
    match = SUMMARY.search(result.stdout)
    if result.returncode != 0 or match is None or int(match[3]):
        raise RuntimeError(f"{' '.join(command[2:])} failed ({result.returncode}):\n"
                           f"{result.stdout[-1500:]}{result.stderr[-3000:]}")
    run = BuildRun(meter.wall_s, meter.cpu_s, meter.other_load, int(match[1]), int(match[2]),
                   meter.extra_s)
    log(f"  build {' '.join(options)}: {run.wall_s:.2f}s wall, {run.cpu_s:.1f}s cpu, "
        f"built {run.built}, unchanged {run.unchanged}, other load {run.other_load:.0%}")
    return run


def probe(kind: str, **arguments: Any) -> dict[str, Any]:
    """An in-process measurement in a fresh child process (bench/probes.py)."""
    with Meter() as meter:
        result = subprocess.run(
            [sys.executable, "-m", "bench.probes", kind, json.dumps(arguments)], cwd=REPO,
            env=clean_env(), capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"probe {kind} failed:\n{result.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    data["other_load"] = meter.other_load
    return data


class QueueService:
    """A private redis-server and one `carepress worker --concurrency 2`, kept up while the
    in-process and queued builds alternate; samples the pool's RSS as renders accumulate."""

    WORKERS = "one `carepress worker --concurrency 2` (prefork: 2 pool children)"

    def __init__(self, folder: Path, content: Path, target_renders: int) -> None:
        self.folder = folder
        self.content = content
        self.target = target_renders
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> QueueService:
        import redis  # celery[redis] brings it

        self.folder.mkdir()
        with self._stack as stack:
            self.server = stack.enter_context(MeasuredRedis(self.folder / "redis"))
            url = self.server.url
            self.env = clean_env(
                CAREPRESS_BROKER_URL=f"{url}/0", CAREPRESS_RESULT_BACKEND=f"{url}/1",
                CAREPRESS_CONTENT_DIR=str(self.content), CAREPRESS_QUEUE=f"bench-{os.getpid()}",
                CAREPRESS_BROKER_WAIT="60")
            log(f"queue: redis-server on {url}, {self.WORKERS}")
            self.worker = stack.enter_context(
                MeasuredWorker(self.env, self.folder / "worker.log", 2))
            self.warmup_s = self.worker.wait_idle()
            client = redis.Redis.from_url(f"{url}/0")
            self.sampler = stack.enter_context(
                RssSampler(self.worker, lambda: render_count(client), self.target))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def cpu_s(self) -> float:
        return self.worker.cpu_s() + self.server.cpu_s()

    def parts(self) -> dict[str, float]:
        worker = self.worker.cpu_breakdown()
        return {"worker_main": worker["main"], "worker_pool": worker["pool"],
                "redis": self.server.cpu_s()}

    def build(self, out: Path, *options: str) -> BuildRun:
        before = self.parts()
        run = cli_build(self.content, out, "--queue", *options, env=self.env,
                        extra_cpu=self.cpu_s)
        after = self.parts()
        parts = {"cli": run.cpu_s - run.service_cpu_s,
                 **{name: after[name] - before[name] for name in after}}
        return dataclasses.replace(run, parts=parts)

    def reach_target(self, out: Path) -> None:
        while self.sampler.renders() < self.target:  # --quick: one build is too few renders
            self.build(out, "--force")

    def describe(self) -> dict[str, Any]:
        return {"workers": self.WORKERS, "worker_warmup_s": self.warmup_s,
                "redis": self.server.version()}


class Bench:
    def __init__(self, plan: Plan, folder: Path) -> None:
        self.plan = plan
        self.folder = folder
        self.results: dict[str, Any] = {"quiet_waits": []}
        self.figures: dict[str, dict[str, Any]] = {}
        self.full: dict[str, BuildRun] = {}
        self.tree = synth.make_tree(folder / "content", REPO / "content", **plan.sizes)
        self.content = self.tree.root

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        self.results["machine"] = machine()
        self.results["content"] = {"clinics": len(self.tree.clinics),
                                   "therapies": len(self.tree.therapies),
                                   "locations": len(self.tree.locations),
                                   "languages": self.tree.languages}
        warm = self.measure_warm()
        self.measure_speedup()
        with self.queue_service() as queue:
            self.measure_builds(queue)
            self.measure_rebuilds(queue)
        self.measure_memory()
        self.quiet("peer")
        log("peer: warm headless Chromium, tagged Page.printToPDF per handout")
        self.figures["peer_chromium_ratio"] = peer.measure(
            warm["html_files"], warm["handout"]["cpu_median_s"], self.folder / "chromium")
        self.measure_webhook()
        self.results["figures"] = {name: self.figures[name] for name in FIGURES}
        self.results["summary"] = {name: [f["value"], f["target"], f["met"]]
                                   for name, f in self.results["figures"].items()}
        self.results["elapsed_s"] = round(time.perf_counter() - started, 1)
        self.results["loadavg_end"] = os.getloadavg()
        return self.results

    def quiet(self, what: str) -> None:
        """Before a timed step, wait (a bounded time) for other processes to calm down."""
        if self.plan.quiet_wait <= 0:
            return
        waited, load = wait_quiet(self.plan.quiet_wait)
        self.results["quiet_waits"].append({"before": what, "waited_s": waited,
                                            "other_load": round(load, 3)})
        if waited >= 1.5:
            log(f"  waited {waited:.0f}s for a quieter machine (other load {load:.0%})")

    def measure_warm(self) -> dict[str, Any]:
        log("warm renderer: per-document times, pages per second, stage breakdown")
        self.quiet("warm")
        warm = probe("warm", content=str(self.content), out=str(self.folder / "warm-out"),
                     samples=self.plan.samples, html_dir=str(self.folder / "html"))
        self.results["warm"] = {k: v for k, v in warm.items() if k != "html_files"}
        pages = warm["pages"]
        self.figures["html_pages_per_s"] = figure(
            pages["per_s"], "pages/s", ">= 1000", pages["per_s"] >= 1000,
            pages=pages["count"], first_pass_per_s=pages["first_pass_per_s"],
            ms_per_page=1000 / pages["per_s"], other_load=warm["other_load"])
        self.overhead_figure(warm)
        for kind in ("handout", "consent"):
            row = warm[kind]
            self.figures[f"pdf_ms_per_page_{kind}"] = figure(
                row["ms_per_page"], "ms/page", "report", None, pages=row["pages_median"],
                document_ms=row["median_s"] * 1000, pdf_only_ms=row["pdf_median_s"] * 1000,
                documents_timed=row["n"], other_load=warm["other_load"])
        return warm

    def overhead_figure(self, warm: dict[str, Any]) -> None:
        """carepress's warm CPU per PDF document ÷ WeasyPrint's own write_pdf of the same HTML
        and stylesheets, both in the same warm process, document by document."""
        rows = [r for kind in ("handout", "consent") for r in warm[kind]["rows"]]
        value = statistics.median(r["cpu_s"] / r["weasyprint_cpu_s"] for r in rows)
        self.figures["overhead"] = figure(
            value, "ratio", "<= 1.05", value <= 1.05, documents=len(rows),
            **{kind: {"carepress_cpu_s": warm[kind]["cpu_median_s"],
                      "weasyprint_cpu_s": warm[kind]["weasyprint_cpu_median_s"],
                      "ratio": warm[kind]["overhead"],
                      "carepress_split_cpu_s": warm[kind]["split_cpu_median_s"]}
               for kind in ("handout", "consent")},
            other_load=warm["other_load"],
            reference="weasyprint.HTML(string=the print HTML).write_pdf(stylesheets=the two "
                      "print stylesheets parsed once, the same FontConfiguration, "
                      "pdf_variant='pdf/ua-1', pdf_tags=True, pdf_forms=True); WeasyPrint's "
                      "fetcher, compression and /ID",
            carepress="DocumentRenderer.render: context, web and print HTML, write_pdf "
                      "uncompressed, then the finishing pass (PDF/UA fixes, form fields, "
                      "qpdf compression)")

    def measure_speedup(self) -> None:
        names = ("speedup_handout", "speedup_consent")
        revision = self.plan.baseline_revision
        if revision is None:
            for name in names:
                self.figures[name] = unavailable("ratio", ">= 1.3", "skipped: no --baseline")
            return
        rounds, docs = self.plan.baseline
        log(f"speed-up: this tree against {revision}, {rounds} alternating rounds")
        self.quiet("speed-up")
        try:
            measured = baseline.measure(revision, self.folder / "baseline", rounds, docs)
            self.figures.update({name: _round(data) for name, data in measured.items()})
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            for name in names:
                self.figures[name] = unavailable("ratio", ">= 1.3", f"failed: {exc}")

    def measure_webhook(self) -> None:
        """8 concurrent clients, a fifth of the deliveries duplicates, the workers rendering a
        forced queued build throughout: the server's own p99 (its Server-Timing header)."""
        self.quiet("webhook")
        log(f"webhook: {self.plan.webhook_requests} signed deliveries from 8 clients, "
            "workers busy")
        target = "<= 25 (server's own p99)"
        try:
            data = webhook.run_clients(clients=8, duplicate_share=0.2,
                                       requests=self.plan.webhook_requests)
        except (FileNotFoundError, ImportError, TimeoutError) as exc:
            self.figures["webhook_p99_ms"] = unavailable("ms", target, f"skipped: {exc}")
            return
        p99 = data["server_p99_ms"]
        busy = data["workers_busy_throughout"]
        self.figures["webhook_p99_ms"] = figure(
            p99, "ms", target, p99 <= 25 if busy else None, **data,
            **({} if busy else {"reason": "the workers finished before the clients did"}))

    def build(self, out: str, *options: str) -> BuildRun:
        self.quiet(f"build {out} {' '.join(options)}")
        return cli_build(self.content, self.folder / out, *options)

    def measure_builds(self, queue: QueueService | None) -> None:
        """Full builds into empty folders, alternating --jobs 1, --jobs 2 and --queue; the
        best of --repeat rounds counts (noise only ever adds time)."""
        runs: dict[str, list[BuildRun]] = {"jobs1": [], "jobs2": [], "queue": []}
        for r in range(self.plan.repeat):
            log(f"full builds, round {r + 1}/{self.plan.repeat}: --jobs 1, --jobs 2, --queue")
            runs["jobs1"].append(self.build(f"out-1-{r}", "--jobs", "1"))
            runs["jobs2"].append(self.build(f"out-2-{r}", "--jobs", "2"))
            if queue is not None:
                self.quiet("build --queue")
                runs["queue"].append(queue.build(self.folder / f"out-q-{r}"))
        if queue is not None:
            queue.reach_target(self.folder / "out-q-0")
            self.queue_figures(queue, runs)
            self.full["queue"] = min(runs["queue"], key=lambda b: b.wall_s)
        one, two = (min(runs[k], key=lambda b: b.wall_s) for k in ("jobs1", "jobs2"))
        self.full.update(jobs1=one, jobs2=two)
        self.figures["parallel_speedup"] = figure(
            one.wall_s / two.wall_s, "ratio", ">= 1.85", one.wall_s / two.wall_s >= 1.85,
            jobs1=one.as_dict(), jobs2=two.as_dict(), documents=one.built,
            cpu_ratio=two.cpu_s / one.cpu_s, other_load=max(one.other_load, two.other_load),
            rounds={k: [b.wall_s for b in v] for k, v in runs.items()})

    @contextlib.contextmanager
    def queue_service(self) -> Iterator[QueueService | None]:
        """The queue, or None (with both queue figures null) when Redis is missing."""
        with contextlib.ExitStack() as stack:
            queue: QueueService | None = None
            try:
                queue = stack.enter_context(
                    QueueService(self.folder / "queue", self.content, self.plan.queue_renders))
            except (FileNotFoundError, ImportError, TimeoutError) as exc:
                reason = f"skipped: {exc}"
                log(f"queue {reason}")
                for name, unit in zip(QUEUE_FIGURES, ("ratio", "ratio", "MB"), strict=True):
                    self.figures[name] = unavailable(unit, QUEUE_TARGETS[name], reason)
            yield queue

    def queue_figures(self, queue: QueueService, runs: dict[str, list[BuildRun]]) -> None:
        """The queued full build's CPU (CLI, worker, Redis) against `--jobs 2`'s."""
        queued = min(runs["queue"], key=lambda b: b.cpu_s)
        inprocess = min(runs["jobs2"], key=lambda b: b.cpu_s)
        ratio = queued.cpu_s / inprocess.cpu_s
        extra = queued.cpu_s - inprocess.cpu_s
        self.figures["queue_cpu"] = figure(
            ratio, "ratio", QUEUE_TARGETS["queue_cpu"], ratio <= 1.05,
            queued=queued.as_dict(), inprocess_jobs2=inprocess.as_dict(),
            extra_cpu_s=extra, extra_cpu_ms_per_document=1000 * extra / queued.built,
            wall_ratio=queued.wall_s / inprocess.wall_s,
            other_load=max(queued.other_load, inprocess.other_load), **queue.describe())
        rss = queue.sampler.result()
        self.figures["queue_worker_rss_mb"] = figure(
            rss.pop("max_mb"), "MB", "report", None, measure="max over the pool children",
            **rss)

    def measure_rebuilds(self, queue: QueueService | None) -> None:
        """No-op rebuilds (--jobs 2, the figure; --jobs 1), then one clinic's colour changed."""
        log("rebuilds: nothing changed, then one clinic's colour")
        full1, full2 = self.full["jobs1"], self.full["jobs2"]
        noop2 = min((self.build("out-2-0", "--jobs", "2") for _ in range(self.plan.repeat)),
                    key=lambda b: b.wall_s)
        noop1 = self.build("out-1-0", "--jobs", "1")
        self.figures["noop_rebuild"] = figure(
            noop2.wall_s / full2.wall_s, "ratio", "<= 0.02", noop2.wall_s / full2.wall_s <= 0.02,
            jobs2=noop2.as_dict(), jobs1=noop1.as_dict(),
            jobs1_ratio=noop1.wall_s / full1.wall_s, full_build_s=full2.wall_s,
            other_load=max(noop2.other_load, full2.other_load))
        if queue is not None and "queue" in self.full:
            self.measure_one_change(queue)

    def clinic_share_of_pdf_time(self) -> float:
        """Every synthetic clinic has the same documents (a handout and a consent per therapy
        and language) at the same warm cost, so its share of the PDF render time is
        1 / clinics."""
        return 1 / len(self.tree.clinics)

    def measure_one_change(self, queue: QueueService) -> None:
        """One clinic's colour changed (a new colour each round): `build --queue` on the warm
        workers ÷ the full queued build; `--jobs 2` in process beside it."""
        clinic = self.tree.clinics[0]
        queued, inprocess, colours = [], [], []
        for _ in range(self.plan.repeat):
            colours.append("{} -> {}".format(*synth.change_colour(self.tree, clinic)))
            self.quiet("build --queue")
            queued.append(queue.build(self.folder / "out-q-0"))
            inprocess.append(self.build("out-2-0", "--jobs", "2"))
        best, local = (min(runs, key=lambda b: b.wall_s) for runs in (queued, inprocess))
        share = self.clinic_share_of_pdf_time()
        full = self.full["queue"]
        ratio = best.wall_s / full.wall_s
        self.figures["one_change_warm"] = figure(
            ratio, "ratio", f"<= {share + 0.01:.4f} (clinic's share of PDF time "
            f"{share:.4f} + 0.01)", ratio <= share + 0.01, clinic=clinic, colours=colours,
            share=share, queue=best.as_dict(), full_queue=full.as_dict(),
            jobs2_ratio=local.wall_s / self.full["jobs2"].wall_s, jobs2=local.as_dict(),
            fixed_cost_s=best.wall_s - share * full.wall_s,
            other_load=max(best.other_load, full.other_load),
            note="build --queue on workers already warm (WeasyPrint imported, fonts loaded); "
                 "fixed_cost_s: what the rebuild took beyond the clinic's share of the full "
                 "queued build")

    def measure_memory(self) -> None:
        renders, base = self.plan.memory
        log(f"memory: one long-lived renderer, RSS after {renders} renders - after {base}")
        data = probe("memory", content=str(self.content), out=str(self.folder / "mem-out"),
                     renders=renders, base=base)
        self.figures["memory_growth_mb"] = figure(
            data["growth_mb"], "MB", "<= 50", data["growth_mb"] <= 50, **data)

class RssSampler:
    """Polls the worker during the queued build; keeps the pool's RSS at the first sample where
    the workers had done at least `target` renders (the Redis counters carepress keeps)."""

    def __init__(self, worker: MeasuredWorker, count: Callable[[], int], target: int) -> None:
        self.worker = worker
        self.count = count
        self.target = target
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._at_target: dict[str, Any] | None = None
        self._last: dict[str, Any] = {}

    def renders(self) -> int:
        return self.count()

    def _sample(self) -> dict[str, Any]:
        sizes = self.worker.pool_rss_mb()
        return {"renders": self.count(), "children": len(sizes),
                "max_mb": max(sizes, default=0.0), "sum_mb": sum(sizes)}

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            sample = self._sample()
            self._last = sample
            if self._at_target is None and sample["renders"] >= self.target:
                self._at_target = sample

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def result(self) -> dict[str, Any]:
        at = self._at_target or self._sample()
        return {"max_mb": at["max_mb"], "sum_mb": at["sum_mb"], "renders": at["renders"],
                "target_renders": self.target, "children": at["children"],
                "at_end": self._sample(),
                "note": "carepress:renders counters in Redis; pool children are recycled "
                        "after CAREPRESS_MAX_TASKS_PER_CHILD (1000) tasks each"}


def render_count(client: Any) -> int:
    keys = list(client.scan_iter("carepress:renders:*", count=1000))
    return sum(int(v) for v in client.mget(keys) if v is not None) if keys else 0


def machine() -> dict[str, Any]:
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in ("weasyprint", "pydyf", "celery", "websocket-client"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    import ctypes.util

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_start": os.getloadavg(),
            "harfbuzz_subset": ctypes.util.find_library("harfbuzz-subset") is not None,
            "chromium": find_chromium(), "redis_server": shutil.which("redis-server"),
            **versions}


def run_profile(output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="carepress-profile-") as tmp:
        tree = synth.make_tree(Path(tmp) / "content", REPO / "content", **synth.QUICK)
        data = probe("profile", content=str(tree.root), out=str(Path(tmp) / "out"),
                     output=str(output.resolve()))
    log(f"profile of {data['document']} written to {output}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the content (CI smoke)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results JSON file")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="only profile one warm handout render into FILE, then exit")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="rounds of full builds and rebuilds; the fastest counts [1]")
    parser.add_argument("--quiet-wait", type=float, metavar="S",
                        help="wait at most S seconds for a quiet machine before each timed "
                             "step [full: 60, quick: 0]")
    parser.add_argument("--baseline", metavar="REV",
                        help="measure the speed-up against this git revision, checked out as a "
                             f"temporary worktree [full: {BASELINE}, quick: not measured]")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.profile:
        run_profile(args.profile)
        return 0
    plan = dataclasses.replace(QUICK if args.quick else FULL, repeat=max(1, args.repeat))
    if args.quiet_wait is not None:
        plan = dataclasses.replace(plan, quiet_wait=args.quiet_wait)
    if args.baseline is not None:
        plan = dataclasses.replace(plan, baseline_revision=args.baseline)
    folder = Path(tempfile.mkdtemp(prefix="carepress-bench-"))
    log(f"{'quick' if plan.quick else 'full'} run in {folder}")
    try:
        results = {"mode": "quick" if plan.quick else "full", "repeat": plan.repeat,
                   **Bench(plan, folder).run()}
    finally:
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    line = json.dumps(results, separators=(",", ":"))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.output}")
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
