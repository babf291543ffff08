"""The figures the metrics work out themselves: due and overdue sources by the fetch round's
own rule, and each feed's newest entry age at the moment of the scrape."""

from __future__ import annotations

import datetime as dt

from feeds.config.config import SourceConfig
from feeds.generate.report import FeedResult
from feeds.run import metrics
from feeds.store.parts import SourceState

NOW = dt.datetime(2022, 6, 10, 12, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_due_and_overdue_sources() -> None:
    sources = (
        SourceConfig("new", "https://a.example/"),  # never fetched: due, not overdue
        SourceConfig("late", "https://b.example/"),
        SourceConfig("just", "https://c.example/"),
        SourceConfig("later", "https://d.example/"),
        SourceConfig("moved", "https://e.example/new"),  # a state of another URL: due
        SourceConfig("off", "https://f.example/", enabled=False),
    )
    minutes = dt.timedelta(minutes=1)
    states = {
        "late": SourceState("late", "https://b.example/", next_attempt=NOW - 20 * minutes),
        "just": SourceState("just", "https://c.example/", next_attempt=NOW - minutes),
        "later": SourceState("later", "https://d.example/", next_attempt=NOW + minutes),
        "moved": SourceState("moved", "https://e.example/", next_attempt=NOW - 60 * minutes),
        "off": SourceState("off", "https://f.example/", next_attempt=NOW - 60 * minutes),
    }
    assert metrics.count_due(sources, states, NOW, grace=600) == (4, 1)
    assert metrics.count_due(sources, states, NOW, grace=30) == (4, 2)
    assert metrics.count_due((), states, NOW, grace=30) == (0, 0)


def test_newest_entry_ages_are_taken_when_scraped() -> None:
    clock = [NOW.timestamp()]
    ages = metrics._Ages(clock=lambda: clock[0])
    feeds = [
        FeedResult("all", ("all.rss.xml", "all.atom.xml"), 3, NOW - dt.timedelta(hours=1)),
        FeedResult("tag 't'", ("tags/t.json",), 1, NOW - dt.timedelta(seconds=5)),
    ]
    ages.update((metrics.feed_name(f), f.newest.timestamp()) for f in feeds)

    def scraped() -> dict[str, float]:
        (family,) = ages.collect()
        return {s.labels["feed"]: s.value for s in family.samples}

    assert scraped() == {"all": 3600.0, "tags/t": 5.0}
    clock[0] += 60
    assert scraped() == {"all": 3660.0, "tags/t": 65.0}
