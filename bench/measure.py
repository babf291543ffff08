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

# Linux keeps a process's peak RSS across exec from the process it was spawned by, so a
# child of this (by then large) benchmark process would report at least this process's size
# (every figure under it read the same, about 72 MB after the 100k corpus). The measured
# process is therefore forked from a small one in between, which reports its peak (wait4).
_MEASURED = """\
import os, runpy, sys
pid = os.fork()
if pid == 0:
    code = 0
    try:
        {run}
    except SystemExit as e:
        code = e.code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""
_CHILD = _MEASURED.replace(
    "{run}", "sys.argv = ['feeds', *sys.argv[1:]]; runpy.run_module('feeds', run_name='__main__')"
)


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


_SCRIPT = _MEASURED.replace(
    "{run}", "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)
