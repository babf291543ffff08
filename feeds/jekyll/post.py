"""Jekyll's post rules that need no template engine, as pure functions.

Each does what Jekyll 4.3 (or jekyll-feed 0.17) does and names the Ruby code it follows:
titles from slugs, ``category`` + ``categories``, excerpts, feed summaries and authors,
and the instant of a front-matter ``date``. The tests hold Jekyll's own output.
The site's settings come from ``feeds.jekyll.jekyll.load_site``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from feeds import timeutil, yamlutil
from feeds.errors import DateError
from feeds.jekyll.jekyll import UNSUPPORTED_PLACEHOLDERS, JekyllSite, deep_merge, ruby_str
from feeds.models import Author

_PLACEHOLDER = re.compile(r":([a-z_]+)")


# --------------------------------------------------------------------------- post rules


def _truthy(value: Any) -> bool:
    """Ruby's truth: everything but nil and false (so "" and 0 are true)."""
    return value is not None and value is not False


def _liquid_default(value: Any, fallback: Any) -> Any:
    """Liquid's ``default`` filter: ``fallback`` when ``value`` is nil, false or empty."""
    empty = isinstance(value, str | list | dict) and not value
    return fallback if not _truthy(value) or empty else value


def title_from_slug(slug: str) -> str:
    """Jekyll's ``Utils.titleize_slug``: ``dec-the-second`` → ``Dec The Second``."""
    words = slug.split("-")
    while words and not words[-1]:
        words.pop()  # Ruby's split drops trailing empty fields
    return " ".join(w.capitalize() for w in words)


def post_title(data: Mapping[str, Any], slug: str) -> str:
    """``page.title`` (Document#populate_title): the front-matter title unless it is
    missing, null or false; then the file-name slug (trailing dots removed) titleized.
    A blank ``title: ""`` stays blank in Jekyll."""
    value = data.get("title")
    if _truthy(value):
        return ruby_str(value)
    return title_from_slug(slug.rstrip("."))


def categories_from_path(relative_path: str, special_dir: str = "_posts") -> list[str]:
    """Document#categories_from_path: the folders above ``_posts`` are categories
    (``news/_posts/x.md`` → ``news``); folders below it are not."""
    if relative_path.startswith(special_dir):
        return []
    above = relative_path.split(special_dir, 1)[0]
    basename = relative_path.rsplit("/", 1)[-1]
    return [c for c in above.split("/") if c and c not in (special_dir, basename)]


def _merge_categories(data: Mapping[str, Any], other: dict[str, Any]) -> None:
    """Document#merge_categories!: a string is split on white space; an earlier list of
    categories (from the path, then the defaults) is kept in front (Ruby's ``|``)."""
    value = other.get("categories")
    if value is None:
        return
    items = value.split() if isinstance(value, str) else value
    items = items if isinstance(items, list) else [items]
    earlier = data.get("categories")
    if isinstance(earlier, list):
        items = list(dict.fromkeys([*earlier, *items]))
    other["categories"] = items


def page_data(
    relative_path: str, front_matter: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """A post's data as Jekyll builds it before rendering: categories from the path, then
    the defaults, then the front matter (Document#initialize, #merge_defaults, #read)."""
    data: dict[str, Any] = {"categories": categories_from_path(relative_path)}
    for layer in (defaults, front_matter):
        other = dict(layer)
        _merge_categories(data, other)
        data = deep_merge(data, other)
    return data


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [x for item in value for x in _flatten(item)]
    return [value]


def page_categories(data: Mapping[str, Any]) -> tuple[str, ...]:
    """``page.categories`` (Document#populate_categories): ``categories`` first, then
    ``category`` (never split: ``category: foo bar`` is one category), each once, in the
    case written."""
    listed = data.get("categories")
    if isinstance(listed, str):
        listed = listed.split()
    items = _flatten(listed) if isinstance(listed, list) else ([] if listed is None else [listed])
    if data.get("category") is not None:
        items += _flatten(data["category"])
    return tuple(dict.fromkeys(ruby_str(c) for c in items if c is not None))


def url_categories(categories: Iterable[str]) -> str:
    """The ``:categories`` of a permalink (UrlDrop#categories): lower case, each once,
    joined with "/"."""
    return "/".join(dict.fromkeys(c.lower() for c in categories))


_PRETTY_KEEP = frozenset("._~!$&'()+,;=@")


def jekyll_slugify(text: str, mode: str = "default", *, cased: bool = False) -> str:
    """Jekyll's ``Utils.slugify`` for the modes ``default`` (letters, marks and digits
    kept) and ``pretty`` (also ``._~!$&'()+,;=@``): every other run of characters becomes
    one "-", a leading and a trailing "-" are dropped, lower case unless ``cased``."""
    out: list[str] = []
    for c in text:
        kind = unicodedata.category(c)
        if kind[0] in "LM" or kind == "Nd" or (mode == "pretty" and c in _PRETTY_KEEP):
            out.append(c)
        elif not out or out[-1] != "-":
            out.append("-")
    slug = "".join(out)
    slug = slug[1:] if slug.startswith("-") else slug
    slug = slug[:-1] if slug.endswith("-") else slug
    return slug if cased else slug.lower()


def url_title(data: Mapping[str, Any], filename_slug: str) -> str:
    """A permalink's ``:title`` (UrlDrop#title): the front-matter ``slug`` or the file
    name's, slugified in ``pretty`` mode with its case kept."""
    slug = data.get("slug")
    return jekyll_slugify(ruby_str(slug) if _truthy(slug) else filename_slug, "pretty", cased=True)


def permalink_gaps(template: str) -> tuple[str, ...]:
    """The Jekyll placeholders in ``template`` that normalize.permalink_path cannot fill."""
    return tuple(sorted(set(_PLACEHOLDER.findall(template)) & UNSUPPORTED_PLACEHOLDERS))


# --------------------------------------------------------------------------- excerpts


@dataclass(frozen=True)
class Excerpt:
    """``page.excerpt``: the body's head (``markdown``: render it like the body) or a
    front-matter ``excerpt`` used as written (not rendered)."""

    text: str
    markdown: bool


_LINK_REFERENCE = re.compile(r"^ {0,3}(?:(\[[^\]]+\])(:.+))$", re.M)


def excerpt_separator(data: Mapping[str, Any], site_separator: str) -> str:
    """Document#excerpt_separator: the post's (or its defaults') value, else the site's;
    "" means no excerpt."""
    value = data.get("excerpt_separator")
    return ruby_str(value if _truthy(value) else site_separator)


def excerpt_head(body: str, separator: str) -> str:
    """Excerpt#extract_excerpt: the body up to ``separator`` (all of it when the
    separator is not there), plus the Markdown link definitions the head uses. Liquid
    blocks cut in half are not closed here (that is the template engine's job)."""
    head, _, tail = body.partition(separator)
    if not tail:
        return head
    definitions = [
        m.group(1) + m.group(2) for m in _LINK_REFERENCE.finditer(tail) if m.group(1) in head
    ]
    return head + "\n\n" + "\n".join(definitions) if definitions else head


def post_excerpt(data: Mapping[str, Any], body: str, site_separator: str) -> Excerpt | None:
    """``page.excerpt`` (Document#generate_excerpt): a front-matter ``excerpt`` wins, even
    ``""``; else the head of the body; None when the separator is ""."""
    if _truthy(data.get("excerpt")):
        return Excerpt(ruby_str(data["excerpt"]), markdown=False)
    separator = excerpt_separator(data, site_separator)
    if not separator:
        return None
    return Excerpt(excerpt_head(body, separator), markdown=True)


def feed_summary_source(data: Mapping[str, Any], excerpt_html: str | None) -> str | None:
    """What jekyll-feed puts in ``<summary>`` before ``strip_html | normalize_whitespace``:
    ``description``, else the excerpt (rendered); None when that is empty. jekyll-feed
    does not shorten it."""
    value = _liquid_default(data.get("description"), excerpt_html)
    if not _truthy(value) or value == "":
        return None
    return ruby_str(value)


def feed_excerpt_only(data: Mapping[str, Any], site: JekyllSite) -> bool:
    """jekyll-feed's ``post.feed.excerpt_only | default: site.feed.excerpt_only``: when
    true the entry has no ``<content>``. A post's ``false`` cannot switch off the site's
    ``true`` (Liquid's ``default`` replaces false)."""
    feed = data.get("feed")
    own = feed.get("excerpt_only") if isinstance(feed, dict) else None
    return _truthy(_liquid_default(own, site.feed_excerpt_only))


def feed_author(data: Mapping[str, Any], site: JekyllSite) -> Author | None:
    """jekyll-feed's author: ``author``, else the first of ``authors``, else the site's;
    a key of ``_data/authors.yml`` becomes that entry (name, email, uri)."""
    authors = data.get("authors")
    first = authors[0] if isinstance(authors, list) and authors else None
    value = _liquid_default(_liquid_default(data.get("author"), first), site.author)
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = _liquid_default(site.authors.get(str(value)), value)
    if isinstance(value, dict):
        name, email, uri = value.get("name"), value.get("email"), value.get("uri")
        return (
            Author(
                name=ruby_str(name).strip(),
                email=email if isinstance(email, str) and email else None,
                uri=uri if isinstance(uri, str) and uri else None,
            )
            if _truthy(name) and ruby_str(name).strip()
            else None
        )
    if _truthy(value) and ruby_str(value).strip():
        return Author(name=ruby_str(value).strip())
    return None


# --------------------------------------------------------------------------- dates

# Jekyll's Utils.parse_date reads a string with Ruby's Time.parse in the site's zone; a
# YAML timestamp (yamlutil.Timestamp) was a Time already, and UTC when it had no offset.
_TIME_PARSE = re.compile(
    r"\s*(?P<y>\d{4})(?P<sep>[-/])(?P<mo>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:(?:[Tt]|\s+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|UTC|GMT|[-+]\d{1,2}(?::?\d{2})?)?\s*"
)


def jekyll_instant(raw_value: object, site_tz: timeutil.Zone) -> dt.datetime:
    """The instant Jekyll 4.3 gives a front-matter ``date``, in ``site_tz``.

    ``raw_value`` is what ``yamlutil`` gave (a ``yamlutil.Timestamp`` for an unquoted
    YAML timestamp, else a ``str``), or a ``datetime``/``date`` from a YAML loader that
    resolves timestamps. Jekyll's rules: an unquoted ``2022-06-10 09:15:00`` (a YAML
    timestamp) without an offset is UTC, and loses its fraction of a second; a date alone,
    a quoted value, or one without seconds (``2022-06-10 09:15``, ``2022/06/10 09:15``) is
    wall-clock time in the site's zone.
    A day past the end of the month rolls over, as Ruby's Time does (2024-02-30 is
    1 March). Raises ``DateError`` for what this cannot read."""
    if isinstance(raw_value, dt.datetime):
        aware = raw_value if raw_value.utcoffset() is not None else raw_value.replace(tzinfo=dt.UTC)
        return timeutil.to_zone(aware.replace(microsecond=0), site_tz)
    if isinstance(raw_value, dt.date):
        raw_value = raw_value.isoformat()
    if not isinstance(raw_value, str):
        raise DateError(f"date must be text such as '2022-06-09 14:36:33 +0800', not {raw_value!r}")
    m = _TIME_PARSE.fullmatch(raw_value)
    if m is None:
        raise DateError(
            f"unreadable date {raw_value!r} (expected e.g. '2022-06-09 14:36:33 +0800')"
        )
    # a YAML timestamp with a time was a Time (UTC without an offset); a date alone was a
    # Date, which Jekyll reads in the site's zone like a string
    timestamp = isinstance(raw_value, yamlutil.Timestamp) and m["h"] is not None
    naive = _naive(m, raw_value, timestamp)
    if m["tz"] is not None:
        return timeutil.to_zone(naive.replace(tzinfo=_offset(m["tz"], raw_value)), site_tz)
    if timestamp:
        return timeutil.to_zone(naive.replace(tzinfo=dt.UTC), site_tz)
    return timeutil.localize(naive, site_tz)


def _naive(m: re.Match[str], raw_value: str, timestamp: bool) -> dt.datetime:
    """The wall-clock time ``m`` spells; a day past the month's end rolls over (as Ruby's
    Time does); a timestamp loses its fraction of a second."""
    try:
        day = int(m["d"])
        if not 1 <= day <= 31:
            raise ValueError("day is out of range")
        naive = dt.datetime(int(m["y"]), int(m["mo"]), 1, int(m["h"] or 0), int(m["mi"] or 0))  # noqa: DTZ001
        naive += dt.timedelta(days=day - 1, seconds=int(m["s"] or 0))
        if m["frac"] and not timestamp:
            naive = naive.replace(microsecond=int((m["frac"] + "000000")[:6]))
        if int(m["s"] or 0) > 60:
            raise ValueError("second is out of range")
    except ValueError as e:
        raise DateError(f"impossible date {raw_value!r}: {e}") from e
    return naive


def _offset(text: str, whole: str) -> dt.tzinfo:
    if text in ("Z", "z", "UTC", "GMT"):
        return dt.UTC
    digits = text[1:].replace(":", "")
    hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
    if hours > 23 or minutes > 59:
        raise DateError(f"impossible UTC offset in {whole!r}")
    sign = -1 if text[0] == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
