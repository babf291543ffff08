"""Jekyll posts → ``Entry``, in two steps, read as Jekyll reads them. Pure: no I/O.

``prepare`` reads the front matter (title, dates, categories, permalink) by Jekyll's rules
(``feeds.jekyll_post``), ``render`` turns the body into sanitized HTML and a summary; the
costly second step runs only for posts that land in a feed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from feeds import content, jekyll_post, timeutil, yamlutil
from feeds.config import Config
from feeds.errors import DateError
from feeds.jekyll import JekyllSite
from feeds.models import Author, Entry, Problems, RawPost
from feeds.textutil import excerpt, has_xml_invalid, plain_text, slugify, xml_safe

log = logging.getLogger(__name__)

_URL_SAFE = "/:@!$&'()*+,;=-._~"
_PLACEHOLDER = re.compile(r":([a-z_]+)")
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
    # posts.jekyll_config's site: front-matter defaults, _data/authors (its repr is every
    # value read from _config.yml and the authors file, so a change there is a new key)
    jekyll: JekyllSite | None
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
            jekyll=cfg.posts.jekyll,
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
    if cfg.jekyll is not None:
        raw = _with_defaults(raw, cfg.jekyll)
    meta = raw.meta
    if meta.get("published") is False or meta.get("draft") is True:
        log.debug("skip unpublished post=%s", where)
        return None
    title = _title(raw, problems)
    if title is None:
        return None
    dates = _dates(raw, cfg.tz, problems)
    if dates is None:
        return None
    published, updated = dates

    # Jekyll's order: ``categories`` (split on spaces), then ``category`` (one name)
    categories = _names(raw, (("categories", True), ("category", False)), problems)
    tags = _names(raw, (("tag", True), ("tags", True)), problems)
    if categories is None or tags is None:
        return None
    if not categories:
        problems.warn(
            where,
            "no categories: the post appears only in the feed of everything",
            raw.line("categories") or raw.line("category"),
        )

    authors = _authors(raw, problems, cfg.jekyll)
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


_NAIVE_TIMESTAMP = re.compile(r"-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?\s*")


def _title(raw: RawPost, problems: Problems) -> str | None:
    """The front-matter title; when it is missing (or null, or false) the file name's slug
    titleized, as Jekyll does (``dec-the-second`` → ``Dec The Second``). A blank title
    gets the same (Jekyll keeps it blank, but a feed entry needs a title)."""
    value = raw.meta.get("title")
    if not (value is None or value is False or (isinstance(value, str) and not value.strip())):
        return _text_field(raw, "title", problems)
    where, line = str(raw.path), raw.line("title")
    title = " ".join(xml_safe(jekyll_post.title_from_slug(raw.slug.rstrip("."))).split())
    if not title:
        problems.error(where, "no title, and none in the file name; post skipped", line)
        return None
    what = "blank title" if isinstance(value, str) else "no title"
    problems.warn(where, f"{what}; used {title!r} from the file name, as Jekyll does", line)
    return title


def _front_date(raw: RawPost, key: str, tz: timeutil.Zone, problems: Problems) -> dt.datetime:
    """A front-matter date as Jekyll 4.3 reads it: an unquoted ``2022-06-10 09:15:00``
    (a YAML timestamp) without an offset is UTC, with a warning; every other form is read
    by ``timeutil.parse_date`` (wall-clock time in the site's zone without an offset), and
    impossible dates (``2024-02-30``) stay errors (Ruby's Time would roll them over).
    Raises ``DateError``."""
    value = raw.meta[key]
    if not (isinstance(value, yamlutil.Timestamp) and _NAIVE_TIMESTAMP.fullmatch(value)):
        return timeutil.parse_date(value, tz)
    timeutil.parse_date(value, tz)  # the same checks (impossible days, range) as other forms
    try:
        instant = jekyll_post.jekyll_instant(value, tz)
    except (OverflowError, ValueError) as e:
        raise DateError(f"date {str(value)!r} cannot be represented: {e}") from e
    problems.warn(
        str(raw.path),
        f"{key}: {value} has no UTC offset; read as UTC as Jekyll does "
        f"({instant:%Y-%m-%d %H:%M:%S} in site time): add {instant:%z}",
        raw.line(key),
    )
    return instant


def _dates(
    raw: RawPost, tz: timeutil.Zone, problems: Problems
) -> tuple[dt.datetime, dt.datetime] | None:
    """(published, updated); None when the date cannot be read (the error recorded)."""
    where = str(raw.path)
    try:
        if raw.meta.get("date") is not None:
            published = _front_date(raw, "date", tz, problems)
        else:
            published = timeutil.date_from_filename(*raw.file_date, tz)
    except DateError as e:
        problems.error(where, f"date: {e}; post skipped", raw.line("date"))
        return None
    updated = published
    for key in ("last_modified_at", "updated"):
        if raw.meta.get(key) is not None:
            try:
                updated = max(_front_date(raw, key, tz, problems), published)
            except DateError as e:
                problems.warn(where, f"{key}: {e}; using the post date", raw.line(key))
            break
    return published, updated


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


def _names(
    raw: RawPost, keys: tuple[tuple[str, bool], ...], problems: Problems
) -> tuple[str, ...] | None:
    """Jekyll's categories/category (or tag/tags): a list, or a string (split on white
    space where the key says so), each name once in the order written."""
    where = str(raw.path)
    out: list[str] = []
    for key, split in keys:
        value = raw.meta.get(key)
        line = raw.line(key)
        if value is None:
            continue
        items: list[Any] = (
            (value.split() if split else [value])
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


def _with_defaults(raw: RawPost, site: JekyllSite) -> RawPost:
    """The post with the site's front-matter defaults and its folders' categories merged in,
    as Jekyll builds ``page`` (its own front matter wins)."""
    relative = Path(os.path.relpath(raw.path.absolute(), site.source.absolute())).as_posix()
    data = jekyll_post.page_data(relative, raw.meta, site.defaults_for(relative))
    return replace(raw, meta=data)


def _authors(
    raw: RawPost, problems: Problems, site: JekyllSite | None = None
) -> tuple[Author, ...] | None:
    value = raw.meta.get("author", raw.meta.get("authors"))
    if value is None:
        return ()
    if site is not None and isinstance(value, str) and value in site.authors:
        found = jekyll_post.feed_author(raw.meta, site)  # a key of _data/authors.yml
        return (found,) if found is not None else ()
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
        "categories": lambda: jekyll_post.url_categories(categories),
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
