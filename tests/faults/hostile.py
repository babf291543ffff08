"""Shared by the hostile-input tests: the CLI under a memory cap, and what a site published."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import feedparser

from tests.helpers import ROOT, Site

# A hostile input that exhausts memory must fail its test, not the machine.
MEMORY_CAP = 1536 * 1024 * 1024


def cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def cli(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m feeds`` as a subprocess with its address space capped; a hang past
    ``timeout`` seconds raises ``TimeoutExpired`` (the child is killed), failing the test."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "feeds", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=timeout,
        check=False,
        preexec_fn=cap_memory,
    )


def titles(site: Site) -> set[str]:
    """Every entry title in every Atom/RSS file the site wrote."""
    found: set[str] = set()
    for path in site.out.rglob("*.xml"):
        found |= {e.get("title", "") for e in feedparser.parse(path.read_bytes()).entries}
    return found
