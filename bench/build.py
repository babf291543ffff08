#!/usr/bin/env python3
"""Benchmark ``feeds build`` on generated corpora; prints figures, asserts nothing.

    .venv/bin/python bench/build.py [--posts 10000 100000] [--categories 20] [--runs 3]

Each corpus comes from bench/corpus.py (deterministic). Every run is a fresh
``feeds build`` process: cold (no output, no cache), a rebuild with nothing changed, and a
rebuild after one post's body changed. Peak memory is the process's max RSS. A floor is timed
too: reading every post's bytes (warm cache), so each figure can be read as a ratio to it.
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
state:
  dir: state
"""


def floor(corpus: Path) -> float:
    start = time.perf_counter()
    for p in (corpus / "_posts").iterdir():
        p.read_bytes()
    return time.perf_counter() - start


def corpus_for(posts: int, categories: int) -> Path:
    corpus = WORK / f"corpus-{posts}-{categories}"
    if not (corpus / "_posts").is_dir():
        subprocess.run(
            [
                sys.executable,
                str(GEN),
                str(corpus),
                "--posts",
                str(posts),
                "--categories",
                str(categories),
                "--seed",
                "1",
            ],
            check=True,
        )
    (corpus / "config.yaml").write_text(CONFIG, encoding="utf-8")
    return corpus


def bench(posts: int, categories: int, runs: int) -> list[str]:
    corpus = corpus_for(posts, categories)
    config = str(corpus / "config.yaml")
    victim = sorted((corpus / "_posts").iterdir())[posts // 2]
    original = victim.read_bytes()
    floor(corpus)
    lines = [
        f"### {posts:,} posts, {categories} categories",
        f"floor (read every post's bytes, warm cache): "
        f"{min(floor(corpus) for _ in range(3)):.3f} s",
        "",
    ]
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "nochange": [], "onepost": []}
    try:
        for i in range(runs):
            shutil.rmtree(corpus / "output", ignore_errors=True)
            shutil.rmtree(corpus / "state", ignore_errors=True)
            results["cold"].append(run_feeds("build", "-c", config)[:2])
            results["nochange"].append(run_feeds("build", "-c", config)[:2])
            victim.write_bytes(original.replace(b"</p>", f" 修改{i}</p>".encode(), 1))
            results["onepost"].append(run_feeds("build", "-c", config)[:2])
            victim.write_bytes(original)
            run_feeds("build", "-c", config)
    finally:
        victim.write_bytes(original)
    lines += [
        "| build | best wall s | posts/s | peak RSS MB | × floor |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    base = min(floor(corpus) for _ in range(3))
    names = {
        "cold": "cold (no output, no cache)",
        "nochange": "rebuild, nothing changed",
        "onepost": "rebuild, one post changed",
    }
    for key, label in names.items():
        best = min(s for s, _ in results[key])
        peak = max(m for _, m in results[key])
        lines.append(
            f"| {label} | {best:.2f} | {posts / best:,.0f} | {peak:.0f} | {best / base:.1f} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, nargs="+", default=[10_000])
    ap.add_argument("--categories", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; best of {a.runs} runs")
    for n in a.posts:
        print("\n".join(bench(n, a.categories, a.runs)))
        print()


if __name__ == "__main__":
    main()
