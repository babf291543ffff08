#!/usr/bin/env python3
"""feedparser-rs against feedparser on the fields feeds reads (``collect/remote.py``): each
document parsed by both (sanitizing and URL resolving off, as feeds parses), every field
compared; prints how many documents disagree on each field, with examples. Asserts nothing.

    .venv/bin/python bench/parser_compare.py DIR_OR_FILE ...

feedparser's own test documents are in its source package (``pip download --no-binary
:all: --no-deps feedparser``, then ``tests/``); the benchmark's feeds are in
``bench/work/feeds-*/feeds``.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import feedparser
import feedparser_rs

FEED_FIELDS = ("title", "link", "language")
ENTRY_FIELDS = ("id", "title", "link", "published", "created", "updated", "summary", "author")


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return dict.get(obj, key)  # feedparser's get() maps updated → published
    value = getattr(obj, key, None) if not hasattr(obj, "get") else obj.get(key)
    return value


def _detail(obj: Any, key: str, field: str) -> Any:
    d = _get(obj, key)
    return None if d is None else _get(d, field)


def view(parsed: Any) -> dict[str, Any]:
    """What feeds reads of a parse result, as plain values."""
    out: dict[str, Any] = {
        "version": bool(_get(parsed, "version")),
        "bozo": bool(_get(parsed, "bozo")),
    }
    feed = _get(parsed, "feed") or {}
    for f in FEED_FIELDS:
        out[f"feed.{f}"] = _get(feed, f)
    entries = _get(parsed, "entries") or []
    out["entries"] = len(entries)
    for i, e in enumerate(entries):
        p = f"entry[{i}]."
        for f in ENTRY_FIELDS:
            out[p + f] = _get(e, f)
        out[p + "title_detail.type"] = _detail(e, "title_detail", "type")
        out[p + "summary_detail.type"] = _detail(e, "summary_detail", "type")
        out[p + "summary_detail.base"] = _detail(e, "summary_detail", "base")
        out[p + "content"] = [
            (_get(c, "value"), _get(c, "type"), _get(c, "base")) for c in _get(e, "content") or []
        ]
        out[p + "authors"] = [
            (_get(a, "name"), _get(a, "email"), _get(a, "href")) for a in _get(e, "authors") or []
        ]
        out[p + "tags"] = [_get(t, "term") for t in _get(e, "tags") or []]
        out[p + "enclosures"] = [
            (_get(x, "href"), str(_get(x, "length") or "0"), _get(x, "type"))
            for x in _get(e, "enclosures") or []
        ]
    return out


def field_name(key: str) -> str:
    return key.split("].", 1)[1] if key.startswith("entry[") else key


def compare(paths: list[Path]) -> None:
    differ: Counter[str] = Counter()
    examples: dict[str, tuple[str, Any, Any]] = {}
    errors = 0
    seconds = {"feedparser": 0.0, "feedparser-rs": 0.0}
    for path in paths:
        data = path.read_bytes()
        t0 = time.perf_counter()
        a = view(feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False))
        t1 = time.perf_counter()
        try:
            b = view(feedparser_rs.parse(data, sanitize_html=False, resolve_relative_uris=False))
        except Exception as e:  # its failure is a disagreement to count, not a crash
            errors += 1
            examples.setdefault("(raised)", (str(path), None, repr(e)[:200]))
            continue
        t2 = time.perf_counter()
        seconds["feedparser"] += t1 - t0
        seconds["feedparser-rs"] += t2 - t1
        fields = {field_name(k) for k in set(a) | set(b) if a.get(k) != b.get(k)}
        for f in fields:
            differ[f] += 1
            k = next(
                k for k in sorted(set(a) | set(b)) if field_name(k) == f and a.get(k) != b.get(k)
            )
            examples.setdefault(f, (str(path), a.get(k), b.get(k)))
    print(f"{len(paths)} documents; feedparser-rs raised on {errors}")
    print(", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()))
    print(f"{sum(1 for _ in differ)} fields disagree somewhere:")
    for f, n in differ.most_common():
        where, x, y = examples[f]
        print(f"  {f}: {n} documents, e.g. {where}")
        print(f"    feedparser:    {x!r:.150}\n    feedparser-rs: {y!r:.150}")
    if "(raised)" in examples:
        print("  raised, e.g.", examples["(raised)"])


def main() -> None:
    paths: list[Path] = []
    for arg in sys.argv[1:]:
        p = Path(arg)
        paths += sorted(x for x in p.rglob("*.xml") if x.is_file()) if p.is_dir() else [p]
    compare(paths)


if __name__ == "__main__":
    main()
