#!/usr/bin/env python3
"""The plain script a build with every post in its feeds is compared with: python-frontmatter
reads each post, feedgen writes RSS and Atom of every category and of everything, every post
in each, no Markdown, no sanitizing, no cache.

    .venv/bin/python bench/plain.py CORPUS OUTDIR
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import frontmatter
from feedgen.feed import FeedGenerator

PLUS8 = dt.timezone(dt.timedelta(hours=8))
SITE = "https://bench.example.com"


def when(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    text = str(value)
    if text[-5:-4] in "+-" and text[-4:].isdigit():
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def write(name: str, posts: list[dict[str, object]], out: Path) -> None:
    fg = FeedGenerator()
    fg.id(f"{SITE}/{name}")
    fg.title(name)
    fg.link(href=f"{SITE}/{name}", rel="alternate")
    fg.description(name)
    for p in posts:
        fe = fg.add_entry(order="append")
        fe.id(str(p["link"]))
        fe.title(str(p["title"]))
        fe.link(href=str(p["link"]))
        fe.published(p["date"])
        fe.updated(p["date"])
        fe.content(str(p["body"]), type="html")
        fe.category(term=str(p["category"]))
    (out / f"{name}.rss.xml").write_bytes(fg.rss_str(pretty=True))
    (out / f"{name}.atom.xml").write_bytes(fg.atom_str(pretty=True))


def main() -> None:
    corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    by_category: dict[str, list[dict[str, object]]] = {}
    every: list[dict[str, object]] = []
    for path in sorted((corpus / "_posts").iterdir()):
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
        p: dict[str, object] = {
            "title": post["title"],
            "date": when(post["date"]),
            "category": post["categories"],
            "link": f"{SITE}/{path.stem}.html",
            "body": post.content,
        }
        every.append(p)
        by_category.setdefault(str(p["category"]), []).append(p)
    for name, posts in sorted(by_category.items()):
        write(name, sorted(posts, key=lambda p: p["date"], reverse=True), out)  # type: ignore[arg-type, return-value]
    write("all", sorted(every, key=lambda p: p["date"], reverse=True), out)  # type: ignore[arg-type, return-value]


if __name__ == "__main__":
    main()
