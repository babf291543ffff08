"""Property-based: whatever front matter or feed XML comes in, collect → normalize → generate
never raises an unhandled exception, never writes invalid XML, never makes a naive datetime."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

from feeds import yamlutil
from feeds.collect import remote
from feeds.collect.http import FetchResult
from feeds.config import config
from feeds.generate import generate
from feeds.models import Entry, Problems
from feeds.normalize import normalize
from feeds.run import once

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CFG_TEXT = (
    "site:\n  title: 测试\n  url: https://news.example.com\nposts:\n  dirs: [_posts]\n"
    "output:\n  dir: out\nfeeds:\n  tag_feeds: true\n"
)

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
SCALARS = st.one_of(
    TEXT,
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "2022-06-09 14:36:33 +0800",
            "2024-02-30",
            "2022-06-09",
            "yesterday",
            "2022-06-09T25:00:00Z",
            "[ ]",
            "{}",
            "~",
        ]
    ),
)
VALUES = st.one_of(
    SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(TEXT, SCALARS, max_size=2)
)
KEYS = st.sampled_from(
    [
        "title",
        "date",
        "categories",
        "category",
        "tags",
        "author",
        "excerpt",
        "description",
        "permalink",
        "slug",
        "published",
        "updated",
        "layout",
    ]
)


def _yaml_line(key: str, value: object) -> str:
    return f"{key}: {json.dumps(value, ensure_ascii=False)}"  # JSON is YAML


@st.composite
def post_files(draw: st.DrawFn) -> bytes:
    meta = draw(st.dictionaries(KEYS, VALUES, max_size=8))
    raw_lines = draw(st.lists(TEXT, max_size=2))  # some plain lines, maybe broken YAML
    body = draw(
        st.one_of(
            TEXT,
            st.sampled_from(
                [
                    "<script>x()</script>",
                    "]]>",
                    "&",
                    "<http://a.example/x>\n\n[返回首页](/)",
                    "<p onclick=x>y</p>",
                    "\x00\x01控制",
                    "![i](//cdn.example/i.png)",
                ]
            ),
        )
    )
    text = (
        "---\n"
        + "\n".join([_yaml_line(k, v) for k, v in meta.items()] + raw_lines)
        + "\n---\n"
        + body
        + "\n"
    )
    encoded = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        encoded = draw(st.sampled_from([b"\xef\xbb\xbf", b"", b"\xff"])) + encoded
    return encoded


def _valid_xml(data: bytes) -> None:
    etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(post_files(), min_size=1, max_size=4))
def test_posts_never_crash_and_output_is_valid(posts: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "config.yaml").write_text(CFG_TEXT, encoding="utf-8")
        (root / "_posts").mkdir()
        for i, data in enumerate(posts):
            (root / "_posts" / f"2022-06-{i + 1:02d}-p{i}.md").write_bytes(data)
        cfg = config.load(root / "config.yaml")
        report = once.fetch_and_build(cfg, NOW)  # must not raise
        for path in (root / "out").rglob("*"):
            if path.name.endswith((".rss.xml", ".atom.xml", ".opml", ".xsl")):
                _valid_xml(path.read_bytes())
            elif path.suffix == ".json":
                for item in json.loads(path.read_bytes())["items"]:
                    assert dt.datetime.fromisoformat(item["date_published"]).tzinfo
        assert all(p.where for p in report.problems.items)


ITEM_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "title": TEXT,
        "link": st.sampled_from(
            ["https://a.example/1", "javascript:alert(1)", "/relative", "", "mailto:x@y"]
        ),
        "guid": TEXT,
        "pubDate": st.one_of(
            TEXT,
            st.sampled_from(
                [
                    "Fri, 10 Jun 2022 02:00:00 GMT",
                    "Thu, 01 Jan 1970 00:00:00 GMT",
                    "2100-01-01",
                    "Fri, 10 Jun 2022 15:30:00 CST",
                    "Sat, 11 Jun 2022 09:00:00",
                ]
            ),
        ),
        "description": st.one_of(TEXT, st.sampled_from(["<script>a()</script>", "&lt;b&gt;x"])),
        "category": TEXT,
    },
)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def feed_documents(draw: st.DrawFn) -> bytes:
    items = draw(st.lists(ITEM_FIELDS, max_size=4))
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
        f"<title>{_esc(draw(TEXT))}</title><link>https://src.example/</link>",
    ]
    for item in items:
        parts.append(
            "<item>" + "".join(f"<{k}>{_esc(v)}</{k}>" for k, v in item.items()) + "</item>"
        )
    parts.append("</channel></rss>")
    data = "".join(parts).encode("utf-8", "surrogatepass")
    mangle = draw(st.sampled_from(["none", "cut", "garbage", "entity"]))
    if mangle == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif mangle == "garbage":
        data = data.replace(b"<item>", draw(st.binary(max_size=8)) + b"<item>", 1)
    elif mangle == "entity":
        data = data.replace(b"<rss", b'<!DOCTYPE rss [<!ENTITY x "y">]><rss', 1)
    return data


@settings(max_examples=150, deadline=None)
@given(feed_documents())
def test_feed_xml_never_crashes_and_output_is_valid(data: bytes) -> None:
    cfg = config.parse(
        yamlutil.load(
            CFG_TEXT + "sources:\n  - id: s\n    url: "
            "https://src.example/rss\n    categories: [a]\n"
        ),
        Path("config.yaml"),
    )  # never read: parse takes the text
    source = cfg.sources[0]
    try:
        feed = remote.parse(
            FetchResult(
                url="https://src.example/rss",
                status=200,
                body=data,
                headers={"content-type": "application/rss+xml"},
            )
        )
    except remote.ParseError:
        return  # refused with a message: that is a handled outcome
    problems = Problems()
    entries: list[Entry] = []
    for item in normalize.remote_ids(source.id, cfg.site.url, feed.items):
        entry = normalize.remote_entry(item, feed, source, cfg, NOW, problems)
        if entry is not None:
            assert entry.published.tzinfo is not None and entry.updated.tzinfo is not None
            entries.append(entry)
    if entries:
        plan = generate.plan(cfg, entries, problems, everything=entries)[0][0]
        for fmt in ("rss", "atom"):
            _valid_xml(generate.render(cfg, plan, generate.newest_first(entries), fmt))
        json.loads(generate.render(cfg, plan, entries, "json"))
