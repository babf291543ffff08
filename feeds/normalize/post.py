"""Jekyll posts → ``Entry``, in two steps, read as Jekyll reads them. Pure: no I/O.

``prepare`` reads the front matter (title, dates, categories, permalink) by Jekyll's rules
(``feeds.jekyll.post``), ``render`` turns the body into sanitized HTML and a summary; the
costly second step runs only for posts that land in a feed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from feeds import content, timeutil
from feeds.config.config import Config
from feeds.jekyll import liquid, post as jekyll_post
from feeds.jekyll.jekyll import JekyllSite
from feeds.models import Author, Entry, Problems, RawPost
from feeds.normalize import postfields, postmedia
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
    liquid_site: tuple[tuple[str, str], ...]  # ``site.*`` for Liquid in bodies
    includes: Path | None  # the site's _includes folder
    includes_digest: str  # of its files, so a changed include is a new cache key
    excerpt_separator: str  # the site's; "" turns excerpts off
    site_root: Path | None  # the site's folder: front matter image and enclosure files
    tz: timeutil.Zone = field(repr=False, compare=False)  # the zone ``timezone`` names

    @classmethod
    def of(cls, cfg: Config) -> PostSettings:
        """The settings of ``cfg``; reads (hashes) the site's ``_includes`` folder."""
        site = cfg.posts.jekyll
        dirs = cfg.posts.dirs
        includes = (
            site.includes_dir
            if site is not None
            else (dirs[0].parent / "_includes" if dirs else None)  # beside _posts
        )
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
            liquid_site=_liquid_site(cfg),
            includes=includes,
            includes_digest=liquid.includes_fingerprint(includes),
            excerpt_separator=site.excerpt_separator if site is not None else "\n\n",
            site_root=site.source if site is not None else (dirs[0].parent if dirs else None),
            tz=cfg.site.tz,
        )


def _liquid_site(cfg: Config) -> tuple[tuple[str, str], ...]:
    """``site.url``, ``site.baseurl``, ``site.title`` and ``site.description`` for Liquid:
    the Jekyll site's when ``posts.jekyll_config`` names it, else our own."""
    site = cfg.posts.jekyll
    if site is not None:
        values = (site.url, site.baseurl, site.title or cfg.site.title, site.description or "")
    else:
        values = (cfg.site.url, "", cfg.site.title, cfg.site.description)
    return tuple(zip(("url", "baseurl", "title", "description"), values, strict=True))


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
        raw = postfields.with_defaults(raw, cfg.jekyll)
    meta = raw.meta
    if meta.get("published") is False or meta.get("draft") is True:
        log.debug("skip unpublished post=%s", where)
        return None
    title = postfields.title(raw, problems)
    if title is None:
        return None
    dates = postfields.dates(raw, cfg.tz, problems)
    if dates is None:
        return None
    published, updated = dates

    # Jekyll's order: ``categories`` (split on spaces), then ``category`` (one name)
    categories = postfields.names(raw, (("categories", True), ("category", False)), problems)
    tags = postfields.tags(raw, problems)
    if categories is None or tags is None:
        return None
    if not categories:
        problems.warn(
            where,
            "no categories: the post appears only in the feed of everything",
            raw.line("categories") or raw.line("category"),
        )

    authors = postfields.authors(raw, problems, cfg.jekyll)
    if authors is None:
        return None
    if not authors and cfg.author:
        authors = (cfg.author,)

    summary = postfields.front_summary(raw, problems)
    if summary:
        summary = excerpt(plain_text(summary), cfg.summary_length)

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


def render(
    info: PostInfo,
    cfg: PostSettings,
    problems: Problems,
    posts: Mapping[str, str] | None = None,
) -> Entry | None:
    """Render a prepared post's body into an ``Entry``: its Liquid first (``posts`` maps a
    post file's stem to its URL path, for ``{% post_url %}``), then Markdown."""
    raw = info.raw
    body = raw.body
    if "{{" in body or "{%" in body:
        body = _render_liquid(info, cfg, posts or {}, problems)
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
        summary = excerpt(plain_text(_head_html(trailer.body, html, info, cfg)), cfg.summary_length)
    picture = postmedia.image(raw, cfg.site_url, html, problems)
    if trailer.source_link:
        html += content.source_paragraph(trailer.source_link)
    if _excerpt_only(raw.meta, cfg.jekyll):
        html = ""  # jekyll-feed's feed.excerpt_only: the entry has no content
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
            enclosures=postmedia.enclosures(raw, cfg.site_url, problems),
            image=picture,
        )
    except (TypeError, ValueError) as e:  # an invariant the checks above missed
        problems.error(info.where, f"cannot make a feed entry: {e}; post skipped")
        return None


def _excerpt_only(meta: Mapping[str, object], site: JekyllSite | None) -> bool:
    """``feed.excerpt_only`` of the post, else of the Jekyll site (as jekyll-feed reads it)."""
    if site is not None:
        return jekyll_post.feed_excerpt_only(meta, site)
    feed = meta.get("feed")
    own = feed.get("excerpt_only") if isinstance(feed, dict) else None
    return own is not None and own is not False and own != ""


def _head_html(body: str, html: str, info: PostInfo, cfg: PostSettings) -> str:
    """Jekyll's excerpt: the body up to the excerpt separator (the post's, else the site's;
    Jekyll's default is a blank line), rendered like the body; all of it without one."""
    raw = info.raw
    separator = jekyll_post.excerpt_separator(raw.meta, cfg.excerpt_separator)
    if not separator or separator not in body:
        return html
    head = jekyll_post.excerpt_head(body, separator)
    return content.sanitize(
        head if raw.ext == ".html" else content.render_markdown(head), info.link
    )


def _render_liquid(
    info: PostInfo, cfg: PostSettings, posts: Mapping[str, str], problems: Problems
) -> str:
    raw = info.raw
    page = {
        **raw.meta,
        "title": info.title,
        "url": info.link[len(cfg.site_url) :],
        "date": info.published,
        "categories": list(info.categories),
        "tags": list(info.tags),
    }
    body, notes = liquid.render_liquid(
        raw.body,
        page=page,
        site=dict(cfg.liquid_site),
        includes=cfg.includes,
        posts=posts,
        first_line=raw.body_line,
    )
    for line, message in notes:
        problems.warn(info.where, message, line)
    return body


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
