from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytz

from feeds import config, cron, scheduler, yamlutil
from feeds.errors import ConfigError, LockedError
from feeds.lock import ProcessLock

SH = pytz.timezone("Asia/Shanghai")
SUNDAY_9AM = SH.localize(dt.datetime(2026, 11, 29, 9, 0))  # noqa: DTZ001 - a Sunday


def nexts(expr: str, now: dt.datetime = SUNDAY_9AM, n: int = 3) -> list[str]:
    return [t.isoformat() for t in cron.next_times(cron.parse(expr, SH, now), now, n)]


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
        cron.parse(expr, SH, SUNDAY_9AM)


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
        cron.parse(expr, SH, SUNDAY_9AM)


def test_macros_and_leap_day() -> None:
    assert nexts("@daily", n=1) == ["2026-11-30T00:00:00+08:00"]
    assert nexts("0 0 29 2 *", n=1) == ["2028-02-29T00:00:00+08:00"]


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
    trigger = scheduler.build_trigger(cfg, now)
    first = cron.next_times(trigger, now, 1)[0]
    assert first.utcoffset() == dt.timedelta(hours=8)
    assert (first.hour, first.minute, first.weekday()) == (8, 0, 6)  # Sunday 08:00 +08:00
    interval = scheduler.build_trigger(_config(tmp_path, "5m"), now)
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
    trigger = scheduler.build_trigger(cfg, last)
    back = last - dt.timedelta(hours=1)
    nxt = trigger.get_next_fire_time(last, back)
    assert nxt == last + dt.timedelta(minutes=5)  # no run before the clock catches up
    daemon = scheduler.Daemon(cfg, lambda: cfg)
    defaults = daemon.scheduler._job_defaults
    assert defaults["coalesce"] is True and defaults["max_instances"] == 1
    assert defaults["misfire_grace_time"] == 600
