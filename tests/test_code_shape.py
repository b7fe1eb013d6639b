"""The code stays readable in small pieces: no module over 300 lines, no function over 40."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("generator", "api", "worker", "cli")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def test_the_packages_are_found() -> None:
    # a wrong root would make both checks below pass on nothing
    assert len(_modules()) > 40


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_module_and_function_sizes(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    too_long = [f"{path.name}:{node.lineno} {node.name} has {node.end_lineno - node.lineno + 1}"
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.end_lineno is not None
                and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert source.count("\n") <= MAX_MODULE_LINES, f"{path.name}: {source.count(chr(10))} lines"
    assert not too_long, too_long
