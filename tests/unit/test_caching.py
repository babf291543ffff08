"""The caching contract's values from the build schedule, and where feeds state them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from feeds import caching, timeutil
from feeds.config import config
from feeds.run import once
from tests.helpers import make_site, post_text

SY = "{http://purl.org/rss/1.0/modules/syndication/}"
ATOM = "{http://www.w3.org/2005/Atom}"
SHANGHAI = timeutil.zone("Asia/Shanghai")


@pytest.mark.parametrize(
    ("build", "seconds", "max_age", "stale", "ttl", "period", "frequency"),
    [
        ("1m", 60, 60, 60, 1, "hourly", 60),
        ("5m", 300, 75, 300, 5, "hourly", 12),
        ("30m", 1800, 450, 1800, 30, "hourly", 2),
        ("2h", 7200, 900, 7200, 120, "daily", 12),
        ("1d", 86400, 900, 86400, 1440, "daily", 1),
        ("7d", 7 * 86400, 900, 86400, 10080, "weekly", 1),
    ],
)
def test_interval_schedules(
    build: str,
    seconds: int,
    max_age: int,
    stale: int,
    ttl: int,
    period: str,
    frequency: int,
) -> None:
    h = caching.hints(build, float(seconds), SHANGHAI)
    assert (h.max_age, h.stale_while_revalidate, h.ttl) == (max_age, stale, ttl)
    assert (h.update_period, h.update_frequency) == (period, frequency)
    assert h.cache_control == f"public, max-age={max_age}, stale-while-revalidate={stale}"


def test_cron_schedules_use_their_shortest_gap() -> None:
    # every 5 minutes in office hours, Monday to Friday: 5 minutes, not the night's gap
    assert caching.hints("*/5 9-18 * * 1-5", None, SHANGHAI).interval == 300
    assert caching.hints("0 * * * *", None, SHANGHAI).interval == 3600
    assert caching.hints("30 6 * * *", None, SHANGHAI).update_period == "daily"
    yearly = caching.hints("@yearly", None, SHANGHAI)
    assert yearly.update_period == "yearly" and yearly.update_frequency == 1


def test_content_types_by_longest_suffix() -> None:
    assert caching.content_type("a.rss.xml") == "application/rss+xml; charset=utf-8"
    assert caching.content_type("archive/x/2022-06.atom.xml").startswith("application/atom+xml")
    assert caching.content_type("sitemap.xml") == "application/xml; charset=utf-8"
    assert caching.content_type("x.bin") == "application/octet-stream"
    # every file the build writes has a type of its own (object storage sends it as given)
    assert caching.content_type("_headers") == "text/plain; charset=utf-8"
    assert caching.content_type("feeds-nginx.conf") == "text/plain; charset=utf-8"
    assert caching.content_type(".feeds-manifest").startswith("application/json")


def _build(tmp: Path, schedule: str) -> Path:
    site = make_site(tmp, f"schedule:\n  build: '{schedule}'\nfeeds:\n  archives: true\n")
    site.post("2022-05-01-a.md", post_text("五月", "2022-05-01 08:00:00 +0800", "news"))
    site.post("2022-06-01-b.md", post_text("六月", "2022-06-01 08:00:00 +0800", "news"))
    cfg = config.load(site.config)
    assert once.fetch_and_build(cfg, dt.datetime(2022, 6, 2, tzinfo=dt.UTC)).ok
    return site.out


def test_head_feeds_carry_ttl_and_sy_from_the_schedule_archives_do_not(tmp_path: Path) -> None:
    out = _build(tmp_path, "*/10 * * * *")
    rss = etree.parse(out / "news.rss.xml").getroot()[0]
    assert rss.findtext("ttl") == "10"
    assert rss.findtext(f"{SY}updatePeriod") == "hourly"
    assert rss.findtext(f"{SY}updateFrequency") == "6"
    atom = etree.parse(out / "news.atom.xml").getroot()
    assert atom.findtext(f"{SY}updatePeriod") == "hourly"
    assert atom.findtext(f"{SY}updateFrequency") == "6"
    archive = etree.parse(out / "archive/news/2022-05.rss.xml").getroot()[0]
    assert archive.find("ttl") is None and archive.find(f"{SY}updatePeriod") is None


def test_a_new_schedule_rewrites_the_head_feeds(tmp_path: Path) -> None:
    out = _build(tmp_path, "5m")
    assert b"<ttl>5</ttl>" in (out / "news.rss.xml").read_bytes()
    text = (tmp_path / "config.yaml").read_text(encoding="utf-8").replace("'5m'", "'1h'")
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    cfg = config.load(tmp_path / "config.yaml")
    assert once.fetch_and_build(cfg, dt.datetime(2022, 6, 2, tzinfo=dt.UTC)).ok
    assert b"<ttl>60</ttl>" in (out / "news.rss.xml").read_bytes()
    assert b"<sy:updateFrequency>1<" in (out / "news.atom.xml").read_bytes()
