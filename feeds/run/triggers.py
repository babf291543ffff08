"""APScheduler 3 triggers for the daemon's schedule: an interval, or a parsed cron
expression (``feeds.cron``, pure) with cron's own meaning. Only ``feeds run`` imports this."""

from __future__ import annotations

import datetime as dt
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from feeds import cron
from feeds.config import config

__all__ = ["build_trigger", "cron_trigger"]


def cron_trigger(expr: cron.Cron, tz: dt.tzinfo) -> BaseTrigger:
    """APScheduler triggers for a parsed cron expression, with cron's meaning: every field as
    explicit values, weekdays by name (APScheduler's numbers start at Monday), and an
    ``OrTrigger`` when both day fields are restricted (cron ORs them; APScheduler ANDs)."""

    def joined(values: tuple[int, ...]) -> str:
        return ",".join(str(v) for v in values)

    common: dict[str, Any] = {
        "minute": joined(expr.minutes),
        "hour": joined(expr.hours),
        "month": joined(expr.months),
        "timezone": tz,
    }
    days = joined(expr.days)
    weekdays = ",".join(cron.DAYS[d] for d in expr.weekdays)
    if expr.days_restricted and expr.weekdays_restricted:
        return OrTrigger(
            [CronTrigger(day=days, **common), CronTrigger(day_of_week=weekdays, **common)]
        )
    return CronTrigger(day=days, day_of_week=weekdays, **common)


def build_trigger(cfg: config.Config) -> BaseTrigger:
    """The build's trigger, evaluated in the site timezone whatever the server's TZ."""
    tz = cfg.site.tz
    if cfg.schedule.build_seconds is not None:
        return IntervalTrigger(seconds=cfg.schedule.build_seconds, timezone=tz)
    return cron_trigger(cron.parse(cfg.schedule.build), tz)
