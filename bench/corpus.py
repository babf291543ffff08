"""A deterministic Jekyll-style Chinese news corpus, and external feeds, for the benchmarks.

    python bench/corpus.py OUTDIR --posts N --categories K --seed S [--feeds M] [--feed-items I]

Writes ``OUTDIR/_posts/YYYY-MM-DD-<code>.md`` (front matter, an HTML body, the trailing
original-article line and the "返回…｜返回首页" line a real post has), ``OUTDIR/feeds/feed-NN``
``.rss.xml`` / ``.atom.xml`` (items dated in UTC, -05:00, +08:00 and without an offset) and
``OUTDIR/manifest.json`` (the posts per category, and which posts carry the edge cases: a
title with ``<&"``, no tags, a date without an offset, several tags). The same arguments give
the same bytes on every run; only the standard library is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

SOURCES = (
    ("zhongguofazhanwang", "中国发展网"),
    ("xinhuawang", "新华网"),
    ("renminwang", "人民网"),
    ("zhongxinwang", "中新网"),
    ("yangshiwang", "央视网"),
    ("guangmingwang", "光明网"),
    ("jingjiribao", "经济日报"),
    ("diyicaijing", "第一财经"),
    ("zhengquanshibao", "证券时报"),
    ("caixinwang", "财新网"),
    ("huanqiuwang", "环球网"),
    ("kejiribao", "科技日报"),
)
TOPICS = ("宏观经济", "乡村振兴", "金融市场", "科技创新", "消费", "能源", "就业", "数字经济")
WHO = ("国家统计局", "商务部", "地方政府", "行业协会", "龙头企业", "研究机构", "金融机构")
DOES = ("稳步推进", "持续优化", "加快建设", "深入实施", "积极探索", "全面落实")
WHAT = ("营商环境", "产业链供应链", "绿色低碳转型", "县域商业体系", "冷链物流", "科技成果转化")
RESULT = ("取得积极进展", "成效逐步显现", "为高质量发展提供支撑", "市场活力持续释放")
CITIES = ("北京", "上海", "广州", "杭州", "成都", "武汉", "西安", "贵阳", "兰州", "厦门")
ODD_TITLES = (
    '研发投入 <5% 的企业怎么办？业内："A&B" 两条路',
    "<快讯> “双碳” & 新能源：'十四五' 过半",
)
EPOCH = dt.datetime(2021, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SPAN = 3 * 365 * 86400
PLUS8 = dt.timezone(dt.timedelta(hours=8))
ZONES: tuple[tuple[str, dt.timezone | None], ...] = (
    ("UTC", dt.UTC),
    ("-0500", dt.timezone(dt.timedelta(hours=-5))),
    ("+0800", PLUS8),
    ("naive", None),
)


def sentence(rng: random.Random) -> str:
    head = f"{rng.choice(CITIES)}{rng.choice(WHO)}" if rng.random() < 0.6 else rng.choice(WHO)
    tail = f"，同比增长{rng.randint(1, 30)}.{rng.randint(0, 9)}%" if rng.random() < 0.3 else ""
    return f"{head}{rng.choice(DOES)}{rng.choice(WHAT)}{tail}，{rng.choice(RESULT)}。"


def paragraph(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        out.append(sentence(rng))
        length += len(out[-1].encode())
    return "".join(out)


def category(i: int) -> tuple[str, str]:
    slug, name = SOURCES[i % len(SOURCES)]
    round_ = i // len(SOURCES)
    return (slug, name) if round_ == 0 else (f"{slug}{round_ + 1}", f"{name}{round_ + 1}")


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def post(i: int, k: int, rng: random.Random) -> tuple[str, str, bytes, dict[str, bool]]:
    """One post: (file name, category slug, bytes, which edge cases it has)."""
    slug, name = category(min(int(rng.paretovariate(1.2)) - 1, k - 1))
    when = EPOCH + dt.timedelta(seconds=rng.randrange(SPAN))
    code = f"NW{when:%Y%m%d}{i:07d}"
    edges = {
        "special_title": i % 83 == 5,
        "missing_tags": i % 79 == 9,
        "naive_date": i % 71 == 13,
    }
    edges["multi_tag"] = not edges["missing_tags"] and rng.random() < 0.2
    title = ODD_TITLES[i % len(ODD_TITLES)] if edges["special_title"] else sentence(rng)[:-1]
    stamp = f"{when:%Y-%m-%d %H:%M:%S}" + ("" if edges["naive_date"] else " +0800")
    front = ["---", "layout: post", f"title: {quoted(title)}", f"date: {stamp}"]
    front.append(f"categories: {slug}")
    tag = name + "新闻"
    if edges["multi_tag"]:
        front.append(f"tags: [{tag}, {', '.join(rng.sample(TOPICS, 2))}]")
    elif not edges["missing_tags"]:
        front.append(f"tags: {tag}")
    paras = [paragraph(rng, rng.randint(150, 600)) for _ in range(rng.randint(2, 10))]
    body = " ".join(f"<p>{escape(p, quote=False)}</p>" for p in paras)
    text = (
        "\n".join([*front, "---"])
        + f"\n{body}\n\n<http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}>\n\n"
        + f"[返回{tag}](//finews.withounder.com/category/{slug}.html)｜"
        + "[返回首页](//finews.withounder.com/)\n"
    )
    return f"{when:%Y-%m-%d}-{code.lower()}.md", slug, text.encode(), edges


def write_posts(out: Path, n: int, k: int, rng: random.Random) -> dict[str, Any]:
    folder = out / "_posts"
    folder.mkdir(parents=True, exist_ok=True)
    counts = {category(i)[0]: 0 for i in range(k)}
    edges: dict[str, list[str]] = {
        e: [] for e in ("special_title", "missing_tags", "naive_date", "multi_tag")
    }
    size = 0
    for i in range(n):
        name, slug, data, flags = post(i, k, rng)
        (folder / name).write_bytes(data)
        counts[slug] += 1
        size += len(data)
        for e, on in flags.items():
            if on:
                edges[e].append(name)
    return {
        "categories": [
            {"id": category(i)[0], "name": category(i)[1], "posts": counts[category(i)[0]]}
            for i in range(k)
        ],
        "edge_cases": {e: names[:50] for e, names in edges.items()},
        "edge_case_counts": {e: len(names) for e, names in edges.items()},
        "total_bytes": size,
    }


def x(text: str) -> str:
    return escape(text, quote=True)


def feed(j: int, items: int, rng: random.Random) -> tuple[str, str]:
    """One external feed, RSS for even ``j`` and Atom for odd: (file name, text)."""
    slug, name = category(j)
    rows = []
    for t in range(items):
        label, zone = ZONES[(j + t) % len(ZONES)]
        when = EPOCH + dt.timedelta(seconds=rng.randrange(SPAN))
        local = when.astimezone(zone) if zone else when.astimezone(PLUS8).replace(tzinfo=None)
        title = ODD_TITLES[t % 2] if t % 13 == 4 else sentence(rng)[:-1]
        link = f"https://{slug}.example.test/{when:%Y/%m/%d}/{j:02d}{t:04d}.html"
        html = "".join(f"<p>{x(paragraph(rng, 180))}</p>" for _ in range(rng.randint(1, 4)))
        rows.append((label, local, title, link, html))
    lines = ['<?xml version="1.0" encoding="utf-8"?>']
    if j % 2:
        newest = max(r[1] if r[1].tzinfo else r[1].replace(tzinfo=PLUS8) for r in rows)
        lines += [
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">',
            f"<title>{x(name)}</title><id>urn:example:{slug}</id>",
            f'<link rel="alternate" href="https://{slug}.example.test/"/>',
            f"<updated>{newest.isoformat()}</updated>",
        ]
        for label, local, title, link, html in rows:
            stamp = local.isoformat()
            lines += [
                f"<entry><title>{x(title)}</title><id>{x(link)}</id>",
                f'<link href="{x(link)}"/>',
                f"<published>{stamp}</published><updated>{stamp}</updated>",
                f'<category term="{x(name)}"/><content type="html">{x(html)}</content>',
                f"<!-- zone {label} --></entry>",
            ]
        return f"feed-{j:02d}.atom.xml", "\n".join([*lines, "</feed>", ""])
    lines += [
        '<rss version="2.0"><channel>',
        f"<title>{x(name)}</title><link>https://{slug}.example.test/</link>",
        f"<description>{x(name)}</description><language>zh-cn</language>",
    ]
    for label, local, title, link, html in rows:
        stamp = (
            local.strftime("%a, %d %b %Y %H:%M:%S")
            if local.tzinfo is None
            else format_datetime(local, usegmt=label == "UTC")
        )
        lines += [
            f"<item><title>{x(title)}</title><link>{x(link)}</link>",
            f'<guid isPermaLink="true">{x(link)}</guid><pubDate>{stamp}</pubDate>',
            f"<category>{x(name)}</category><description>{x(html)}</description>",
            f"<!-- zone {label} --></item>",
        ]
    return f"feed-{j:02d}.rss.xml", "\n".join([*lines, "</channel></rss>", ""])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--categories", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--feeds", type=int, default=0, help="also write M external feeds")
    ap.add_argument("--feed-items", type=int, default=40)
    ap.add_argument("--clean", action="store_true", help="remove OUTDIR/_posts and feeds first")
    a = ap.parse_args(argv)
    if a.categories < 1 or a.posts < 0 or a.feeds < 0:
        ap.error("--categories must be ≥ 1, --posts and --feeds ≥ 0")
    out: Path = a.outdir
    if a.clean:
        for sub in ("_posts", "feeds"):
            shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"posts": a.posts, "categories_k": a.categories, "seed": a.seed}
    rng = random.Random(a.seed)  # noqa: S311 - reproducible test data, not secrets
    manifest.update(write_posts(out, a.posts, a.categories, rng))
    if a.feeds:
        (out / "feeds").mkdir(exist_ok=True)
        rng = random.Random(a.seed + 1)  # noqa: S311 - reproducible test data
        manifest["feeds"] = []
        for j in range(a.feeds):
            name, text = feed(j, a.feed_items, rng)
            (out / "feeds" / name).write_text(text, encoding="utf-8")
            manifest["feeds"].append({"file": f"feeds/{name}", "items": a.feed_items})
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(
        f"wrote {a.posts} posts ({manifest['total_bytes'] / 1e6:.1f} MB) in {a.categories} "
        f"categories" + (f", {a.feeds} feeds" if a.feeds else "") + f" to {out}"
    )


if __name__ == "__main__":
    main()
