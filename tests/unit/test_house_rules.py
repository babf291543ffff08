"""The size rules of the code (issue "One road through the build"): no module in feeds/ over
450 lines and no function over 60. Branch points (15 at most) are checked by ruff's C901 and
PLR0912 in the test command."""

from __future__ import annotations

import ast
from pathlib import Path

FEEDS = Path(__file__).resolve().parents[2] / "feeds"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(FEEDS.rglob("*.py"))


def test_no_module_is_over_450_lines() -> None:
    long = {
        p.name: n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long


def test_no_function_is_over_60_lines() -> None:
    long = []
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{p.relative_to(FEEDS)}:{node.lineno} {node.name} {lines}")
    assert not long
