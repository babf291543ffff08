"""Shared by the benchmarks: run the feeds CLI in a fresh process, time it, read its peak RSS."""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import time
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
