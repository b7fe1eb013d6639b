"""The speed-up figures: warm CPU-seconds per handout and per consent on a baseline revision ÷
the same on this tree, from alternating child processes (bench/levers.py's probe, which runs
against either package layout), the baseline checked out as a temporary git worktree."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import levers

REPO = Path(__file__).resolve().parents[1]
TARGET = 1.3
CHECKS = ("the accessibility and layout checks are the test suite's (tests/test_pdfua.py, "
          "test_layout.py, test_accessibility.py); they pass on this tree")


def therapies(root: Path) -> set[str]:
    """Therapy ids of a tree's demo content (<id>.yaml, not its translations <id>.<lang>.yaml)."""
    return {p.stem for p in (root / "content" / "therapies").glob("*.yaml") if "." not in p.stem}


@contextlib.contextmanager
def worktree(revision: str, folder: Path) -> Iterator[tuple[Path, str]]:
    """A detached worktree of `revision`, removed afterwards; yields it and its commit."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify",
                             f"{revision}^{{commit}}"], capture_output=True, text=True,
                            check=True).stdout.strip()
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--force",
                    str(folder), commit], capture_output=True, check=True)
    try:
        yield folder, commit
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)],
                       capture_output=True, check=False)


def measure(revision: str, folder: Path, rounds: int, docs: int) -> dict[str, dict[str, Any]]:
    """Both figures, speedup_handout and speedup_consent (head faster than base: > 1)."""
    with worktree(revision, folder) as (base, commit):
        common = therapies(base) & therapies(REPO)
        if not common:
            raise RuntimeError(f"{revision} and this tree share no therapy to time")
        therapy = min(common)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPRESS_")}
        result = levers.run_baseline(base, rounds, docs, env={**env, "LEVERS_THERAPY": therapy})
    same = result["documents"]["base"] == result["documents"]["head"]
    return {f"speedup_{kind}": _figure(result, kind, revision, commit, therapy, same)
            for kind in levers.KINDS}


def _figure(result: dict[str, Any], kind: str, revision: str, commit: str, therapy: str,
            same_documents: bool) -> dict[str, Any]:
    row = result[kind]
    value = row["speedup_head_over_base"]
    met = value >= TARGET if same_documents else None
    return {"value": value, "unit": "ratio", "target": f">= {TARGET} (baseline {revision})",
            "met": met, "baseline": commit, "therapy": therapy,
            "cpu_s_base": row["cpu_s_base"], "cpu_s_head": row["cpu_s_head"],
            "rounds": row["rounds"], "documents": result["documents"]["head"][kind],
            "same_documents": same_documents, "checks": CHECKS,
            "how": "child processes alternating base/head each round, warm CPU-seconds "
                   "(time.process_time) per document, median of the per-round ratios"}
