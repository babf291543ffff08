"""The runtime the CLI makes from the environment: the clock, and the fault hooks of the
tests, read once and passed down (nothing reads the environment at import time)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from feeds.errors import FeedsError
from feeds.runtime import Runtime

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_an_empty_environment_is_the_wall_clock_and_no_hook() -> None:
    rt = Runtime.from_env({})
    before = dt.datetime.now(dt.UTC)
    now = rt.now(SHANGHAI)
    assert now.utcoffset() == dt.timedelta(hours=8)
    assert before <= now <= dt.datetime.now(dt.UTC)
    assert rt.before_rename is None
    assert Runtime().before_rename is None  # what code below the CLI gets by default


def test_a_fake_now_stands_in_for_the_clock_in_any_zone() -> None:
    rt = Runtime.from_env({"FEEDS_FAKE_NOW": "2022-06-12T12:00:00+08:00"})
    assert rt.now(dt.UTC) == dt.datetime(2022, 6, 12, 4, tzinfo=dt.UTC)
    assert rt.now(SHANGHAI).isoformat() == "2022-06-12T12:00:00+08:00"
    assert rt.env["FEEDS_FAKE_NOW"] == "2022-06-12T12:00:00+08:00"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"FEEDS_FAKE_NOW": "2022-06-12T12:00:00"}, "FEEDS_FAKE_NOW needs a UTC offset"),
        ({"FEEDS_FAKE_NOW": "yesterday"}, "FEEDS_FAKE_NOW: "),
        ({"FEEDS_FAULT_WRITE_DELAY": "soon"}, "FEEDS_FAULT_WRITE_DELAY: not a number"),
        ({"FEEDS_FAULT_KILL_AT": "x"}, "FEEDS_FAULT_KILL_AT: not a number"),
    ],
)
def test_a_hook_that_cannot_be_read_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(FeedsError, match=message):
        Runtime.from_env(env)


def test_the_write_delay_hook_pauses_each_write() -> None:
    hook = Runtime.from_env({"FEEDS_FAULT_WRITE_DELAY": "0.05"}).before_rename
    assert hook is not None
    start = time.monotonic()
    hook()
    hook()
    assert time.monotonic() - start >= 0.1


def test_the_environment_is_a_snapshot() -> None:
    env = {"FEEDS_CONFIG": "a.yaml"}
    rt = Runtime.from_env(env)
    env["FEEDS_CONFIG"] = "b.yaml"
    assert rt.env["FEEDS_CONFIG"] == "a.yaml"
    with pytest.raises(TypeError):
        rt.env["X"] = "y"  # type: ignore[index]
