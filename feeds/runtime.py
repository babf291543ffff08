"""What a feeds process takes from the world it runs in: the clock, the environment and the
fault hooks of the tests. Made once, by ``cli.main`` from the environment (``from_env``),
and passed down to the pipeline and the daemon; nothing below reads ``os.environ`` or the
wall clock at import time, so the CLI can run in-process with an environment of its own.

The test hooks, unset in normal use:

- ``FEEDS_FAKE_NOW`` (an ISO 8601 time with offset) stands in for the clock (clock jumps);
- ``FEEDS_FAULT_WRITE_DELAY`` (seconds) pauses every file write between its temp file and
  its rename, so a test can stop a build in the middle of a write;
- ``FEEDS_FAULT_KILL_AT`` (N) SIGKILLs the process at its Nth file write, the temp file
  written and not yet renamed (the worst moment to die).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from feeds.errors import FeedsError

Hook = Callable[[], None]


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Runtime:
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    clock: Callable[[], dt.datetime] = _wall_clock  # aware
    before_rename: Hook | None = None  # every file write calls it before its rename

    def now(self, tz: dt.tzinfo) -> dt.datetime:
        """The current time in ``tz``."""
        return self.clock().astimezone(tz)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runtime:
        """The runtime an environment asks for. Raises ``FeedsError`` for a test hook that
        cannot be read (naming the variable)."""
        env = MappingProxyType(dict(env))
        fake = _fake_now(env.get("FEEDS_FAKE_NOW", ""))
        hook = _fault_hook(
            _number(env, "FEEDS_FAULT_WRITE_DELAY"), int(_number(env, "FEEDS_FAULT_KILL_AT"))
        )
        clock = _wall_clock if fake is None else (lambda: fake)
        return cls(env=env, clock=clock, before_rename=hook)


def _fake_now(text: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise FeedsError(f"FEEDS_FAKE_NOW: {e}") from e
    if when.tzinfo is None:
        raise FeedsError("FEEDS_FAKE_NOW needs a UTC offset, e.g. 2022-06-09T12:00:00+08:00")
    return when


def _number(env: Mapping[str, str], name: str) -> float:
    text = env.get(name, "") or "0"
    try:
        return float(text)
    except ValueError as e:
        raise FeedsError(f"{name}: not a number: {text!r}") from e


def _fault_hook(delay: float, kill_at: int) -> Hook | None:
    if not delay and not kill_at:
        return None
    writes = itertools.count(1)

    def before_rename() -> None:
        if delay:
            time.sleep(delay)
        if kill_at and next(writes) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    return before_rename
