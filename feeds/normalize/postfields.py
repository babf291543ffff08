"""A post's front-matter fields, read and checked by Jekyll's rules. Pure.

Titles (the slug's when missing), dates (an unquoted naive timestamp is UTC, as in
Jekyll), categories and tags, authors (``_data/authors.yml``) and the site's defaults;
each problem is recorded with the file and line. Used by ``normalize_post.prepare``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from feeds import timeutil, yamlutil
from feeds.errors import DateError
from feeds.jekyll import post as jekyll_post
from feeds.jekyll.jekyll import JekyllSite
from feeds.models import Author, Problems, RawPost
from feeds.textutil import fold_space, has_xml_invalid, xml_safe

_NAIVE_TIMESTAMP = re.compile(r"-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?\s*")


def title(raw: RawPost, problems: Problems) -> str | None:
    """The front-matter title; when it is missing (or null, or false) the file name's slug
    titleized, as Jekyll does (``dec-the-second`` → ``Dec The Second``). A blank title
    gets the same (Jekyll keeps it blank, but a feed entry needs a title)."""
    value = raw.meta.get("title")
    if not (value is None or value is False or (isinstance(value, str) and not value.strip())):
        return text_field(raw, "title", problems)
    where, line = str(raw.path), raw.line("title")
    title = " ".join(xml_safe(jekyll_post.title_from_slug(raw.slug.rstrip("."))).split())
    if not title:
        problems.error(where, "no title, and none in the file name; post skipped", line)
        return None
    what = "blank title" if isinstance(value, str) else "no title"
    problems.warn(where, f"{what}; used {title!r} from the file name, as Jekyll does", line)
    return title


def front_date(raw: RawPost, key: str, tz: timeutil.Zone, problems: Problems) -> dt.datetime:
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


def dates(
    raw: RawPost, tz: timeutil.Zone, problems: Problems
) -> tuple[dt.datetime, dt.datetime] | None:
    """(published, updated); None when the date cannot be read (the error recorded)."""
    where = str(raw.path)
    try:
        if raw.meta.get("date") is not None:
            published = front_date(raw, "date", tz, problems)
        else:
            published = timeutil.date_from_filename(*raw.file_date, tz)
    except DateError as e:
        problems.error(where, f"date: {e}; post skipped", raw.line("date"))
        return None
    updated = published
    for key in ("last_modified_at", "updated"):
        if raw.meta.get(key) is not None:
            try:
                updated = max(front_date(raw, key, tz, problems), published)
            except DateError as e:
                problems.warn(where, f"{key}: {e}; using the post date", raw.line(key))
            break
    return published, updated


def text_field(raw: RawPost, key: str, problems: Problems) -> str | None:
    """A one-line text field: scalars are turned into text (with a warning), lists and
    mappings refused; XML-invalid characters removed; ASCII white space folded (a no-break
    or an ideographic space is the writer's and stays, as in Jekyll's pages)."""
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
    return fold_space(value) or None


def names(
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


def tags(raw: RawPost, problems: Problems) -> tuple[str, ...] | None:
    """Jekyll 4's ``Utils.pluralized_array_from_hash(data, "tag", "tags")``: ``tag``, when
    it is there and not null or false, is the post's tags (a string is one tag, not split)
    and ``tags`` is not read; otherwise ``tags`` (a string split on white space, or a list).
    Both given: ``tags`` is ignored, as in Jekyll, with a warning."""
    tag = raw.meta.get("tag")
    if tag is None or tag is False:
        return names(raw, (("tags", True),), problems)
    if raw.meta.get("tags") not in (None, False):
        problems.warn(
            str(raw.path),
            "tags: ignored because tag is given too (Jekyll reads only tag); "
            "put every tag in one of them",
            raw.line("tags"),
        )
    return names(raw, (("tag", False),), problems)


def with_defaults(raw: RawPost, site: JekyllSite) -> RawPost:
    """The post with the site's front-matter defaults and its folders' categories merged in,
    as Jekyll builds ``page`` (its own front matter wins)."""
    relative = Path(os.path.relpath(raw.path.absolute(), site.source.absolute())).as_posix()
    data = jekyll_post.page_data(relative, raw.meta, site.defaults_for(relative))
    return replace(raw, meta=data)


def authors(
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


def _blank(value: Any) -> bool:
    """What Liquid's ``default`` filter replaces: nil, false and empty text."""
    return value is None or value is False or (isinstance(value, str) and not value.strip())


def front_summary(raw: RawPost, problems: Problems) -> str | None:
    """jekyll-feed's summary from the front matter (``description | default: excerpt``):
    ``description`` unless blank, else ``excerpt`` (a blank ``excerpt: ""`` is no summary
    at all, ""); None: Jekyll's excerpt of the body is the summary."""
    meta = raw.meta
    if not _blank(meta.get("description")):
        text = text_field(raw, "description", problems)
        if text is not None:
            return text
    value = meta.get("excerpt")
    if value is None or value is False:
        return None
    if isinstance(value, str) and not value.strip():
        return ""
    return text_field(raw, "excerpt", problems)
