"""bench/corpus.py, the benchmarks' own corpus generator: the same arguments give the same
bytes, and what it writes is a site feeds builds without a problem."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import feedparser

from feeds.config import config
from feeds.run import once
from tests.helpers import ROOT

GEN = ROOT / "bench" / "corpus.py"
ARGS = ["--posts", "40", "--categories", "3", "--seed", "7", "--feeds", "2", "--feed-items", "5"]


def _generate(out: Path) -> dict[str, bytes]:
    subprocess.run(
        [sys.executable, str(GEN), str(out), *ARGS], check=True, capture_output=True, timeout=60
    )
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a")
    assert first == _generate(tmp_path / "b")
    assert sum(name.startswith("_posts/") for name in first) == 40
    assert {"feeds/feed-00.rss.xml", "feeds/feed-01.atom.xml", "manifest.json"} <= first.keys()


def test_the_corpus_builds_and_its_feeds_parse(tmp_path: Path) -> None:
    _generate(tmp_path)
    for feed in sorted((tmp_path / "feeds").iterdir()):
        parsed = feedparser.parse(feed.read_bytes())
        assert parsed.bozo == 0 and len(parsed.entries) == 5, feed.name
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(
        "site:\n  title: bench\n  url: https://bench.example.com\noutput:\n  dir: out\n",
        encoding="utf-8",
    )
    report = once.fetch_and_build(config.load(cfg_file), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert report.ok and report.posts_found == 40, report.problems.items
