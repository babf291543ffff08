from __future__ import annotations

import datetime as dt

import pytest

from feeds import timeutil
from feeds.errors import DateError

SH = timeutil.zone("Asia/Shanghai")
UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # what YAML hands over for each way of writing a date
        ("2022-06-09 14:36:33 +0800", "2022-06-09T14:36:33+08:00"),  # the real post: a string
        ("2022-06-09 06:36:33 +0000", "2022-06-09T14:36:33+08:00"),
        ("2022-06-09 01:36:33 -0500", "2022-06-09T14:36:33+08:00"),
        ("2022-06-09T14:36:33+08:00", "2022-06-09T14:36:33+08:00"),
        ("2022-06-09T06:36:33Z", "2022-06-09T14:36:33+08:00"),
        ("2022-06-09 14:36:33 +08:00", "2022-06-09T14:36:33+08:00"),
        ("2022-06-09 14:36:33", "2022-06-09T14:36:33+08:00"),  # naive: site time
        ("2022-06-09 14:36", "2022-06-09T14:36:00+08:00"),
        ("2022-06-09", "2022-06-09T00:00:00+08:00"),  # date only: midnight, site time
        ("2022-6-9 8:05:00", "2022-06-09T08:05:00+08:00"),
        ("2022-06-09 14:36:33.250 +0800", "2022-06-09T14:36:33.250000+08:00"),
        (dt.datetime(2022, 6, 9, 6, 36, 33, tzinfo=UTC), "2022-06-09T14:36:33+08:00"),
        (dt.datetime(2022, 6, 9, 14, 36, 33), "2022-06-09T14:36:33+08:00"),  # noqa: DTZ001
        (dt.date(2022, 6, 9), "2022-06-09T00:00:00+08:00"),
    ],
)
def test_parse_date_gives_site_time(value: object, expected: str) -> None:
    got = timeutil.parse_date(value, SH)
    assert got.isoformat() == expected
    assert got.utcoffset() == dt.timedelta(hours=8)  # never LMT +08:06


@pytest.mark.parametrize(
    "value",
    [
        "2024-02-30",
        "2024-02-30 10:00:00 +0800",
        "2022-13-01",
        "2022-06-09 25:00",
        "2022-06-09 10:00 +2500",
        "yesterday",
        "",
        2024,
        None,
        ["2022-06-09"],
    ],
)
def test_bad_dates_raise_date_error(value: object) -> None:
    with pytest.raises(DateError):
        timeutil.parse_date(value, SH)


def test_other_site_timezone() -> None:
    ny = timeutil.zone("America/New_York")
    got = timeutil.parse_date("2022-06-09 14:36:33 +0800", ny)
    assert got.isoformat() == "2022-06-09T02:36:33-04:00"
    assert timeutil.parse_date("2022-01-09 12:00", ny).isoformat() == "2022-01-09T12:00:00-05:00"


def test_unknown_zone() -> None:
    with pytest.raises(DateError, match="Mars/Olympus"):
        timeutil.zone("Mars/Olympus")


def test_filename_date() -> None:
    assert timeutil.date_from_filename(2022, 6, 9, SH).isoformat() == "2022-06-09T00:00:00+08:00"
    with pytest.raises(DateError, match="2022-02-30"):
        timeutil.date_from_filename(2022, 2, 30, SH)


def test_to_zone_refuses_naive() -> None:
    with pytest.raises(DateError):
        timeutil.to_zone(dt.datetime(2022, 1, 1), SH)  # noqa: DTZ001
