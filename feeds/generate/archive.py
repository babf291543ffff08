"""RFC 5005 archived feeds: each category's entries by month, in documents linked from the
head feed with ``prev-archive``, to each other with ``prev-archive`` and ``next-archive``, and
back to the head with ``current``. A month's document is written once its month is over; its
entries never change again. When the next month closes, the document is rewritten once, to add
its ``next-archive`` link, every other byte kept (RFC 5005 §4: an archive SHOULD link the next
one, and the set of entries at an archive's URI SHOULD NOT change). Pure: months, paths, bytes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from feeds import timeutil
from feeds.config.config import Config
from feeds.formats import FORMATS
from feeds.generate.generate import FeedPlan, self_url


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


_CURRENT = b'rel="current"'
_NEXT = b'rel="next-archive"'


def has_next_archive(data: bytes) -> bool:
    return _NEXT in data


def with_next_archive(data: bytes, href: str) -> bytes | None:
    """An archive document as ``generate.render`` wrote it, with a ``next-archive`` link to
    ``href`` added where a fresh render puts it (just before the ``current`` link), every other
    byte, its entries above all, unchanged. None when the document has no ``current`` link
    (not one this tool wrote)."""
    at = data.find(_CURRENT)
    start = data.rfind(b"\n", 0, at) + 1
    if at < 0 or start == 0:
        return None
    line = data[start : data.find(b"\n", at) + 1]
    link = line.replace(_CURRENT, _NEXT, 1)
    old_href = line[line.find(b'href="') + 6 :]
    old_href = old_href[: old_href.find(b'"')]
    link = link.replace(b'href="' + old_href + b'"', b'href="' + _attr(href) + b'"', 1)
    return data[:start] + link + data[start:]


def _attr(value: str) -> bytes:
    """``value`` escaped as lxml escapes an attribute value."""
    out = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out.replace('"', "&quot;").encode("utf-8")
