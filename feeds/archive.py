"""RFC 5005 archived feeds: each category's entries by month, in documents linked from the
head feed with ``prev-archive`` and back to it with ``current``. A month's document is written
once its month is over, and never again (archives are immutable). Pure: months and paths."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from feeds import timeutil
from feeds.config import Config
from feeds.formats import FORMATS
from feeds.generate import FeedPlan, self_url


@dataclass(frozen=True)
class Month:
    key: str  # "2022-06"
    start: dt.datetime  # first instant, site timezone
    end: dt.datetime  # first instant of the next month


def month_of(when: dt.datetime, tz: dt.tzinfo) -> Month:
    local = timeutil.to_zone(when, tz)
    start = timeutil.localize(dt.datetime(local.year, local.month, 1), tz)  # noqa: DTZ001
    ny, nm = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    end = timeutil.localize(dt.datetime(ny, nm, 1), tz)  # noqa: DTZ001
    return Month(f"{local.year:04d}-{local.month:02d}", start, end)


def closed_months(times: Iterable[dt.datetime], now: dt.datetime, tz: dt.tzinfo) -> list[Month]:
    """The months, oldest first, that have entries and are over (before ``now``'s month)."""
    current = month_of(now, tz).key
    months = {m.key: m for m in (month_of(t, tz) for t in times) if m.key < current}
    return [months[k] for k in sorted(months)]


def path(cfg: Config, plan: FeedPlan, month: Month, fmt: str) -> str:
    return cfg.feeds.archive_path.format(slug=plan.slug, month=month.key) + FORMATS[fmt].suffix


def url(cfg: Config, plan: FeedPlan, month: Month, fmt: str) -> str:
    return self_url(cfg, path(cfg, plan, month, fmt))
