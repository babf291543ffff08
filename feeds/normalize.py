"""Raw collector output → ``Entry``. Pure: no I/O, ``now`` is passed in.

Posts go through two steps so that the costly one runs only for posts that land in a feed:
``prepare`` reads the front matter (title, dates, categories, permalink), ``render`` turns
the body into sanitized HTML and a summary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from feeds import content, timeutil
from feeds.config import Config, SourceConfig
from feeds.errors import DateError
from feeds.models import (
    Author,
    Enclosure,
    Entry,
    Problems,
    RawFeed,
    RawItem,
    RawPost,
    SourceRef,
)
from feeds.textutil import excerpt, has_xml_invalid, plain_text, slugify, xml_safe

log = logging.getLogger(__name__)

_URL_SAFE = "/:@!$&'()*+,;=-._~"
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_HTTP = re.compile(r"^https?://[^/\s]+", re.I)
_ID_SCHEMES = {"http", "https", "urn", "tag"}  # ids kept as they are; others made tag: URIs
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PostSettings:
    """Everything ``prepare`` and ``render`` read of the config, and nothing else: the post
    cache is keyed by its hash, so an option added here can never leave stale cached posts."""

    site_url: str
    timezone: str
    author: Author | None
    permalink: str
    summary_length: int
    source_link: bool
    drop_nav_links: bool
    nav_link_prefix: str
    tz: timeutil.Zone = field(repr=False, compare=False)  # the zone ``timezone`` names

    @classmethod
    def of(cls, cfg: Config) -> PostSettings:
        return cls(
            site_url=cfg.site.url,
            timezone=cfg.site.timezone,
            author=cfg.site.author,
            permalink=cfg.posts.permalink,
            summary_length=cfg.feeds.summary_length,
            source_link=cfg.posts.source_link,
            drop_nav_links=cfg.posts.drop_nav_links,
            nav_link_prefix=cfg.posts.nav_link_prefix,
            tz=cfg.site.tz,
        )


@dataclass(frozen=True)
class PostInfo:
    """What a post's front matter says, checked; enough to sort and select posts."""

    raw: RawPost
    title: str
    link: str
    published: dt.datetime
    updated: dt.datetime
    authors: tuple[Author, ...]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str | None  # front matter excerpt/description, as plain text

    @property
    def where(self) -> str:
        return str(self.raw.path)


def prepare(raw: RawPost, cfg: PostSettings, problems: Problems) -> PostInfo | None:
    """Check a post's front matter. ``None`` when the post is skipped (the reason recorded,
    except for unpublished and draft posts, which are skipped on purpose). Future posts are
    returned: whether they are published yet depends on ``now``, which the caller knows."""
    where = str(raw.path)
    meta = raw.meta
    if meta.get("published") is False or meta.get("draft") is True:
        log.debug("skip unpublished post=%s", where)
        return None
    tz = cfg.tz

    title = _text_field(raw, "title", problems)
    if title is None:
        return None

    try:
        if meta.get("date") is not None:
            published = timeutil.parse_date(meta["date"], tz)
        else:
            published = timeutil.date_from_filename(*raw.file_date, tz)
    except DateError as e:
        problems.error(where, f"date: {e}; post skipped", raw.line("date"))
        return None

    updated = published
    for key in ("last_modified_at", "updated"):
        if meta.get(key) is not None:
            try:
                updated = max(timeutil.parse_date(meta[key], tz), published)
            except DateError as e:
                problems.warn(where, f"{key}: {e}; using the post date", raw.line(key))
            break

    categories = _names(raw, ("category", "categories"), problems)
    tags = _names(raw, ("tag", "tags"), problems)
    if categories is None or tags is None:
        return None
    if not categories:
        problems.warn(
            where,
            "no categories: the post appears only in the feed of everything",
            raw.line("categories") or raw.line("category"),
        )

    authors = _authors(raw, problems)
    if authors is None:
        return None
    if not authors and cfg.author:
        authors = (cfg.author,)

    summary = None
    for key in ("excerpt", "description"):
        if meta.get(key) is not None:
            text = _text_field(raw, key, problems)
            if text is not None:
                summary = excerpt(plain_text(text), cfg.summary_length)
            break

    path = permalink_path(raw, cfg, published, categories, problems)
    if path is None:
        return None
    link = cfg.site_url + quote(path, safe=_URL_SAFE)
    return PostInfo(
        raw=raw,
        title=title,
        link=link,
        published=published,
        updated=updated,
        authors=authors,
        categories=categories,
        tags=tags,
        summary=summary,
    )


def render(info: PostInfo, cfg: PostSettings, problems: Problems) -> Entry | None:
    """Render a prepared post's body into an ``Entry``."""
    raw = info.raw
    body = raw.body
    if has_xml_invalid(body):
        problems.warn(info.where, "body contains control characters XML cannot carry; removed")
        body = xml_safe(body)
    trailer = content.split_trailer(
        body,
        source_link=cfg.source_link,
        drop_nav=cfg.drop_nav_links,
        nav_prefix=cfg.nav_link_prefix,
    )
    html = trailer.body if raw.ext == ".html" else content.render_markdown(trailer.body)
    active = content.has_active_content(html)
    if active:
        problems.warn(info.where, f"body contains active content ({active!r}); removed it")
    html = content.sanitize(html, info.link)
    summary = info.summary
    if summary is None:
        summary = excerpt(plain_text(html), cfg.summary_length)
    if trailer.source_link:
        html += content.source_paragraph(trailer.source_link)
    try:
        return Entry(
            id=info.link,
            title=info.title,
            link=info.link,
            published=info.published,
            updated=info.updated,
            summary=summary,
            content_html=html,
            authors=info.authors,
            categories=info.categories,
            tags=info.tags,
            source_link=trailer.source_link,
            origin=info.where,
        )
    except (TypeError, ValueError) as e:  # an invariant the checks above missed
        problems.error(info.where, f"cannot make a feed entry: {e}; post skipped")
        return None


def duplicate_permalink(
    problems: Problems, where: str, link: str, first: str, line: int | None = None
) -> None:
    """Report a post whose permalink an earlier post (by path) already has: it is skipped."""
    problems.error(
        where,
        f"permalink {link} is already used by {first}; post skipped "
        f"(set a different permalink or slug)",
        line,
    )


# --------------------------------------------------------------------------- fields


def _text_field(raw: RawPost, key: str, problems: Problems) -> str | None:
    """A one-line text field: scalars are turned into text (with a warning), lists and
    mappings refused; XML-invalid characters removed; whitespace folded."""
    where, line = str(raw.path), raw.line(key)
    value = raw.meta.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if key == "title":
            problems.error(where, "missing title; post skipped", line)
        return None
    if isinstance(value, list | dict):
        problems.error(
            where,
            f"{key}: must be text, not a "
            f"{'list' if isinstance(value, list) else 'mapping'}; post skipped",
            line,
        )
        return None
    if not isinstance(value, str):
        problems.warn(
            where,
            f"{key}: {value!r} is not text; used it as {str(value)!r} "
            f"(quote it in the front matter)",
            line,
        )
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if has_xml_invalid(value):
        problems.warn(where, f"{key}: contains control characters XML cannot carry; removed", line)
        value = xml_safe(value)
    return " ".join(value.split())


def _names(raw: RawPost, keys: tuple[str, str], problems: Problems) -> tuple[str, ...] | None:
    """Jekyll's category/categories (or tag/tags): a space-separated string or a list."""
    where = str(raw.path)
    out: list[str] = []
    for key in keys:
        value = raw.meta.get(key)
        line = raw.line(key)
        if value is None:
            continue
        items: list[Any] = (
            value.split()
            if isinstance(value, str)
            else (value if isinstance(value, list) else [value])
        )
        for i, item in enumerate(items):
            if isinstance(item, list | dict) or item is None:
                problems.error(
                    where,
                    f"{key}: item {i + 1} must be a name, not "
                    f"{'empty' if item is None else type(item).__name__}; "
                    f"post skipped",
                    raw.lines.get((key, i), line),
                )
                return None
            name = xml_safe(str(item)).strip()
            if name:
                out.append(name)
    return tuple(dict.fromkeys(out))


def _authors(raw: RawPost, problems: Problems) -> tuple[Author, ...] | None:
    value = raw.meta.get("author", raw.meta.get("authors"))
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
            email, uri = item.get("email"), item.get("uri", item.get("url"))
            out.append(
                Author(
                    name=xml_safe(item["name"]).strip(),
                    email=email if isinstance(email, str) else None,
                    uri=uri if isinstance(uri, str) else None,
                )
            )
        elif isinstance(item, str | int | float) and str(item).strip():
            out.append(Author(name=xml_safe(str(item)).strip()))
        else:
            problems.warn(
                str(raw.path),
                f"author: cannot read {item!r}; ignored",
                raw.line("author") or raw.line("authors"),
            )
    return tuple(out)


def permalink_path(
    raw: RawPost,
    cfg: PostSettings,
    published: dt.datetime,
    categories: tuple[str, ...],
    problems: Problems,
) -> str | None:
    """The post's URL path, from front matter ``permalink`` or the configured pattern, with
    Jekyll's placeholders (``:categories``, ``:year``, ``:title``, ``:output_ext``, …)."""
    custom = raw.meta.get("permalink")
    if custom is not None:
        if not isinstance(custom, str) or not custom.strip():
            problems.error(
                str(raw.path),
                "permalink: must be a path such as /news/x.html; post skipped",
                raw.line("permalink"),
            )
            return None
        pattern = custom.strip()
    else:
        pattern = cfg.permalink
    slug_value = raw.meta.get("slug")
    title = str(slug_value) if isinstance(slug_value, str | int) and str(slug_value) else raw.slug
    d = published
    placeholders: dict[str, Callable[[], str]] = {
        "year": lambda: f"{d.year:04d}",
        "short_year": lambda: f"{d.year % 100:02d}",
        "month": lambda: f"{d.month:02d}",
        "i_month": lambda: str(d.month),
        "short_month": lambda: _MONTHS[d.month - 1][:3],
        "long_month": lambda: _MONTHS[d.month - 1],
        "day": lambda: f"{d.day:02d}",
        "i_day": lambda: str(d.day),
        "y_day": lambda: f"{d.timetuple().tm_yday:03d}",
        "week": lambda: f"{d.isocalendar()[1]:02d}",
        "short_day": lambda: _DAYS[d.weekday()][:3],
        "long_day": lambda: _DAYS[d.weekday()],
        "hour": lambda: f"{d.hour:02d}",
        "minute": lambda: f"{d.minute:02d}",
        "second": lambda: f"{d.second:02d}",
        "title": lambda: title,
        "slug": lambda: slugify(title) or title,
        "name": lambda: raw.slug,
        "categories": lambda: "/".join(c.lower() for c in categories),
        "output_ext": lambda: ".html",
    }
    parts = _PLACEHOLDER.split(pattern)  # text, name, text, name, …: only used ones computed
    for i in range(1, len(parts), 2):
        make = placeholders.get(parts[i])
        parts[i] = make() if make is not None else ":" + parts[i]
    out = "".join(parts)
    while "//" in out:
        out = out.replace("//", "/")
    return out if out.startswith("/") else "/" + out


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
    site_tz = cfg.site.tz
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
        if value is not None and value < EARLIEST:
            problems.warn(
                where,
                f"entry {item.id}: {label} date {text!r} is implausibly old; "
                f"using the time it was first seen",
            )
            return None
        if value is not None and value > first_seen + FUTURE_SLACK:
            problems.warn(
                where,
                f"entry {item.id}: {label} date {text!r} is in the future; "
                f"using the time it was first seen",
            )
            return None
        return value

    published = date(raw.published, "published") or date(raw.updated, "updated") or first_seen
    updated = date(raw.updated, "updated") if raw.updated else None
    published = timeutil.to_zone(published, site_tz)
    updated = max(timeutil.to_zone(updated, site_tz), published) if updated else published

    base = feed.link if feed.link and _HTTP.match(feed.link) else feed.url
    link = urljoin(raw.base or feed.url, raw.link) if raw.link else None
    if not link or not _HTTP.match(link):
        if raw.link:
            problems.warn(
                where,
                f"entry {item.id}: link {raw.link!r} is not http(s); "
                f"linking to the source's site instead",
            )
        link = base if _HTTP.match(base) else cfg.site.url + "/"

    title_text = raw.title or ""
    if raw.title_is_html or "<" in title_text:
        title_text = plain_text(title_text)
    title = " ".join(xml_safe(title_text).split())
    html_in = raw.content_html or raw.summary_html or ""
    html_in = xml_safe(html_in)
    doc_base = next((u for u in (raw.base, feed.url) if u and _HTTP.match(u)), base)
    content_html = content.sanitize(html_in, doc_base) if html_in else ""
    summary_src = raw.summary_html or raw.content_html or ""
    summary = excerpt(plain_text(xml_safe(summary_src)), cfg.feeds.summary_length)
    if not title:
        title = excerpt(summary, 60) or "(无标题)"
    enclosures = tuple(
        Enclosure(url=u, length=n, type=t) for u, n, t in raw.enclosures if _HTTP.match(u)
    )
    try:
        return Entry(
            id=item.id,
            title=title,
            link=link,
            published=published,
            updated=updated,
            summary=summary,
            content_html=content_html,
            authors=tuple(
                Author(name=xml_safe(n), email=e, uri=u)
                for n, e, u in raw.authors
                if xml_safe(n).strip()
            ),
            categories=(),
            tags=tuple(t for t in (xml_safe(t).strip() for t in raw.tags) if t),
            origin=source.id,
            enclosures=enclosures,
            source=SourceRef(
                id=source.id,
                title=source.title or feed.title or source.id,
                url=feed.url if _HTTP.match(feed.url) else None,
                link=feed.link if feed.link and _HTTP.match(feed.link) else None,
            ),
        )
    except (TypeError, ValueError) as e:
        problems.warn(where, f"entry {item.id}: skipped: {e}")
        return None


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
