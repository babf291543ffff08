from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytz
from hypothesis import given, settings, strategies as st

from feeds import cron, yamlutil
from feeds.config import config
from feeds.errors import ConfigError, LockedError
from feeds.lock import ProcessLock
from feeds.run import scheduler, triggers

SH = pytz.timezone("Asia/Shanghai")
SUNDAY_9AM = SH.localize(dt.datetime(2026, 11, 29, 9, 0))  # noqa: DTZ001 - a Sunday


def nexts(expr: str, now: dt.datetime = SUNDAY_9AM, n: int = 3) -> list[str]:
    return [t.isoformat() for t in cron.next_times(cron.parse(expr), SH, now, n)]


def test_weekday_zero_and_seven_are_sunday() -> None:
    saturday = SH.localize(dt.datetime(2026, 11, 28, 12, 0))  # noqa: DTZ001
    assert nexts("0 8 * * 0", saturday, 2) == [
        "2026-11-29T08:00:00+08:00",
        "2026-12-06T08:00:00+08:00",
    ]
    assert nexts("0 8 * * 7", saturday, 1) == ["2026-11-29T08:00:00+08:00"]
    assert nexts("0 8 * * sun", saturday, 1) == ["2026-11-29T08:00:00+08:00"]
    assert nexts("30 7 * * 1-5", saturday, 2) == [
        "2026-11-30T07:30:00+08:00",
        "2026-12-01T07:30:00+08:00",
    ]


def test_day_of_month_or_day_of_week_when_both_given() -> None:
    # cron fires on Fridays *or* on the 13th; APScheduler alone would need both
    assert nexts("0 9 13 * 5") == [
        "2026-12-04T09:00:00+08:00",
        "2026-12-11T09:00:00+08:00",
        "2026-12-13T09:00:00+08:00",
    ]


@pytest.mark.parametrize("expr", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"])
def test_never_firing_is_an_error(expr: str) -> None:
    with pytest.raises(cron.CronError, match="never fires"):
        cron.parse(expr)


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("61 * * * *", "minute: 61 is outside 0-59"),
        ("* * *", "5 fields"),
        ("*/0 * * * *", "step"),
        ("5-1 * * * *", "backwards"),
        ("0 0 * foo *", "month"),
    ],
)
def test_bad_expressions(expr: str, words: str) -> None:
    with pytest.raises(cron.CronError, match=words):
        cron.parse(expr)


def test_a_step_in_a_day_field_still_restricts_it() -> None:
    # "*/2" starts with "*", so it is not "restricted" for cron's OR rule, but its values count
    assert nexts("0 6 */10 * *", n=3) == [
        "2026-12-01T06:00:00+08:00",
        "2026-12-11T06:00:00+08:00",
        "2026-12-21T06:00:00+08:00",
    ]
    assert nexts("0 6 * * */3", n=2) == [  # Sunday, Wednesday, Saturday
        "2026-12-02T06:00:00+08:00",
        "2026-12-05T06:00:00+08:00",
    ]


def test_interval_runs_are_counted_from_now() -> None:
    times = cron.next_runs("5m", 300.0, SH, SUNDAY_9AM, 2)
    assert [t.isoformat() for t in times] == [
        "2026-11-29T09:05:00+08:00",
        "2026-11-29T09:10:00+08:00",
    ]


def _aps_times(expr: str, tz: dt.tzinfo, now: dt.datetime, n: int) -> list[dt.datetime]:
    trigger = triggers.cron_trigger(cron.parse(expr), tz)
    out: list[dt.datetime] = []
    previous, current = None, now
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, current)
        out.append(nxt)
        previous, current = nxt, nxt + dt.timedelta(microseconds=1)
    return out


_FIELD_TEXT = {
    "minute": st.sampled_from(["*", "0", "30", "*/15", "5-10", "0,45", "59"]),
    "hour": st.sampled_from(["*", "0", "8", "*/6", "9-17", "23", "1,13"]),
    "day": st.sampled_from(["*", "1", "13", "*/10", "28-31", "15,31", "29"]),
    "month": st.sampled_from(["*", "1", "2", "jan-mar", "*/4", "2,11", "dec"]),
    "weekday": st.sampled_from(["*", "0", "7", "1-5", "sat,sun", "*/3", "5"]),
}


@settings(max_examples=150, deadline=None)
@given(
    fields=st.tuples(*_FIELD_TEXT.values()),
    zone=st.sampled_from(["Asia/Shanghai", "UTC", "Asia/Tokyo"]),
    start=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),  # noqa: DTZ001 - made aware below
        max_value=dt.datetime(2035, 12, 31),  # noqa: DTZ001
    ),
)
def test_pure_cron_agrees_with_the_daemons_apscheduler_triggers(
    fields: tuple[str, ...], zone: str, start: dt.datetime
) -> None:
    """``feeds check`` prints the pure module's times; the daemon fires APScheduler's."""
    expr = " ".join(fields)
    try:
        parsed = cron.parse(expr)
    except cron.CronError:
        return
    tz = pytz.timezone(zone)
    now = tz.localize(start)
    assert cron.next_times(parsed, tz, now, 4) == _aps_times(expr, tz, now, 4), expr


def test_macros_and_leap_day() -> None:
    assert nexts("@daily", n=1) == ["2026-11-30T00:00:00+08:00"]
    assert nexts("0 0 29 2 *", n=1) == ["2028-02-29T00:00:00+08:00"]
    # "*/7" (Sunday only) is not "restricted" for cron's OR rule: Feb 29 that is a Sunday
    assert nexts("0 0 29 2 */7", n=1) == ["2032-02-29T00:00:00+08:00"]


@pytest.fixture
def server_tz() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def _config(tmp_path: Path, build: str) -> config.Config:
    doc = yamlutil.load(
        f"site:\n  title: t\n  url: https://x.example\nschedule:\n  build: '{build}'\n"
    )
    return config.parse(doc, tmp_path / "config.yaml")


def test_schedule_is_evaluated_in_shanghai_whatever_the_server_tz(
    tmp_path: Path, server_tz: None
) -> None:
    assert time.strftime("%Z") in ("EST", "EDT")  # the process really is in New York time
    cfg = _config(tmp_path, "0 8 * * 0")
    now = dt.datetime.now(cfg.site.tz)
    trigger = triggers.build_trigger(cfg)
    for first in (
        trigger.get_next_fire_time(None, now),
        cron.next_runs(cfg.schedule.build, None, cfg.site.tz, now, 1)[0],
    ):
        assert first.utcoffset() == dt.timedelta(hours=8)
        assert (first.hour, first.minute, first.weekday()) == (8, 0, 6)  # Sunday 08:00 +08:00
    interval = triggers.build_trigger(_config(tmp_path, "5m"))
    assert str(interval.timezone) == "Asia/Shanghai"


def test_config_refuses_bad_schedules(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _config(tmp_path, "0 0 31 2 *")
    assert info.value.key == "schedule.build" and "never fires" in str(info.value)
    assert info.value.line == 5
    assert _config(tmp_path, "90s").schedule.build_seconds == 90


def test_second_lock_names_the_holder(tmp_path: Path) -> None:
    with (
        ProcessLock(tmp_path, "run"),
        pytest.raises(LockedError, match=rf"pid {os.getpid()} \(feeds run, since"),
    ):
        ProcessLock(tmp_path, "build").acquire()
    with ProcessLock(tmp_path, "build"):  # released: free again
        pass


def test_clock_jumps_do_not_make_the_scheduler_spin(tmp_path: Path) -> None:
    """After the wall clock moves back an hour, the next run is one interval after the last
    one (a wait, not a burst of catch-up runs); after it moves forward a day, the missed runs
    are coalesced into one (coalesce=True, max_instances=1 on every job)."""
    cfg = _config(tmp_path, "5m")
    last = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC).astimezone(cfg.site.tz)
    trigger = triggers.build_trigger(cfg)
    back = last - dt.timedelta(hours=1)
    nxt = trigger.get_next_fire_time(last, back)
    assert nxt == last + dt.timedelta(minutes=5)  # no run before the clock catches up
    daemon = scheduler.Daemon(cfg, lambda: cfg)
    defaults = daemon.scheduler._job_defaults
    assert defaults["coalesce"] is True and defaults["max_instances"] == 1
    assert defaults["misfire_grace_time"] == 600
