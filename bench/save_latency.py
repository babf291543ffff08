#!/usr/bin/env python3
"""Publish on save: how long ``feeds run`` takes from saving a post to the post being in the
feed, on a generated corpus. Prints the figures; asserts nothing.

    .venv/bin/python bench/save_latency.py [--posts 10000] [--categories 20] [--rounds 10]

The corpus comes from bench/corpus.py (as bench/build.py makes it). The daemon runs with a
build interval of an hour, so every build after the start-up one is one the watcher asked
for. Each round saves a new post, edits it, then deletes it, and polls ``all.json`` (every
5 ms) until the change is there; the time from the write to the poll that saw it is the
latency.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import corpus_for
from measure import ROOT

CONFIG = """\
site:
  title: 基准测试
  url: https://bench.example.com
posts:
  dirs: [_posts]
output:
  dir: output-save
state:
  dir: state-save
schedule:
  build: 1h
"""
POST = """\
---
layout: post
title: {title}
date: 2026-01-01 08:00:00 +0800
categories: zhongguofazhanwang
---
<p>{body}</p>
"""


def wait_until(check: Callable[[], bool], timeout: float = 60.0) -> float:
    """Seconds until ``check()`` is true (polled every 5 ms); raises after ``timeout``."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"not seen within {timeout:g} s")
        time.sleep(0.005)
    return time.perf_counter() - start


def contains(path: Path, marker: str) -> bool:
    try:
        return marker in path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False


def wait_for(feed: Path, marker: str, *, present: bool = True) -> float:
    return wait_until(lambda: contains(feed, marker) == present)


def rounds(posts: Path, feed: Path, n: int) -> dict[str, list[float]]:
    seen: dict[str, list[float]] = {"new post": [], "edit": [], "delete": []}
    for i in range(n):
        post = posts / f"2026-01-01-save-bench-{i}.md"
        title = f"save-bench-{i}-{os.getpid()}"
        post.write_text(POST.format(title=title, body="one"), encoding="utf-8")
        seen["new post"].append(wait_for(feed, title))
        post.write_text(POST.format(title=title, body=f"edited-{i}"), encoding="utf-8")
        seen["edit"].append(wait_for(feed, f"edited-{i}"))
        post.unlink()
        seen["delete"].append(wait_for(feed, title, present=False))
        time.sleep(0.3)  # apart from the next round's save
    return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--categories", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    corpus = corpus_for(a.posts, a.categories)
    config = corpus / "save.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    log = corpus / "save.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeds", "run", "-v", "-c", str(config)],
            stdout=sink,
            stderr=sink,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    try:
        started = wait_until(
            lambda: "event=build" in log.read_text() and "event=watch" in log.read_text(), 600
        )
        print(f"{a.posts:,} posts: daemon up and first build done after {started:.2f} s")
        if "event=watch result=started" not in log.read_text():
            sys.exit(f"watching is off on this machine; see {log}")
        seen = rounds(corpus / "_posts", corpus / "output-save" / "all.json", a.rounds)
        for kind, values in seen.items():
            print(
                f"  {kind:8}: min {min(values):.3f} s  median {statistics.median(values):.3f} s"
                f"  max {max(values):.3f} s  ({len(values)} saves)"
            )
        builds = log.read_text().count("reason=watch")
        print(f"  builds the watcher asked for: {builds} for {3 * a.rounds} saves")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
