#!/usr/bin/env python3
"""Benchmark ``feeds build`` on a generated corpus; prints figures, asserts nothing.

    .venv/bin/python bench/build.py [--posts 10000] [--categories 20] [--runs 3]

The corpus comes from ../shared/tools/gen_corpus.py (deterministic). Each run is a fresh
``python -m feeds build`` subprocess (cold: empty output folder; then a rebuild with nothing
changed). Peak memory is the child's max RSS. A floor is timed too: reading every post's bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import GEN, WORK, run_feeds

CONFIG = """\
site:
  title: 基准测试
  url: https://bench.example.com
posts:
  dirs: [_posts]
output:
  dir: output
"""


def run_build(corpus: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one ``feeds build`` in a fresh process."""
    seconds, peak, _ = run_feeds("build", "-c", str(corpus / "config.yaml"))
    return seconds, peak


def floor(corpus: Path) -> float:
    start = time.perf_counter()
    total = 0
    for p in (corpus / "_posts").iterdir():
        total += len(p.read_bytes())
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--categories", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    corpus = WORK / f"corpus-{a.posts}-{a.categories}"
    if not (corpus / "_posts").is_dir():
        subprocess.run([sys.executable, str(GEN), str(corpus), "--posts", str(a.posts),
                        "--categories", str(a.categories), "--seed", "1"], check=True)
    (corpus / "config.yaml").write_text(CONFIG, encoding="utf-8")
    print(f"corpus: {a.posts} posts, {a.categories} categories; {os.cpu_count()} cores; "
          f"Python {sys.version.split()[0]}")
    floor(corpus)  # warm the page cache first
    print(f"floor (read every post's bytes, warm cache): "
          f"{min(floor(corpus) for _ in range(3)):.3f} s")
    cold, warm = [], []
    for _ in range(a.runs):
        shutil.rmtree(corpus / "output", ignore_errors=True)
        cold.append(run_build(corpus))
        warm.append(run_build(corpus))
    for label, runs in (("cold build (empty output)", cold), ("rebuild, nothing changed", warm)):
        best = min(s for s, _ in runs)
        peak = max(m for _, m in runs)
        print(f"{label}: best {best:.2f} s of {a.runs}, {a.posts / best:,.0f} posts/s, "
              f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
