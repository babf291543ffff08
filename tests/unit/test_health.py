"""BuildWants: when a wanted build is overdue, on an injected clock; and the reasons a
status body is unhealthy."""

from __future__ import annotations

from typing import Any

from feeds.run.health import BuildWants, unhealthy


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_want_is_overdue_past_the_bound_until_a_build_that_took_it_finishes() -> None:
    clock = Clock()
    wants = BuildWants(clock)
    assert wants.overdue(60) is None  # nothing wanted
    wants.want()
    clock.t += 30
    wants.want()  # a second want does not reset the age of the first
    clock.t += 31
    reason = wants.overdue(60)
    assert reason is not None and "61 s ago" in reason and "misfire_grace" in reason
    wants.started()  # a build took both: still overdue while it runs
    assert wants.overdue(60) is not None
    clock.t += 5
    wants.want()  # asked for during the build: waits for the next one
    wants.finished()
    assert wants.overdue(60) is None
    clock.t += 61
    assert wants.overdue(60) is not None
    wants.started()
    wants.finished()
    assert wants.overdue(60) is None


def test_a_build_nobody_asked_for_is_timed_from_its_start() -> None:
    clock = Clock()
    wants = BuildWants(clock)
    wants.started()
    clock.t += 59
    assert wants.overdue(60) is None
    clock.t += 2
    assert wants.overdue(60) is not None


def test_unhealthy_reasons() -> None:
    body: dict[str, Any] = {"running": True, "last_job_failed": None, "build_overdue": None}
    assert unhealthy(body) == []
    body = {"running": False, "last_job_failed": "StoreError: x", "build_overdue": "late"}
    assert unhealthy(body) == ["stopping", "the last job failed: StoreError: x", "late"]
