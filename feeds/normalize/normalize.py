"""Raw collector output → ``Entry``. Pure: no I/O, ``now`` is passed in.

Sources' entries are made here; posts in ``feeds.normalize.post`` (``prepare`` and
``render``, re-exported here so callers keep one name for the stage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from feeds import content, timeutil
from feeds.config.config import Config, SourceConfig
from feeds.errors import DateError
from feeds.models import Author, Enclosure, Entry, Problems, RawFeed, RawItem, SourceRef
from feeds.normalize.post import (
    PostInfo,
    PostSettings,
    duplicate_permalink,
    permalink_path,
    prepare,
    render,
)
from feeds.textutil import excerpt, plain_text, xml_safe

__all__ = [
    "PostInfo",
    "PostSettings",
    "duplicate_permalink",
    "permalink_path",
    "prepare",
    "remote_entry",
    "remote_ids",
    "render",
    "route",
]

log = logging.getLogger(__name__)

_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_TAG = re.compile(r"<[^>]*>")
_HTTP = re.compile(r"^https?://[^/\s]+", re.I)
_ID_SCHEMES = {"http", "https", "urn", "tag"}  # ids kept as they are; others made tag: URIs


# --------------------------------------------------------------------------- remote entries

EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)  # before this a date is taken as missing
FUTURE_SLACK = dt.timedelta(days=1)  # more than this ahead of now: clamped to first seen


@dataclass(frozen=True)
class RemoteItem:
    """A source's entry with its stable id, before dates are settled against first-seen."""

    id: str
    raw: RawItem


def remote_ids(source_id: str, site_url: str, items: tuple[RawItem, ...]) -> list[RemoteItem]:
    """Stable ids: guid/atom:id, else the link, else a hash of title and date; a second
    entry with the same id in one document gets ``#2`` (``#3`` …) so none is lost. An id that
    is not an absolute URI is made one (a ``tag:`` URI), as Atom requires."""
    out: list[RemoteItem] = []
    seen: dict[str, int] = {}
    host = urlsplit(site_url).hostname or "localhost"
    for item in items:
        base = item.guid or (item.link if item.link and _HTTP.match(item.link) else None)
        if not base:
            digest = hashlib.sha256(
                f"{item.title}\0{item.published or item.updated}".encode()
            ).hexdigest()[:24]
            base = f"sha256:{digest}"
        scheme = base.split(":", 1)[0].lower() if _ABSOLUTE_URI.match(base) else ""
        if scheme not in _ID_SCHEMES:
            base = f"tag:{host},2024:{source_id}/{quote(base, safe='')}"
        n = seen.get(base, 0) + 1
        seen[base] = n
        out.append(RemoteItem(id=base if n == 1 else f"{base}#{n}", raw=item))
    return out


def remote_entry(
    item: RemoteItem,
    feed: RawFeed,
    source: SourceConfig,
    cfg: Config,
    first_seen: dt.datetime,
    problems: Problems,
    *,
    now: dt.datetime | None = None,
) -> Entry | None:
    """A source's entry → ``Entry``: text titles, sanitized absolute HTML, site-time dates.

    A missing or implausibly old date becomes ``first_seen``; one more than a day ahead of
    ``first_seen`` is clamped to it. Categories are left empty: routing happens at build time,
    so a config change applies to entries already stored. Relative dates (``3小时前``) and
    dates without a year are read against ``now``, the fetch time (default: ``first_seen``).
    """
    raw = item.raw
    where = f"source {source.id!r} ({feed.url})"
    published, updated = _remote_dates(item, feed, source, cfg, first_seen, problems, now)
    base = feed.link if feed.link and _HTTP.match(feed.link) else feed.url
    link = _remote_link(item, feed, base, cfg.site.url, where, problems)
    doc_base = next((u for u in (raw.base, feed.url) if u and _HTTP.match(u)), base)
    html_in = content.repair_lazy_images(xml_safe(raw.content_html or raw.summary_html or ""))
    summary_src = raw.summary_html or raw.content_html or ""
    summary = excerpt(plain_text(xml_safe(summary_src)), cfg.feeds.summary_length)
    try:
        return Entry(
            id=item.id,
            title=_remote_title(raw.title, raw.title_is_html) or excerpt(summary, 60) or "(无标题)",
            link=link,
            published=published,
            updated=updated,
            summary=summary,
            content_html=content.sanitize(html_in, doc_base, no_referrer=True) if html_in else "",
            authors=tuple(
                Author(name=xml_safe(n), email=e, uri=u)
                for n, e, u in raw.authors
                if xml_safe(n).strip()
            ),
            categories=(),
            tags=tuple(t for t in (xml_safe(t).strip() for t in raw.tags) if t),
            origin=source.id,
            enclosures=tuple(
                Enclosure(url=u, length=n, type=t) for u, n, t in raw.enclosures if _HTTP.match(u)
            ),
            rights=_remote_title(raw.rights or feed.rights, False) or None,
            source=SourceRef(
                id=source.id,
                title=source.title or feed.title or source.id,
                url=feed.url if _HTTP.match(feed.url) else None,
                link=feed.link if feed.link and _HTTP.match(feed.link) else None,
            ),
            image=_remote_image(raw.image, doc_base),
        )
    except (TypeError, ValueError) as e:
        problems.warn(where, f"entry {item.id}: skipped: {e}")
        return None


def _remote_image(url: str | None, base: str) -> Enclosure | None:
    """The source's own picture for the entry (Media RSS, JSON Feed ``image``), absolute."""
    if not url:
        return None
    absolute = urljoin(base, url)
    return Enclosure(absolute, 0, content.media_type(absolute)) if _HTTP.match(absolute) else None


def _remote_title(text: str | None, is_html: bool) -> str:
    """A text title keeps its text (``vector<int> 与 a < b``); an HTML one (Atom
    ``type="html"``) is reduced to its text. Line breaks and runs of ASCII white space are
    folded; a no-break or ideographic space is the publisher's and stays."""
    title = text or ""
    if is_html:
        title = html.unescape(_TAG.sub("", title))
    return _ASCII_SPACE.sub(" ", xml_safe(title)).strip(" ")


def _remote_link(
    item: RemoteItem, feed: RawFeed, base: str, site_url: str, where: str, problems: Problems
) -> str:
    """The entry's absolute http(s) link, else the source's site (with a warning)."""
    raw = item.raw
    link = urljoin(raw.base or feed.url, raw.link) if raw.link else None
    if link and _HTTP.match(link):
        return link
    if raw.link:
        problems.warn(
            where,
            f"entry {item.id}: link {raw.link!r} is not http(s); linking to the source's site "
            f"instead",
        )
    return base if _HTTP.match(base) else site_url + "/"


def _remote_dates(
    item: RemoteItem,
    feed: RawFeed,
    source: SourceConfig,
    cfg: Config,
    first_seen: dt.datetime,
    problems: Problems,
    now: dt.datetime | None,
) -> tuple[dt.datetime, dt.datetime]:
    """(published, updated) in site time; a date that cannot be used is first-seen."""
    raw = item.raw
    where = f"source {source.id!r} ({feed.url})"
    tz = cfg.source_zone(source)
    china = timeutil.is_china_zone(tz) or (feed.language or "").lower().startswith("zh")

    def date(text: str | None, label: str) -> dt.datetime | None:
        try:
            value = timeutil.parse_feed_date(text, tz, china=china, now=now or first_seen)
        except DateError as e:
            problems.warn(
                where, f"entry {item.id}: {label} date: {e}; using the time it was first seen"
            )
            return None
        why = None
        if value is not None and value < EARLIEST:
            why = "is implausibly old"
        elif value is not None and value > first_seen + FUTURE_SLACK:
            why = "is in the future"
        if why:
            problems.warn(
                where,
                f"entry {item.id}: {label} date {text!r} {why}; using the time it was first seen",
            )
            return None
        return value

    site_tz = cfg.site.tz
    published = date(raw.published, "published") or date(raw.updated, "updated") or first_seen
    updated = date(raw.updated, "updated") if raw.updated else None
    published = timeutil.to_zone(published, site_tz)
    return published, (max(timeutil.to_zone(updated, site_tz), published) if updated else published)


def route(tags: tuple[str, ...], title: str, source: SourceConfig) -> tuple[str, ...]:
    """The categories a source's entry (its own tags and its title) goes to: the source's
    own, plus every matching route."""
    out = list(source.categories)
    own = set(tags)
    title = title.casefold()
    for r in source.routes:
        if r.category is not None and r.category not in own:
            continue
        if r.title is not None and r.title.casefold() not in title:
            continue
        out.append(r.to)
    return tuple(dict.fromkeys(out))
