"""The benchmark's --quick mode as a smoke test: it runs end to end and reports every figure.

No timing is asserted: CI machines are shared and noisy. Chromium and Redis are optional (a
figure that needs a missing one is reported as null with the reason)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

FIGURES = {
    "overhead", "speedup_handout", "speedup_consent", "peer_chromium_ratio", "one_change_warm",
    "queue_cpu", "webhook_p99_ms", "parallel_speedup", "noop_rebuild", "html_pages_per_s",
    "memory_growth_mb", "pdf_ms_per_page_handout", "pdf_ms_per_page_consent",
    "queue_worker_rss_mb",
}
OPTIONAL = {"peer_chromium_ratio", "one_change_warm", "queue_cpu", "webhook_p99_ms",
            "queue_worker_rss_mb"}
"""Figures that need Chromium or Redis; the rest must always have a value."""


@pytest.mark.slow
def test_quick_benchmark_ends_with_one_json_line_of_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--baseline", "HEAD", "--output",
         str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    last = result.stdout.strip().splitlines()[-1]
    data = json.loads(last)
    assert data["mode"] == "quick"
    assert set(data["figures"]) == FIGURES
    for name, item in data["figures"].items():
        assert {"value", "unit", "target", "met"} <= set(item), name
        assert item["met"] in (True, False, None), name
        if item["value"] is None:
            assert item["met"] is None and item["reason"], name
        else:
            assert isinstance(item["value"], int | float), name
    for name in FIGURES - OPTIONAL:  # builds, in-process probes and the baseline worktree
        assert data["figures"][name]["value"] is not None, name
    speedup = data["figures"]["speedup_handout"]
    assert speedup["same_documents"] and speedup["cpu_s_base"] > 0, speedup
    overhead = data["figures"]["overhead"]
    assert overhead["handout"]["weasyprint_cpu_s"] > 0, overhead
    assert json.loads(output.read_text()) == data


@pytest.mark.slow
def test_quick_chaos_run_injects_faults_and_loses_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "bench.chaos", "--quick", "--no-queue"],
                            cwd=REPO, capture_output=True, text=True, timeout=900)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["faults_injected"] >= 8, data
    assert {k: data[k] for k in ("documents_lost", "documents_mixed", "builds_wedged",
                                 "accepted_changes_lost")} == dict.fromkeys(
        ("documents_lost", "documents_mixed", "builds_wedged", "accepted_changes_lost"), 0), data
    assert result.returncode == 0, result.stderr[-4000:]
