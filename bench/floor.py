"""The floor a build is measured against: reading every post and parsing its front matter
with the fastest correct reader we have, timed in this process (warm file cache).

Candidates: python-frontmatter (PyYAML's pure-Python loader), the front matter split by hand
and loaded by libyaml (PyYAML's ``CSafeLoader``), and feeds' own flat-front-matter reader
(``yamlutil.load_flat``, PyYAML for anything it does not handle). A candidate counts only if
it gives the same mapping as PyYAML's safe loader for every post (dates compared as text:
feeds keeps them as text for its own date parser); the fastest of those is the floor.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from feeds import yamlutil

Reader = Callable[[bytes], dict[str, Any]]


def _split(data: bytes) -> str:
    text = data.decode("utf-8")
    _, fm, _ = text.split("---\n", 2)
    return fm


def with_frontmatter(data: bytes) -> dict[str, Any]:
    return dict(frontmatter.loads(data.decode("utf-8")).metadata)


def with_libyaml(data: bytes) -> dict[str, Any]:
    return dict(yaml.load(_split(data), Loader=yaml.CSafeLoader))


def with_feeds(data: bytes) -> dict[str, Any]:
    fm = _split(data)
    doc = yamlutil.load_flat(fm) or yamlutil.load(fm, aliases=False)
    return dict(doc.value)


READERS: dict[str, Reader] = {
    "python-frontmatter": with_frontmatter,
    "libyaml (CSafeLoader)": with_libyaml,
    "feeds yamlutil.load_flat": with_feeds,
}


def _as_text(meta: dict[str, Any]) -> dict[str, Any]:
    def one(v: Any) -> Any:
        if isinstance(v, dt.date | dt.datetime):
            return str(v)
        if isinstance(v, list):
            return [one(x) for x in v]
        return v

    return {k: one(v) for k, v in meta.items()}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(posts: Path, runs: int = 3) -> dict[str, Any]:
    """{"reader", "wall", "cpu", "candidates": {name: (wall, cpu, correct)}} for ``posts``."""
    files = sorted(posts.iterdir())
    for p in files:  # warm the file cache
        p.read_bytes()
    reference = [_as_text(yaml.safe_load(_split(p.read_bytes()))) for p in files[:2000]]
    candidates: dict[str, tuple[float, float, bool]] = {}
    for name, reader in READERS.items():
        correct = all(
            _as_text(reader(p.read_bytes())) == ref
            for p, ref in zip(files, reference, strict=False)
        )
        best = (float("inf"), float("inf"))
        for _ in range(runs if correct else 1):
            w0, c0 = time.perf_counter(), _cpu()
            for p in files:
                reader(p.read_bytes())
            best = min(best, (time.perf_counter() - w0, _cpu() - c0))
        candidates[name] = (*best, correct)
    fastest = min((v[1], k) for k, v in candidates.items() if v[2])[1]
    wall, cpu, _ = candidates[fastest]
    return {"reader": fastest, "wall": wall, "cpu": cpu, "candidates": candidates}
