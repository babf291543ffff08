"""Shared by the benchmarks: run the feeds CLI in a fresh process, time it, read its peak RSS."""

from __future__ import annotations

import compileall
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "bench" / "corpus.py"
WORK = ROOT / "bench" / "work"

_CHILD = """\
import resource, runpy, sys
sys.argv = ['feeds', *sys.argv[1:]]
code = 0
try:
    runpy.run_module('feeds', run_name='__main__')
except SystemExit as e:
    code = e.code
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


_compiled = False


def _compile() -> None:
    """Byte-compile feeds once, as an installed package is; with PYTHONDONTWRITEBYTECODE set
    (as on this machine) every run would otherwise compile every module again."""
    global _compiled
    if not _compiled:
        compileall.compile_dir(ROOT / "feeds", quiet=1)
        _compiled = True


def run_feeds(*args: str) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of ``feeds ARGS`` in a new process."""
    _compile()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seconds = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    if proc.returncode not in (0, 1) or not lines or not lines[-1].isdigit():
        sys.exit(f"feeds {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return seconds, int(lines[-1]) / 1024, proc.returncode


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and every process it waited for
    peak_mb: float  # the process's own maximum RSS
    code: int


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_measured(*args: str) -> Measured:
    """``run_feeds`` with the CPU time it used (its worker processes included)."""
    before = _children_cpu()
    wall, peak, code = run_feeds(*args)
    return Measured(wall, _children_cpu() - before, peak, code)


def run_script(*argv: str) -> Measured:
    """Any Python script in a new process, measured like ``run_measured``."""
    before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *argv], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != 0 or not lines or not lines[-1].isdigit():
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    return Measured(wall, _children_cpu() - before, int(lines[-1]) / 1024, 0)


_SCRIPT = """\
import resource, runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""
