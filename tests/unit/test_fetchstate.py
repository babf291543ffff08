"""Source-state transitions as a table: (state, outcome, now) → new state, no HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from feeds.aggregate.fetchstate import (
    Failed,
    Modified,
    NotModified,
    Outcome,
    backoff,
    due,
    next_state,
)
from feeds.config.config import FetchConfig, SourceConfig
from feeds.store.parts import SourceState

NOW = dt.datetime(2022, 6, 10, 12, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(hours=5)
SRC = SourceConfig(id="xinhua", url="https://xinhua.example/rss.xml", interval=1800)
FETCH = FetchConfig(backoff_cap=24 * 3600)
KNOWN = SourceState(
    id="xinhua",
    url=SRC.url,
    etag='"v1"',
    last_modified="Fri, 10 Jun 2022 02:00:00 GMT",
    last_fetch=EARLIER,
    last_success=EARLIER,
    title="新华",
)
FAILING = SourceState(
    id="xinhua",
    url=SRC.url,
    etag='"v1"',
    last_success=EARLIER,
    consecutive_errors=3,
    last_error="HTTP 503",
    title="新华",
)
MOVED = SourceState(id="xinhua", url="https://old.example/rss", etag='"old"', consecutive_errors=5)

# name, stored state, outcome, expected fields of the new state, delay range in seconds
CASES: list[tuple[str, SourceState | None, Outcome, dict[str, Any], tuple[float, float]]] = [
    (
        "first success",
        None,
        Modified('"v2"', "Sat, 11 Jun 2022 00:00:00 GMT", "新华网"),
        {"etag": '"v2"', "title": "新华网", "last_success": NOW, "consecutive_errors": 0},
        (1620, 1980),  # the interval ±10 %
    ),
    (
        "success clears errors",
        FAILING,
        Modified(None, None, "新华"),
        {"consecutive_errors": 0, "last_error": None, "gone": False, "etag": None},
        (1620, 1980),
    ),
    (
        "not modified keeps the validators it was not sent again",
        KNOWN,
        NotModified(None, None),
        {"etag": '"v1"', "last_modified": KNOWN.last_modified, "title": "新华"},
        (1620, 1980),
    ),
    (
        "not modified takes new validators",
        KNOWN,
        NotModified('"v3"', None),
        {"etag": '"v3"', "last_success": NOW, "last_fetch": NOW},
        (1620, 1980),
    ),
    (
        "first error: the interval ±25 %",
        KNOWN,
        Failed("HTTP 500"),
        {"consecutive_errors": 1, "last_error": "HTTP 500", "etag": '"v1"', "title": "新华"},
        (1350, 2250),
    ),
    (
        "fourth error: doubled three times",
        FAILING,
        Failed("HTTP 503"),
        {"consecutive_errors": 4, "last_success": EARLIER},
        (1800 * 8 * 0.75, 1800 * 8 * 1.25),
    ),
    (
        "Retry-After longer than the backoff wins",
        KNOWN,
        Failed("HTTP 429", retry_after=7200),
        {"consecutive_errors": 1},
        (7200, 7200),
    ),
    (
        "Retry-After is capped",
        KNOWN,
        Failed("HTTP 503", retry_after=10 * 24 * 3600),
        {"consecutive_errors": 1},
        (24 * 3600, 24 * 3600),
    ),
    (
        "gone: once a day",
        KNOWN,
        Failed("HTTP 410 Gone", gone=True),
        {"gone": True, "consecutive_errors": 1},
        (24 * 3600, 24 * 3600),
    ),
    (
        "network down: count kept, back after the interval",
        FAILING,
        Failed("connection refused", network_down=True),
        {"consecutive_errors": 3, "last_error": "connection refused"},
        (1800, 1800),
    ),
    (
        "another URL starts over",
        MOVED,
        Failed("HTTP 500"),
        {"url": SRC.url, "etag": None, "consecutive_errors": 1},
        (1350, 2250),
    ),
]


@pytest.mark.parametrize(
    ("state", "outcome", "fields", "delay"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_next_state(
    state: SourceState | None, outcome: Outcome, fields: dict[str, Any], delay: tuple[float, float]
) -> None:
    after = next_state(state, SRC, outcome, NOW, FETCH)
    for name, value in fields.items():
        assert getattr(after.state, name) == value, name
    assert delay[0] <= after.delay <= delay[1]
    assert after.state.next_attempt == NOW + dt.timedelta(seconds=after.delay)
    assert after.state.last_fetch == NOW and after.state.id == SRC.id


def test_jitter_is_stable_and_spreads_sources() -> None:
    one = next_state(None, SRC, Modified(None, None, None), NOW, FETCH)
    assert one == next_state(None, SRC, Modified(None, None, None), NOW, FETCH)
    other = SourceConfig(id="people", url="https://people.example/rss", interval=1800)
    assert next_state(None, other, Modified(None, None, None), NOW, FETCH).delay != one.delay
    assert backoff(SRC, 2, 86400, None) == backoff(SRC, 2, 86400, None)


def test_due_skips_disabled_and_waits_for_next_attempt() -> None:
    later = SourceConfig(id="later", url="https://later.example/rss")
    off = SourceConfig(id="off", url="https://off.example/rss", enabled=False)
    states = {"later": SourceState("later", later.url, next_attempt=NOW + dt.timedelta(hours=1))}
    assert [s.id for s in due((SRC, later, off), states, NOW)] == ["xinhua"]
    assert [s.id for s in due((SRC, later, off), states, NOW, force=True)] == ["xinhua", "later"]
