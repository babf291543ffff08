from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds import yamlutil
from feeds.config import config
from feeds.generate import generate
from feeds.models import Entry, Problems

SH = dt.timezone(dt.timedelta(hours=8))


def entry(i: int, day: int, cats: tuple[str, ...] = ("a",)) -> Entry:
    when = dt.datetime(2022, 6, day, 12, tzinfo=SH)
    return Entry(
        id=f"https://x.example/{i}",
        title=f"标题{i}",
        link=f"https://x.example/{i}",
        published=when,
        updated=when,
        summary="摘要",
        content_html="<p>x</p>",
        categories=cats,
    )


def cfg_with(extra: str = "") -> config.Config:
    doc = yamlutil.load("site:\n  title: 站\n  url: https://x.example\n" + extra)
    return config.parse(doc, Path("config.yaml"))


def test_entry_refuses_naive_dates_and_relative_links() -> None:
    good = entry(1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        Entry(**{**good.__dict__, "published": dt.datetime(2022, 1, 1)})  # noqa: DTZ001
    with pytest.raises(ValueError, match="absolute"):
        Entry(**{**good.__dict__, "link": "/relative.html"})
    with pytest.raises(ValueError, match="title"):
        Entry(**{**good.__dict__, "title": "  "})


def test_plan_orders_newest_first_with_stable_ties() -> None:
    items = [entry(3, 2), entry(1, 5), entry(2, 2), entry(4, 9, ("b",))]
    plans = generate.plan(cfg_with(), items, Problems())
    by_label = {p.label: [e.id[-1] for e in es] for p, es in plans}
    assert by_label == {
        "all": ["4", "1", "2", "3"],
        "category 'a'": ["1", "2", "3"],
        "category 'b'": ["4"],
    }


def test_only_restricts_and_warns_about_missing() -> None:
    problems = Problems()
    plans = generate.plan(
        cfg_with("categories:\n  only: [b, ghost]\n"), [entry(1, 1), entry(2, 2, ("b",))], problems
    )
    assert [p.label for p, _ in plans] == ["all", "category 'b'"]
    assert "'ghost' is listed in categories.only but no post has it" in str(problems.items[0])


def test_render_limits_and_is_deterministic() -> None:
    cfg = cfg_with("feeds:\n  max_items: 2\n")
    items = [entry(i, i) for i in range(1, 6)]
    feed, ordered = generate.plan(cfg, items, Problems())[0]
    one = generate.render(cfg, feed, ordered[:2], "atom")
    assert one == generate.render(cfg, feed, ordered[:2], "atom")
    assert b"<updated>2022-06-05T12:00:00+08:00</updated>" in one
    rss = generate.render(cfg, feed, ordered[:2], "rss")
    assert b"<lastBuildDate>Sun, 05 Jun 2022 12:00:00 +0800</lastBuildDate>" in rss
    assert rss.index(b"x.example/5<") < rss.index(b"x.example/4<")


def test_rss_author_with_email_or_dc_creator_never_both() -> None:
    from feeds.models import Author

    cfg = cfg_with()
    e1 = Entry(**{**entry(1, 1).__dict__, "authors": (Author("甲", "jia@x.example"),)})
    e2 = Entry(**{**entry(2, 2).__dict__, "authors": (Author("乙"),)})
    feed, ordered = generate.plan(cfg, [e1, e2], Problems())[0]
    rss = generate.render(cfg, feed, ordered, "rss").decode()
    items = rss.split("<item>")[1:]
    assert "<dc:creator>乙</dc:creator>" in items[0] and "<author>" not in items[0]
    assert "<author>jia@x.example (甲)</author>" in items[1] and "dc:creator" not in items[1]


def test_an_entry_read_back_from_the_cache_has_the_fingerprint_it_had_just_rendered() -> None:
    """A post just rendered carries pytz's zone; read back from the cache's JSON, a fixed
    offset. Their files are the same bytes, so their fingerprints must be equal too, or the
    first rebuild after a cold build makes every feed again."""
    import pytz

    from feeds.generate.output import entries_digest
    from feeds.store.store import entry_from_json, entry_to_json

    shanghai = pytz.timezone("Asia/Shanghai")
    when = shanghai.localize(dt.datetime(2022, 6, 9, 14, 36, 33))  # noqa: DTZ001 - pytz localizes
    fresh = Entry(**{**entry(1, 9).__dict__, "published": when, "updated": when})
    back = entry_from_json(entry_to_json(fresh))
    assert repr(back.published) != repr(fresh.published)  # what the fingerprint must ignore
    assert entries_digest([back]) == entries_digest([fresh])


def test_a_batch_feedgen_writes_otherwise_than_expected_makes_the_whole_feed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Entries are cut out of a feedgen document of a batch of them; should a feedgen
    release write a batch so that it cannot be cut, the feed is serialized whole instead."""
    cfg = cfg_with()
    feed, ordered = generate.plan(cfg, [entry(i, i) for i in range(1, 6)], Problems())[0]
    expected = {fmt: generate.render(cfg, feed, ordered, fmt) for fmt in ("rss", "atom")}
    serialize = generate._serialize

    def with_comment(fg: object, fmt: str) -> bytes:  # a batch that cannot be cut
        return (
            serialize(fg, fmt)
            .replace(b"</item>\n", b"</item>\n<!-- x -->\n")
            .replace(b"</entry>\n", b"</entry>\n<!-- x -->\n")
        )

    monkeypatch.setattr(generate, "_serialize", with_comment)
    for fmt, before in expected.items():
        got = generate.render(cfg, feed, ordered, fmt)
        assert got.count(b"<!-- x -->") == 5  # the whole document, as feedgen wrote it
        assert got.replace(b"<!-- x -->\n", b"") == before
