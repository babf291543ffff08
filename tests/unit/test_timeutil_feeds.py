"""Dates as real feeds and posts write them: every form in one table."""

from __future__ import annotations

import datetime as dt

import pytest

from feeds import timeutil
from feeds.errors import DateError

SH = timeutil.zone("Asia/Shanghai")
UTC = timeutil.zone("UTC")
NOW = dt.datetime(2026, 9, 20, 6, 0, 30, 250000, tzinfo=dt.UTC)  # 14:00:30 in Beijing
TEN = "2026-09-20T10:00:00+08:00"


@pytest.mark.parametrize(
    "zone_text", ["GMT+8", "GMT+0800", "UTC+8", "UTC+08:00", "GMT+08:00", "+8", "北京时间"]
)
@pytest.mark.parametrize("base", ["Sun, 20 Sep 2026 10:00:00 ", "2026-09-20 10:00:00 "])
def test_zone_spellings_servers_send(zone_text: str, base: str) -> None:
    # the source's own zone is UTC here, so a zone that is not read shows as 18:00
    got = timeutil.parse_feed_date(base + zone_text, UTC, china=False, now=NOW)
    assert got is not None
    assert got.astimezone(SH).isoformat() == TEN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026/09/20 10:00:00", TEN),
        ("2026-09-20 10:00", TEN),
        ("2026年09月20日 10:00", TEN),
        ("2026年9月20日", "2026-09-20T00:00:00+08:00"),
        ("2026年9月20日 星期日 10:00", TEN),
        ("2026年9月20日10时00分", TEN),
        ("２０２６年９月２０日　１０：００", TEN),  # full-width digits and space
        ("2022年06月09日 14:36", "2022-06-09T14:36:00+08:00"),  # feedparser: 2022-12-01
        ("09月20日 10:00", TEN),  # year from the fetch time
        ("12月31日 23:00", "2025-12-31T23:00:00+08:00"),  # not nine months ahead: last year
        ("9月21日 08:00", "2026-09-21T08:00:00+08:00"),  # a day ahead at most: this year
        ("星期日, 20 9月 2026 10:00:00 +0800", TEN),
        ("刚刚", "2026-09-20T14:00:30+08:00"),
        ("5分钟前", "2026-09-20T13:55:30+08:00"),
        ("3小时前", "2026-09-20T11:00:30+08:00"),
        ("半小时前", "2026-09-20T13:30:30+08:00"),
        ("2天前", "2026-09-18T14:00:30+08:00"),
        ("昨天 10:00", "2026-09-19T10:00:00+08:00"),
        ("前天", "2026-09-18T00:00:00+08:00"),
        ("今天 09:15", "2026-09-20T09:15:00+08:00"),
        ("20260920T020000Z", TEN),
        ("20260920T100000+0800", TEN),
        ("1789869600", TEN),  # epoch seconds
        ("1789869600000", TEN),  # epoch milliseconds
        ("Sun, 20 Sep 2026 02:00:00 GMT", TEN),
        ("Sun, 20 Sep 2026 10:00:00 CST", TEN),  # China Standard Time in a Chinese source
        ("Sun, 20 Sep 2026 10:00:00", TEN),  # naive: the source's zone
        ("2026-09-20T02:00:00Z", TEN),
        ("2026-09-20T10:00:00.000+08:00", TEN),
        ("Sun, 20 Sep 2026 02:00:00 +0000 (UTC)", TEN),
        ("Sat, 19 Sep 2026 22:00:00 EDT", TEN),
    ],
)
def test_feed_date_forms(text: str, expected: str) -> None:
    got = timeutil.parse_feed_date(text, SH, china=True, now=NOW)
    assert got is not None
    assert got.isoformat() == expected


def test_relative_forms_are_in_the_sources_zone() -> None:
    ny = timeutil.zone("America/New_York")  # 02:00:30 on 20 September there
    got = timeutil.parse_feed_date("昨天 10:00", ny, china=False, now=NOW)
    assert got is not None and got.isoformat() == "2026-09-19T10:00:00-04:00"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Fri, 31 Dec 9999 23:00:00 -0500", "outside the years 1 to 9999"),
        ("9999-12-31T23:00:00-05:00", "outside the years 1 to 9999"),
        ("0001-01-01T00:00:00+08:00", "outside the years 1 to 9999"),
        ("0001-01-01 00:00", "outside the years 1 to 9999"),  # naive, in +08:00
        ("99999999999999999", "unreadable"),
        ("Sun, 20 Sep 2026 10:00:00 +9999", "impossible UTC offset"),
        ("2026年2月30日", "impossible date"),
        ("2月29日", "impossible date"),  # no leap year near 2026
        ("sometime", "unreadable"),
        ("Sun, 20 Sep 2026 10:00:00 XYZ", "unknown timezone 'XYZ'"),  # email.utils: UTC
    ],
)
def test_dates_that_cannot_be_read_are_sentences_naming_the_text(text: str, reason: str) -> None:
    with pytest.raises(DateError, match=reason) as info:
        timeutil.parse_feed_date(text, SH, china=True, now=NOW)
    assert repr(text) in str(info.value)


def test_no_date_at_all_is_none() -> None:
    assert timeutil.parse_feed_date("  ", SH, china=True, now=NOW) is None
    assert timeutil.parse_feed_date(None, SH, china=True, now=NOW) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # what Ruby's Time.parse (Jekyll's Utils.parse_date) accepts
        ("2026/12/01 10:00", "2026-12-01T10:00:00+08:00"),
        ("2026/12/1", "2026-12-01T00:00:00+08:00"),
        ("2026.12.01 10:00", "2026-12-01T10:00:00+08:00"),
        ("20261201", "2026-12-01T00:00:00+08:00"),
        ("2026-12-01 10:00 PM", "2026-12-01T22:00:00+08:00"),
        ("2026-12-01 12:30 am", "2026-12-01T00:30:00+08:00"),
        ("2026-12-01 10:00 +08", "2026-12-01T10:00:00+08:00"),
        ("2026-12-01 10:00 GMT+8", "2026-12-01T10:00:00+08:00"),
        ("Tue, 01 Dec 2026 10:00:00 +0800", "2026-12-01T10:00:00+08:00"),
        ("1 Dec 2026 10:00", "2026-12-01T10:00:00+08:00"),
        ("December 1, 2026 10:00", "2026-12-01T10:00:00+08:00"),
        ("Dec 1, 2026 10:00 PM", "2026-12-01T22:00:00+08:00"),
        ("December 1, 2026", "2026-12-01T00:00:00+08:00"),
        ("1 Dec 2026", "2026-12-01T00:00:00+08:00"),
    ],
)
def test_post_dates_jekyll_accepts(value: str, expected: str) -> None:
    assert timeutil.parse_date(value, SH).isoformat() == expected


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31 23:00:00 -0500",
        "0001-01-01 00:00:00 +0800",
        "0001-01-01",
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.date(1, 1, 1),
        "2026/12-01",  # mixed separators
        "2026-12-01 13:00 PM",
        "昨天",  # relative forms are for feeds, not posts
    ],
)
def test_post_dates_that_cannot_be_used_are_date_errors(value: object) -> None:
    with pytest.raises(DateError):
        timeutil.parse_date(value, SH)


def test_filename_year_one_is_a_date_error() -> None:
    with pytest.raises(DateError, match="outside"):
        timeutil.date_from_filename(1, 1, 1, SH)
